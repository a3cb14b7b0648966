"""Synthetic letters for benchmarks, drawn from the real letters' distributions.

The real letters (PDF or text, parsed by the reader) give the pools: number of items per
letter, items (request, decision, guideline citations, rationale), reviewer credentials,
case summaries and the spacing of dates. Each synthetic letter gets a unique case number
(CM90-…, a range the program never issued) and resampled dates; quantities in requests are
varied so that items are not exact copies.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from openimr.models import Letter

_QUANTITY = re.compile(r"#(\d+)")


def load_pool(sources: list[Path]) -> list[Letter]:
    """The real letters the synthetic ones are drawn from."""
    from openimr.library.ingest import find_sources, iter_units, parse_unit

    files, _ = find_sources(sources)
    letters = []
    for unit in iter_units(files):
        if isinstance(unit, tuple):
            continue
        try:
            letters.append(parse_unit(unit))
        except Exception:  # a letter the reader cannot read is not part of the pool
            continue
    if not letters:
        raise ValueError(f"{', '.join(map(str, sources))}: no readable letters to draw from")
    return letters


def synthesize(pool: list[Letter], count: int, seed: int = 0, start: int = 0) -> Iterator[Letter]:
    """`count` synthetic letters drawn from the pool's distributions (case numbers from start+1)."""
    rng = random.Random(seed)
    items = [item for letter in pool for item in letter.items]
    sizes = [len(letter.items) for letter in pool if letter.items]
    dated = [day for letter in pool if (day := letter.decision_date)]
    for n in range(start, start + count):
        template = rng.choice(pool)
        chosen = [_vary(rng.choice(items), rng) for _ in range(rng.choice(sizes))]
        decided = rng.choice(dated) if dated else date(2017, 1, 1)
        decided = decided + timedelta(days=rng.randint(-720, 720))
        yield template.model_copy(
            update={
                "case_number": f"CM90-{n + 1:07d}",
                "decision_date": decided,
                "date_assigned": decided - timedelta(days=rng.randint(20, 40)) if template.date_assigned else None,
                "ur_denial_date": decided - timedelta(days=rng.randint(40, 70)) if template.ur_denial_date else None,
                "application_received": decided - timedelta(days=rng.randint(30, 50)) if template.application_received else None,
                "date_of_injury": decided - timedelta(days=rng.randint(60, 4000)) if template.date_of_injury else None,
                "reviewer": rng.choice(pool).reviewer,
                "clinical_case_summary": rng.choice(pool).clinical_case_summary,
                "items": chosen,
            }
        )


def _vary(item, rng: random.Random):
    def requantify(match: re.Match) -> str:
        return "#" + str(max(1, int(match.group(1)) + rng.choice((-30, -10, 0, 0, 10, 30))))

    request = _QUANTITY.sub(requantify, item.request)
    if request == item.request or item.original_request or item.disputed_request:
        return item
    return item.model_copy(update={"request": request})


def write(letters: Iterator[Letter], out: Path, format: str = "text") -> int:
    """Write letters: one text file each into folder `out` (format text), or JSON Lines."""
    count = 0
    if format == "jsonl":
        with out.open("w", encoding="utf-8") as handle:
            for letter in letters:
                handle.write(letter.model_dump_json() + "\n")
                count += 1
        return count
    if format != "text":
        raise ValueError(f"--format: unknown format {format!r}; text or jsonl")
    from openimr.letters.write import render

    out.mkdir(parents=True, exist_ok=True)
    for letter in letters:
        text = render(letter, "text")
        if not isinstance(text, str):  # pragma: no cover - text is a str
            raise TypeError("the text rendering did not give a str")
        (out / f"{letter.case_number}.txt").write_text(text, encoding="utf-8")
        count += 1
    return count


def default_sources() -> list[Path]:
    """The shared real letters: $OPENIMR_SHARED/data/letters, else ../shared beside the repo."""
    import os

    root = Path(os.environ.get("OPENIMR_SHARED", Path(__file__).resolve().parents[3].parent / "shared"))
    return [root / "data" / "letters"]
