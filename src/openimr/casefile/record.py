"""An indexed case file into the case record: each document becomes one of the case's
documents through the cases part's `add_document` (UR decisions as `ur_decision`, the rest
as `medical_record`) with what the index read of it (type, author, pages, scanned, the lowest
OCR confidence of its pages; a duplicate linked to the stored original by `duplicate_of`,
and so never counted again), all in one transaction; then the receipt is recorded as the
records-received event (the deadlines are recomputed by `record_event`)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from openimr.casefile.split import Document


def _kind(document: Document) -> str:
    return "ur_decision" if document.type == "ur_decision" else "medical_record"


PAGE_MARK = re.compile(r"^\[page (\d+)\]$", re.M)  # what _text puts before each page


def page_at(text: str, offset: int) -> int | None:
    """The page of the case file an offset of a stored document's text is on (from the
    `[page N]` markers `_text` wrote; None for a text without them): the page cite of an
    evidence span the engine found there."""
    page = None
    for mark in PAGE_MARK.finditer(text):
        if mark.start() > offset:
            break
        page = int(mark.group(1))
    return page


def _text(document: Document) -> str:
    """The document's text with its pages marked, so that citations keep their page."""
    return "\n".join(f"[page {page.number}]\n{page.text}" for page in document.pages)


def index_of(document: Document, stored: dict[int, int]) -> dict:
    """What the case record keeps of an indexed document (record.INDEX_FIELDS); `stored`
    maps the case file's document numbers to the ids they were stored under."""
    confidences = [p.confidence for p in document.pages if p.confidence is not None]
    return {"doc_type": document.type, "author": document.author, "first_page": document.first_page,
            "last_page": document.last_page, "scanned": any(p.scanned for p in document.pages),
            "ocr_confidence": round(min(confidences), 1) if confidences else None,
            "duplicate_of": stored.get(document.duplicate_of) if document.duplicate_of is not None else None}


def store_documents(session, case_number: str, name: str, documents: list[Document], actor: str,
                    received: dt.date | None = None) -> list[int]:
    """Add the case file's documents to case `case_number` and record the records' receipt,
    in the caller's transaction; the ids of the stored documents (duplicates too)."""
    from openimr.cases import record, store
    from openimr.cases.settings import load_settings

    ids = []
    stored: dict[int, int] = {}
    with store.writing(session):
        for document in documents:
            label = f"{Path(name).name} p. {document.first_page}-{document.last_page}: {document.type}"
            row = record.add_document(session, case_number, _kind(document), label, _text(document), actor,
                                      day=_plausible_day(document.date),
                                      index=index_of(document, stored))
            stored[document.number] = row.id
            ids.append(row.id)
        store.record_event(session, case_number, "records_received", received or dt.date.today(), load_settings(),
                           actor=actor, role="intake")
    return ids


def pages_of(text: str) -> list[tuple[int, int, int]]:
    """(page number, start, end) of each page's text in a stored document's text (after its
    `[page N]` line, up to the next one); [] for a text without markers."""
    marks = list(PAGE_MARK.finditer(text))
    out = []
    for i, mark in enumerate(marks):
        start = mark.end() + 1 if text[mark.end():mark.end() + 1] == "\n" else mark.end()
        end = marks[i + 1].start() - 1 if i + 1 < len(marks) else len(text)
        out.append((int(mark.group(1)), start, max(start, end)))
    return out


def is_indexed(row) -> bool:
    """Whether a stored document came from an indexed case file (it has its pages)."""
    return row.first_page is not None


def as_documents(rows) -> list[Document]:
    """The stored documents of an indexed case file as the index's Documents again (each
    numbered by its stored id, its pages from the `[page N]` markers), for the chronology."""
    from openimr.casefile.split import Page

    out = []
    for row in rows:
        if not is_indexed(row):
            continue
        pages = [Page(number=n, text=row.text[s:e], scanned=bool(row.scanned)) for n, s, e in pages_of(row.text)]
        if not pages:
            continue
        try:
            day = dt.date.fromisoformat(row.day) if row.day else None
        except ValueError:
            day = None
        out.append(Document(number=row.id, pages=pages, type=row.doc_type or "other", date=day, author=row.author,
                            duplicate_of=row.duplicate_of))
    return out


def chronology_of(rows) -> dict:
    """The chronology, documents reviewed and drafted summary of a case's stored case-file
    documents (casefile.chronology.read: `document` is the stored document's id)."""
    from openimr.casefile.chronology import read

    return read(as_documents(rows))


def _plausible_day(day) -> str | None:
    """A record's date as read from its text, or None when the one date rule
    (bounds.check_day) refuses it: a misread date never refuses the whole case file."""
    from openimr import bounds

    try:
        return day.isoformat() if bounds.check_day("date", day) else None
    except ValueError:
        return None
