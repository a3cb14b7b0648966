"""L2013: prose credentials and no header block (2013-2014).

The letter opens with HOW THE IMR FINAL DETERMINATION WAS MADE; the reviewer's credentials
are a sentence ("is Board Certified in Occupational Medicine and is licensed to practice in
California"); guideline lines cite "MTUS ACOEM Chapter N ... Page(s): ...".
"""

from __future__ import annotations

import re

from openimr.letters.read.body import DECISIONS, parse_body
from openimr.letters.read.common import find_heading, normalise
from openimr.letters.read.l2016 import _organization
from openimr.models import Letter


def detect(text: str) -> bool:
    """The decisions heading and item lines, whatever else is missing."""
    return bool(find_heading(text, *DECISIONS)) or bool(
        re.search(r"Claims\s+Administrator\s+guideline\s*:", text, re.IGNORECASE)
    )


def parse(text: str, name: str) -> Letter:
    """Read an L2013 letter's text."""
    text = normalise(text)
    body = parse_body(text, name)
    return Letter(
        layout="L2013",
        review_organization=_organization(body.organization),
        reviewer=body.reviewer,
        documents_reviewed=body.documents_reviewed,
        clinical_case_summary=body.clinical_case_summary,
        items=body.items,
    )
