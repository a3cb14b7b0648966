"""Letter writer throughput: the real letters rendered to text, HTML and PDF."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LETTERS = ROOT.parent / "shared" / "data" / "letters"


def _timed(letters, fmt: str) -> tuple[float, int]:
    from openimr.letters.write import render

    started = time.perf_counter()
    size = sum(len(render(letter, fmt)) for letter in letters)
    return time.perf_counter() - started, size


def run() -> str:
    """A Markdown section: letters per second rendered to each format (one process)."""
    import openimr
    from openimr.letters.write import render

    letters = [openimr.read_letter(p) for p in sorted(LETTERS.glob("*.pdf"))]
    render(letters[0], "pdf")  # warm up: imports, fonts, template
    rows = []
    for fmt in ("text", "html", "pdf"):
        seconds, size = _timed(letters, fmt)
        rows.append(
            f"| {fmt} | {len(letters) / seconds:,.1f} | {1000 * seconds / len(letters):.1f} ms | "
            f"{size / len(letters) / 1024:.1f} KiB |"
        )
    items = sum(len(letter.items) for letter in letters)
    return "\n".join(
        [
            "## Letter writer (`openimr render`)",
            "",
            f"The {len(letters)} real letters ({items} disputed items), read once, then rendered in their own",
            "layout (L2016) by one process; PDF is the HTML printed by WeasyPrint.",
            "",
            "| format | letters/s | per letter | mean size |",
            "|---|---:|---:|---:|",
            *rows,
        ]
    )


if __name__ == "__main__":
    print(run())
