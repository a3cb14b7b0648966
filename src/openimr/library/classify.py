"""Classify disputed items: treatment category, body region, drug, dose, quantity,
frequency and duration; normalise guideline citations.

The taxonomy lives in data/taxonomy.yaml beside this module; body regions and guideline names
come from the one vocabulary (openimr.vocab: regions.yaml, guidelines.yaml); amounts, drug and
strength from the one request parse (openimr.request). All validated at load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from openimr.request import parse_request
from openimr.vocab import find_region
from openimr.vocab.guidelines import Guideline, loose_rules
from openimr.vocab.guidelines import guidelines as registry

DATA = Path(__file__).parent / "data"
_FLAGS = re.IGNORECASE


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rule(_Strict):
    """Patterns that put a request in one category."""

    category: str
    before_drugs: bool = False
    patterns: list[str] = Field(min_length=1)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            re.compile(pattern, _FLAGS)
        return patterns


class Taxonomy(_Strict):
    """The treatment taxonomy (data/taxonomy.yaml)."""

    groups: dict[str, str]
    categories: dict[str, tuple[str, str]]
    prefixes: list[str]
    rules: list[Rule]
    drugs: dict[str, list[str]]

    @model_validator(mode="after")
    def _consistent(self) -> Taxonomy:
        for key, (group, _label) in self.categories.items():
            if group not in self.groups:
                raise ValueError(f"category {key!r}: unknown group {group!r}")
        for name in [r.category for r in self.rules] + list(self.drugs):
            if name not in self.categories:
                raise ValueError(f"unknown category {name!r}")
        if "other" not in self.categories:
            raise ValueError("the taxonomy needs an 'other' category")
        return self


def _load(name: str, model: type[BaseModel]):
    from openimr.vocab.data import load

    return load(name, model, DATA / name, ValueError, "file")


@dataclass(frozen=True)
class Compiled:
    """The taxonomy with its patterns compiled, ready to classify."""

    taxonomy: Taxonomy
    prefix: re.Pattern
    before: list[tuple[str, re.Pattern]]
    after: list[tuple[str, re.Pattern]]
    drug_pattern: re.Pattern
    drug_category: dict[str, str]


@lru_cache(maxsize=1)
def compiled() -> Compiled:
    """Load and compile the data files once per process."""
    taxonomy: Taxonomy = _load("taxonomy.yaml", Taxonomy)
    prefix = re.compile(r"^\s*(?:(?:" + "|".join(taxonomy.prefixes) + r")\b[\s:,-]*)+", _FLAGS)

    def one(patterns: list[str]) -> re.Pattern:
        return re.compile("|".join(f"(?:{p})" for p in patterns), _FLAGS)

    before = [(r.category, one(r.patterns)) for r in taxonomy.rules if r.before_drugs]
    after = [(r.category, one(r.patterns)) for r in taxonomy.rules if not r.before_drugs]
    drug_category: dict[str, str] = {}
    for category, names in taxonomy.drugs.items():
        for name in names:
            drug_category.setdefault(name.lower(), category)
    names = sorted(drug_category, key=len, reverse=True)
    drug_pattern = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w])", _FLAGS)
    return Compiled(taxonomy, prefix, before, after, drug_pattern, drug_category)


@dataclass(frozen=True)
class Classification:
    """What an item's request is: category and its group, region, drug and amounts."""

    category: str
    category_group: str
    body_region: str | None = None
    drug: str | None = None
    dose: str | None = None
    quantity: str | None = None
    frequency: str | None = None
    duration: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


_TOPICAL = re.compile(r"\b(cream|gel|ointment|patch(es)?|lotion|topical|transdermal|spray|liniment|roll-?on|pad)\b|%", _FLAGS)


def request_text(request: str, disputed_request: str | None = None) -> str:
    """The text to classify: the disputed portion where UR modified the request."""
    return (disputed_request or request or "").strip()


def _category_of_drug(text: str, table: Compiled) -> tuple[str | None, str | None]:
    found = [m for m in table.drug_pattern.finditer(text)]
    if not found:
        return None, None
    first = found[0]
    name = first.group(0)
    category = table.drug_category[name.lower()]
    distinct = {table.drug_category.get(m.group(0).lower(), "") + m.group(0).lower() for m in found}
    if category == "compounded" or (len(distinct) >= 2 and "%" in text):
        return "compounded", name
    if category in {"nsaid", "topical_analgesic", "anticonvulsant", "muscle_relaxant", "antidepressant"} and _TOPICAL.search(text):
        return "topical_analgesic", name
    return category, name


def classify(request: str, disputed_request: str | None = None) -> Classification:
    """Classify one item's request (the disputed portion when there is one)."""
    return _classify_text(request_text(request, disputed_request))


@lru_cache(maxsize=100_000)
def _classify_text(text: str) -> Classification:
    table = compiled()
    core = table.prefix.sub("", text) or text
    category = _earliest(table.before, core)
    drug_category, drug = _category_of_drug(core, table)
    if category is None:
        category = drug_category
    if category is None:
        category = next((c for c, p in table.after if p.search(core)), "other")
    group = table.taxonomy.categories[category][0]
    parsed = parse_request(text)  # the one request parse: amounts, drug, strength and region
    region = parsed.region or find_region(core)
    pharma = group == "pharmaceuticals"
    name = parsed.drug or (drug.lower() if drug else None)
    return Classification(
        category=category,
        category_group=group,
        body_region=region,
        drug=name.title() if name and pharma else None,
        dose=parsed.strength if pharma else None,
        quantity=_amount(parsed.quantity, parsed.unit),
        frequency=_frequency(parsed.frequency_per_week, pharma),
        duration=f"{parsed.weeks} week{'s' if parsed.weeks != 1 else ''}" if parsed.weeks else None,
    )


def _amount(quantity: int | None, unit: str | None) -> str | None:
    if quantity is None:
        return None
    if not unit:
        return str(quantity)
    plural = {"patch": "patches", "box": "boxes"}.get(unit, unit + "s")
    return f"{quantity} {unit if quantity == 1 else plural}"


def _frequency(per_week: float | None, per_day: bool) -> str | None:
    if per_week is None:
        return None
    if per_day and per_week >= 7:
        return f"{per_week / 7:g} per day"
    return f"{per_week:g} per week"


def _earliest(rules: list[tuple[str, re.Pattern]], text: str) -> str | None:
    best: tuple[int, int, str] | None = None
    for order, (category, pattern) in enumerate(rules):
        match = pattern.search(text)
        if match and (best is None or (match.start(), order) < best[:2]):
            best = (match.start(), order, category)
    return best[2] if best else None


def category_label(category: str) -> str:
    """The printable name of a category key."""
    return compiled().taxonomy.categories[category][1]


def categories() -> dict[str, tuple[str, str]]:
    """Every category key with its (group, label)."""
    return dict(compiled().taxonomy.categories)


# --- guideline names -------------------------------------------------------------------

_CUT = re.compile(r",?\s*(?:Section\(s\)|Sections?|Page\(s\)|Pages?|pg\.?|p\.)\s*:?.*$", _FLAGS | re.DOTALL)
_NOISE = re.compile(r"\b(?:decision based on|citation|CA|California|guidelines?|20\d\d|19\d\d)\b", _FLAGS)


@dataclass(frozen=True)
class GuidelineName:
    key: str
    name: str
    scope: str


def _guidelines() -> tuple[list[tuple[Guideline, re.Pattern]], dict[int, str], dict[str, Guideline]]:
    """The one guideline registry (openimr.vocab): loose-wording rules in order, ACOEM chapter
    numbers, and guidelines by key."""
    rules = loose_rules()
    return rules, {c: g.key for g, _ in rules for c in g.acoem_chapters if g.scope == "MTUS"}, {
        g.key: g for g in registry()}


def _scope_of(text: str, scope: str | None) -> str | None:
    if scope in ("MTUS", "non-MTUS"):
        return scope
    if re.search(r"non[- ]?MTUS", text, _FLAGS):
        return "non-MTUS"
    if re.search(r"\bMTUS\b", text, _FLAGS):
        return "MTUS"
    return None


@lru_cache(maxsize=4096)
def normalise_guideline(text: str | None, scope: str | None = None, chapter: int | None = None) -> GuidelineName | None:
    """The canonical guideline a citation names, whatever its wording.

    "MTUS Chronic Pain Medical Treatment 2016, Section(s): Opioids" and
    "CA MTUS Chronic Pain ... Page(s): 78" both give key "mtus-chronic-pain". A guideline
    not in the alias file keeps its own cleaned-up name under key "other:<name>".
    """
    aliases, chapters, by_key = _guidelines()
    raw = (text or "").strip()
    if scope == "none" or (not raw and chapter is None):
        return None
    scope = _scope_of(raw, scope)
    name = _CUT.sub("", raw)
    if chapter is not None and scope != "non-MTUS" and chapter in chapters:
        alias = by_key[chapters[chapter]]
        return GuidelineName(alias.key, alias.title, alias.scope)
    for alias, pattern in aliases:
        if scope is not None and alias.scope != scope:
            continue
        if pattern.search(name):
            return GuidelineName(alias.key, alias.title, alias.scope)
    cleaned = re.sub(r"\s+", " ", _NOISE.sub(" ", re.sub(r"non[- ]?MTUS|\bMTUS\b", " ", name, flags=_FLAGS))).strip(" ,.;:-")
    if not cleaned:
        return None
    return GuidelineName("other:" + cleaned.lower()[:100], cleaned[:120], scope or "non-MTUS")
