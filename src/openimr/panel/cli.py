"""`openimr panel …`: the expert reviewer panel. Reviewers are shown by id only."""

from __future__ import annotations

from pathlib import Path

import typer

from openimr.cases.cli import ACTOR_HELP, DB_HELP, _parse_date, _print, _run, fail, friendly_errors

panel_app = typer.Typer(help="Expert reviewers: add, list, match to a case.", no_args_is_help=True)
NAMES_HELP = "ADMIN USE ONLY: also show the reviewers' confidential names."


@panel_app.command("add")
def add_cmd(
    reviewer_file: Path = typer.Argument(..., help="REVIEWER.json (one reviewer or a list)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
) -> None:
    """Add (or replace) expert reviewers of the panel.

    Example: openimr panel add REVIEWER.json
    """
    from openimr.panel.reviewers import ReviewerError, add, load_reviewers

    try:
        with friendly_errors():
            reviewers = load_reviewers(reviewer_file)
            _run(db, add, reviewers, actor)
    except ReviewerError as error:
        fail(str(error))
    typer.echo(f"added {len(reviewers)} reviewer(s): {', '.join(r.id for r in reviewers)}")


@panel_app.command("list")
def list_cmd(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    show_names: bool = typer.Option(False, "--show-names", help=NAMES_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the panel's reviewers (by id; names only with --show-names).

    Example: openimr panel list --json
    """
    from openimr.panel.matching import fields_of
    from openimr.panel.reviewers import assigned_load, stored

    with friendly_errors():
        reviewers, loads = _run(db, stored), _run(db, assigned_load)
    rows = []
    for r in reviewers:
        row = r.public() | {"open_cases": r.open_cases + loads.get(r.id, 0), "specialties": fields_of(r)}
        rows.append(row | {"name": r.name} if show_names else row)
    lines = [f"{r['id']:<16} {r['profession']:<14} {', '.join(r['specialties'])}  ({r['open_cases']} open)" for r in rows]
    _print(rows, as_json, lines or ["the panel is empty"])


@panel_app.command("match")
def match_cmd(
    target: str = typer.Argument(..., help="A case number, or an APPLICATION.json file."),
    reviewers: Path | None = typer.Option(None, "--reviewers", help="FILE.json: a list of reviewers instead of the stored panel."),
    on: str | None = typer.Option(None, "--on", help="Date for licence expiry checks (default today)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    show_names: bool = typer.Option(False, "--show-names", help=NAMES_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print {eligible, excluded} as JSON."),
) -> None:
    """Rank the eligible reviewers for a case; list every excluded one with its reasons.

    Example: openimr panel match APPLICATION.json --reviewers panel.json --json
    """
    from openimr.cases.intake import load_application
    from openimr.panel.assign import match_case
    from openimr.panel.matching import match
    from openimr.panel.reviewers import ReviewerError, assigned_load, load_reviewers, stored

    when = _parse_date(on, "--on")
    try:
        with friendly_errors():
            pool = load_reviewers(reviewers) if reviewers else None
            if target.lower().endswith(".json") or Path(target).is_file():
                loads = _run(db, assigned_load) if pool is None else None
                pool = pool if pool is not None else _run(db, stored)
                result = match([load_application(target)], pool, loads, when, show_names)
            else:
                result = _run(db, match_case, target, when, show_names, pool)
    except ReviewerError as error:
        fail(str(error))
    lines = [f"{e['reviewer']:<16} score {e['score']:<6} {e['why']}" for e in result["eligible"]] or ["no eligible reviewer"]
    lines += [f"excluded {e['reviewer']}: " + "; ".join(f"{r['code']} ({r['message']})" for r in e["reasons"]) for e in result["excluded"]]
    lines += [result["ranking"]["text"]] if result["ranking"] else []
    _print(result, as_json, lines)


def register(app: typer.Typer) -> None:
    """Add `panel` to the `openimr` application."""
    app.add_typer(panel_app, name="panel")
