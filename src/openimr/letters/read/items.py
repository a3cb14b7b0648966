"""The disputed items of a letter's IMR ISSUES, DECISIONS AND RATIONALES section.

Each item is, in order: a heading ending in ": Upheld" or ": Overturned" (it may wrap over
lines and pages), "Claims Administrator guideline: ...", "<organization> guideline: ...",
"Decision rationale: ...". The rationale runs to the next item's heading. Where a heading
starts is the one thing the text does not mark: it starts after the last line that ends a
sentence, unless the heading itself goes on over a sentence end, as the headings of
modified requests do ("X was the original request. Y was authorized ...").
"""

from __future__ import annotations

import re

from openimr.letters.read.citations import parse_citation
from openimr.letters.read.common import collapse
from openimr.models import Decision, Item
from openimr.request import letter_portions

CLAIMS_LABEL = re.compile(r"^[ \t]*Claims\s+Administrator\s+guideline\s*:", re.IGNORECASE | re.MULTILINE)
IMR_LABEL = re.compile(
    r"^[ \t]*(?!Claims\s+Administrator)([A-Z][A-Za-z .&]{1,60}?)\s+guideline\s*:", re.MULTILINE
)
RATIONALE_LABEL = re.compile(r"^[ \t]*Decision\s+rationale\s*:", re.IGNORECASE | re.MULTILINE)
DECISION_END = re.compile(r"(?:\s+is)?\s*:\s*(Upheld|Overturned)\s*\.?\s*$", re.IGNORECASE)
# A heading that goes on over a sentence end: what follows the break in a modified request.
_CONTINUES_HEADING = re.compile(
    r"^(?:was\s|is\s*:|The\s+Claims\s+Administrator\s+authorized|The\s+remaining\s+IMR\s+eligible"
    r"|The\s+original\s+request\b|leaving\s|Upheld\b|Overturned\b|[a-z])",
)
# A line ending "... was the original request." opens a modified request's heading.
_OPENS_MODIFIED = re.compile(r"was\s+the\s+original\s+request\.\s*$", re.IGNORECASE)
_ENDS_SENTENCE = re.compile(r"""[.!?]["')\]]*\s*$|set\s+forth\s+below\s*:\s*$""", re.IGNORECASE)

class ItemsError(ValueError):
    """The items section does not hold what an item needs."""


def _heading_start(lines: list[str]) -> int:
    """Index of the first line of the heading that ends the given lines (0 when there are none:
    the heading is then empty and `split_heading` refuses it)."""
    if not lines:
        return 0
    start = len(lines) - 1
    while start > 0 and not lines[start].strip():
        start -= 1
    heading = lines[start].strip()
    index = start - 1
    while index >= 0:
        line = lines[index]
        if not line.strip():
            index -= 1
            continue
        if (
            _ENDS_SENTENCE.search(line)
            and not _CONTINUES_HEADING.match(heading)
            and not _OPENS_MODIFIED.search(line)
        ):
            break
        heading = line.strip() + " " + heading
        start = index
        index -= 1
    return start


def split_heading(heading: str) -> tuple[str, Decision, dict[str, str | None]]:
    """(request, decision, modification parts) of an item heading as printed."""
    heading = collapse(heading)
    match = DECISION_END.search(heading)
    if not match:
        raise ItemsError(f"item heading without Upheld/Overturned: {heading[:80]!r}")
    request = heading[: match.start()].strip()
    decision: Decision = "Upheld" if match.group(1).lower() == "upheld" else "Overturned"
    # the partial-authorization forms are read by the one request parse (openimr.request)
    parts = letter_portions(request) or {"original_request": None, "authorized": None, "disputed_request": None}
    return request, decision, parts


def parse_items(section: str) -> tuple[list[Item], str]:
    """The items of a decisions section, and the text before the first item (its preamble)."""
    claims = list(CLAIMS_LABEL.finditer(section))
    if not claims:
        return [], section
    lines_before_first = section[: claims[0].start()].split("\n")
    first_start = _heading_start(lines_before_first[:-1] if not lines_before_first[-1].strip() else lines_before_first)
    preamble = "\n".join(lines_before_first[:first_start])
    heading_text = "\n".join(lines_before_first[first_start:])
    items: list[Item] = []
    for index, claim in enumerate(claims):
        end = claims[index + 1].start() if index + 1 < len(claims) else len(section)
        body = section[claim.end() : end]
        imr = IMR_LABEL.search(body)
        rationale = RATIONALE_LABEL.search(body, imr.end() if imr else 0)
        if not imr or not rationale:
            missing = "expert reviewer's guideline" if not imr else "Decision rationale"
            raise ItemsError(f"item {index + 1} has no {missing} line")
        claims_text = body[: imr.start()]
        imr_text = body[imr.end() : rationale.start()]
        rest = body[rationale.end() :]
        if index + 1 < len(claims):
            rest_lines = rest.split("\n")
            while rest_lines and not rest_lines[-1].strip():
                rest_lines.pop()
            next_start = _heading_start(rest_lines)
            rationale_text = "\n".join(rest_lines[:next_start])
            next_heading = "\n".join(rest_lines[next_start:])
        else:
            rationale_text, next_heading = rest, ""
        request, decision, parts = split_heading(heading_text)
        items.append(
            Item(
                request=request,
                decision=decision,
                medically_necessary=decision == "Overturned",
                claims_administrator_guideline=parse_citation(claims_text),
                imr_guideline=parse_citation(imr_text),
                rationale=collapse(rationale_text),
                **parts,
            )
        )
        heading_text = next_heading
    return items, preamble


def organization_label(section: str) -> str | None:
    """The name the letter gives its own guideline line ("MAXIMUS" in "MAXIMUS guideline:")."""
    match = IMR_LABEL.search(section)
    return collapse(match.group(1)) if match else None
