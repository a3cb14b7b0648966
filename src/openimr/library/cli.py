"""Commands of the precedent library: ingest, search, similar, stats, export, synth,
library-model. Every command takes --db URL and --json."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

DB_HELP = "Database URL: sqlite:///path or postgresql://… (default: $OPENIMR_DB or the user's data dir)."
JSON_HELP = "Machine-readable JSON output."


def _url(db: str | None) -> str:
    from openimr.db import default_url

    return db or default_url()


@contextmanager
def _errors() -> Iterator[None]:
    """Bad input or a database problem: one line on stderr, exit status 1."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        yield
    except typer.Exit:
        raise
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        raise typer.Exit(0) from None
    except (ValueError, LookupError, OSError, ArgumentError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        typer.echo(f"error: database: {str(cause).splitlines()[0]}", err=True)
        raise typer.Exit(1) from None


def _print_json(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n")


def register(app: typer.Typer) -> None:
    """Add the library's commands to the `openimr` application."""
    app.command("ingest", epilog="Example: openimr ingest ../shared/data/letters --db sqlite:///library.db --workers 2")(ingest_command)
    app.command("search", epilog='Example: openimr search "opioid weaning" --decision Upheld --category opioid --limit 5')(search_command)
    app.command("similar", epilog="Example: openimr similar 42 --limit 5 --json")(similar_command)
    app.command("stats", epilog="Example: openimr stats --by category --chart overturned.png")(stats_command)
    app.command("export", epilog="Example: openimr export --format parquet --out items.parquet")(export_command)
    app.command("synth", epilog="Example: openimr synth --letters 1000 --out synth-letters/")(synth_command)
    app.command("library-model", epilog="Example: openimr library-model")(model_command)


def ingest_command(
    paths: list[Path] = typer.Argument(..., help="PDFs, text files, JSON Lines of letters, or folders of them."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Parsing processes (default: all cores)."),
    cluster: str | None = typer.Option(None, "--cluster", help="Run the parsing on a Dask cluster (tcp://host:port)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Ingest Final Determination letters into the precedent library (idempotent)."""
    from rich.console import Console

    from openimr.library.ingest import ingest

    console = Console(stderr=True)
    with _errors(), _progress(console, enabled=console.is_terminal and not as_json) as progress:
        summary = ingest(paths, _url(db), workers=workers, cluster=cluster, progress=progress)
    if as_json:
        _print_json(summary.as_dict())
    else:
        for source, reason in summary.failed:
            typer.echo(f"failed: {source}: {reason}", err=True)
        typer.echo(f"added {summary.added}, replaced {summary.replaced}, unchanged {summary.unchanged}, failed {len(summary.failed)}")
    if summary.failed:
        raise typer.Exit(1)


@contextmanager
def _progress(console, enabled: bool):
    """A Rich progress bar (rate, ETA) as a progress(done, total) callback.

    The bar (and its refresh thread) starts with the first letter handled, after the
    ingest has started its worker processes.
    """
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
        console=console, transient=True,
    )
    task = bar.add_task("ingest", total=None, rate="")
    started: list[tuple[float, int]] = []

    def update(done: int, total: int) -> None:
        now = time.monotonic()
        if not started:
            started.append((now, done))  # letters skipped as already stored do not count
            return
        if not bar.live.is_started:
            bar.start()
        since, first = started[0]
        rate = (done - first) / (now - since) if now > since else 0.0
        bar.update(task, completed=done, total=total, rate=f"{rate:,.0f} letters/s" if rate else "")

    try:
        yield update
    finally:
        if bar.live.is_started:
            bar.stop()


def _filters(category, region, decision, guideline, specialty, date_from, date_to):
    from openimr.bounds import parse_day
    from openimr.library.search import Filters

    if decision and decision.capitalize() not in ("Upheld", "Overturned"):
        raise ValueError(f"--decision: {decision!r} is not Upheld or Overturned")
    return Filters(category, region, decision, guideline, specialty, parse_day("--from", date_from, future=True), parse_day("--to", date_to, future=True))


def search_command(
    query: str = typer.Argument(..., help="Words to look for in requests and rationales."),
    category: str | None = typer.Option(None, "--category", help="Category or group key (e.g. opioid, diagnostics)."),
    region: str | None = typer.Option(None, "--region", help='Body region: a key of the one region set (e.g. "lumbar", "upper_extremity") or its name.'),
    decision: str | None = typer.Option(None, "--decision", help="Upheld or Overturned."),
    guideline: str | None = typer.Option(None, "--guideline", help="Guideline key or its start (e.g. mtus-chronic-pain, odg)."),
    specialty: str | None = typer.Option(None, "--specialty", help="Reviewer specialty (part of its name)."),
    date_from: str | None = typer.Option(None, "--from", help="Decided on or after (YYYY-MM-DD)."),
    date_to: str | None = typer.Option(None, "--to", help="Decided on or before (YYYY-MM-DD)."),
    mode: str = typer.Option("fused", "--mode", help="fused, fulltext or semantic."),
    limit: int = typer.Option(10, "--limit", min=1, max=1000, help="How many results."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Search precedents: full text and semantic similarity fused into one ranking."""
    from openimr.db import migrate, session_scope
    from openimr.library.search import find

    with _errors():
        if mode not in ("fused", "fulltext", "semantic"):
            raise ValueError(f"--mode: {mode!r} is not fused, fulltext or semantic")
        filters = _filters(category, region, decision, guideline, specialty, date_from, date_to)
        url = _url(db)
        migrate(url)
        with session_scope(url) as session:
            results = find(session, query, filters, mode=mode, limit=limit)  # type: ignore[arg-type]
    _show_hits(results, as_json, f"Precedents for {query!r}")


def similar_command(
    item_id: int = typer.Argument(..., help="The item's id (from search results)."),
    limit: int = typer.Option(10, "--limit", min=1, max=1000, help="How many precedents."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The nearest precedents of one item, from other letters."""
    from openimr.db import migrate, session_scope
    from openimr.library.search import similar

    with _errors():
        url = _url(db)
        migrate(url)
        with session_scope(url) as session:
            results = similar(session, item_id, limit)
    _show_hits(results, as_json, f"Precedents similar to item {item_id}")


def _show_hits(results, as_json: bool, title: str) -> None:
    if as_json:
        _print_json([h.as_dict() for h in results])
        return
    import re

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_lines=True)
    for column in ("id", "case", "request", "decision", "date", "category", "guideline", "snippet"):
        table.add_column(column)
    for h in results:
        snippet = re.sub(r"\\\*\\\*(.+?)\\\*\\\*", r"[bold yellow]\1[/]", escape(h.snippet).replace("**", "\\*\\*"))
        table.add_row(str(h.id), h.case_number or "", escape(h.request), h.decision, h.date or "", h.category, escape(h.guideline or ""), snippet)
    Console().print(table)
    if not results:
        typer.echo("no matching items")


def stats_command(
    by: str = typer.Option("decision", "--by", help="decision, category, guideline, specialty, month or region."),
    chart: Path | None = typer.Option(None, "--chart", help="Also write a chart: .png or interactive .html."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Items, upheld and overturned counts and rates (Wilson 95% intervals) per group."""
    from openimr.db import migrate, session_scope
    from openimr.library import stats as stats_module

    with _errors():
        if by not in stats_module.GROUPS:
            raise ValueError(f"--by: {by!r} is not one of {', '.join(stats_module.GROUPS)}")
        url = _url(db)
        migrate(url)
        with session_scope(url) as session:
            rows = stats_module.stats(session, by)
        if chart is not None:
            stats_module.chart(rows, chart, f"Overturned rate by {by}")
    if as_json:
        _print_json([r.as_dict() for r in rows])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"IMR decisions by {by}")
    for column in (by, "items", "upheld", "overturned", "overturned %", "95% CI"):
        table.add_column(column, justify="left" if column == by else "right")
    for r in rows:
        table.add_row(r.group, str(r.items), str(r.upheld), str(r.overturned), f"{r.overturned_rate:.1%}", f"{r.ci_low:.1%}–{r.ci_high:.1%}")
    Console().print(table)


def export_command(
    format: str = typer.Option("csv", "--format", help="csv, parquet or jsonl."),
    out: Path | None = typer.Option(None, "--out", help="File to write (csv and jsonl: standard output if omitted)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Export every item (with its letter's fields and classification)."""
    from openimr.db import migrate, session_scope
    from openimr.library.export import export

    with _errors():
        url = _url(db)
        migrate(url)
        if out is None and format == "parquet":
            raise ValueError("--out: parquet needs a file to write")
        with session_scope(url) as session:
            count = export(session, out or Path("/dev/stdout"), format)
    if out is None:
        return
    if as_json:
        _print_json({"items": count, "out": str(out), "format": format})
    else:
        typer.echo(f"wrote {count} items to {out}")


def synth_command(
    letters: int = typer.Option(..., "--letters", min=1, help="How many letters to make."),
    out: Path = typer.Option(..., "--out", help="Folder of text letters, or a .jsonl file with --format jsonl."),
    format: str = typer.Option("text", "--format", help="text (rendered letters) or jsonl."),
    source: list[Path] = typer.Option(None, "--source", help="Real letters to draw from (default: the shared letters)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP + " (unused: synth writes files)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Make realistic synthetic letters from the real letters' distributions (benchmarks)."""
    from openimr.library.synth import default_sources, load_pool, synthesize, write

    with _errors():
        pool = load_pool(list(source) if source else default_sources())
        count = write(synthesize(pool, letters, seed), out, format)
    if as_json:
        _print_json({"letters": count, "out": str(out), "format": format})
    else:
        typer.echo(f"wrote {count} letters to {out}")


def model_command(
    out: Path | None = typer.Option(None, "--out", help="Folder for the model (default: $OPENIMR_MODEL_DIR or the user's data dir)."),
    force: bool = typer.Option(False, "--force", help="Rebuild even if present."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP + " (unused)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Build the offline semantic model (distilled from the packaged MiniLM) once."""
    from openimr.library.embed import build_model

    with _errors():
        path = build_model(out, force=force)
    if as_json:
        _print_json({"model": str(path)})
    else:
        typer.echo(f"semantic model ready at {path}")
