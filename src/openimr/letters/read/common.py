"""Helpers every layout reader shares: text clean-up, dates, section headings."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from openimr.letters.write.artifacts import strip_render_artifacts

_SPACES = re.compile(r"\s+")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        "january february march april may june july august september october november december".split()
    )
}
_NUMERIC_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2,4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_WORD_DATE = re.compile(r"([A-Z][a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})")


def collapse(text: str) -> str:
    """White space collapsed to single spaces, ends trimmed."""
    return _SPACES.sub(" ", text).strip()


def normalise(text: str) -> str:
    """Line ends to \\n, form feeds and no-break spaces out, renderer artifacts removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    # pdfium marks a hyphen printed at a line end as U+FFFE; the letter shows a hyphen there.
    text = text.replace("\ufffe", "-").replace("\u00a0", " ").replace("\ufeff", "").replace("\u2019", "'")
    text = text.replace("\x00", "")
    return strip_render_artifacts(text)


def parse_date(text: str | None) -> date | None:
    """A date printed as M/D/YYYY, YYYY-MM-DD or 'Month D, YYYY'; None if there is none."""
    if not text:
        return None
    for pattern, order in ((_NUMERIC_DATE, "mdy"), (_ISO_DATE, "ymd"), (_WORD_DATE, "word")):
        match = pattern.search(text)
        if not match:
            continue
        try:
            if order == "mdy":
                month, day, year = (int(g) for g in match.groups())
                if year < 100:
                    year += 2000
                return date(year, month, day)
            if order == "ymd":
                return date(*(int(g) for g in match.groups()))
            named_month = _MONTHS.get(match.group(1).lower())
            if named_month:
                return date(int(match.group(3)), named_month, int(match.group(2)))
        except ValueError:
            continue
    return None


@lru_cache(maxsize=256)
def heading_pattern(heading: str) -> re.Pattern[str]:
    """A pattern for a heading whose words may be split over lines or spaced oddly."""
    words = [re.escape(w) for w in heading.split()]
    return re.compile(r"\s+".join(words), re.IGNORECASE)


def find_heading(text: str, *headings: str, start: int = 0) -> re.Match[str] | None:
    """The first occurrence of any of the headings at or after `start`."""
    best: re.Match[str] | None = None
    for heading in headings:
        match = heading_pattern(heading).search(text, start)
        if match and (best is None or match.start() < best.start()):
            best = match
    return best


def split_list(text: str) -> list[str]:
    """A comma-separated credential list ("Texas,New York, California") as clean entries."""
    return [entry for entry in (collapse(part) for part in text.split(",")) if entry]
