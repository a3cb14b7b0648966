"""Letters per second for `openimr parse` over the real PDFs, against bare text extraction.

Side by side in one run, rounds interleaved: (a) bare extraction of every PDF's text with
pypdfium2 (open, each page's text); (b) what `openimr parse` does per file: read_letter
(the same extraction, then parsing) and the JSON line. The reader's citation cache is
cleared at the start of every round, so each round parses as a fresh process would.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LETTERS = ROOT.parent / "shared" / "data" / "letters"
ROUNDS = 7


def _bare_extraction(paths: list[Path]) -> None:
    import pypdfium2 as pdfium

    for path in paths:
        pdf = pdfium.PdfDocument(path.read_bytes())
        for page in pdf:
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
        pdf.close()


def _parse(paths: list[Path]) -> None:
    from openimr import read_letter

    for path in paths:
        read_letter(path).model_dump_json()


def run() -> str:
    from openimr.letters.read import citations

    paths = sorted(LETTERS.glob("*.pdf"))
    _bare_extraction(paths)
    _parse(paths)  # warm imports
    extract, parse = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        _bare_extraction(paths)
        extract.append(time.perf_counter() - started)
        citations._citation_fields.cache_clear()
        started = time.perf_counter()
        _parse(paths)
        parse.append(time.perf_counter() - started)
    e, p = statistics.median(extract), statistics.median(parse)
    started = time.perf_counter()
    cli = subprocess.run(
        [str(Path(sys.executable).parent / "openimr"), "parse", str(LETTERS)],
        capture_output=True,
        check=True,
    )
    cli_seconds = time.perf_counter() - started
    assert cli.stdout.count(b"\n") == len(paths)
    n = len(paths)
    return (
        "## Letters: `openimr parse` over the real PDFs\n\n"
        f"{n} real letters (PDF), median of {ROUNDS} interleaved rounds, one core.\n\n"
        "| step | total | per letter | letters/s |\n|---|---:|---:|---:|\n"
        f"| bare text extraction (pypdfium2) | {e * 1000:.0f} ms | {e / n * 1000:.2f} ms | {n / e:.0f} |\n"
        f"| read_letter + JSON (what parse does) | {p * 1000:.0f} ms | {p / n * 1000:.2f} ms | {n / p:.0f} |\n\n"
        f"Parsing adds **{(p / e - 1):.1%}** over the extraction alone (goal: at most 25%).\n\n"
        f"The whole command `openimr parse <folder>` (process start, imports, {n} letters, JSON Lines "
        f"out): {cli_seconds:.2f} s, {n / cli_seconds:.0f} letters/s.\n"
    )


if __name__ == "__main__":
    print(run())
