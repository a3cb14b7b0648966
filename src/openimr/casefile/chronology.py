"""A case file's documents read into a chronology of dated clinical events (each with its
document and page), the list of documents reviewed, and a drafted clinical case summary in
the published letters' style, one sentence per event, each tied to its page. Duplicates are
left out of all three (their original stands for them)."""

from __future__ import annotations

import datetime as dt
import re

from openimr.casefile.rules import Rules, rules
from openimr.casefile.split import Document

ADMINISTRATIVE = ("imr_application", "correspondence", "other")  # not clinical events
MAX_EVENT_CHARS = 320


def _when(day: dt.date) -> str:
    return day.strftime("%m/%d/%Y")


def _sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    match = re.search(r"(?<!\b[A-Z])(?<!\bDr)(?<!\bvs)[.!?](\s|$)", text)
    if match:
        text = text[: match.start() + 1]
    if len(text) > MAX_EVENT_CHARS:
        text = text[:MAX_EVENT_CHARS].rsplit(" ", 1)[0] + " ..."
    return text


def event_of(document: Document, r: Rules) -> tuple[str, int] | None:
    """The document's clinical finding (its best section's first sentence) and its page."""
    labels = "|".join(r.event_sections)
    section = re.compile(rf"^\s*(?:{labels})\b[^:\n]{{0,30}}:\s*(.*)$", re.I | re.M)
    for label in r.event_sections:
        one = re.compile(rf"^\s*(?:{label})\b[^:\n]{{0,30}}:\s*(.*)$", re.I | re.M)
        for page in document.pages:
            text = r.page_of.sub("", page.text)
            match = one.search(text)
            if not match:
                continue
            rest = text[match.start(1):]
            following = section.search(rest, 1) if match.group(1).strip() else None
            body = rest[: following.start()] if following else rest
            body = re.split(r"\n\s*\n", body.strip(), maxsplit=1)[0] if body.strip() else ""
            if len(body.strip()) >= 12:
                return _sentence(body), page.number
    return None


def read(documents: list[Document], r: Rules | None = None) -> dict:
    """{"chronology", "documents_reviewed", "summary", "summary_sentences"}."""
    r = r or rules()
    originals = [d for d in documents if d.duplicate_of is None]
    events = []
    for document in originals:
        kind = r.kind(document.type)
        # a type the rules give no sentence (none in the bundled rules) is no event either
        if document.type in ADMINISTRATIVE or document.date is None or kind is None:
            continue
        found = event_of(document, r)
        if found:
            events.append((document.date, document.number, found[1], found[0], kind.sentence))
    events.sort(key=lambda e: (e[0], e[1]))
    chronology = [{"date": day.isoformat(), "document": number, "page": page, "text": text}
                  for day, number, page, text, _template in events]
    reviewed = []
    for document in sorted(originals, key=lambda d: (d.date or dt.date.max, d.number)):
        kind = r.kind(document.type)
        name = kind.phrase if kind else "Document"
        line = f"{name[0].upper()}{name[1:]}"
        if document.date:
            line += f" dated {_when(document.date)}"
        if document.author:
            line += f", {document.author}"
        line += f" (pages {document.first_page}-{document.last_page})" if document.last_page > document.first_page \
            else f" (page {document.first_page})"
        reviewed.append(line)
    sentences = []
    for day, number, page, text, template in events:
        body = text[0].lower() + text[1:] if text[:1].isupper() and not text[:2].isupper() else text
        sentence = template.format(date=_when(day), text=body.rstrip(" ."))
        sentences.append({"text": sentence.rstrip(".") + ".", "document": number, "page": page})
    summary = " ".join(f"{s['text']} [p. {s['page']}]" for s in sentences)
    return {"chronology": chronology, "documents_reviewed": reviewed, "summary": summary,
            "summary_sentences": sentences}
