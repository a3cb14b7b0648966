"""What the renderer adds to a letter that is not part of it, and how to take it out again.

A rendered PDF carries a page footer "Page N of M" on every page, and a draft carries the
banner line DRAFT_BANNER (at the top of the text, and on every PDF page). Both are lines of
their own, so a reader strips them with `strip_render_artifacts` before parsing. A mailed
letter ends with the appeal rights under APPEAL_HEADING (a line of its own): that section
runs to the end of the letter and is stripped too.
"""

from __future__ import annotations

import re

DRAFT_BANNER = "DRAFT — recommendation, not signed"
PAGE_FOOTER = "Page {page} of {pages}"
# The heading of the appeal rights, the closing section of a mailed letter: it and everything
# after it (the copies list) is the writer's standard text, not part of the Letter.
APPEAL_HEADING = "HOW TO APPEAL THIS DETERMINATION"

_ARTIFACT_LINE = re.compile(
    r"^[ \t]*(?:Page[ \t]+\d+[ \t]+of[ \t]+\d+|DRAFT[ \t]*[—–-][ \t]*recommendation,[ \t]*not[ \t]+signed)[ \t]*\r?(?:\n|$)",
    re.MULTILINE,
)
_CLOSING = re.compile(r"^[ \t]*" + r"[ \t]+".join(APPEAL_HEADING.split()) + r"[ \t]*\r?$.*\Z", re.MULTILINE | re.DOTALL)


def strip_render_artifacts(text: str) -> str:
    """The text without what the renderer adds: page footers, the draft banner, and a mailed
    letter's closing section (the appeal rights and the copies, from APPEAL_HEADING on)."""
    return _CLOSING.sub("", _ARTIFACT_LINE.sub("", text))
