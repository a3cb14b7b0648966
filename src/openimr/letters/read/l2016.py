"""L2016: the letters with a header block (2016-2017; the published PDFs).

Header fields come two to a line ("Date Assigned: 11/18/2016 Date of Injury: 10/10/2016");
the Received date may sit on the line after its label.
"""

from __future__ import annotations

import re

from openimr.letters.read.body import parse_body
from openimr.letters.read.common import normalise, parse_date
from openimr.models import Letter, Priority

_DATE = r"(\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}|[A-Z][a-z]+\.?\s+\d{1,2},?\s+\d{4})"
_FIELDS = {
    "date_assigned": re.compile(r"Date\s+Assigned\s*:\s*" + _DATE, re.IGNORECASE),
    "date_of_injury": re.compile(r"Date\s+of\s+Injury\s*:\s*" + _DATE, re.IGNORECASE),
    "decision_date": re.compile(r"Decision\s+Date\s*:\s*" + _DATE, re.IGNORECASE),
    "ur_denial_date": re.compile(r"UR\s+Denial\s+Date\s*:\s*" + _DATE, re.IGNORECASE),
    "application_received": re.compile(r"Received\s*:\s*" + _DATE, re.IGNORECASE),
}
_CASE_NUMBER = re.compile(r"Case\s+Number\s*:\s*([A-Z]{1,4}\d{2}-?\d{3,8}|\S+)", re.IGNORECASE)
_PRIORITY = re.compile(r"Priority\s*:\s*([A-Za-z ]*)", re.IGNORECASE)
_HEADER_END = re.compile(r"HOW\s+THE\s+IMR\s+FINAL\s+DETERMINATION|CLINICAL\s+CASE\s+SUMMARY", re.IGNORECASE)
_L2015_OPENING = re.compile(r"^\s*MAXIMUS\s+FEDERAL\s+SERVICES,?\s+INC\.?\s*\n\s*Independent\s+Medical\s+Review", re.IGNORECASE)


def detect(text: str) -> bool:
    """A header block with a Case Number and a Date Assigned, and not the L2015 opening."""
    head = text[:3000]
    return bool(
        re.search(r"Case\s+Number\s*:", head, re.IGNORECASE)
        and re.search(r"Date\s+Assigned\s*:", head, re.IGNORECASE)
        and not _L2015_OPENING.match(head)
    )


def priority_of(text: str | None) -> Priority | None:
    """'Standard Application' -> standard; 'Expedited ...' -> expedited."""
    if not text:
        return None
    lowered = text.lower()
    if "expedited" in lowered or "urgent" in lowered:
        return "expedited"
    if "standard" in lowered or "regular" in lowered:
        return "standard"
    return None


def parse(text: str, name: str) -> Letter:
    """Read an L2016 letter's text."""
    text = normalise(text)
    header_end = _HEADER_END.search(text)
    header = text[: header_end.start()] if header_end else text[:1500]
    fields = {key: parse_date(m.group(1)) if (m := pattern.search(header)) else None for key, pattern in _FIELDS.items()}
    case_number = _CASE_NUMBER.search(header)
    priority = _PRIORITY.search(header)
    body = parse_body(text, name)
    return Letter(
        layout="L2016",
        case_number=case_number.group(1) if case_number else None,
        priority=priority_of(priority.group(1) if priority else None),
        review_organization=_organization(body.organization),
        reviewer=body.reviewer,
        documents_reviewed=body.documents_reviewed,
        clinical_case_summary=body.clinical_case_summary,
        items=body.items,
        **fields,
    )


def _organization(label: str | None) -> str:
    if not label or label.upper() == "MAXIMUS":
        return "MAXIMUS Federal Services"
    return label
