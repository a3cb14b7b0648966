"""The case-file rules (data/doctypes.yaml), validated at load."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

DOCUMENT_TYPES = ("imr_application", "ur_decision", "rfa", "progress_report", "imaging_report",
                  "therapy_note", "operative_report", "medical_legal_report", "pharmacy",
                  "lab_report", "correspondence", "other")


def _compile(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern, re.I | re.M)
    except re.error as error:
        raise ValueError(f"bad pattern {pattern!r}: {error}") from None


class DocType(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    name: str
    phrase: str
    sentence: str  # the summary's sentence for a document of this type: {date}, {text}
    titles: list[re.Pattern]
    keywords: list[re.Pattern] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in DOCUMENT_TYPES:
            raise ValueError(f"unknown document type {value!r}")
        return value

    @field_validator("titles", "keywords", mode="before")
    @classmethod
    def _patterns(cls, value):
        return [_compile(p) for p in value]


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    fax_header: list[re.Pattern]
    page_of: re.Pattern
    title_lines: int = Field(ge=1, le=60)
    types: list[DocType]
    date_labels: list[str]
    not_dates: list[str]
    author_labels: list[str]
    organization: re.Pattern
    event_sections: list[str]

    @field_validator("fax_header", mode="before")
    @classmethod
    def _many(cls, value):
        return [_compile(p) for p in value]

    @field_validator("page_of", "organization", mode="before")
    @classmethod
    def _one(cls, value):
        return _compile(value)

    def kind(self, name: str) -> DocType | None:
        return next((t for t in self.types if t.name == name), None)


@lru_cache(maxsize=1)
def rules(path: str | None = None) -> Rules:
    source = Path(path) if path else Path(__file__).with_name("data") / "doctypes.yaml"
    from openimr.vocab.data import load

    return load(source.name, Rules, source, ValueError)
