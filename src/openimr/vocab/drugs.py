"""Drug names as requests write them, each with its generic ingredients (`drugs.yaml`)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator

from openimr.vocab.data import Strict, load


class DrugsFile(Strict):
    spellings: dict[str, str | None] = Field(default_factory=dict)
    generics: list[str] = Field(min_length=1)
    products: dict[str, list[str]] = Field(default_factory=dict)
    medical_foods: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ingredients_are_generics(self) -> DrugsFile:
        known = set(self.generics)
        for name, ingredients in self.products.items():
            unknown = [i for i in ingredients if i not in known]
            if unknown:
                raise ValueError(f"products.{name}: ingredients not among generics: {unknown}")
        for spelling, generic in self.spellings.items():
            if generic is not None and generic not in known:
                raise ValueError(f"spellings.{spelling}: {generic!r} is not among generics")
        return self


class _Compiled:
    def __init__(self, data: DrugsFile) -> None:
        self.ingredients: dict[str, list[str]] = {}
        for g in data.generics:
            self.ingredients[g] = [g]
        for spelling, generic in data.spellings.items():
            self.ingredients[spelling] = [generic] if generic else []
        for name, ingr in data.products.items():
            self.ingredients[name] = list(ingr)
        self.medical_foods = set(data.medical_foods)
        for name in data.medical_foods:
            self.ingredients.setdefault(name, [])
        names = sorted(self.ingredients, key=len, reverse=True)
        alternatives = "|".join(r"\s+".join(re.escape(w) for w in n.split()) for n in names)
        self.pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w])", re.IGNORECASE)


def load_drugs(path: Path | None = None) -> DrugsFile:
    return load("drugs.yaml", DrugsFile, path)


@lru_cache(maxsize=1)
def _compiled() -> _Compiled:
    return _Compiled(load_drugs())


def drug_names(text: str) -> list[tuple[int, int, str]]:
    """Every drug name in `text`: (start, end, name as listed, lower case), in text order."""
    c = _compiled()
    return [(m.start(), m.end(), " ".join(m.group(0).lower().split())) for m in c.pattern.finditer(text or "")]


def ingredients_of(name: str) -> list[str]:
    """The generic ingredients of a drug name ([] for an abbreviation such as 'HCl' or a
    medical food)."""
    return list(_compiled().ingredients.get(" ".join(name.lower().split()), []))


def is_medical_food(name: str) -> bool:
    return " ".join(name.lower().split()) in _compiled().medical_foods
