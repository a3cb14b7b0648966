"""From a `Letter` to the rows the library stores: classification and normalised citations.

Pure functions, run in the ingest workers.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from openimr.library.classify import category_label, classify, normalise_guideline
from openimr.models import Citation, GuidelineReference, Letter


def content_hash(letter: Letter) -> str:
    """SHA-256 of the letter's canonical JSON: equal for the same letter from any source."""
    return hashlib.sha256(letter.model_dump_json().encode()).hexdigest()


def letter_key(letter: Letter, digest: str) -> str:
    """What identifies a letter across versions: its case number, else its content hash."""
    return letter.case_number.strip().upper() if letter.case_number and letter.case_number.strip() else f"sha256:{digest}"


def _citations(citation: Citation, role: str) -> list[dict[str, Any]]:
    references: list[Citation | GuidelineReference] = list(citation.references) or (
        [citation] if citation.scope != "none" or citation.guideline else []
    )
    rows = []
    for position, ref in enumerate(references):
        name = normalise_guideline(ref.guideline or citation.text, ref.scope, ref.chapter)
        rows.append(
            {
                "role": role,
                "position": position,
                "scope": ref.scope,
                "guideline": (ref.guideline or "")[:300] or None,
                "guideline_key": name.key if name else None,
                "year": ref.year,
                "chapter": ref.chapter,
                "sections": json.dumps(ref.sections, ensure_ascii=False),
                "pages": json.dumps(ref.pages, ensure_ascii=False),
                "text": citation.text if position == 0 else "",
            }
        )
    return rows


def guideline_label(key: str | None) -> str | None:
    """Printable guideline name for a stored key."""
    if not key:
        return None
    if key.startswith("other:"):
        return key[6:]
    from openimr.vocab.guidelines import guideline

    g = guideline(key)
    return g.title if g else key


def letter_record(letter: Letter, source_name: str, source_hash: str) -> dict[str, Any]:
    """The rows of one letter: letter fields, credentials, items with their citations."""
    digest = content_hash(letter)
    items = []
    for position, item in enumerate(letter.items):
        kind = classify(item.request, item.disputed_request)
        citations = _citations(item.claims_administrator_guideline, "claims_administrator") + _citations(
            item.imr_guideline, "imr"
        )
        imr_keys = [c["guideline_key"] for c in citations if c["role"] == "imr" and c["guideline_key"]]
        items.append(
            {
                "position": position,
                "request": item.request,
                "original_request": item.original_request,
                "authorized": item.authorized,
                "disputed_request": item.disputed_request,
                "decision": item.decision,
                "overturned": item.decision == "Overturned",
                "rationale": item.rationale,
                **kind.as_dict(),
                "guideline": imr_keys[0] if imr_keys else None,
                "decision_date": letter.decision_date,
                "embedding": None,
                "citations": citations,
            }
        )
    credentials = [{"kind": "licensure", "value": v[:200]} for v in dict.fromkeys(letter.reviewer.licensure)] + [
        {"kind": "specialty", "value": v[:200]} for v in dict.fromkeys(letter.reviewer.specialties)
    ]
    return {
        "source_name": source_name,
        "letter": {
            "letter_key": letter_key(letter, digest),
            "case_number": letter.case_number,
            "content_hash": digest,
            "source_hash": source_hash,
            "source_name": source_name[-512:],
            "layout": letter.layout,
            "date_assigned": letter.date_assigned,
            "date_of_injury": letter.date_of_injury,
            "decision_date": letter.decision_date,
            "ur_denial_date": letter.ur_denial_date,
            "application_received": letter.application_received,
            "priority": letter.priority,
            "review_organization": letter.review_organization,
            "credentials_statement": letter.reviewer.statement,
            "documents_reviewed": None if letter.documents_reviewed is None else json.dumps(letter.documents_reviewed, ensure_ascii=False),
            "clinical_case_summary": letter.clinical_case_summary,
            "item_count": len(letter.items),
        },
        "credentials": credentials,
        "items": items,
    }


def embed_records(records: list[dict[str, Any]]) -> None:
    """Fill in each item's embedding (float16 bytes), all items of the records at once."""
    from openimr.library import embed

    items = [item for record in records for item in record["items"]]
    if not items:
        return
    pairs = [
        embed.item_text(item["disputed_request"] or item["request"], category_label(item["category"]), item["rationale"])
        for item in items
    ]
    vectors = embed.encode_items(pairs)
    for item, vector in zip(items, vectors):
        item["embedding"] = embed.to_bytes(vector)
