"""Blocks as plain text: paragraphs wrapped like the letters' own lines."""

from __future__ import annotations

import textwrap

from openimr.letters.write.artifacts import DRAFT_BANNER
from openimr.letters.write.blocks import Block

WIDTH = 95
FIELD_COLUMN = 40


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(
        " ".join(text.split()),
        width=WIDTH,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [""]


def block_lines(block: Block) -> list[str]:
    """The text lines of one block."""
    kind = block.kind
    if kind in ("title", "subtitle"):
        return [block.text]
    if kind == "heading":
        return ["", block.text]
    if kind == "banner":
        return [block.text, ""]
    if kind == "fields":
        cells = [f"{label} {value}" for label, value in block.fields]
        if len(cells) > 1 and len(cells[0]) >= FIELD_COLUMN - 1:  # too long to share its line
            return cells
        first = cells[0].ljust(FIELD_COLUMN - 1) + " " if len(cells) > 1 else cells[0]
        return [first + " ".join(cells[1:])]
    if kind == "field_below":
        return [block.label, block.text]
    if kind == "para":
        return _wrap(block.text)
    if kind == "labeled":
        return _wrap(f"{block.label} {block.text}".strip())
    if kind == "item":
        return ["", *_wrap(f"{block.label} {block.text}".strip())]
    if kind == "letterhead":
        return [block.text, *block.entries, ""]
    if kind == "notice":
        return ["", block.label, *_wrap(block.text)]
    if kind == "lines":
        return [line for entry in block.entries for line in _wrap(entry, indent="   ")]
    if kind == "table":
        rows = [line for row in block.rows for line in _wrap(" — ".join(cell for cell in row if cell), indent="   ")]
        return [*(_wrap(block.text) if block.text else []), *rows]
    if kind == "entries":
        lines = []
        for n, entry in enumerate(block.entries, 1):
            lines += _wrap(f"{n}. {entry}", indent="   ")
        return lines
    raise ValueError(f"unknown block kind {kind!r}")


def render_text(blocks: list[Block], draft: bool = False) -> str:
    """The letter as plain text, one line per printed line, ending in a newline."""
    lines: list[str] = []
    if draft:
        lines += block_lines(Block("banner", text=DRAFT_BANNER))
    for block in blocks:
        lines += block_lines(block)
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(line.rstrip() for line in lines) + "\n"
