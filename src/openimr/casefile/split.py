"""Pages to documents: boundaries, type, date, author, and duplicates.

A page starts a document when it says so ("Page 1 of M"), when a title of a known document
type stands near its top, or when the page before it was the last of its document ("Page M
of M"); "Page N of M" with N > 1 holds a page to the document before it whatever its top
says. Fax header lines (the sending machine's, with the transmission's own page count) are
taken off first, so that a faxed copy reads like its original. A document is typed by its
title (data/doctypes.yaml), else by its keywords; dated by the first labelled date ("Date of
service:", "DOS", "dated ..."), else by its first date that is not a birth or injury date;
its author is the labelled provider or signer, else the organization of its letterhead.
A document whose words are (nearly) those of an earlier one of the same type and date (or with
no date read on one of them) is a duplicate: `duplicate_of` is the 1-based number of that earlier document, and a duplicate is
never counted again (chronology, documents reviewed, summary)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from openimr.casefile.rules import Rules, rules

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
DATE = (r"(?:(?P<m>\d{1,2})[/-](?P<d>\d{1,2})[/-](?P<y>\d{4}|\d{2})(?!\d)"
        r"|(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
        r"|(?P<tm>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<td>\d{1,2}),?\s+(?P<ty>\d{4}))")
_DATE = re.compile(DATE, re.I)
DUPLICATE_SIMILARITY = 0.6  # Jaccard similarity of the word sets


EARLIEST_YEAR, LATEST_YEAR = 1900, 2100  # a "7016" read off a fax is not a date


def parse_date(match: re.Match) -> dt.date | None:
    g = match.groupdict()
    day = _parse(g)
    return day if day and EARLIEST_YEAR <= day.year <= LATEST_YEAR else None


def _parse(g: dict) -> dt.date | None:
    try:
        if g["m"]:
            year = int(g["y"])
            year += 2000 if year < 50 else (1900 if year < 100 else 0)
            return dt.date(year, int(g["m"]), int(g["d"]))
        if g["iy"]:
            return dt.date(int(g["iy"]), int(g["im"]), int(g["id"]))
        return dt.date(int(g["ty"]), _MONTHS[g["tm"][:3].lower()], int(g["td"]))
    except ValueError:
        return None


def first_date(text: str) -> tuple[dt.date, int] | None:
    for match in _DATE.finditer(text):
        day = parse_date(match)
        if day:
            return day, match.start()
    return None


@dataclass
class Page:
    number: int  # 1-based
    text: str  # without fax header lines
    scanned: bool = False
    confidence: float | None = None
    error: str | None = None
    faxed: bool = False
    title: str | None = None  # the type named by a title near the top
    page_of: tuple[int, int] | None = None


@dataclass
class Document:
    number: int  # 1-based position in the case file's documents
    pages: list[Page]
    type: str = "other"
    date: dt.date | None = None
    author: str | None = None
    duplicate_of: int | None = None
    words: set = field(default_factory=set, repr=False)

    @property
    def first_page(self) -> int:
        return self.pages[0].number

    @property
    def last_page(self) -> int:
        return self.pages[-1].number

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.pages)

    @property
    def scanned(self) -> bool:
        return any(p.scanned for p in self.pages)

    def as_json(self) -> dict:
        return {"type": self.type, "date": self.date.isoformat() if self.date else None,
                "first_page": self.first_page, "last_page": self.last_page, "author": self.author,
                "scanned": self.scanned, "duplicate_of": self.duplicate_of}


def strip_fax(text: str, r: Rules) -> tuple[str, bool]:
    """The page's text without fax header lines, and whether it had one."""
    kept, faxed = [], False
    for line in text.splitlines():
        if any(p.search(line) for p in r.fax_header):
            faxed = True
            continue
        kept.append(line)
    return "\n".join(kept), faxed


def _title_like(line: str, match: re.Match) -> bool:
    letters = [c for c in line if c.isalpha()]
    upper = sum(c.isupper() for c in letters) / max(1, len(letters))
    return len(line) <= 90 and (upper >= 0.6 or match.start() <= 2)


def _plain(line: str) -> str:
    """A line as OCR leaves it, without the specks and rules around words ("| DECISION _")."""
    line = re.sub(r"[|_~=*\u2014\u2013\u201c\u201d\"\[\]{}<>]+", " ", line)
    return re.sub(r"\s+", " ", line).strip(" .,:;-'\u2018\u2019")


def title_type(text: str, r: Rules) -> str | None:
    lines = [_plain(line) for line in text.splitlines() if _plain(line)][: r.title_lines]
    for line in lines:
        for kind in r.types:
            for pattern in kind.titles:
                match = pattern.search(line)
                if match and _title_like(line, match):
                    return kind.name
    return None


def make_page(frame: dict, r: Rules | None = None) -> Page:
    r = r or rules()
    text, faxed = strip_fax(frame.get("text") or "", r)
    page = Page(frame["page"], text, bool(frame.get("scanned")), frame.get("confidence"),
                frame.get("error"), faxed)
    page.title = title_type(text, r)
    found = r.page_of.search(text)
    if found:
        n, m = int(found.group(1)), int(found.group(2))
        if 1 <= n <= m:
            page.page_of = (n, m)
    return page


def _starts(page: Page, previous: Page | None) -> bool:
    if previous is None:
        return True
    if page.error:
        return False
    ended = previous.page_of is not None and previous.page_of[0] == previous.page_of[1]
    if page.page_of:
        n, _m = page.page_of
        if n == 1:
            return True
        if not ended and previous.page_of and previous.page_of[0] == n - 1:
            return False
        if not ended and not page.title:
            return False
    if page.title:
        return True
    return ended


def _words(text: str) -> set:
    return {w for w in re.findall(r"[a-z]{3,}", text.lower())}


def _type_of(document: Document, r: Rules) -> str:
    if document.pages[0].title:
        return document.pages[0].title
    text = document.text
    best, hits = "other", 0
    for kind in r.types:
        count = sum(len(p.findall(text)) for p in kind.keywords)
        if count > hits:
            best, hits = kind.name, count
    return best if hits >= 2 else "other"


def _date_of(text: str, r: Rules) -> dt.date | None:
    for label in r.date_labels:
        for match in re.finditer(rf"\b(?:{label})\b\s*[:#.\-]?\s*(?:{DATE})", text, re.I):
            found = _DATE.search(match.group(0))
            day = parse_date(found) if found else None
            if day:
                return day
    not_dates = re.compile(r"\b(?:" + "|".join(r.not_dates) + r")\b", re.I)
    for match in _DATE.finditer(text):
        if not not_dates.search(text[max(0, match.start() - 30): match.start()]):
            day = parse_date(match)
            if day:
                return day
    return None


_NAME_END = re.compile(r"\s{2,}|\t|\s+(?:date|dos|npi|phone|tel|fax|license|specialty)\b.*$", re.I)


def _clean_author(value: str) -> str | None:
    value = _NAME_END.split(value.strip(" :\t-"), maxsplit=1)[0]
    value = re.sub(r"^(?:[^A-Za-z]+|[a-z]{1,2}\s+)+", "", value)  # OCR specks before the name
    value = re.sub(r"[^A-Za-z.)]+$", "", value).strip(" ,;:")
    return value if 3 <= len(value) <= 80 and re.search(r"[A-Za-z]{2}", value) else None


def _author_of(document: Document, r: Rules) -> str | None:
    text = document.text
    for label in r.author_labels:
        match = re.search(rf"^\s*(?:{label})\s*:\s*(.+)$", text, re.I | re.M)
        if match:
            name = _clean_author(match.group(1))
            if name:
                return name
    match = re.search(r"^\s*(?:sincerely|respectfully|regards),?\s*\n+\s*(.+)$", text, re.I | re.M)
    if match and _clean_author(match.group(1)):
        return _clean_author(match.group(1))
    first = next((line.strip() for line in document.pages[0].text.splitlines() if line.strip()), "")
    if first and r.organization.search(first) and len(first) <= 80:
        return _clean_author(first)
    return None


def split(frames: list[dict], r: Rules | None = None) -> list[Document]:
    """The documents of a case file from its pages' frames (in page order)."""
    r = r or rules()
    documents: list[Document] = []
    previous = None
    for frame in frames:
        page = make_page(frame, r)
        if _starts(page, previous):
            documents.append(Document(len(documents) + 1, [page]))
        else:
            documents[-1].pages.append(page)
        previous = page
    for document in documents:
        document.type = _type_of(document, r)
        document.date = _date_of(document.text, r)
        document.author = _author_of(document, r)
        document.words = _words(document.text)
    mark_duplicates(documents)
    return documents


def similarity(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def mark_duplicates(documents: list[Document]) -> None:
    originals: list[Document] = []
    for document in documents:
        for original in originals:
            if original.type != document.type:
                continue
            # the same date, or no date read on one of them (OCR can misread one)
            same_day = original.date == document.date or None in (original.date, document.date)
            if same_day and similarity(original.words, document.words) >= DUPLICATE_SIMILARITY:
                document.duplicate_of = original.number
                document.date = document.date or original.date
                break
        else:
            originals.append(document)
