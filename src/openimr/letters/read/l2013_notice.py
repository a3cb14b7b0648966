"""L2013-notice: "Notice of Independent Medical Review Determination" (mid 2013).

No real sample is at hand: the layout is built from letter-layouts.md and written by our
own writer (wording in write/layouts.yaml). The notice opens with the organization,
the title and "Dated:"; a numbered finding per item ("... has determined the request for X
is [not] medically necessary and appropriate"); INDEPENDENT MEDICAL REVIEW DECISION AND
RATIONALE with the procedural dates and the findings again; the expert reviewer's
qualifications; the case summary (with a note that it was taken from the UR decision);
then per disputed item the documents reviewed, both guidelines and the rationale.
"""

from __future__ import annotations

import re
from datetime import date

from openimr.letters.layout_text import (
    clean,
    credentials,
    date_field,
    field_values,
    find_sections,
    numbered_entries,
    phrase_pattern,
    split_numbered,
    words_pattern,
)
from openimr.letters.read.body import prose_credentials
from openimr.letters.read.citations import parse_citation
from openimr.letters.read.common import collapse, parse_date
from openimr.letters.read.errors import LetterError
from openimr.letters.read.items import CLAIMS_LABEL, parse_items, split_heading
from openimr.letters.write.wording import wording
from openimr.models import Citation, Item, Layout, Letter, ReviewerCredentials

LAYOUT: Layout = "L2013-notice"
_SECTION_KEYS = ("decision", "qualifications", "summary", "analysis")
_DATE = r"\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}|[A-Z][a-z]+\.?\s+\d{1,2},?\s+\d{4}"
_FINDING = re.compile(
    r"has\s+determined\s+the\s+request\s+for\s+(?P<request>.+?)\s+is\s*(?P<not>not\s*)?medically\s*necessary",
    re.IGNORECASE | re.DOTALL,
)


def detect(text: str) -> bool:
    """The notice's title near the top, or its decision heading, or its qualifications heading."""
    headings = wording(LAYOUT).headings
    text = clean(text)
    return bool(
        words_pattern(headings["notice"]).search(text[:1500])
        or words_pattern(headings["decision"], at_line_start=True).search(text)
        or words_pattern(headings["qualifications"], at_line_start=True).search(text)
    )


def _findings(text: str) -> list[tuple[str, bool]]:
    """(request, medically necessary) of each numbered finding."""
    return [(collapse(m.group("request")), not m.group("not")) for m in _FINDING.finditer(text)]


# The procedural paragraph as the published 2013 notices word it ("An application for
# Independent Medical Review was filed on 9/6/2013 disputing the Utilization Review Denial
# dated 8/30/2013. A Notice of Assignment and Request for Information was provided to the
# above parties on 9/23/2013.") - tried after our own writer's wording.
_PUBLISHED_PROCEDURE = {
    "application_received": re.compile(
        rf"Independent\s+Medical\s+Review\s+was\s+(?:filed|received)\s+on\s+(?P<date>{_DATE})", re.IGNORECASE
    ),
    "ur_denial_date": re.compile(
        rf"Utilization\s+Review\s+(?:Denial|decision|determination|modification)\s+dated\s+(?P<date>{_DATE})",
        re.IGNORECASE,
    ),
    "date_assigned": re.compile(
        rf"Notice\s+of\s+Assignment\s+and\s+Request\s+for\s+Information\s+was\s+(?:sent|provided|mailed)"
        rf"(?:\s+to\s+the\s+above\s+parties)?\s+on\s+(?P<date>{_DATE})",
        re.IGNORECASE,
    ),
}
# The published notices' note that the summary is the UR decision's own.
_PUBLISHED_DISCLAIMER = re.compile(
    rf"^\s*Disclaimer:\s*The\s+following\s+case\s+summary\s+was\s+taken\s+directly\s+from\s+the\s+utilization\s+"
    rf"review\s+\S+(?:\s+dated\s+(?:{_DATE}))?\.?",
    re.IGNORECASE,
)
# Headings that text pasted from a PDF viewer may run into the line before them.
_RUN_IN_HEADINGS = re.compile(
    r"(?<=\S)[ \t]+(?=INDEPENDENT\s+MEDICAL\s+REVIEW\s+DECISION\s+AND\s+RATIONALE|Medical\s+Qualifications\s+of\s+"
    r"the\s+Expert\s+Reviewer:|Case\s+Summary:|Analysis\s+of\s+Each\s+Disputed\s+Item:|Notice\s+of\s+Independent\s+"
    r"Medical\s+Review\s+Determination|Dated:)"
)


def _procedure_date(section: str, phrase: str, field: str) -> date | None:
    """A date of the procedural paragraph: in our writer's wording `phrase`, else the published one."""
    pattern = phrase_pattern(wording(LAYOUT).phrases[phrase], date=_DATE)
    match = pattern.search(section) or _PUBLISHED_PROCEDURE[field].search(section)
    return parse_date(match.group("date")) if match else None


def _once(findings: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """The numbered findings, once: the notice prints the list twice."""
    half = len(findings) // 2
    if half and len(findings) % 2 == 0 and findings[:half] == findings[half:]:
        return findings[:half]
    return findings


def _block_parts(block: str) -> dict[str, str]:
    """Heading, documents, both guidelines and the rationale of one disputed item's block."""
    labels = wording(LAYOUT).labels
    keys = ("documents", "ca_guideline", "imr_guideline", "rationale")
    marks = sorted(
        (m.start(), m.end(), key) for key in keys if (m := words_pattern(labels[key], at_line_start=True).search(block))
    )
    parts = {"heading": block[: marks[0][0]] if marks else block}
    for index, (_start, end, key) in enumerate(marks):
        stop = marks[index + 1][0] if index + 1 < len(marks) else len(block)
        parts[key] = block[end:stop]
    return parts


def _items(analysis: str, findings: list[tuple[str, bool]], name: str) -> tuple[list[Item], list[str] | None]:
    blocks = split_numbered(analysis, wording(LAYOUT).labels["item"])
    count = max([len(findings), *blocks.keys()], default=0)
    items, documents = [], None
    for n in range(1, count + 1):
        parts = _block_parts(blocks.get(n, ""))
        heading = collapse(parts["heading"])
        if heading:
            try:
                request, decision, modified = split_heading(heading)
            except ValueError:
                raise LetterError(name, f"disputed item {n} has no Upheld/Overturned") from None
        elif n <= len(findings):
            request, necessary = findings[n - 1]
            decision, modified = ("Overturned" if necessary else "Upheld"), {}
        else:  # pragma: no cover - count comes from findings or blocks
            continue
        if documents is None and "documents" in parts:
            documents = numbered_entries(parts["documents"])
        items.append(
            Item(
                request=request,
                decision=decision,
                medically_necessary=decision == "Overturned",
                claims_administrator_guideline=parse_citation(parts.get("ca_guideline", "")) if "ca_guideline" in parts else Citation(),
                imr_guideline=parse_citation(parts.get("imr_guideline", "")) if "imr_guideline" in parts else Citation(),
                rationale=collapse(parts.get("rationale", "")),
                **modified,
            )
        )
    return items, documents


def parse(text: str, name: str) -> Letter:
    """Read an L2013-notice letter's text."""
    w = wording(LAYOUT)
    text = _RUN_IN_HEADINGS.sub("\n", clean(text))
    sections, first = find_sections(text, {key: w.headings[key] for key in _SECTION_KEYS})
    opening = text[:first]
    for key in ("title", "notice"):
        opening = words_pattern(w.headings[key]).sub("", opening, count=1)
    values = field_values(opening, {"dated": w.labels["dated"], "case_number": w.labels["case_number"]})
    if "case_number" not in values:
        values.update(field_values(opening, {"case_number": "Case Number:"}))
    findings = _once(_findings(sections.get("decision", "")) or _findings(opening))
    if "analysis" not in sections and CLAIMS_LABEL.search(text):
        # Items printed the way the later letters print them: parse those.
        items, documents = parse_items(text)[0], None
    else:
        # Without its heading, the analysis is wherever the "Disputed Item n:" blocks are.
        items, documents = _items(sections.get("analysis", text[first:]), findings, name)
    if not items:
        raise LetterError(name, "no decisions found (no finding and no disputed item)")
    statement, licensure, specialties = credentials(
        sections.get("qualifications", ""), w.labels["licensure"], w.labels["specialties"]
    )
    if not licensure and not specialties:
        licensure, specialties = prose_credentials(collapse(statement))
    summary = phrase_pattern(w.phrases["summary_disclaimer"]).sub("", sections.get("summary", ""), count=1)
    summary = _PUBLISHED_DISCLAIMER.sub("", summary, count=1)
    first_item = phrase_pattern(w.labels["item"], n=r"\d{1,3}").search(summary)
    summary = summary[: first_item.start()] if first_item else summary
    case_number = values.get("case_number", "").split(" ")[0] or None
    procedure = sections.get("decision", "")
    return Letter(
        layout=LAYOUT,
        case_number=case_number,
        decision_date=date_field(values, "dated"),
        reviewer=ReviewerCredentials(licensure=licensure, specialties=specialties, statement=collapse(statement)),
        documents_reviewed=documents,
        clinical_case_summary=collapse(summary),
        items=items,
        application_received=_procedure_date(procedure, "procedure_filed", "application_received"),
        ur_denial_date=_procedure_date(procedure, "procedure_denial", "ur_denial_date"),
        date_assigned=_procedure_date(procedure, "procedure_assigned", "date_assigned"),
    )
