"""Command-line commands of the determination engine: `openimr decide`, `openimr evaluate`."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def load_case(path: Path):
    """Read and validate CASE.json; one-line ValueError naming the file and field."""
    import json

    from pydantic import ValidationError

    from openimr.engine.models import Case
    from openimr.models import first_error

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    try:
        return Case.model_validate(raw)
    except ValidationError as exc:
        raise ValueError(f"{path}: {first_error(exc, '(case)', plain=True)}") from exc


def letter_from_determination(case, det):
    """A Final Determination Letter model built from a draft determination."""
    from openimr.models import Citation, Item, Letter

    items = [
        Item(
            request=i.request,
            decision=i.decision,
            medically_necessary=i.medically_necessary,
            claims_administrator_guideline=Citation(text=d.ur_guideline),
            imr_guideline=i.imr_guideline,
            rationale=i.rationale,
        )
        for i, d in zip(det.items, case.disputed_items)
    ]
    summary = next((d.text for d in case.documents if d.kind == "clinical_summary"), "")
    return Letter(
        layout="L2016",
        case_number=case.case_number,
        date_of_injury=case.date_of_injury,
        ur_denial_date=case.ur_denial_date,
        priority=case.priority,
        clinical_case_summary=summary,
        items=items,
    )


def precedents_for(session, request: str, limit: int = 3, exclude_case: str | None = None,
                   kb_entry: str | None = None, region: str | None = None):
    """The nearest precedents of an item (engine.precedents.nearest: the same request category
    and, where known, knowledge-base entry; those of its own engine category first)."""
    from openimr.engine.models import Precedent
    from openimr.engine.precedents import nearest

    found = nearest(session, request, kb_entry, region, limit, {exclude_case} if exclude_case else set())
    return [Precedent(case_number=n.hit.case_number, request=n.hit.request, decision=n.hit.decision,
                      score=round(float(n.hit.score), 4)) for n in found]


def decide(
    cases: list[Path] = typer.Argument(..., help="CASE.json files (one case each)."),
    as_json: bool = typer.Option(True, "--json/--no-json", help="JSON Lines out (default), one determination per case."),
    letter: Path | None = typer.Option(None, "--letter", help="Also draft the Final Determination letter to FILE (one case only)."),
    fmt: str = typer.Option("text", "--format", help="Letter format: text, html or pdf."),
    db: str | None = typer.Option(None, "--db", help="Library database URL: add precedents (similar past items)."),
) -> None:
    """Draft the determination of each disputed item by explicit rules: decision, criteria
    verdict, confidence (clear / uncertain), probability calibrated per rule outcome, guideline
    (MTUS first), criteria with evidence, rationale. Every draft is a
    recommendation for a licensed clinician to sign.

    Example: openimr decide case.json --letter draft.pdf --format pdf
    """
    if fmt not in ("text", "html", "pdf"):
        _fail(f"--format: unknown format {fmt!r}; one of text, html, pdf")
    if letter is not None and len(cases) != 1:
        _fail("--letter: give exactly one CASE.json with --letter")
    try:
        loaded = [load_case(p) for p in cases]
    except ValueError as exc:
        _fail(str(exc))
    from openimr.engine.decide import decide_case

    outputs = []
    with contextlib.ExitStack() as stack:
        session = None
        if db:
            from openimr.db import session_scope

            session = stack.enter_context(session_scope(db))  # one session for every case's precedents
        for case in loaded:
            det = decide_case(case)
            if session is not None:
                try:
                    for item in det.items:
                        item.precedents = precedents_for(session, item.request, exclude_case=case.case_number,
                                                         kb_entry=item.kb_entry, region=item.region)
                except Exception as exc:  # a bad URL or a database without the library tables
                    _fail(f"--db: cannot search the library: {str(exc).splitlines()[0][:200]}")
            outputs.append(det)
            typer.echo(det.model_dump_json() if as_json else _text(det))
    if letter is not None:
        from openimr.letters.write import render

        doc = render(letter_from_determination(loaded[0], outputs[0]), fmt, draft=True)  # type: ignore[arg-type]  # checked above
        tmp = letter.with_name(letter.name + ".part")
        if isinstance(doc, bytes):
            tmp.write_bytes(doc)
        else:
            tmp.write_text(doc, encoding="utf-8")
        tmp.replace(letter)


def _text(det) -> str:
    lines = [f"Case {det.case_number or '-'} — {det.notice}"]
    for i in det.items:
        lines.append(f"- {i.request}: {i.decision}, {i.confidence} (p overturned {i.probability_overturned:.2f}); {i.imr_guideline.text}")
    return "\n".join(lines)


def evaluate(
    letters: list[Path] = typer.Argument(..., help="Final Determination letters (PDF or text) with their decisions."),
    folds: int = typer.Option(5, "--folds", min=2, help="Grouped cross-validation folds (by letter)."),
    as_json: bool = typer.Option(False, "--json", help="Full report as JSON."),
    save_calibration: Path | None = typer.Option(None, "--save-calibration", help="Also count the calibration of every rule outcome on all letters and write it (JSON)."),
) -> None:
    """Measure the engine on real letters with the outcome hidden: accuracy, balanced
    accuracy, Brier, AUC, guideline match, clear coverage and agreement, decision/criteria
    disagreements, overall, on the held-out split and per category, beside the baselines
    (always Upheld, category rate, TF-IDF + logistic regression) on the same folds.

    Example: openimr evaluate ../shared/data/letters/*.pdf --folds 5 --json
    """
    from openimr.engine import evaluate as ev

    for p in letters:
        if not Path(p).is_file():
            _fail(f"{p}: no such file")
    try:
        report = ev.evaluate(list(letters), folds=folds)
    except ValueError as exc:
        _fail(str(exc))
    typer.echo(ev.dumps(report) if as_json else ev.format_text(report))
    if save_calibration is not None:
        import json

        table = ev.fit_calibration(list(letters))
        tmp = save_calibration.with_name(save_calibration.name + ".part")
        tmp.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
        tmp.replace(save_calibration)


def register(app: typer.Typer) -> None:
    """Add this part's commands to the `openimr` application."""
    app.command("decide")(decide)
    app.command("evaluate")(evaluate)
