"""OpenIMR: an open system for California workers' compensation Independent Medical Review."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from openimr.models import Letter


def read_letter(source: str | Path | bytes) -> Letter:
    """Read a Final Determination letter from a PDF or text file path, PDF bytes, or text."""
    from openimr.letters.read import read_letter as _read

    return _read(source)


__all__ = ["__version__", "read_letter"]
