"""What a mailed Final Determination letter adds to its layout, as blocks.

A mailed letter is the layout's letter (blocks.py) with: the organization's letterhead on
top; the parties and the claim number in the header; a notice naming the letter it
supersedes, where it does; the documents reviewed (in the layouts that have no list of their
own); a statement of how the determination was made, written here from the reviewer's
credentials (never from free text, so never with a name); and the appeal rights and the
copies at the end. The published (redacted) version leaves out the parties, the claim
number, the documents' authors and the copies.
"""

from __future__ import annotations

from openimr.letters.write.artifacts import APPEAL_HEADING
from openimr.letters.write.blocks import Block, field_rows, letter_blocks, us_date
from openimr.letters.write.organization import Organization
from openimr.letters.write.wording import APPEAL_GROUNDS, LayoutWording, mailing_wording, wording
from openimr.models import DocumentReviewed, Letter, LetterContext, Parties, ReviewerCredentials

_DEFAULT_ORGANIZATION = Letter.model_fields["review_organization"].default
_HEADER_KINDS = ("title", "subtitle", "fields", "field_below")
_PARTY_ROWS = (("employee", "employer"), ("claims_administrator", "claim_number"), ("requesting_physician", "attorney"))
# Who receives a copy, in the order the copies list names them.
_COPIES = ("employee", "attorney", "requesting_physician", "employer", "claims_administrator")


class PublishedNamesError(ValueError):
    """A published letter would still name a party; str() says which party, never the name."""


def _printed_text(blocks: list[Block]) -> str:
    parts: list[str] = []
    for block in blocks:
        parts += [block.text, block.label, *block.entries]
        parts += [value for pair in block.fields for value in pair]
        parts += [cell for row in block.rows for cell in row]
    return " ".join(" ".join(parts).split()).casefold()


def check_published(blocks: list[Block], parties: Parties) -> None:
    """Refuse a published letter in which a party's name (or the claim number) is still printed:
    the letter's free texts must be redacted before publication."""
    text = _printed_text(blocks)
    for key, value in parties.model_dump().items():
        if value and len(value.strip()) >= 3 and " ".join(value.split()).casefold() in text:
            raise PublishedNamesError(
                f"published letter: the {key.replace('_', ' ')} is still named in the letter's text; "
                "redact the letter before publishing it"
            )


def parties_of(application) -> Parties:
    """The mailed letter's parties from an intake application (cases.intake.Application: the
    DWC Form IMR): the names as entered, the attorney with the firm, the employee's claim number."""
    attorney = application.attorney
    return Parties(
        employee=application.employee.name,
        employer=application.employer.name,
        claims_administrator=application.claims_administrator.name,
        requesting_physician=application.requesting_physician.name,
        attorney=", ".join(part for part in (attorney.name, attorney.firm) if part) if attorney else None,
        claim_number=application.employee.claim_number,
    )


def organization_name(organization: Organization) -> str:
    """The review_organization a mailed letter carries: what its guideline lines print
    ("<short_name> guideline:") and a reader reads back."""
    return _DEFAULT_ORGANIZATION if organization.short_name.upper() == "MAXIMUS" else organization.short_name


def document_dates(document: DocumentReviewed) -> str:
    """'MM/DD/YYYY', or 'MM/DD/YYYY to MM/DD/YYYY' for a range; '' if undated."""
    if document.through and document.through != document.date:
        return f"{us_date(document.date)} to {us_date(document.through)}"
    return us_date(document.date)


def document_entry(document: DocumentReviewed, published: bool = False) -> str:
    """One document reviewed as a line: title, author (not in the published letter), dates."""
    parts = [document.title, None if published else document.author, document_dates(document)]
    return ", ".join(part for part in parts if part)


def how_made(organization: Organization, credentials: ReviewerCredentials) -> str:
    """How the determination was made, from the organization and the reviewer's credentials only."""
    phrases = mailing_wording().phrases
    sentences = [phrases["how_made"].format(organization=organization.name)]
    if credentials.years_in_practice is not None:
        sentences.append(phrases["years"].format(years=credentials.years_in_practice))
    sentences += [phrases["no_conflict"], phrases["attestation"]]
    return " ".join(" ".join(sentence.split()) for sentence in sentences)


def final_letter(context: LetterContext, organization: Organization, published: bool = False) -> Letter:
    """The Letter a mailed letter prints: the context's letter with the organization, the
    reviewer's credentials and a statement of how it was made, and the documents reviewed."""
    letter = context.letter
    source = context.reviewer or letter.reviewer
    reviewer = ReviewerCredentials(
        licensure=list(source.licensure),
        specialties=list(source.specialties),
        years_in_practice=source.years_in_practice,
        statement=how_made(organization, source),
    )
    update: dict = {"review_organization": organization_name(organization), "reviewer": reviewer}
    if context.documents is not None:
        update["documents_reviewed"] = [document_entry(d, published) for d in context.documents] or None
    return letter.model_copy(update=update)


def letterhead(organization: Organization) -> Block:
    """The organization's name, address and contact line, and its logo."""
    lines = [*organization.address]
    contact = organization.contact_line()
    if contact:
        lines.append(contact)
    return Block("letterhead", text=organization.name, entries=lines, image=organization.logo_data_uri or "")


def party_rows(context: LetterContext, m: LayoutWording) -> list[Block]:
    """The parties and the claim number, two to a row."""
    parties = context.parties
    rows: list[Block] = []
    for pair in _PARTY_ROWS:
        rows += field_rows([(m.labels[key], getattr(parties, key) or "") for key in pair])
    return rows


def supersede_notice(context: LetterContext, m: LayoutWording) -> list[Block]:
    """Which letter this one supersedes, and why."""
    old = context.supersedes
    if old is None:
        return []
    text = m.phrases["supersedes"].format(determination=old.determination, date=us_date(old.date), reason=old.reason)
    return [Block("notice", label=m.headings["supersedes"], text=" ".join(text.split()))]


def documents_section(context: LetterContext, m: LayoutWording, published: bool) -> list[Block]:
    """DOCUMENTS REVIEWED as a table (document, author, dates), for the layouts without a list of their own."""
    documents = context.documents or []
    if not documents:
        return []
    header = [m.labels["document"], *([] if published else [m.labels["author"]]), m.labels["dates"]]
    rows = [
        tuple([d.title, *([] if published else [d.author or ""]), document_dates(d)]) for d in documents
    ]
    return [Block("heading", text=m.headings["documents"]),
            Block("table", text=m.phrases["documents"], entries=header, rows=rows)]


def closing(letter: Letter, context: LetterContext, m: LayoutWording, published: bool) -> list[Block]:
    """The appeal rights, the duty to authorize what was overturned, and the copies."""
    p = m.phrases

    def para(key: str, **values: str) -> Block:
        return Block("para", text=" ".join(p[key].format(**values).split()))

    blocks = [Block("heading", text=APPEAL_HEADING), para("appeal_final"),
              para("appeal_how", case_number=letter.case_number or "printed above"), para("appeal_grounds"),
              Block("entries", entries=[" ".join(p[key].split()) for key in APPEAL_GROUNDS]), para("appeal_detail")]
    if any(item.medically_necessary for item in letter.items):
        blocks.append(para("overturned"))
    if not published:
        copies = [
            f"{m.labels[key].rstrip(':')}: {value}"
            for key in _COPIES
            if (value := getattr(context.parties, key))
        ]
        if copies:
            blocks += [Block("para", text=m.headings["copies"]), Block("lines", entries=copies)]
    return blocks


def mailed_blocks(
    context: LetterContext, organization: Organization, layout: str | None = None, published: bool = False
) -> tuple[Letter, list[Block]]:
    """(the Letter as printed, its blocks as a mailed letter in `layout`, default its own)."""
    letter = final_letter(context, organization, published)
    layout = layout or letter.layout
    letter = letter.model_copy(update={"layout": layout})
    m = mailing_wording()
    body = letter_blocks(letter, layout)
    w = wording(layout)
    if layout == "L2013-notice" and letter.review_organization != _DEFAULT_ORGANIZATION:
        # The notice opens with the organization's name: the letterhead says it.
        body = [b for b in body if not (b.kind == "title" and b.text == w.headings["title"])]
    header_end = 0
    while header_end < len(body) and body[header_end].kind in _HEADER_KINDS:
        header_end += 1
    # The parties close the header table, after the layout's own fields: a reader looks for
    # each field's label in the header and takes the first, so a party's name cannot stand in
    # for one.
    body[header_end:header_end] = ([] if published else party_rows(context, m)) + supersede_notice(context, m)
    if "documents" not in w.headings and "documents" not in w.labels:
        summary = next(i for i, b in enumerate(body) if b.kind == "heading" and b.text == w.headings["summary"])
        body[summary:summary] = documents_section(context, m, published)
    blocks = [letterhead(organization), *body, *closing(letter, context, m, published)]
    if published:
        check_published(blocks, context.parties)
    return letter, blocks
