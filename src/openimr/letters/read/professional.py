"""L-professional: "MEDICAL PROFESSIONAL REVIEW", one section per question.

No real sample is at hand: the layout is built from letter-layouts.md and written by our
own writer (wording in write/layouts.yaml). Sections: ISSUE AT DISPUTE (one "Item N:"
heading per disputed item, ending Upheld/Overturned), CASE SUMMARY, DOCUMENTS REVIEWED FOR
DETERMINATION, the guidelines relied upon ("Item N, Claims Administrator guideline:" and
"Item N, Professional Reviewer guideline:"), the rationale ("Item N, rationale:") and the
reviewer's qualifications. Sections may be missing or in any order.
"""

from __future__ import annotations

import re

from openimr.letters.layout_text import (
    clean,
    credentials,
    date_field,
    field_values,
    find_sections,
    numbered_entries,
    split_numbered,
    words_pattern,
)
from openimr.letters.read.citations import parse_citation
from openimr.letters.read.common import collapse
from openimr.letters.read.errors import LetterError
from openimr.letters.read.items import DECISION_END, split_heading
from openimr.letters.write.wording import wording
from openimr.models import Item, Layout, Letter, ReviewerCredentials

LAYOUT: Layout = "L-professional"
_HEADER_FIELDS = ("case_number", "date_of_injury", "ur_denial_date", "decision_date")
_SECTION_KEYS = ("issue", "summary", "documents", "guidelines", "rationale", "qualifications")


def detect(text: str) -> bool:
    """The title near the top, or at least two of the layout's own section headings."""
    headings = wording(LAYOUT).headings
    text = clean(text)
    if words_pattern(headings["title"]).search(text[:1000]):
        return True
    own = sum(bool(words_pattern(headings[key], at_line_start=True).search(text)) for key in ("issue", "guidelines", "rationale", "qualifications"))
    return own >= 2


def _issues(section: str, name: str) -> dict[int, str]:
    """{n: item heading} of the ISSUE AT DISPUTE section."""
    marker = wording(LAYOUT).labels["item"]
    headings = {n: collapse(text) for n, text in split_numbered(section, marker).items() if collapse(text)}
    if headings:
        return headings
    lines = [collapse(line) for line in section.split("\n") if DECISION_END.search(collapse(line))]
    return dict(enumerate(lines, 1))


def _item(n: int, heading: str, guidelines: dict[int, str], imr: dict[int, str], rationales: dict[int, str], name: str) -> Item:
    try:
        request, decision, parts = split_heading(heading)
    except ValueError:
        raise LetterError(name, f"item {n} of ISSUE AT DISPUTE has no Upheld/Overturned") from None
    return Item(
        request=request,
        decision=decision,
        medically_necessary=decision == "Overturned",
        claims_administrator_guideline=parse_citation(guidelines.get(n, "")),
        imr_guideline=parse_citation(imr.get(n, "")),
        rationale=collapse(rationales.get(n, "")),
        **parts,
    )


def _labelled(section: str, label: str) -> dict[int, str]:
    """{n: text} after each 'Item N, ... :' label of one kind, up to the next label of any kind."""
    labels = wording(LAYOUT).labels
    any_label = "|".join(
        words_pattern(labels[key].replace("{n}", "NUMBER")).pattern.replace("NUMBER", r"\d{1,3}")
        for key in ("ca_guideline", "imr_guideline", "rationale")
    )
    wanted = re.compile(words_pattern(label.replace("{n}", "NUMBER")).pattern.replace("NUMBER", r"(\d{1,3})"), re.IGNORECASE)
    boundaries = [m.start() for m in re.finditer(any_label, section, re.IGNORECASE)] + [len(section)]
    found: dict[int, str] = {}
    for match in wanted.finditer(section):
        stop = min(b for b in boundaries if b > match.start())
        found.setdefault(int(match.group(1)), section[match.end() : stop])
    return found


def parse(text: str, name: str) -> Letter:
    """Read an L-professional letter's text."""
    w = wording(LAYOUT)
    text = clean(text)
    sections, first = find_sections(text, {key: w.headings[key] for key in _SECTION_KEYS})
    header = words_pattern(w.headings["title"]).sub("", text[:first], count=1)
    values = field_values(header, {key: w.labels[key] for key in _HEADER_FIELDS})
    headings = _issues(sections.get("issue", ""), name)
    if not headings:
        raise LetterError(name, "no decisions found (no item under ISSUE AT DISPUTE)")
    guidelines_text = sections.get("guidelines", "")
    ca = _labelled(guidelines_text, w.labels["ca_guideline"])
    imr = _labelled(guidelines_text, w.labels["imr_guideline"])
    rationales = _labelled(sections.get("rationale", ""), w.labels["rationale"])
    items = [_item(n, heading, ca, imr, rationales, name) for n, heading in sorted(headings.items())]
    statement, licensure, specialties = credentials(
        sections.get("qualifications", ""), w.labels["licensure"], w.labels["specialties"]
    )
    return Letter(
        layout=LAYOUT,
        case_number=values.get("case_number") or None,
        date_of_injury=date_field(values, "date_of_injury"),
        ur_denial_date=date_field(values, "ur_denial_date"),
        decision_date=date_field(values, "decision_date"),
        reviewer=ReviewerCredentials(licensure=licensure, specialties=specialties, statement=collapse(statement)),
        documents_reviewed=numbered_entries(sections["documents"]) if "documents" in sections else None,
        clinical_case_summary=collapse(sections.get("summary", "")),
        items=items,
    )
