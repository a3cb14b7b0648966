"""Guideline citations: from the printed line to what it means.

A letter's guideline line names zero or more guidelines: "Decision based on MTUS Low Back
Complaints 2004, Section(s): Special Studies, and Chronic Pain Medical Treatment 2016.
Decision based on Non-MTUS Citation Official Disability Guidelines (ODG), Low Back." The
guideline names and their spellings come from the one guideline registry (openimr.vocab,
vocab/guidelines.yaml).
"""

from __future__ import annotations

import re
from functools import lru_cache

from openimr.letters.read.common import collapse
from openimr.models import Citation, GuidelineReference, Scope
from openimr.vocab.guidelines import Guideline, printed


class _Compiled:
    """The registry's printed guideline names turned into patterns."""

    def __init__(self, mtus: list[Guideline], non_mtus: list[Guideline]) -> None:
        self.mtus_names = self._names(mtus)
        self.non_mtus_names = self._names(non_mtus)
        self.mtus_pattern = self._pattern(self.mtus_names)
        self.non_mtus_pattern = self._pattern(self.non_mtus_names)
        self.comma_sections = {s.lower() for g in mtus + non_mtus for s in g.sections_with_commas}
        self.chapters = {g.name: g.acoem_chapter for g in mtus if g.acoem_chapter}

    @staticmethod
    def _names(entries: list[Guideline]) -> dict[str, str]:
        names: dict[str, str] = {}
        for entry in entries:
            if entry.name is None:  # spellings are empty without a printed name
                continue
            for spelling in entry.spellings:
                names.setdefault(collapse(spelling).lower(), entry.name)
        return names

    @staticmethod
    def _pattern(names: dict[str, str]) -> re.Pattern[str]:
        spellings = sorted(names, key=len, reverse=True)
        alternatives = "|".join(r"\s+".join(re.escape(w) for w in s.split()) for s in spellings)
        return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)

    def canonical(self, spelling: str, mtus: bool) -> str:
        names = self.mtus_names if mtus else self.non_mtus_names
        return names.get(collapse(spelling).lower(), collapse(spelling))


@lru_cache(maxsize=1)
def catalog() -> _Compiled:
    """The guidelines letters print by name (the one registry, openimr.vocab), compiled once."""
    return _Compiled(printed("MTUS"), printed("non-MTUS"))


def canonical_guideline(name: str) -> str | None:
    """The catalog's canonical name for a guideline spelled any known way, else None."""
    compiled = catalog()
    key = collapse(name).lower()
    return compiled.mtus_names.get(key) or compiled.non_mtus_names.get(key)


def chapter_of(guideline: str | None) -> int | None:
    """The ACOEM 2nd-edition chapter number of an MTUS body-part guideline, if it has one."""
    return catalog().chapters.get(guideline or "")


_NO_EVIDENCE = re.compile(r"did\s+not\s+cite\s+any\s+medical\s+evidence", re.IGNORECASE)
_OUTSIDE_MTUS = re.compile(r"outside\s+of\s+the\s+MTUS", re.IGNORECASE)
_STATEMENT = re.compile(
    r"Decision\s+based\s+on\s+(Non-MTUS\s+Citation|MTUS)\s*(.*?)(?=Decision\s+based\s+on\s+(?:Non-MTUS\s+Citation|MTUS)\b|$)",
    re.IGNORECASE | re.DOTALL,
)
_REF_START_BEFORE = re.compile(
    r"(?:^|,\s*and\s+|;\s*|\band\s+|(?:ACOEM\s+)?Chapter\s+\d+\s*[,:-]?\s*|ACOEM\s+|CA\s+)$", re.IGNORECASE
)
_YEAR_AFTER = re.compile(r"^\s*,?\s*\(?((?:19|20)\d\d)\)?(?!\d)")
_CHAPTER_BEFORE = re.compile(r"Chapter\s+(\d+)\s*[,:-]?\s*$", re.IGNORECASE)
_SECTIONS = re.compile(r"Section\(s\)\s*:\s*(.*?)(?=,?\s*Page\(s\)\s*:|$)", re.IGNORECASE | re.DOTALL)
_PAGES = re.compile(r"Page\(s\)\s*:\s*(.*?)$", re.IGNORECASE | re.DOTALL)
_NON_MTUS_PAGES = re.compile(r"\b(?:pg|pp|p|page|pages)\.?\s+(\d+(?:\s*-\s*\d+)?)", re.IGNORECASE)
_FREE_YEAR = re.compile(r"(?<![/\d])((?:19|20)\d\d)(?![/\d])")
_NUMBERED = re.compile(r"^\d+(?:\.\d+)*\.?\s")


def _split_outside_parentheses(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def split_sections(text: str) -> list[str]:
    """A section list split at its commas, but not inside a section title that has one."""
    text = collapse(text).rstrip(" .;")
    if not text:
        return []
    fragments = _split_outside_parentheses(text)
    known = catalog().comma_sections
    numbered = bool(_NUMBERED.match(fragments[0]))
    sections: list[str] = []
    for fragment in fragments:
        if sections:
            joined = f"{sections[-1]}, {fragment}"
            if (
                fragment[:1].islower()
                or any(k.startswith(joined.lower()) for k in known)
                or (numbered and not _NUMBERED.match(fragment))
            ):
                sections[-1] = joined
                continue
        sections.append(fragment)
    return sections


def _pages(text: str) -> list[str]:
    return [p for p in (collapse(x) for x in re.split(r"[,;]|\band\b", text.rstrip(" ."))) if p]


def _mtus_references(body: str) -> list[GuidelineReference]:
    compiled = catalog()
    # What may stand before a reference is short: look at a window, not the whole prefix.
    starts = [
        m
        for m in compiled.mtus_pattern.finditer(body)
        if _REF_START_BEFORE.search(body[max(0, m.start() - 40) : m.start()])
        or m.start() == 0
    ]
    if not starts:
        return [_unknown_mtus_reference(body)] if body.strip(" .") else []
    references = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(body)
        tail = body[match.end() : end]
        tail = re.sub(r"(?:,?\s+and|;)\s*$", "", tail.rstrip()).rstrip(" ,;")
        name = compiled.canonical(match.group(0), mtus=True)
        year_match = _YEAR_AFTER.match(tail)
        chapter_match = _CHAPTER_BEFORE.search(body[max(0, match.start() - 40) : match.start()])
        sections = _SECTIONS.search(tail)
        pages = _PAGES.search(tail)
        references.append(
            GuidelineReference(
                scope="MTUS",
                guideline=name,
                year=int(year_match.group(1)) if year_match else None,
                chapter=int(chapter_match.group(1)) if chapter_match else None,
                sections=split_sections(sections.group(1)) if sections else [],
                pages=_pages(pages.group(1)) if pages else [],
            )
        )
    return references


def _unknown_mtus_reference(body: str) -> GuidelineReference:
    """A guideline the catalog does not know: its name is what stands before year/sections."""
    match = re.match(
        r"^\s*(?:ACOEM\s+)?(?:Chapter\s+(\d+)\s*)?(.*?)\s*(?:\b((?:19|20)\d\d)\b)?\s*(?:,?\s*Section\(s\)\s*:|,?\s*Page\(s\)\s*:|$)",
        body,
        re.IGNORECASE | re.DOTALL,
    )
    assert match is not None  # the pattern matches any string
    sections = _SECTIONS.search(body)
    pages = _PAGES.search(body)
    return GuidelineReference(
        scope="MTUS",
        guideline=collapse(match.group(2)).rstrip(" ,.") or None,
        year=int(match.group(3)) if match.group(3) else None,
        chapter=int(match.group(1)) if match.group(1) else None,
        sections=split_sections(sections.group(1)) if sections else [],
        pages=_pages(pages.group(1)) if pages else [],
    )


def _non_mtus_reference(body: str) -> GuidelineReference:
    compiled = catalog()
    body = collapse(body).rstrip(" .")
    match = compiled.non_mtus_pattern.search(body)
    name: str | None
    if match:
        name = compiled.canonical(match.group(0), mtus=False)
        rest = (body[: match.start()] + " " + body[match.end() :]).strip()
        rest = re.sub(r"^\s*\((?:ODG)\)", "", rest).strip(" ,:;-.")
    else:
        head = re.split(r"[,.:;]", body, maxsplit=1)
        name = head[0].strip() or None
        rest = head[1].strip(" ,:;-.") if len(head) > 1 else ""
    year = _FREE_YEAR.search(body)
    pages = _NON_MTUS_PAGES.findall(body)
    return GuidelineReference(
        scope="non-MTUS",
        guideline=name,
        year=int(year.group(1)) if year else None,
        sections=[collapse(rest)] if rest else [],
        pages=[collapse(p) for p in pages],
    )


def parse_citation(text: str) -> Citation:
    """The meaning of a guideline line (the part after "... guideline:")."""
    printed = collapse(text)
    # Letters repeat the same guideline lines; parse each once, build fresh models each time.
    return Citation.model_validate(_citation_fields(printed))


@lru_cache(maxsize=4096)
def _citation_fields(printed: str) -> dict:
    return _parse_citation(printed).model_dump()


def _parse_citation(printed: str) -> Citation:
    references: list[GuidelineReference] = []
    if printed and not _NO_EVIDENCE.search(printed):
        statements = list(_STATEMENT.finditer(printed))
        for statement in statements:
            kind, body = statement.group(1), statement.group(2).strip()
            if kind.upper() == "MTUS":
                references.extend(_mtus_references(body.rstrip(" .")))
            elif body.strip(" ."):
                references.append(_non_mtus_reference(body))
        if not statements:
            references = _free_form_references(printed)
    if references:
        first = references[0]
        return Citation(text=printed, **first.model_dump(), references=references)
    scope: Scope = "non-MTUS" if _OUTSIDE_MTUS.search(printed) else "none"
    return Citation(text=printed, scope=scope, references=[])


def _free_form_references(printed: str) -> list[GuidelineReference]:
    """Citations not in the "Decision based on ..." form, e.g. "CA MTUS Chronic Pain, Page(s): 78"."""
    mtus = re.search(r"(?<!Non-)\bMTUS\b", printed, re.IGNORECASE)
    if mtus:
        return _mtus_references(printed[mtus.end() :].strip(" .:,"))
    if catalog().non_mtus_pattern.search(printed):
        return [_non_mtus_reference(printed)]
    return []
