"""Read Final Determination letters in every layout.

`read_letter(source)` takes a PDF or text path, PDF bytes or the letter's text, finds the
layout and hands the text to that layout's module. Each layout module has
`detect(text) -> bool` and `parse(text) -> Letter`; they are tried in LAYOUT_MODULES order.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from openimr.letters.read.errors import LetterError
from openimr.letters.read.source import letter_text
from openimr.models import Letter

LAYOUT_MODULES = (
    "openimr.letters.read.l2016",
    "openimr.letters.read.l2015",
    "openimr.letters.read.professional",
    "openimr.letters.read.l2013_notice",
    "openimr.letters.read.l2013",
)


def _layout_modules():
    return [importlib.import_module(name) for name in LAYOUT_MODULES]


def parse_text(text: str, name: str = "<text>") -> Letter:
    """Parse a letter's text (as extracted from a PDF, or pasted) in whatever layout it is."""
    for module in _layout_modules():
        if module.detect(text):
            return module.parse(text, name)
    raise LetterError(name, "not an IMR Final Determination letter (no known layout recognised)")


def read_letter(source: str | Path | bytes) -> Letter:
    """Read one letter from a path (PDF or text), PDF bytes, or the letter's text itself."""
    name, text = letter_text(source)
    return parse_text(text, name)


__all__ = ["LetterError", "parse_text", "read_letter"]
