"""The wording of each letter layout (headings, labels, phrases), loaded from layouts.yaml.

Shared by the writer and by the readers of the layouts we write samples of, so that both
sides use one spelling of every heading.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from openimr.models import LAYOUTS

WORDING_FILE = Path(__file__).with_name("layouts.yaml")


class LayoutWording(BaseModel):
    """Headings, field labels and connecting phrases of one layout."""

    model_config = ConfigDict(extra="forbid")
    headings: dict[str, str]
    labels: dict[str, str]
    phrases: dict[str, str] = Field(default_factory=dict)


_REQUIRED_LABELS = ("ca_guideline", "imr_guideline", "rationale")


def _validate(data: object) -> dict[str, LayoutWording]:
    if not isinstance(data, dict):
        raise ValueError(f"{WORDING_FILE.name}: expected a mapping of layouts")
    unknown = set(data) - set(LAYOUTS)
    missing = set(LAYOUTS) - set(data)
    if unknown or missing:
        raise ValueError(f"{WORDING_FILE.name}: unknown layouts {sorted(unknown)}, missing {sorted(missing)}")
    wordings = {name: LayoutWording.model_validate(entry) for name, entry in data.items()}
    for name, wording in wordings.items():
        absent = [key for key in _REQUIRED_LABELS if key not in wording.labels]
        if absent:
            raise ValueError(f"{WORDING_FILE.name}: layout {name} lacks labels {absent}")
    return wordings


@lru_cache(maxsize=1)
def all_wordings() -> dict[str, LayoutWording]:
    """Every layout's wording, validated at first use."""
    return _validate(yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8")))


def wording(layout: str) -> LayoutWording:
    """The wording of one layout."""
    return all_wordings()[layout]


MAILING_FILE = Path(__file__).with_name("mailing.yaml")
_MAILING_KEYS = {
    "labels": ("employee", "employer", "claims_administrator", "claim_number", "requesting_physician", "attorney",
               "document", "author", "dates"),
    "headings": ("supersedes", "documents", "copies"),
    "phrases": ("supersedes", "documents", "how_made", "years", "no_conflict", "attestation", "appeal_final",
                "appeal_how", "appeal_grounds", "ground_powers", "ground_fraud", "ground_conflict", "ground_bias",
                "ground_fact", "appeal_detail", "overturned"),
}
APPEAL_GROUNDS = ("ground_powers", "ground_fraud", "ground_conflict", "ground_bias", "ground_fact")


@lru_cache(maxsize=1)
def mailing_wording() -> LayoutWording:
    """What a mailed letter adds to every layout (mailing.yaml), validated at first use."""
    data = yaml.safe_load(MAILING_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{MAILING_FILE.name}: expected a mapping with labels, headings and phrases")
    mailing = LayoutWording.model_validate(data)
    for part, keys in _MAILING_KEYS.items():
        absent = [key for key in keys if key not in getattr(mailing, part)]
        if absent:
            raise ValueError(f"{MAILING_FILE.name}: {part} lacks {absent}")
    return mailing
