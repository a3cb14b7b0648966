"""L2015: "MAXIMUS FEDERAL SERVICES, INC. / Independent Medical Review" (about 2014-2015).

No real sample is at hand: the layout is built from letter-layouts.md and written by our own
writer (openimr.letters.write, wording in write/layouts.yaml). Its body is the shared
MAXIMUS body (read by body.parse_body); what is its own is the opening, a short header
(Case Number, Date of Injury, UR Denial Date, Application Received, Decision Date, Review
Type) and DOCUMENTS REVIEWED, a numbered list of the records considered.
"""

from __future__ import annotations

import re

from openimr.letters.layout_text import (
    clean,
    date_field,
    field_values,
    find_sections,
    numbered_entries,
    phrase_pattern,
    words_pattern,
)
from openimr.letters.read.body import parse_body
from openimr.letters.read.common import collapse
from openimr.letters.read.errors import LetterError
from openimr.letters.read.l2016 import _organization, priority_of
from openimr.letters.write.wording import wording
from openimr.models import Layout, Letter

LAYOUT: Layout = "L2015"
_HEADER_FIELDS = ("case_number", "date_of_injury", "ur_denial_date", "application_received", "decision_date", "priority")
_DATE_ASSIGNED = re.compile(r"Date\s+Assigned\s*:", re.IGNORECASE)


def _title() -> re.Pattern[str]:
    headings = wording(LAYOUT).headings
    return re.compile(
        words_pattern(headings["title"]).pattern + r"\s*" + words_pattern(headings["subtitle"]).pattern, re.IGNORECASE
    )


def detect(text: str) -> bool:
    """The organization's name followed by 'Independent Medical Review' near the top, or,
    with the opening lost, DOCUMENTS REVIEWED beside the IMR DECISION(S) heading."""
    head = clean(text[:4000])
    if _title().search(head[:800]):
        return True
    headings = wording(LAYOUT).headings
    return bool(
        words_pattern(headings["documents"], at_line_start=True).search(clean(text))
        and words_pattern(headings["issues"]).search(text)
        and not _DATE_ASSIGNED.search(head)
    )


def _documents(text: str) -> list[str] | None:
    w = wording(LAYOUT)
    heading = words_pattern(w.headings["documents"], at_line_start=True).search(text)
    if not heading:
        return None
    following = [
        m.start()
        for key in ("made", "summary", "issues")
        if (m := words_pattern(w.headings[key], at_line_start=True).search(text, heading.end()))
    ]
    section = text[heading.end() : min(following, default=len(text))]
    return numbered_entries(section, intro=phrase_pattern(w.phrases["documents"]))


_ORDER = ("made", "documents", "summary", "issues")


def in_order(text: str) -> tuple[str, str]:
    """(header, body) with the body's sections put back in the layout's order.

    The shared body reader takes the decisions to run to the end of the text; sections
    found in another order are put back in order first.
    """
    w = wording(LAYOUT)
    sections, first = find_sections(text, {key: w.headings[key] for key in _ORDER})
    if "issues" not in sections:  # decisions under another heading: leave the text as it is
        return text[:first], text[first:]
    body = "".join(f"{w.headings[key]}\n{sections[key]}\n" for key in _ORDER if key in sections)
    return text[:first], body


def parse(text: str, name: str) -> Letter:
    """Read an L2015 letter's text."""
    text = clean(text)
    header, text = in_order(text)
    w = wording(LAYOUT)
    header = _title().sub("", header, count=1)
    values = field_values(header, {key: w.labels[key] for key in _HEADER_FIELDS})
    body = parse_body(text, name)
    case_number = collapse(values.get("case_number", "")) or None
    if case_number and " " in case_number:
        raise LetterError(name, f"case number {case_number[:40]!r} is not one word")
    return Letter(
        layout=LAYOUT,
        case_number=case_number,
        date_of_injury=date_field(values, "date_of_injury"),
        ur_denial_date=date_field(values, "ur_denial_date"),
        application_received=date_field(values, "application_received"),
        decision_date=date_field(values, "decision_date"),
        priority=priority_of(values.get("priority")),
        review_organization=_organization(body.organization),
        reviewer=body.reviewer,
        documents_reviewed=_documents(text),
        clinical_case_summary=body.clinical_case_summary,
        items=body.items,
    )
