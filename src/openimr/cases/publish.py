"""Publication of a case's Final Determination letter, redacted as the DWC posts it.

A case's letter is attached from its determination (or with `--letter LETTER.json`); the
credentials block is the assigned reviewer's (generated, never the name). Publication
removes every party's name, addresses, the date of birth and claim numbers, and writes
the letter as JSON or through the mailed letter's writer (`render_determination`,
published=True: the organization's letterhead, how the determination was made from the
credentials only, the appeal rights; no parties, no claim number, no authors of documents),
which also refuses a letter in which a party's name is still printed.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select

from openimr.cases import store
from openimr.cases.intake import Application, format_errors
from openimr.cases.redact import for_application, redact_letter, workbench_names
from openimr.cases.tables import CaseRow, ReviewerRow
from openimr.models import DocumentReviewed, Letter, LetterContext, Parties, ReviewerCredentials

FORMATS = ("json", "text", "html", "pdf")


def load_letter(path: str | Path) -> Letter:
    """Read LETTER.json; a bad file raises CaseError naming the file and each problem."""
    path = Path(path)
    try:
        return Letter.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise store.CaseError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise store.CaseError(f"{path}: cannot be read ({error.__class__.__name__})") from None
    except ValidationError as error:
        raise store.CaseError("\n".join(f"{path}: {line}" for line in format_errors(error))) from None


def case_applications(session, row: CaseRow) -> list[Application]:
    """The case's application and those consolidated into it."""
    joined = session.scalars(select(CaseRow).where(CaseRow.consolidated_into == row.case_number).order_by(CaseRow.id))
    return [store.application_of(row)] + [store.application_of(r) for r in joined]


def attach_letter(session, case_number: str, letter: Letter, actor: str | None = None) -> Letter:
    """Store the determination letter of a case, with the assigned reviewer's credentials."""
    with store.writing(session) as s:
        row = store.get(s, case_number, fresh=True)
        if row.credentials:
            letter = letter.model_copy(update={"reviewer": ReviewerCredentials.model_validate_json(row.credentials)})
        if letter.case_number is None:
            letter = letter.model_copy(update={"case_number": case_number})
        stored = letter.model_dump_json()
        if row.letter == stored:  # the same letter again (a repeat): nothing changes, nothing is logged
            return letter
        store.update(s, case_number, "attach_letter", {"letter": stored}, actor)
        return letter


def redacted(session, case_number: str) -> tuple[Letter, Counter]:
    """The case's stored letter with every identifier removed."""
    letter, counts, _ = redacted_with_parties(session, case_number)
    return letter, counts


def redacted_with_parties(session, case_number: str) -> tuple[Letter, Counter, Parties]:
    """The redacted letter, the counts of what was removed, and the parties entered at intake
    (not printed: the published letter is checked against them)."""
    from openimr.letters.write.mailing import parties_of

    row = store.get(session, case_number)
    if not row.letter:
        raise store.CaseError(f"case {case_number}: no letter yet (give --letter LETTER.json)")
    apps = case_applications(session, row)
    reviewer = session.get(ReviewerRow, row.reviewer_id) if row.reviewer_id else None
    redactor = for_application(apps, reviewer.name if reviewer else None, workbench_names(session))
    letter, counts = redact_letter(Letter.model_validate_json(row.letter), redactor)
    return letter, counts, parties_of(apps[0])


def render(letter: Letter, format: str, parties: Parties | None = None) -> str | bytes:
    """The published letter as JSON, or as text, HTML or PDF through `render_determination`
    (published=True); CaseError when one of `parties` is still named in it."""
    if format == "json":
        return json.dumps(letter.model_dump(mode="json"), indent=2) + "\n"
    if format not in FORMATS:
        raise store.CaseError(f"--format: {format!r} is not one of {', '.join(FORMATS)}")
    try:
        from openimr.letters.write import render_determination
        from openimr.letters.write.mailing import PublishedNamesError
    except ImportError:  # the writer is not installed: JSON is always available
        raise store.CaseError(f"--format {format}: the letter writer is not available; use --format json") from None
    # the documents reviewed as the redacted letter lists them (a provider who is a person is
    # removed by the redaction); printed in every layout, in its own list or as a table
    documents = [DocumentReviewed(title=entry) for entry in letter.documents_reviewed or [] if entry.strip()]
    context = LetterContext(letter=letter, parties=parties or Parties(), reviewer=letter.reviewer,
                            documents=documents or None)
    try:
        return render_determination(context, format, published=True).content  # type: ignore[arg-type]
    except PublishedNamesError as error:
        raise store.CaseError(str(error)) from None


def publish(session, case_number: str, format: str = "json",
            actor: str | None = None) -> tuple[str | bytes, Counter, bool]:
    """Redact, render and record the publication of a case's letter (one transaction: the
    letter published is the one read under the case's lock): (the output, the counts of what
    was removed, whether it recorded anything). Publishing the same letter again (a double
    submit, the command run twice, another format of it) gives it again and records nothing:
    one `publish` entry and one status change per letter published."""
    with store.writing(session) as s:
        row = store.get(s, case_number, fresh=True)
        letter, counts, parties = redacted_with_parties(s, case_number)
        output = render(letter, format, parties)
        published = letter.model_dump_json()
        if row.status == "published" and row.published == published:
            return output, counts, False
        store.update(s, case_number, "publish", {"published": published}, actor)
    return output, counts, True
