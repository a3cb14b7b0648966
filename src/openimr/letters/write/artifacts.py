"""What the renderer adds to a letter that is not part of it, and how to take it out again.

A rendered PDF carries a page footer "Page N of M" on every page, and a draft carries the
banner line DRAFT_BANNER (at the top of the text, and on every PDF page). Both are lines of
their own, so a reader strips them with `strip_render_artifacts` before parsing.
"""

from __future__ import annotations

import re

DRAFT_BANNER = "DRAFT — recommendation, not signed"
PAGE_FOOTER = "Page {page} of {pages}"

_ARTIFACT_LINE = re.compile(
    r"^[ \t]*(?:Page[ \t]+\d+[ \t]+of[ \t]+\d+|DRAFT[ \t]*[—–-][ \t]*recommendation,[ \t]*not[ \t]+signed)[ \t]*\r?(?:\n|$)",
    re.MULTILINE,
)


def strip_render_artifacts(text: str) -> str:
    """The text without the lines the renderer adds: page footers and the draft banner."""
    return _ARTIFACT_LINE.sub("", text)
