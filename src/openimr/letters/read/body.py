"""The body every MAXIMUS-style layout shares since 2013: how the determination was made
(the expert reviewer's credentials), the clinical case summary, and the decisions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from openimr.letters.read.common import collapse, find_heading, split_list
from openimr.letters.read.errors import LetterError
from openimr.letters.read.items import ItemsError, organization_label, parse_items
from openimr.models import Item, ReviewerCredentials

HOW_MADE = ("HOW THE IMR FINAL DETERMINATION WAS MADE",)
SUMMARY = ("CLINICAL CASE SUMMARY",)
DECISIONS = (
    "IMR ISSUES, DECISIONS AND RATIONALES",
    "IMR ISSUE(S), DECISION(S) AND RATIONALE(S)",
    "IMR DECISION(S) AND RATIONALE(S)",
    "IMR DECISIONS AND RATIONALES",
)
DOCUMENTS = ("DOCUMENTS REVIEWED",)
CREDENTIALS_INTRO = re.compile(r"The\s+Expert\s+Reviewer\s+has\s+the\s+following\s+credentials\s*:", re.IGNORECASE)
LICENSURE = re.compile(r"State\(s\)\s+of\s+Licensure\s*:", re.IGNORECASE)
CERTIFICATION = re.compile(r"Certification\(s\)\s*/\s*Specialty\s*:", re.IGNORECASE)
SUMMARY_PREAMBLE = re.compile(
    r"^\s*The\s+expert\s+reviewer\s+developed\s+the\s+following\s+clinical\s+case\s+summary\s+based\s+on\s+a\s+"
    r"review\s+of\s+the\s+case\s+file,\s+including\s+all\s+medical\s+records\s*:?",
    re.IGNORECASE,
)
DECISIONS_PREAMBLE = re.compile(
    r"^\s*The\s+Final\s+Determination\s+was\s+based\s+on\s+decisions\s+for\s+the\s+disputed\s+items\s*/\s*"
    r"services\s+set\s+forth\s+below\s*:?",
    re.IGNORECASE,
)
# Prose credentials of the 2013-14 letters: "is Board Certified in Occupational Medicine and
# is licensed to practice in California".
PROSE_SPECIALTY = re.compile(
    r"Board\s+Certified\s+in\s+(.+?)(?:\s*,?\s+and\s+is\s+licensed|\s*,?\s+has\s+a\s+subspecialty|\.\s)",
    re.IGNORECASE | re.DOTALL,
)
PROSE_SUBSPECIALTY = re.compile(r"subspecialty\s+in\s+(.+?)\s+and\s+is\s+licensed", re.IGNORECASE | re.DOTALL)
PROSE_LICENSURE = re.compile(r"licensed\s+to\s+practice\s+in\s+(.+?)\.", re.IGNORECASE | re.DOTALL)


@dataclass
class Body:
    """What the shared sections hold."""

    reviewer: ReviewerCredentials
    clinical_case_summary: str
    items: list[Item]
    organization: str | None
    documents_reviewed: list[str] | None = field(default=None)


def _and_list(text: str) -> list[str]:
    return [p for p in (collapse(x) for x in re.split(r",|\band\b", text)) if p]


def parse_reviewer(section: str) -> ReviewerCredentials:
    """The expert reviewer's credentials: the list form (2016) or the prose form (2013)."""
    intro = CREDENTIALS_INTRO.search(section)
    licensure = LICENSURE.search(section)
    certification = CERTIFICATION.search(section)
    statement_end = min(m.start() for m in (intro, licensure, certification) if m) if (intro or licensure or certification) else len(section)
    statement = collapse(section[:statement_end])
    states: list[str] = []
    specialties: list[str] = []
    if licensure or certification:
        if licensure:
            end = certification.start() if certification and certification.start() > licensure.end() else len(section)
            states = split_list(section[licensure.end() : end])
        if certification:
            end = licensure.start() if licensure and licensure.start() > certification.end() else len(section)
            specialties = split_list(section[certification.end() : end])
    else:
        states, specialties = prose_credentials(statement)
    return ReviewerCredentials(licensure=states, specialties=specialties, statement=statement)


def prose_credentials(statement: str) -> tuple[list[str], list[str]]:
    """(licensure states, specialties) of a sentence such as "is Board Certified in
    Occupational Medicine and is licensed to practice in California"."""
    specialty = PROSE_SPECIALTY.search(statement)
    sub = PROSE_SUBSPECIALTY.search(statement)
    licensed = PROSE_LICENSURE.search(statement)
    specialties = _and_list(specialty.group(1)) if specialty else []
    specialties += _and_list(sub.group(1)) if sub else []
    states = _and_list(licensed.group(1)) if licensed else []
    return states, specialties


def parse_documents(section: str) -> list[str]:
    """The records the reviewer considered, one per line."""
    return [collapse(line) for line in section.split("\n") if collapse(line)]


def parse_body(text: str, name: str) -> Body:
    """The shared sections of a letter; raises LetterError where the decisions are missing."""
    how = find_heading(text, *HOW_MADE)
    summary = find_heading(text, *SUMMARY)
    decisions = find_heading(text, *DECISIONS, start=summary.end() if summary else 0)
    if decisions is None:
        decisions = find_heading(text, *DECISIONS)
    if decisions is None:
        raise LetterError(name, "no decisions found (no 'IMR ISSUES, DECISIONS AND RATIONALES' section)")
    documents = find_heading(text, *DOCUMENTS)
    starts = sorted(m.start() for m in (how, summary, decisions, documents) if m)

    def section(match: re.Match[str] | None) -> str:
        if match is None:
            return ""
        following = [s for s in starts if s > match.start()]
        return text[match.end() : following[0] if following else len(text)]

    reviewer = parse_reviewer(section(how))
    summary_text = collapse(SUMMARY_PREAMBLE.sub("", section(summary), count=1))
    decisions_text = DECISIONS_PREAMBLE.sub("", text[decisions.end() :], count=1)
    try:
        items, _preamble = parse_items(decisions_text)
    except ItemsError as error:
        raise LetterError(name, str(error)) from None
    if not items:
        raise LetterError(name, "no decisions found (no 'Claims Administrator guideline:' item)")
    return Body(
        reviewer=reviewer,
        clinical_case_summary=summary_text,
        items=items,
        organization=organization_label(decisions_text),
        documents_reviewed=parse_documents(section(documents)) if documents else None,
    )
