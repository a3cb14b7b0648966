"""Loading and validating the vocabulary's data files."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from openimr.models import first_error

HERE = Path(__file__).parent


class VocabError(ValueError):
    """A vocabulary data file is missing or invalid (the message names the file and field)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_patterns(patterns: list[str]) -> list[str]:
    for p in patterns:
        try:
            re.compile(p, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"bad pattern {p!r}: {exc}") from exc
    return patterns


def load(name: str, model: type[BaseModel], path: Path | None = None, error: type[ValueError] = VocabError,
         whole: str = ""):
    """Read and validate one YAML data file of the project (every part's data files load
    through here); `error` (VocabError unless the caller names its own) with the file and the
    first bad field (`whole` names the file's top level in that message)."""
    path = path or HERE / name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise error(f"{path}: cannot read: {str(exc).splitlines()[0]}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(f"{path}: {first_error(exc, whole)}") from exc
