"""The `openimr render` command: a JSON Letter (or a LetterContext, a mailed letter) printed as
a letter (text, HTML or PDF)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from openimr.letters.write import FORMATS
from openimr.models import Letter, LetterContext, first_error

if TYPE_CHECKING:
    from pydantic import ValidationError


class RenderInputError(ValueError):
    """The letter file cannot be used; str() is one line naming the file and the reason."""


def _validation_reason(error: ValidationError) -> str:
    return f"field {first_error(error, 'letter')}"


def load_letter(path: Path, index: int = 1) -> Letter | LetterContext:
    """The index-th Letter (from 1) of a JSON file (one Letter) or a JSON Lines file; a record
    with a "letter" field is a LetterContext (a mailed letter) and is returned as one."""
    from pydantic import ValidationError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RenderInputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RenderInputError(f"{path}: cannot read the file ({type(error).__name__})") from None
    records = _json_records(path, text)
    if index < 1 or index > len(records):
        raise RenderInputError(f"{path}: no letter number {index} (the file holds {len(records)})")
    line, record = records[index - 1]
    model: type[Letter] | type[LetterContext] = (
        LetterContext if isinstance(record, dict) and "letter" in record else Letter
    )
    try:
        return model.model_validate(record)
    except ValidationError as error:
        where = f" line {line}" if line else ""
        raise RenderInputError(f"{path}{where}: not a {model.__name__} ({_validation_reason(error)})") from None


def _json_records(path: Path, text: str) -> list[tuple[int | None, object]]:
    """(line number or None, parsed value) of each letter in the file."""
    if not text.strip():
        raise RenderInputError(f"{path}: empty file")
    try:
        value = json.loads(text)
        return [(None, item) for item in value] if isinstance(value, list) else [(None, value)]
    except json.JSONDecodeError:
        pass
    records: list[tuple[int | None, object]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            raise RenderInputError(f"{path} line {number}: not JSON ({error.msg})") from None
    return records


def write_atomically(target: Path, data: bytes) -> None:
    """Write the whole file or nothing: a temporary file in the same folder, then a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def register(app: typer.Typer) -> None:
    """Add the render command."""

    @app.command(
        "render",
        epilog="Example: openimr parse ../shared/data/letters/CM16-0219557.pdf > letter.jsonl && "
        "openimr render letter.jsonl --format pdf --layout L2016 -o letter.pdf\n\n"
        "Example: openimr render letters.jsonl --index 3 --format html --draft -o draft.html\n\n"
        "Example (a mailed letter: a LetterContext with letter, parties, documents, reviewer, supersedes): "
        "openimr render context.json --format pdf --organization org.yaml [--published] -o letter.pdf",
    )
    def render(
        letter_file: Path = typer.Argument(
            ..., metavar="LETTER.json",
            help="One Letter (or LetterContext, for a mailed letter) as JSON, or JSON Lines of them.",
        ),
        format: str = typer.Option("text", "--format", "-f", help="text, html or pdf."),
        layout: str | None = typer.Option(
            None, "--layout", help="L2013-notice, L2013, L2015, L2016 or L-professional (default: the letter's own)."
        ),
        draft: bool = typer.Option(False, "--draft", help="Mark the letter DRAFT (a recommendation, not signed)."),
        index: int = typer.Option(1, "--index", help="Which letter of a JSON Lines file, counting from 1."),
        published: bool = typer.Option(
            False, "--published", help="A mailed letter's published (redacted) version: no parties, no claim number."
        ),
        organization_file: Path | None = typer.Option(
            None, "--organization", metavar="ORG.yaml",
            help="The letterhead of a mailed letter (default: $OPENIMR_ORGANIZATION, else the bundled one).",
        ),
        output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
    ) -> None:
        """Print a Final Determination letter from its JSON, in any layout, as text, HTML or PDF."""
        from openimr.letters.write import render as render_letter
        from openimr.letters.write import render_determination
        from openimr.letters.write.mailing import PublishedNamesError
        from openimr.letters.write.organization import OrganizationError, load_organization
        from openimr.models import LAYOUTS

        chosen = next((known for known in FORMATS if known == format), None)
        if chosen is None:
            _fail(f"--format: {format!r} is not one of {', '.join(FORMATS)}")
        if layout is not None and layout not in LAYOUTS:
            _fail(f"--layout: {layout!r} is not one of {', '.join(LAYOUTS)}")
        try:
            letter = load_letter(letter_file, index)
        except RenderInputError as error:
            _fail(str(error))
        if isinstance(letter, LetterContext):
            try:
                organization = load_organization(organization_file)
            except OrganizationError as error:
                _fail(str(error))
            try:
                rendered = render_determination(
                    letter, chosen, published=published, draft=draft, layout=layout, organization=organization
                ).content
            except PublishedNamesError as error:
                _fail(f"{letter_file}: {error}")
        elif published or organization_file is not None:
            _fail(f"{letter_file}: --published and --organization need a mailed letter (a LetterContext, with a "
                  '"letter" field), not a Letter')
        else:
            rendered = render_letter(letter, format=chosen, layout=layout, draft=draft)
        data = rendered if isinstance(rendered, bytes) else rendered.encode("utf-8")
        if output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        try:
            write_atomically(output, data)
        except OSError as error:
            _fail(f"{output}: cannot write ({error.strerror or type(error).__name__})")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)
