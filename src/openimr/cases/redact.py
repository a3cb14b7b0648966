"""Redaction of a Final Determination letter for publication, as the DWC posts letters.

Detection and action are separate (the Presidio shape): recognizers find spans of
identifying text — the known parties of the case (names in several written forms,
addresses, the date of birth, claim numbers, phones) and patterns (titled names, street
addresses, claim/ADJ numbers, phone, SSN, e-mail, dates after "DOB") — and `redact_text`
removes every span, leaving the surrounding spaces as the published letters do
("a represented  employee"). Nothing is logged: only counts per kind are returned.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

from openimr.models import Letter

PERSON_KINDS = {"employee", "physician", "attorney", "family", "adjuster", "reviewer", "person", "officer"}
ORG_WORDS = {
    "inc", "llc", "corp", "corporation", "company", "co", "ltd", "lp", "llp", "pc", "apc", "group", "center",
    "centre", "hospital", "clinic", "services", "service", "insurance", "mutual", "fund", "associates",
    "medical", "health", "healthcare", "logistics", "partners", "law", "office", "offices", "firm", "county",
    "city", "state", "district", "university", "pharmacy", "pharmaceuticals", "labs", "laboratories",
    "systems", "solutions", "management", "network", "institute", "foundation", "department", "the", "of", "and",
    "attorneys", "lawyers", "legal", "injury", "counsel", "insurers", "claims", "trust", "agency", "inc.",
}
# English words that are also short names: a single one of these is not removed on its own
SHORT_WORDS = {
    "a", "i", "am", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me", "my", "no",
    "of", "oh", "ok", "on", "or", "so", "to", "up", "us", "we",
}
TITLES = r"(?:Dr|Doctor|Mr|Mrs|Ms|Miss|Mx|Prof|Attorney|Atty)\.?"
NAME_WORD = r"[A-ZÀ-ÖØ-Þ][^\W\d_]*(?:['’-][^\W\d_]+)*"
MONTHS = "January February March April May June July August September October November December".split()
DATE_TEXT = (
    r"(?:\d{1,2}[/-]\d{1,2}[/-]\d{2,4}|\d{4}-\d{2}-\d{2}|"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4})"
)
STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Boulevard|Blvd|Road|Rd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl|Parkway|Pkwy|"
    r"Highway|Hwy|Circle|Cir|Terrace|Ter|Trail|Plaza|Square|Sq)"
)
PATTERNS: dict[str, re.Pattern] = {
    "titled_name": re.compile(rf"\b{TITLES}\s+({NAME_WORD}(?:\s+[A-Z]\.)?(?:\s+{NAME_WORD})?)"),
    "street_address": re.compile(
        rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z0-9][A-Za-z0-9'’.-]*\s+){{1,4}}{STREET_SUFFIX}\b\.?"
        r"(?:,?\s+(?:Suite|Ste|Apt|Unit|#)\.?\s*[\w-]+)?"
        r"(?:,\s*[A-Z][A-Za-z .]+,?\s+(?:CA|California)\s+\d{5}(?:-\d{4})?)?"
    ),
    "city_zip": re.compile(r"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2},\s*(?:CA|California)\s+\d{5}(?:-\d{4})?\b"),
    "po_box": re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d+\b", re.I),
    "claim_number": re.compile(r"(?i:\b(?:claim|clm)\s*(?:number|no\.?|#)\s*[:#]?\s*)([A-Z0-9][A-Z0-9-]{3,})"),
    "adj_number": re.compile(r"\bADJ\s?\d{5,}\b", re.I),
    "ssn": re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),
    "phone": re.compile(r"(?:\(\d{3}\)\s?|\b\d{3}[-.\s])\d{3}[-.\s]\d{4}\b"),
    "email": re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"),
    "date_of_birth": re.compile(rf"(?i:\b(?:date of birth|birth ?date|d\.?o\.?b\.?|born(?: on)?)\s*[:\-]?\s*)({DATE_TEXT})"),
}


@dataclass
class Span:
    start: int
    end: int
    kind: str


@dataclass
class Redactor:
    """Recognizers for one case: its parties' names, addresses, DOB, claim numbers."""

    terms: list[tuple[re.Pattern, str]] = field(default_factory=list)
    # single name words: matched in any case but only where written with a capital
    capitalised: list[tuple[re.Pattern, str]] = field(default_factory=list)

    def add_name(self, name: str | None, kind: str) -> None:
        """A party's name in the forms a letter may write it."""
        if not name or not name.strip():
            return
        words = re.findall(r"[\w'’&-]+", name)
        person = (
            (kind in PERSON_KINDS or kind == "other")
            and len(words) <= 5
            and not any(w.lower() in ORG_WORDS for w in words)
        )
        for variant in name_variants(words, person):
            self.terms.append((_phrase(variant, ignore_case=True), kind))
        if person:
            for word in words:
                if len(word.strip(".")) >= 2 and word.lower() not in ORG_WORDS | SHORT_WORDS:
                    # a single name word only where it is written capitalised
                    self.capitalised.append((re.compile(rf"(?<![\w'’-]){re.escape(word)}(?![\w-])", re.I), kind))

    def add_phrase(self, text: str | None, kind: str) -> None:
        """A literal identifier (claim number, phone, address line), spacing and case ignored."""
        if text and len(text.strip()) >= 3:
            self.terms.append((_phrase(re.findall(r"[A-Za-z0-9]+", text), ignore_case=True, loose=True), kind))

    def add_address(self, address: str | None) -> None:
        """The whole address and each comma-separated part that is specific enough."""
        if not address:
            return
        self.add_phrase(address, "address")
        for part in re.split(r"[,\n]", address):
            part = part.strip()
            if re.search(r"\d", part) or len(part) >= 4:
                self.add_phrase(part, "address")

    def add_date(self, day: date | None, kind: str) -> None:
        """A date in every common written form."""
        if day:
            self.terms.append((date_pattern(day), kind))

    def spans(self, text: str) -> list[Span]:
        """Every span to remove, from known terms and patterns."""
        found = [Span(m.start(), m.end(), kind) for pattern, kind in self.terms for m in pattern.finditer(text)]
        found += [
            Span(m.start(), m.end(), kind)
            for pattern, kind in self.capitalised
            for m in pattern.finditer(text)
            if m.group(0)[0].isupper()
        ]
        for kind, pattern in PATTERNS.items():
            for m in pattern.finditer(text):
                group = 1 if pattern.groups else 0
                found.append(Span(m.start(group), m.end(group), kind))
        return [s for s in found if s.end > s.start]

    def redact_text(self, text: str, counts: Counter | None = None) -> str:
        """`text` with every identifying span removed."""
        spans = merge(self.spans(text))
        if counts is not None:
            counts.update(s.kind for s in spans)
        for span in reversed(spans):
            text = text[: span.start] + text[span.end :]
        return text


def name_variants(words: list[str], person: bool) -> list[list[str]]:
    """Full name; for persons also first+last and last, first; for organizations without suffix."""
    variants = [words]
    if person and len(words) >= 2:
        core = [w for w in words if len(w.rstrip(".")) > 1] or words
        variants += [core, [core[0], core[-1]], [core[-1], core[0]]]
    elif not person:
        trimmed = [w for w in words if w.lower().rstrip(".") not in {"inc", "llc", "corp", "co", "ltd", "lp", "llp", "pc", "apc"}]
        if trimmed and trimmed != words:
            variants.append(trimmed)
    return [v for v in variants if v]


def _phrase(words: Iterable[str], ignore_case: bool, loose: bool = False) -> re.Pattern:
    sep = r"[\s,.\-/#]*" if loose else r"[\s,.]+"
    body = sep.join(re.escape(w.rstrip(".")) for w in words)
    return re.compile(rf"(?<![\w])(?:{body})(?![\w])", re.I if ignore_case else 0)


def date_pattern(day: date) -> re.Pattern:
    """A date written as 01/02/1980, 1/2/80, 1980-01-02, January 2, 1980, 2 January 1980."""
    m, d, y = day.month, day.day, day.year
    month = MONTHS[m - 1]
    forms = [
        rf"0?{m}[/-]0?{d}[/-](?:{y}|{y % 100:02d})",
        rf"{y}-{m:02d}-{d:02d}",
        rf"(?:{month}|{month[:3]}\.?)\s+0?{d}(?:st|nd|rd|th)?,?\s+{y}",
        rf"0?{d}\s+(?:{month}|{month[:3]}\.?),?\s+{y}",
    ]
    return re.compile(rf"(?<![\w/-])(?:{'|'.join(forms)})(?![\w/])", re.I)


def merge(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans joined, sorted."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and span.start <= out[-1].end:
            out[-1].end = max(out[-1].end, span.end)
        else:
            out.append(Span(span.start, span.end, span.kind))
    return out


def for_application(apps: Iterable, reviewer_name: str | None = None) -> Redactor:
    """A redactor knowing every party of the case's applications (and the reviewer's name)."""
    redactor = Redactor()
    for app in apps:
        for kind, name in app.party_names():
            redactor.add_name(name, kind if kind != "claims_administrator" or name != app.claims_administrator.adjuster else "adjuster")
        redactor.add_address(app.employee.address)
        redactor.add_address(app.claims_administrator.address)
        redactor.add_date(app.employee.date_of_birth, "date_of_birth")
        redactor.add_phrase(app.employee.claim_number, "claim_number")
        redactor.add_phrase(app.employee.phone, "phone")
    redactor.add_name(reviewer_name, "reviewer")
    return redactor


KEEP_FIELDS = {"layout", "case_number", "review_organization", "decision", "priority", "scope", "year", "chapter"}


def _redact_value(value, redactor: Redactor, counts: Counter):
    if isinstance(value, str):
        return redactor.redact_text(value, counts)
    if isinstance(value, list):
        return [_redact_value(v, redactor, counts) for v in value]
    if isinstance(value, dict):
        return {k: v if k in KEEP_FIELDS else _redact_value(v, redactor, counts) for k, v in value.items()}
    return value


def redact_letter(letter: Letter, redactor: Redactor) -> tuple[Letter, Counter]:
    """The letter with identifiers removed from every text field; counts of spans by kind."""
    counts: Counter = Counter()
    data = _redact_value(letter.model_dump(mode="json"), redactor, counts)
    return Letter.model_validate(data), counts
