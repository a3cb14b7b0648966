"""Tolerant text helpers for the readers of the layouts we only have written samples of
(L2013-notice, L2015, L-professional).

Their text may come from our own renderer, from a PDF viewer, or be typed: line ends CRLF,
runs of spaces, headings split over lines, sections missing or in another order. Every
heading and label is matched with any white space between its words, case ignored; a
section runs from its heading to the next heading found, wherever that is.
"""

from __future__ import annotations

import re
from datetime import date

from openimr.letters.read.common import collapse, normalise, parse_date
from openimr.letters.write.artifacts import strip_render_artifacts

_ENTRY = re.compile(r"^[ \t]*(\d{1,3})[.)][ \t]+", re.MULTILINE)


def clean(text: str) -> str:
    """Renderer artifacts out, line ends and odd characters normalised, space runs single."""
    text = normalise(strip_render_artifacts(text.replace("\r\n", "\n").replace("\r", "\n")))
    return re.sub(r"[ \t]+", " ", text)


def words_pattern(words: str, at_line_start: bool = False) -> re.Pattern[str]:
    """A heading or label with any white space between its words, case ignored."""
    body = r"\s+".join(re.escape(w) for w in words.split())
    prefix = r"(?:^|(?<=\n))[ \t]*" if at_line_start else ""
    return re.compile(prefix + body, re.IGNORECASE)


def phrase_pattern(phrase: str, **groups: str) -> re.Pattern[str]:
    """A wording phrase with {name} placeholders turned into named groups."""
    parts = re.split(r"\{(\w+)\}", phrase)
    out = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(f"(?P<{part}>{groups.get(part, '.+?')})")
        elif part.strip():
            lead = r"\s*" if part[:1].isspace() else ""
            trail = r"\s*" if part[-1:].isspace() else ""
            out.append(lead + r"\s+".join(re.escape(w) for w in part.split()) + trail)
        else:
            out.append(r"\s*")
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def find_sections(text: str, headings: dict[str, str]) -> tuple[dict[str, str], int]:
    """{key: section text} for each heading found at a line start, and where the first starts.

    A section runs to the next heading found, so missing or reordered sections are fine.
    """
    found: list[tuple[int, int, str]] = []
    for key, heading in headings.items():
        match = words_pattern(heading, at_line_start=True).search(text)
        if match:
            found.append((match.start(), match.end(), key))
    found.sort()
    sections = {}
    for index, (_start, end, key) in enumerate(found):
        stop = found[index + 1][0] if index + 1 < len(found) else len(text)
        sections[key] = text[end:stop]
    return sections, (found[0][0] if found else len(text))


def field_values(header: str, labels: dict[str, str]) -> dict[str, str]:
    """{key: value} of 'Label: value' fields, several to a line or the value on the next line."""
    matches = []
    for key, label in labels.items():
        match = words_pattern(label).search(header)
        if match:
            matches.append((match.start(), match.end(), key))
    matches.sort()
    values = {}
    for index, (_start, end, key) in enumerate(matches):
        stop = matches[index + 1][0] if index + 1 < len(matches) else len(header)
        rest = header[end:stop]
        line, _, following = rest.partition("\n")
        value = collapse(line) or collapse(following.split("\n", 1)[0])
        values[key] = value
    return values


def date_field(values: dict[str, str], key: str) -> date | None:
    """A header field read as a date (None if absent or not a date)."""
    return parse_date(values.get(key))


def numbered_entries(section: str, intro: re.Pattern[str] | None = None) -> list[str]:
    """Entries of a numbered list ("1. ...", continuation lines joined); else one per line."""
    if intro is not None:
        section = intro.sub("", section, count=1)
    starts = list(_ENTRY.finditer(section))
    expected = [m for i, m in enumerate(starts) if int(m.group(1)) >= 1]
    if not expected:
        return [collapse(line) for line in section.split("\n") if collapse(line)]
    entries = []
    for index, match in enumerate(expected):
        stop = expected[index + 1].start() if index + 1 < len(expected) else len(section)
        entry = collapse(section[match.end() : stop])
        if entry:
            entries.append(entry)
    return entries


def split_numbered(text: str, marker: str) -> dict[int, str]:
    """{n: text} of the parts of `text` introduced by a marker such as 'Item {n}:'."""
    pattern = phrase_pattern(marker, n=r"\d{1,3}")
    matches = list(pattern.finditer(text))
    parts: dict[int, str] = {}
    for index, match in enumerate(matches):
        stop = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        parts.setdefault(int(match.group("n")), text[match.end() : stop])
    return parts


def credentials(section: str, licensure_label: str, specialties_label: str) -> tuple[str, list[str], list[str]]:
    """(statement, licensure, specialties) of a section: prose, then the two labelled lists."""
    from openimr.letters.read.common import split_list

    marks = {
        key: words_pattern(label).search(section)
        for key, label in (("licensure", licensure_label), ("specialties", specialties_label))
    }
    present = sorted((m.start(), m.end(), key) for key, m in marks.items() if m)
    statement_end = present[0][0] if present else len(section)
    lists: dict[str, list[str]] = {"licensure": [], "specialties": []}
    for index, (_start, end, key) in enumerate(present):
        stop = present[index + 1][0] if index + 1 < len(present) else len(section)
        lists[key] = split_list(section[end:stop])
    return section[:statement_end], lists["licensure"], lists["specialties"]
