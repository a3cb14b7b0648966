"""The one registry of guidelines (`guidelines.yaml`): key, printed name, title, aliases, scope,
ACOEM chapters, ODG chapter, year; and the two ways texts are matched to it — whole printed
names (the letter reader) and loose wordings (the library, the evaluation)."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from openimr.vocab.data import Strict, check_patterns, load

KEY_RX = re.compile(r"^[a-z][a-z0-9-]*$")


class Superseded(Strict):
    """The MTUS guideline that replaced this one, and from when (guidelines.yaml `superseded`)."""

    since: date
    by: str
    year: int | None = None


class Guideline(Strict):
    """One guideline of the registry (fields described in guidelines.yaml)."""

    key: str
    name: str | None = None
    title: str
    scope: Literal["MTUS", "non-MTUS"]
    year: int | None = None
    acoem_chapters: list[int] = Field(default_factory=list)
    odg_chapter: str | None = None
    aliases: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    sections_with_commas: list[str] = Field(default_factory=list)
    superseded: Superseded | None = None

    _v = field_validator("patterns")(check_patterns)

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        if not KEY_RX.match(key):
            raise ValueError(f"guideline key {key!r}: lower-case letters, digits and '-' only")
        return key

    @model_validator(mode="after")
    def _successor_spelled(self) -> Guideline:
        if self.superseded and self.superseded.by not in self.spellings:
            raise ValueError(f"guideline {self.key}: superseded by {self.superseded.by!r}, which is not one of its spellings")
        return self

    def in_force(self, on: date | None) -> tuple[str | None, int | None]:
        """The printed name and year of this guideline as the MTUS had it on `on` (the successor's
        from the day it replaced this one; this one's when `on` is earlier or unknown)."""
        if self.superseded and on is not None and on >= self.superseded.since:
            return self.superseded.by, self.superseded.year
        return self.name, self.year

    @property
    def acoem_chapter(self) -> int | None:
        """The ACOEM body-part chapter, when the guideline is exactly one chapter."""
        return self.acoem_chapters[0] if len(self.acoem_chapters) == 1 else None

    @property
    def spellings(self) -> list[str]:
        """The printed name and its aliases."""
        return ([self.name] if self.name else []) + list(self.aliases)


class GuidelinesFile(Strict):
    guidelines: list[Guideline] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> GuidelinesFile:
        seen: dict[str, str] = {}
        chapters: dict[int, str] = {}
        for g in self.guidelines:
            if g.key in seen:
                raise ValueError(f"duplicate guideline key {g.key!r}")
            seen[g.key] = g.key
            if g.aliases and not g.name:
                raise ValueError(f"guideline {g.key}: aliases need a printed name")
            for c in g.acoem_chapters:
                if g.scope == "MTUS" and c in chapters:
                    raise ValueError(f"guideline {g.key}: ACOEM chapter {c} already belongs to {chapters[c]}")
                chapters[c] = g.key
        spelled: dict[tuple[str, str], str] = {}
        for g in self.guidelines:
            for s in g.spellings:
                k = (g.scope, " ".join(s.lower().split()))
                if k in spelled and spelled[k] != g.key:
                    raise ValueError(f"guideline {g.key}: spelling {s!r} already names {spelled[k]}")
                spelled[k] = g.key
        return self


def load_guidelines(path: Path | None = None) -> GuidelinesFile:
    return load("guidelines.yaml", GuidelinesFile, path)


class _Compiled:
    def __init__(self, data: GuidelinesFile) -> None:
        self.guidelines = list(data.guidelines)
        self.by_key = {g.key: g for g in data.guidelines}
        self.loose = [(g, re.compile("|".join(f"(?:{p})" for p in g.patterns), re.IGNORECASE))
                      for g in data.guidelines if g.patterns]
        self.chapters = {c: g.key for g in data.guidelines if g.scope == "MTUS" for c in g.acoem_chapters}


@lru_cache(maxsize=1)
def _compiled() -> _Compiled:
    return _Compiled(load_guidelines())


def guidelines() -> list[Guideline]:
    """Every guideline, in the registry's order."""
    return list(_compiled().guidelines)


def guideline(key: str | None) -> Guideline | None:
    return _compiled().by_key.get(key or "")


def printed(scope: str) -> list[Guideline]:
    """The guidelines letters print by name, of one scope (the letter reader's catalog)."""
    return [g for g in _compiled().guidelines if g.scope == scope and g.name]


def loose_rules() -> list[tuple[Guideline, re.Pattern[str]]]:
    """(guideline, compiled patterns) in the registry's order (first match wins)."""
    return list(_compiled().loose)


def by_acoem_chapter(chapter: int) -> Guideline | None:
    """The MTUS guideline a letter means when it cites ACOEM chapter `chapter` by number."""
    key = _compiled().chapters.get(chapter)
    return _compiled().by_key.get(key) if key else None


def by_name(name: str | None, scope: str | None = None) -> Guideline | None:
    """The guideline a printed name or alias names (whole name, case-insensitive)."""
    want = " ".join((name or "").lower().split())
    for g in _compiled().guidelines:
        if scope and g.scope != scope:
            continue
        if any(" ".join(s.lower().split()) == want for s in g.spellings):
            return g
    return None
