"""`openimr parse`: read Final Determination letters into JSON Lines."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import typer

LETTER_SUFFIXES = {".pdf", ".txt", ".text"}


def letter_files(paths: list[Path]) -> Iterator[Path]:
    """The given files, and the letters (PDF or text) inside given folders, recursively."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix.lower() in LETTER_SUFFIXES and p.is_file())
        else:
            yield path


def register(app: typer.Typer) -> None:
    """Add the parse command."""

    @app.command(
        "parse",
        epilog="Example: openimr parse ../shared/data/letters/CM16-0219557.pdf > letters.jsonl\n\n"
        "Example: openimr parse ../shared/data/letters --out parsed/ --summary",
    )
    def parse(
        files: list[Path] = typer.Argument(..., help="Letters: PDF or text files, or folders of them."),
        out: Path | None = typer.Option(None, "--out", help="Write one <name>.json per letter into this folder."),
        summary: bool = typer.Option(False, "--summary", help="Print a table of the letters instead of JSON."),
    ) -> None:
        """Read Final Determination letters (every layout since 2013) and write one JSON Letter per line."""
        from openimr.letters.read import LetterError, read_letter

        failures = 0
        letters = []
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        for path in letter_files(files):
            try:
                letter = read_letter(path)
            except LetterError as error:
                failures += 1
                typer.echo(f"error: {error}", err=True)
                continue
            if summary:
                letters.append((path, letter))
            elif out is not None:
                target = out / (path.stem + ".json")
                target.write_text(letter.model_dump_json(indent=2) + "\n", encoding="utf-8")
            else:
                sys.stdout.write(letter.model_dump_json() + "\n")
        if summary:
            print_summary(letters)
        if failures:
            raise typer.Exit(1)


def print_summary(letters: list) -> None:
    """A Rich table: one row per letter, and totals."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="IMR Final Determination letters")
    for column in ("Case", "Layout", "Decided", "Items", "Upheld", "Overturned", "Reviewer specialty"):
        table.add_column(column, justify="right" if column in {"Items", "Upheld", "Overturned"} else "left")
    upheld = overturned = 0
    for path, letter in letters:
        up = sum(item.decision == "Upheld" for item in letter.items)
        over = len(letter.items) - up
        upheld, overturned = upheld + up, overturned + over
        table.add_row(
            letter.case_number or path.stem,
            letter.layout,
            letter.decision_date.isoformat() if letter.decision_date else "",
            str(len(letter.items)),
            str(up),
            str(over),
            ", ".join(letter.reviewer.specialties),
        )
    total = upheld + overturned
    rate = f"{overturned / total:.1%}" if total else "n/a"
    table.caption = f"{len(letters)} letters, {total} disputed items: {upheld} Upheld, {overturned} Overturned ({rate} overturned)"
    Console().print(table)
