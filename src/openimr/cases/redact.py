"""Redaction of a Final Determination letter for publication, as the DWC posts letters.

Detection and action are separate (the Presidio shape): recognizers find spans of
identifying text and `redact_text` removes every span, leaving the surrounding spaces as the
published letters do ("a represented  employee"). Two kinds of recognizers:

- the case's own identifiers: every party's name (the whole name, first and last, "LAST,
  FIRST", every part of a hyphenated or compound surname, in any letter case and with or
  without accents, with initials next to it; its initials with dots, and without unless
  they spell a clinical abbreviation), the expert reviewer's and the workbench users'
  names, addresses (with and without the house number), the date of birth in every written
  form, the claim number and the phone;
- patterns for what the case does not list: titled names ("Dr. Reyes"), names with a
  credential ("Ana Reyes, PA-C"), people named by their relation to the worker ("his wife,
  Carmen"), street addresses and street names, numbers after a label (medical record,
  account, claim, ADJ, policy, member numbers...), SSNs with any separators, phone numbers,
  e-mail addresses and labelled dates of birth.

The words these need (organization words, English words that are also names, relation
words, credentials, number labels, street types) are in data/redaction.yaml. Nothing is
logged: only counts per kind are returned.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from openimr.models import Letter, Model

DATA_FILE = Path(__file__).parent / "data" / "redaction.yaml"


class Vocabulary(Model):
    """The word lists of data/redaction.yaml."""

    organization_words: list[str]
    organization_suffixes: list[str]
    never_alone: list[str]
    common_words: list[str]
    relation_words: list[str]
    not_name_words: list[str]
    credentials: list[str]
    id_labels: list[str]
    street_suffixes: list[str]
    not_initials: list[str]


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    from openimr.vocab.data import load

    return load(DATA_FILE.name, Vocabulary, DATA_FILE, ValueError)


PERSON_KINDS = {"employee", "physician", "attorney", "family", "adjuster", "reviewer", "person", "officer", "other"}
TITLES = r"(?:Dr|Doctor|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Attorney|Atty|Nurse)\.?"
NAME_WORD = r"(?:Mc|Mac|O['’]|D['’])?[A-ZÀ-ÖØ-ÞĀ-Ž][a-zß-öø-ÿā-ž][^\W\d_]*(?:['’-][^\W\d_]+)*"
INITIAL = r"[A-Z]\."
PARTICLE = r"(?i:de|del|de\s+la|de\s+los|van|van\s+der|van\s+den|der|den|ter|von|da|di|du|le|la|st\.?|san)"
# a person's name as written: words, initials, particles ("Maria Q. de la Cruz")
PERSON = rf"{NAME_WORD}(?:\s+(?:{INITIAL}|{PARTICLE}\s+{NAME_WORD}|{NAME_WORD})){{0,3}}"
MONTHS = "January February March April May June July August September October November December".split()
MONTH_TEXT = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
DATE_TEXT = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}|\d{8}|"
    rf"{MONTH_TEXT}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}}|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH_TEXT},?\s+\d{{2,4}})"
)
ACCENTS = {
    "a": "aáàâäãå", "e": "eéèêë", "i": "iíìîï", "o": "oóòôöõø", "u": "uúùûü", "n": "nñ", "c": "cç", "y": "yýÿ",
}


def _fold(ch: str) -> str:
    """A character class matching the letter with or without its accent ("í" -> [iíìîï])."""
    base = unicodedata.normalize("NFD", ch)[0].lower()
    if base in ACCENTS or base != ch.lower():
        variants = ACCENTS.get(base, base) + ch.lower()
        return "[" + variants + variants.upper() + "]"
    if ch in "'’":
        return "['’]"
    return re.escape(ch)


def _word(word: str) -> str:
    return "".join(_fold(ch) for ch in word)


def _label_pattern(labels: Iterable[str]) -> str:
    words = sorted({w.lower() for w in labels}, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(part) for part in w.split()) for w in words)


@lru_cache(maxsize=1)
def patterns() -> dict[str, re.Pattern]:
    """The case-independent recognizers; those with a group remove only the group."""
    v = vocabulary()
    suffix = "|".join(sorted(map(re.escape, v.street_suffixes), key=len, reverse=True))
    named_suffix = "|".join(re.escape(s) for s in v.street_suffixes if len(s) > 2 and s not in ("Row", "Loop"))
    credentials = "|".join(sorted((re.escape(c) for c in v.credentials), key=len, reverse=True))
    relations = _label_pattern(v.relation_words)
    labels = _label_pattern(v.id_labels)
    identifier = r"(?:[A-Za-z]{1,4}[\s-])?(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{2,}[A-Za-z0-9]"
    return {
        "titled_name": re.compile(rf"\b{TITLES}\s+((?:{INITIAL}\s*)*{PERSON})"),
        "credentialed_name": re.compile(rf"((?:{INITIAL}\s*)*{PERSON}),\s+(?:{credentials})(?![\w-])"),
        "relation_name": re.compile(
            rf"(?i:\b(?:{relations})\b),?\s+(?:(?i:named|called)\s+)?((?:{INITIAL}\s*)*{PERSON})"
        ),
        "street_address": re.compile(
            rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z0-9][A-Za-z0-9'’.-]*\s+){{1,4}}(?:{suffix})\b\.?"
            r"(?:,?\s+(?:Suite|Ste|Apt|Unit|#)\.?\s*[\w-]+)?"
            r"(?:,\s*[A-Z][A-Za-z .]+,?\s+(?:CA|California)\s+\d{5}(?:-\d{4})?)?"
        ),
        "street_name": re.compile(rf"\b(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){{1,3}}(?:{named_suffix})\b\.?"),
        "city_zip": re.compile(r"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2},\s*(?:CA|California)\s+\d{5}(?:-\d{4})?\b"),
        "po_box": re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d+\b", re.I),
        "labelled_number": re.compile(
            rf"(?i:\b(?:{labels})\b\.?\s*(?:number|no\.?|num\.?|#|id)?\s*[:#.]?\s*#?\s*)({identifier})"
        ),
        "adj_number": re.compile(r"\bADJ[\s#:-]*\d{5,}\b", re.I),
        "ssn": re.compile(r"(?<![\d-])\d{3}([-\s./]?)\d{2}\1\d{4}(?![\d-])"),
        "phone": re.compile(
            r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|(?<![\d/.-])\d{3}[-.\s]?)\d{3}[-.\s]?\d{4}(?![\d/-])"
            r"(?:\s*(?:ext\.?|x)\s*\d{1,5})?"
        ),
        "email": re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
        "date_of_birth": re.compile(
            rf"(?i:\b(?:date\s+of\s+birth|birth\s?date|birthday|d\.?o\.?b\.?|born(?:\s+on)?)\s*[:\-]?\s*)({DATE_TEXT})"
        ),
    }


@dataclass
class Span:
    start: int
    end: int
    kind: str


_INITIALS_BEFORE = re.compile(r"(?:\b[A-Z]\.\s*){1,3}$")
_INITIALS_AFTER = re.compile(r"^,?\s*(?:[A-Z]\.\s*){1,3}(?![\w])")


@dataclass
class Redactor:
    """Recognizers for one case: its parties' names, addresses, DOB, claim numbers."""

    terms: list[tuple[re.Pattern, str]] = field(default_factory=list)
    # name words that are also English words: matched only where written with a capital
    capitalised: list[tuple[re.Pattern, str]] = field(default_factory=list)

    def add_name(self, name: str | None, kind: str) -> None:
        """A party's name in the forms a letter may write it."""
        if not name or not name.strip():
            return
        v = vocabulary()
        org_words = set(v.organization_words)
        words = _name_only(re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)*\.?|&", name))
        if not words:
            return
        person = kind in PERSON_KINDS and len(words) <= 6 and not any(w.lower().rstrip(".") in org_words for w in words)
        for variant in name_variants(words, person):
            self.terms.append((_phrase(variant), "person" if person else kind))
        if not person:
            return
        for letters in initials(name):
            self.terms += [(pattern, "person") for pattern in initials_patterns(letters)]
        common, never = set(v.common_words), set(v.never_alone)
        for word in words:
            bare = word.rstrip(".")
            if len(bare) < 2 or bare.lower() in never:
                continue
            if bare.lower() in common:  # capitalised, and not a part of a word ("X-Ray")
                self.capitalised.append((re.compile(rf"(?<![\w'’-]){_word(bare)}(?![\w-])", re.I), kind))
            else:  # in any case, also as a part of a hyphenated name
                self.terms.append((re.compile(rf"(?<![\w'’]){_word(bare)}(?![\w])", re.I), "person"))

    def add_phrase(self, text: str | None, kind: str) -> None:
        """A literal identifier (claim number, phone, address line), spacing and case ignored."""
        if text and len(text.strip()) >= 3:
            self.terms.append((_phrase(re.findall(r"[A-Za-z0-9]+", text), loose=True), kind))

    def add_address(self, address: str | None) -> None:
        """The whole address, each comma-separated part specific enough, and the street
        without its house number."""
        if not address:
            return
        self.add_phrase(address, "address")
        for part in re.split(r"[,\n]", address):
            part = part.strip()
            if re.search(r"\d", part) or len(part) >= 4:
                self.add_phrase(part, "address")
            street = re.match(r"^\d+[A-Za-z]?\s+(.{4,})$", part)
            if street:
                self.add_phrase(street.group(1), "address")

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
        not_names = set(vocabulary().not_name_words)
        for kind, pattern in patterns().items():
            for m in pattern.finditer(text):
                group = 1 if pattern.groups and kind != "ssn" else 0
                person = kind in ("titled_name", "credentialed_name", "relation_name")
                if person and re.split(r"[\s.'’-]", m.group(group), maxsplit=1)[0].lower() in not_names:
                    continue  # "Doctor's First Report" names no one
                found.append(Span(m.start(group), m.end(group), "person" if person else kind))
        return [_with_initials(text, s) for s in found if s.end > s.start]

    def learned(self, text: str) -> Redactor:
        """This redactor and the people the `text` names that the case does not list (found
        by the titled, credentialed and relation patterns): each word of their names is then
        removed wherever it is written with a capital ("spoke with Jensen" after "his
        co-worker Eric Jensen"), in every field of the letter."""
        v = vocabulary()
        skip = set(v.never_alone) | set(v.not_name_words) | set(v.relation_words)
        words = {
            word
            for span in self.spans(text)
            if span.kind == "person"
            for word in re.findall(NAME_WORD, text[span.start : span.end])
            if len(word) > 2 and word.lower() not in skip
        }
        more = [(re.compile(rf"(?<![\w'’-]){_word(word)}(?![\w-])", re.I), "person") for word in sorted(words)]
        return Redactor(list(self.terms), self.capitalised + more)

    def redact_text(self, text: str, counts: Counter | None = None) -> str:
        """`text` with every identifying span removed."""
        spans = merge(self.spans(text))
        if counts is not None:
            counts.update(s.kind for s in spans)
        pieces, last = [], 0
        for span in spans:
            pieces.append(text[last : span.start])
            last = span.end
        pieces.append(text[last:])
        return "".join(pieces)


def _with_initials(text: str, span: Span) -> Span:
    """A person's name span widened to the initials written next to it ("M. Q. Gonzalez",
    "Gonzalez, M.")."""
    if span.kind != "person":
        return span
    before = _INITIALS_BEFORE.search(text, max(0, span.start - 12), span.start)
    after = _INITIALS_AFTER.match(text[span.end : span.end + 14])
    start = before.start() if before else span.start
    end = span.end + (after.end() if after else 0)
    return Span(start, end, span.kind)


@lru_cache(maxsize=1)
def _credentials() -> frozenset[str]:
    """The credentials, lower case and without dots ("M.D." is "md", "PA-C" is "pa-c")."""
    return frozenset(c.lower().replace(".", "") for c in vocabulary().credentials)


def _name_only(words: list[str]) -> list[str]:
    """A name's words without the titles before it ("Dr. Ana Reyes": the title is no name)
    and the credentials after it ("Ana Reyes, PA-C")."""
    while words and re.fullmatch(TITLES, words[0]):
        words = words[1:]
    while len(words) > 1 and words[-1].lower().replace(".", "") in _credentials():
        words = words[:-1]
    return words


def initials(name: str) -> list[list[str]]:
    """The initials a person's name may be written with: the first name's, the middle
    initials or not, and the surname's first or last part ("Ana Q. de la Cruz-Reyes": "AQD",
    "AD", "AQR", "AR"); titles and credentials are no part of them."""
    tokens = _name_only([t.strip(",") for t in name.split() if t.strip(",")])
    middle = [t[0].upper() for t in tokens[1:] if len(t.rstrip(".")) == 1 and t[0].isalpha()]
    surname = [t for t in tokens[1:] if len(t.rstrip(".")) > 1]
    if not surname:
        return []
    parts = [part for token in surname for part in re.split(r"[-–]", token) if part]
    first = tokens[0][0].upper()
    found: list[list[str]] = []
    for last in dict.fromkeys(part[0].upper() for part in (parts[0], parts[-1])):
        for letters in ([first, *middle, last], [first, last]):
            if letters not in found and all(letter.isalpha() for letter in letters):
                found.append(letters)
    return found


@lru_cache(maxsize=1)
def not_initials() -> frozenset[str]:
    """Capital abbreviations never taken for a person's undotted initials: the clinical and
    administrative ones of data/redaction.yaml and the credentials ("PT", "MD")."""
    return frozenset(vocabulary().not_initials) | {c.upper() for c in _credentials()}


def initials_patterns(letters: list[str]) -> list[re.Pattern]:
    """A person's initials as written: with dots ("M.G.", "M. Q. G."), and, unless they spell
    a clinical abbreviation, without ("MG", "MQG", "M.G" with no last dot) - as a whole word,
    in capitals, not inside "MG-2", "MG/kg" or "M.G.B."."""
    dotted = r"\s?".join(rf"{letter}\." for letter in letters)
    found = [re.compile(rf"(?<![\w.]){dotted}(?![\w.])")]
    if "".join(letters) not in not_initials():
        bare = r"\.?".join(letters)
        found.append(re.compile(rf"(?<![\w.\-/]){bare}(?![\w\-/]|\.\w)"))
    return found


def name_variants(words: list[str], person: bool) -> list[list[str]]:
    """Full name; for persons also without initials, first+last and last, first; for
    organizations also without their legal-form suffix."""
    variants = [words]
    if person and len(words) >= 2:
        core = [w for w in words if len(w.rstrip(".")) > 1] or words
        variants += [core, [core[0], core[-1]], [core[-1], core[0]]]
        if len(core) >= 3:  # a compound surname: "de la Cruz", "García López"
            variants += [core[1:], [core[-1], *core[:-1]]]
    elif not person:
        suffixes = set(vocabulary().organization_suffixes)
        trimmed = [w for w in words if w.lower().rstrip(".") not in suffixes]
        if trimmed and trimmed != words:
            variants.append(trimmed)
    return [v for v in variants if v]


def _phrase(words: Iterable[str], loose: bool = False) -> re.Pattern:
    sep = r"[\s,.\-/#]*" if loose else r"[\s,.\-]+"
    body = sep.join(_word(w.rstrip(".")) for w in words)
    return re.compile(rf"(?<![\w])(?:{body})(?![\w])", re.I)


def date_pattern(day: date) -> re.Pattern:
    """A date in every written form: 01/02/1980, 1/2/80, 01-02-1980, 01.02.1980, 1980-01-02,
    1980/01/02, 19800102, January 2, 1980, Jan. 2nd 1980, 2 January 1980, the 2nd of January."""
    m, d, y = day.month, day.day, day.year
    month = MONTHS[m - 1]
    months = rf"(?:{month}|{month[:3]}\.?|{month[:4]}\.?)"
    ordinal = r"(?:st|nd|rd|th)?"
    forms = [
        rf"0?{m}([/.-])0?{d}(?:\1)(?:{y}|{y % 100:02d})",
        rf"{y}([/.-])0?{m}(?:\2)0?{d}",
        rf"{y}{m:02d}{d:02d}|{m:02d}{d:02d}{y}",
        rf"{months}\s+0?{d}{ordinal},?\s+(?:{y}|'?{y % 100:02d})",
        rf"0?{d}{ordinal}\s+(?:of\s+)?{months},?\s+(?:{y}|'?{y % 100:02d})",
    ]
    return re.compile(rf"(?<![\w/.-])(?:{'|'.join(forms)})(?![\w/])", re.I)


def merge(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans joined, sorted."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and span.start <= out[-1].end:
            out[-1].end = max(out[-1].end, span.end)
        else:
            out.append(Span(span.start, span.end, span.kind))
    return out


def for_application(apps: Iterable, reviewer_name: str | None = None, people: Iterable[str] = ()) -> Redactor:
    """A redactor knowing every party of the case's applications, the reviewer's name and
    other people's (`people`: e.g. the workbench users who worked the case)."""
    redactor = Redactor()
    for app in apps:
        for kind, name in app.party_names():
            adjuster = kind == "claims_administrator" and name == app.claims_administrator.adjuster
            redactor.add_name(name, "adjuster" if adjuster else kind)
        redactor.add_address(app.employee.address)
        redactor.add_address(app.claims_administrator.address)
        redactor.add_date(app.employee.date_of_birth, "date_of_birth")
        redactor.add_phrase(app.employee.claim_number, "claim_number")
        redactor.add_phrase(app.employee.phone, "phone")
    redactor.add_name(reviewer_name, "reviewer")
    for name in people:
        redactor.add_name(name, "person")
    return redactor


def workbench_names(session) -> list[str]:
    """The display names of the workbench's users (none when the workbench is not set up)."""
    from sqlalchemy import inspect, select

    try:
        from openimr.web.tables import User
    except ImportError:  # pragma: no cover - the workbench ships with OpenIMR
        return []
    if not inspect(session.get_bind()).has_table(User.__tablename__):
        return []
    return [name for name in session.scalars(select(User.display_name)) if name]


KEEP_FIELDS = {"layout", "case_number", "review_organization", "decision", "priority", "scope", "year", "chapter"}


def _redact_value(value, redactor: Redactor, counts: Counter):
    if isinstance(value, str):
        return redactor.redact_text(value, counts)
    if isinstance(value, list):
        return [_redact_value(v, redactor, counts) for v in value]
    if isinstance(value, dict):
        return {k: v if k in KEEP_FIELDS else _redact_value(v, redactor, counts) for k, v in value.items()}
    return value


def _strings(value, key: str = ""):
    """Every text of a letter's data that redaction reads (not the KEEP_FIELDS)."""
    if key in KEEP_FIELDS:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)


def redact_letter(letter: Letter, redactor: Redactor) -> tuple[Letter, Counter]:
    """The letter with identifiers removed from every text field; counts of spans by kind."""
    counts: Counter = Counter()
    data = letter.model_dump(mode="json")
    redactor = redactor.learned("\n".join(_strings(data)))
    data = _redact_value(data, redactor, counts)
    return Letter.model_validate(data), counts
