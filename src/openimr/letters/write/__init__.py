"""Write a Final Determination letter in any layout, as text, HTML or PDF.

`render(letter, format="text"|"html"|"pdf", layout=None, draft=False)` lays the letter out
once as blocks (blocks.py, wording from layouts.yaml) and prints the blocks as text or
through one Jinja2 template as HTML; the PDF is that HTML printed by WeasyPrint, with
"Page N of M" in the footer. `draft=True` marks every rendering with DRAFT_BANNER.

`render_determination(LetterContext, ...)` is the mailable letter: the same layout with the
organization's letterhead, the parties, the documents reviewed, how the determination was
made, a superseded letter and the appeal rights (mailing.py); `published=True` leaves the
parties out.
A reader removes what the renderer adds with `artifacts.strip_render_artifacts`.

Not every layout prints every field of a Letter; SURVIVING_FIELDS says which fields a
layout carries, i.e. which ones read back unchanged after rendering in that layout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NamedTuple, get_args

from openimr.letters.write.artifacts import APPEAL_HEADING, DRAFT_BANNER, strip_render_artifacts
from openimr.models import Letter, LetterContext

if TYPE_CHECKING:
    from openimr.letters.write.organization import Organization

Format = Literal["text", "html", "pdf"]
FORMATS: tuple[Format, ...] = get_args(Format)

_ITEM = ("items",)
_CREDENTIALS = ("reviewer.licensure", "reviewer.specialties", "reviewer.statement")
# Which fields of a Letter each layout prints (and so reads back unchanged).
# review_organization survives where the organization names its guideline line
# ("MAXIMUS guideline:"); "items" means every field of every item: request, decision, medically_necessary, both
# citations, rationale, and original_request/authorized/disputed_request.
SURVIVING_FIELDS: dict[str, tuple[str, ...]] = {
    "L2016": (
        "layout", "review_organization", "case_number", "date_assigned", "date_of_injury", "decision_date", "ur_denial_date",
        "application_received", "priority", *_CREDENTIALS, "clinical_case_summary", *_ITEM,
    ),
    # No header block; the credentials are a prose sentence inside the statement (added to
    # the statement where it lacks one, so the statement survives only if it has one).
    "L2013": ("layout", "review_organization", "reviewer.licensure", "reviewer.specialties", "clinical_case_summary", *_ITEM),
    "L2015": (
        "layout", "review_organization", "case_number", "date_of_injury", "decision_date", "ur_denial_date", "application_received",
        "priority", *_CREDENTIALS, "documents_reviewed", "clinical_case_summary", *_ITEM,
    ),
    "L-professional": (
        "layout", "case_number", "date_of_injury", "decision_date", "ur_denial_date", *_CREDENTIALS,
        "documents_reviewed", "clinical_case_summary", *_ITEM,
    ),
    "L2013-notice": (
        "layout", "case_number", "decision_date", "ur_denial_date", "application_received", "date_assigned",
        *_CREDENTIALS, "documents_reviewed", "clinical_case_summary", *_ITEM,
    ),
}


def surviving_fields(letter: Letter, layout: str | None = None) -> dict[str, object]:
    """The fields of a letter that its rendering in `layout` carries, as {dotted name: value}."""
    dumped = letter.model_dump(mode="json")
    values: dict[str, object] = {}
    for name in SURVIVING_FIELDS[layout or letter.layout]:
        value: object = dumped
        for part in name.split("."):
            value = value[part]  # type: ignore[index]
        values[name] = value
    return values


def letter_title(letter: Letter) -> str:
    """The title of a rendered letter (HTML title, PDF metadata)."""
    case = f" {letter.case_number}" if letter.case_number else ""
    return f"IMR Final Determination{case}"


def render(letter: Letter, format: Format = "text", layout: str | None = None, draft: bool = False) -> str | bytes:
    """The letter in a layout (default: its own) as text (str), HTML (str) or PDF (bytes)."""
    from openimr.letters.write.blocks import letter_blocks

    layout = layout or letter.layout
    return _print(letter_blocks(letter, layout), letter, layout, format, draft)


class MailedLetter(NamedTuple):
    """A rendered mailed letter: the Letter as printed (to store beside it) and the document."""

    letter: Letter
    content: str | bytes


def render_determination(
    context: LetterContext,
    format: Format = "pdf",
    *,
    published: bool = False,
    draft: bool = False,
    layout: str | None = None,
    organization: Organization | None = None,
) -> MailedLetter:
    """The mailable Final Determination letter of `context`, as text, HTML or PDF.

    The letter's layout (default its own) with the organization's letterhead (default: the
    configured one, see organization.py), the parties and claim number in the header, the
    documents reviewed, how the determination was made (from `context.reviewer`, the panel's
    credentials block, never a name), the superseded letter where there is one, and the
    appeal rights. `published=True` is the redacted version: no parties, no claim number, no
    authors of documents, no copies list (the free texts are the redaction's job).
    """
    from openimr.letters.write.mailing import mailed_blocks
    from openimr.letters.write.organization import configured_organization

    if not isinstance(context, LetterContext):
        raise TypeError(f"context must be a LetterContext, not {type(context).__name__}")
    organization = organization or configured_organization()
    letter, blocks = mailed_blocks(context, organization, layout, published)
    return MailedLetter(letter, _print(blocks, letter, layout or letter.layout, format, draft))


def _print(blocks, letter: Letter, layout: str, format: str, draft: bool) -> str | bytes:
    if format == "text":
        from openimr.letters.write.text import render_text

        return render_text(blocks, draft=draft)
    if format not in ("html", "pdf"):
        raise ValueError(f"unknown format {format!r}; one of {', '.join(FORMATS)}")
    from openimr.letters.write.html import render_html, render_pdf

    html = render_html(blocks, layout, letter_title(letter), draft=draft)
    return html if format == "html" else render_pdf(html)


__all__ = [
    "APPEAL_HEADING",
    "DRAFT_BANNER",
    "FORMATS",
    "SURVIVING_FIELDS",
    "MailedLetter",
    "render",
    "render_determination",
    "strip_render_artifacts",
    "surviving_fields",
]
