"""The one set of body regions (`regions.yaml`)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from openimr.vocab.data import Strict, check_patterns, load

KEY_RX = re.compile(r"^[a-z][a-z_]*$")


class Region(Strict):
    """A body region: its stable key, printed label, ODG chapter and how texts name it."""

    key: str
    label: str
    aliases: list[str] = Field(default_factory=list)
    odg: str
    acoem_chapter: int | None = None
    covered_by: list[str] = Field(default_factory=list)
    nerve_supply: str | None = None
    patterns: list[str] = Field(min_length=1)

    _v = field_validator("patterns")(check_patterns)

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        if not KEY_RX.match(key):
            raise ValueError(f"region key {key!r}: lower-case letters and '_' only")
        return key


class RegionsFile(Strict):
    regions: list[Region] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> RegionsFile:
        keys = [r.key for r in self.regions]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise ValueError(f"duplicate region keys {sorted(dup)}")
        for r in self.regions:
            unknown = (set(r.covered_by) | ({r.nerve_supply} if r.nerve_supply else set())) - set(keys)
            if unknown:
                raise ValueError(f"region {r.key}: covered_by/nerve_supply name unknown regions {sorted(unknown)}")
        return self


class _Compiled:
    def __init__(self, data: RegionsFile) -> None:
        self.regions = data.regions
        self.by_key = {r.key: r for r in data.regions}
        self.by_name: dict[str, str] = {}
        for r in data.regions:
            for name in [r.key, r.label, *r.aliases]:
                self.by_name.setdefault(" ".join(name.lower().replace("_", " ").split()), r.key)
        self.rules = [(i, r.key, re.compile("|".join(f"(?:{p})" for p in r.patterns), re.IGNORECASE))
                      for i, r in enumerate(data.regions)]


def load_regions(path: Path | None = None) -> RegionsFile:
    return load("regions.yaml", RegionsFile, path)


@lru_cache(maxsize=1)
def _compiled() -> _Compiled:
    return _Compiled(load_regions())


def regions() -> list[Region]:
    """Every region, in the data file's order."""
    return list(_compiled().regions)


def region_keys() -> list[str]:
    return [r.key for r in _compiled().regions]


def region(key: str | None) -> Region | None:
    """The region of a key (None for None or an unknown key)."""
    return _compiled().by_key.get(key or "")


def region_key(value: str | None) -> str | None:
    """The region key a user means: a key, a label or an alias ("lumbar spine" -> "lumbar");
    None when the value names no region."""
    if not value:
        return None
    return _compiled().by_name.get(" ".join(value.lower().replace("_", " ").split()))


def regions_in(text: str) -> list[tuple[int, int, str]]:
    """Every region named in `text`: (start, end, key), in text order, the earliest-listed
    region first where two start at the same place."""
    found: list[tuple[int, int, int, str]] = []
    for order, key, rx in _compiled().rules:
        for m in rx.finditer(text or ""):
            found.append((m.start(), order, m.end(), key))
    found.sort()
    out: list[tuple[int, int, str]] = []
    last_end = -1
    for start, _order, end, key in found:
        if start < last_end:  # inside a region already named ("lumbar spine": not also "spine")
            continue
        out.append((start, end, key))
        last_end = end
    return out


SPINE_LEVELS = ("cervical", "thoracic", "lumbar")


def prefer_level(keys: list[str]) -> str | None:
    """The first of `keys`, except that a spine of unstated level yields to a spinal level
    named after it ("spine surgery evaluation for the lumbar" is lumbar)."""
    if not keys:
        return None
    if keys[0] == "spine":
        level = next((k for k in keys if k in SPINE_LEVELS), None)
        if level:
            return level
    return keys[0]


@lru_cache(maxsize=20_000)
def find_region(text: str) -> str | None:
    """The body region named first in `text` (earliest match; on a tie the one listed
    first; a spine of unstated level yields to a level named later), or None."""
    keys: list[str] = []
    for _s, _e, key in regions_in(text or ""):
        if key not in keys:
            keys.append(key)
    return prefer_level(keys)
