"""`openimr casefile ...`: index a case file as it arrives (PDF, TIFF, PNG, JPEG)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from openimr.casefile.index import FileProgress

casefile_app = typer.Typer(help="Case files as they arrive: OCR, split, type, date, chronology, summary.",
                           no_args_is_help=True)


@casefile_app.command("index")
def index_cmd(
    files: list[Path] = typer.Argument(..., help="Case files: PDF (text layer or scanned), TIFF, PNG, JPEG."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file, one a line."),
    ocr: str = typer.Option("auto", "--ocr", help="auto: only pages without a usable text layer; always; never."),
    cluster: str | None = typer.Option(None, "--cluster", help="Dask scheduler address (tcp://HOST:PORT)."),
    case: str | None = typer.Option(None, "--case", help="Also store the documents in this case's record "
                                       "and record the records-received event."),
    db: str | None = typer.Option(None, "--db", help="Database URL (with --case; default $OPENIMR_DB)."),
    actor: str | None = typer.Option(None, "--actor", help="Who stores the records (audit log)."),
    resume: Path | None = typer.Option(None, "--resume", help="Folder keeping each page as it is read: "
                                          "run again after an interruption and it goes on where it stopped."),
    progress: bool = typer.Option(False, "--progress", help="Show 'FILE: page N of M' on stderr as pages are read."),
) -> None:
    """Read case files page by page and index them: documents (type, date, author, pages,
    duplicates), chronology, documents reviewed, drafted clinical case summary.

    Example: openimr casefile index records.pdf fax.tif --json
    """
    from openimr.casefile.index import OCR_MODES, index_files

    if ocr not in OCR_MODES:
        typer.echo(f"--ocr: must be one of {', '.join(OCR_MODES)}, not {ocr!r}", err=True)
        raise typer.Exit(1)
    if case and cluster:
        typer.echo("--case: index on one machine to store the documents (not with --cluster)", err=True)
        raise typer.Exit(1)
    failed = False
    show = _show_progress if progress else None
    results = _with_case(files, ocr, case, db, actor, resume, show) if case else index_files(
        [str(f) for f in files], ocr=ocr, cluster=cluster, resume=str(resume) if resume else None, progress=show)
    for result in results:
        if "error" in result:
            typer.echo(result["error"], err=True)
            failed = True
            continue
        for line in result["errors"]:
            typer.echo(line, err=True)
            failed = True
        if as_json:
            sys.stdout.write(json.dumps(result) + "\n")
            continue
        scanned = sum(1 for d in result["documents"] if d["scanned"])
        dupes = sum(1 for d in result["documents"] if d["duplicate_of"])
        typer.echo(f"{result['file']}: {result['pages']} pages, {len(result['documents'])} documents "
                   f"({scanned} scanned, {dupes} duplicates), {len(result['chronology'])} dated events")
        for number, doc in enumerate(result["documents"], start=1):
            dup = f"  duplicate of {doc['duplicate_of']}" if doc["duplicate_of"] else ""
            typer.echo(f"  {number:>3}. pages {doc['first_page']}-{doc['last_page']}  {doc['type']:<20} "
                       f"{doc['date'] or '-':<10}  {doc['author'] or '-'}{dup}")
        typer.echo("")
        typer.echo(result["summary"])
    if failed:
        raise typer.Exit(1)


MAX_SYNTH = 200  # case files one `synth` run makes at most


@casefile_app.command("synth")
def synth_cmd(
    out: Path = typer.Option(..., "--out", help="Folder to write CASE.pdf and CASE.truth.json into."),
    count: int = typer.Option(10, "--count", min=1, max=MAX_SYNTH, help=f"How many case files (at most {MAX_SYNTH})."),
    source: Path | None = typer.Option(None, "--source", help="Folder of published letters (PDF) whose clinical "
                                          "case summaries seed the records (default: the shared letters)."),
    seed: int = typer.Option(1000, "--seed", help="Random seed (the same seed gives the same files)."),
    scanned: float = typer.Option(0.5, "--scanned", min=0.0, max=1.0, help="Share of the pages degraded as scans."),
) -> None:
    """Make SYNTHETIC case files to try the workbench and the indexer on: records built from
    published letters' clinical case summaries, bound in arrival order with a duplicate and a
    faxed copy, about half the pages scanned; the ground truth beside each. Names and numbers
    are invented; no real record is used.

    Example: openimr casefile synth --out samples/ --count 3
    """
    from openimr.casefile.synth import case_file, letter_summaries
    from openimr.library.synth import default_sources

    folder = source or default_sources()[0]
    if not folder.is_dir():
        typer.echo(f"--source: {folder} is not a folder of letters", err=True)
        raise typer.Exit(1)
    summaries = letter_summaries(str(folder), limit=count)
    if not summaries:
        typer.echo(f"--source: no letter in {folder} has a clinical case summary with two dated events", err=True)
        raise typer.Exit(1)
    out.mkdir(parents=True, exist_ok=True)
    for number, (case, summary) in enumerate(summaries):
        made = case_file(summary, seed=seed + number, scanned_share=scanned)
        (out / f"{case}.pdf").write_bytes(made.pdf)
        (out / f"{case}.truth.json").write_text(json.dumps({"file": f"{case}.pdf", **made.truth()}, indent=1))
        typer.echo(f"{out / (case + '.pdf')}: {len(made.pages)} pages, {len(made.documents)} documents")
    if len(summaries) < count:
        typer.echo(f"made {len(summaries)} of {count}: no more letters with two dated events in {folder}", err=True)


def _show_progress(path: str, page: int, pages: int) -> None:
    sys.stderr.write(f"\r{path}: page {page} of {pages}" + ("\n" if page >= pages else ""))
    sys.stderr.flush()


def _with_case(files: list[Path], ocr: str, case: str, db: str | None, actor: str | None,
               resume: Path | None = None, show: FileProgress | None = None) -> Iterator[dict]:
    """Index each file and store its documents in the case; a case error is one line, exit 1."""
    import getpass
    import os

    from openimr.casefile.index import for_file, index_file
    from openimr.casefile.record import store_documents
    from openimr.casefile.worker import CaseFileError
    from openimr.cases.cli import _run, friendly_errors

    for path in files:
        documents: list = []
        try:
            result = index_file(path, ocr, keep=documents, resume=resume,
                                progress=for_file(show, str(path)))
        except CaseFileError as error:
            yield {"file": str(path), "error": str(error)}
            continue
        with friendly_errors():
            result["stored"] = _run(db, store_documents, case, str(path), documents,
                                               actor or os.environ.get("OPENIMR_ACTOR") or getpass.getuser())
        yield result


def register(app: typer.Typer) -> None:
    """Add `casefile` to the `openimr` application."""
    app.add_typer(casefile_app, name="casefile")
