"""The case part's errors: one line each, naming the case (or field) and the reason."""

from __future__ import annotations


class CaseError(ValueError):
    """A request about a case that cannot be done (one line: case and reason)."""


class CaseConflict(CaseError):
    """A request that contradicts the case's state as stored now (the web answers 409):
    e.g. signing twice, or signing decisions that changed since the reviewer saw them."""
