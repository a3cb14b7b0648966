"""A letter laid out as a list of blocks, one function per layout.

A block is what the text and HTML renderers both know how to print: a title, a row of
header fields, a heading, a paragraph, a labelled paragraph, an item heading or a numbered
list. Laying a letter out once and rendering the blocks twice keeps the text, HTML and PDF
of a letter saying the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from openimr.letters.write.organization import GUIDELINE_LABEL
from openimr.letters.write.wording import LayoutWording, wording
from openimr.models import Item, Letter


@dataclass
class Block:
    """One printable piece of a letter.

    kind: "title" | "subtitle" | "fields" | "field_below" | "heading" | "para" | "labeled"
    | "item" | "entries" | "banner"; and in a mailed letter (mailing.py) "letterhead" (text:
    the name, entries: address and contact lines, image: the logo as a data URI), "notice"
    (label: its heading), "table" (entries: the column names, rows: the cells) and "lines"
    (entries printed one to a line, unnumbered). The HTML printer groups consecutive field
    blocks into "field_rows" (grid: each row's (label, value) pairs).
    """

    kind: str
    text: str = ""
    label: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)
    rows: list[tuple[str, ...]] = field(default_factory=list)
    grid: list[list[tuple[str, str]]] = field(default_factory=list)
    image: str = ""


_MODIFIED = re.compile(r"\bwas\s+the\s+original\s+request\b|\bwas\s+authorized\s+by\s+the\s+Claims", re.IGNORECASE)


def us_date(value: date | None) -> str:
    """A date as the letters print it: MM/DD/YYYY."""
    return value.strftime("%m/%d/%Y") if value else ""


def priority_text(letter: Letter, suffix: str = " Application") -> str:
    """'Standard Application' / 'Expedited Application' (suffix per layout)."""
    return f"{letter.priority.capitalize()}{suffix}" if letter.priority else ""


def item_heading(item: Item) -> str:
    """The heading of an item, without its decision.

    A request modified by utilization review is printed as the letters print it: the
    original request, what was authorized, and the portion left in dispute, then " is".
    """
    if _MODIFIED.search(item.request):
        return f"{item.request} is"
    if item.original_request and item.authorized and item.disputed_request:
        return (
            f"{item.original_request} was the original request. {item.authorized} was authorized by the "
            f"Claims Administrator. The remaining IMR eligible portion of the original request, "
            f"{item.disputed_request} is"
        )
    return item.request


def paragraphs(text: str) -> list[Block]:
    """A free text as paragraphs (blank lines separate them)."""
    return [Block("para", text=p.strip()) for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def field_rows(pairs: list[tuple[str, str]], per_row: int = 2) -> list[Block]:
    """Header fields, `per_row` to a line, leaving out those with no value."""
    present = [(label, value) for label, value in pairs if value]
    return [Block("fields", fields=present[i : i + per_row]) for i in range(0, len(present), per_row)]


_DEFAULT_ORGANIZATION = "MAXIMUS Federal Services"


def organization_label(label: str, organization: str) -> str:
    """'MAXIMUS guideline:' names the review organization; another organization gets its own name."""
    if organization != _DEFAULT_ORGANIZATION and GUIDELINE_LABEL.fullmatch(organization) and label.startswith("MAXIMUS "):
        return organization + label[len("MAXIMUS") :]
    return label


def item_blocks(item: Item, w: LayoutWording, n: int | None = None, organization: str = _DEFAULT_ORGANIZATION) -> list[Block]:
    """Heading, both guideline lines and the rationale of one item."""
    labels = {key: value.format(n=n) for key, value in w.labels.items()}
    labels["imr_guideline"] = organization_label(labels["imr_guideline"], organization)
    return [
        Block("item", text=f"{item_heading(item)}: {item.decision}"),
        Block("labeled", label=labels["ca_guideline"], text=item.claims_administrator_guideline.text),
        Block("labeled", label=labels["imr_guideline"], text=item.imr_guideline.text),
        Block("labeled", label=labels["rationale"], text=item.rationale),
    ]


def credential_lines(letter: Letter, w: LayoutWording, licensure_sep: str = ", ") -> list[Block]:
    """The licensure and specialty lines, where the letter has them."""
    blocks = []
    if letter.reviewer.licensure:
        blocks.append(Block("labeled", label=w.labels["licensure"], text=licensure_sep.join(letter.reviewer.licensure)))
    if letter.reviewer.specialties:
        blocks.append(Block("labeled", label=w.labels["specialties"], text=", ".join(letter.reviewer.specialties)))
    return blocks


def l2016(letter: Letter) -> list[Block]:
    """The 2016-17 layout: header block, credentials as lists, items."""
    w = wording("L2016")
    lab = w.labels
    blocks = field_rows([(lab["case_number"], letter.case_number or "")], per_row=1)
    blocks += field_rows(
        [(lab["date_assigned"], us_date(letter.date_assigned)), (lab["date_of_injury"], us_date(letter.date_of_injury))]
    )
    blocks += field_rows(
        [(lab["decision_date"], us_date(letter.decision_date)), (lab["ur_denial_date"], us_date(letter.ur_denial_date))]
    )
    blocks += field_rows([(lab["priority"], priority_text(letter))], per_row=1)
    if letter.application_received:
        blocks.append(Block("field_below", label=lab["application_received"], text=us_date(letter.application_received)))
    blocks.append(Block("heading", text=w.headings["made"]))
    blocks += paragraphs(letter.reviewer.statement)
    credentials = credential_lines(letter, w)
    if credentials:
        blocks += [Block("para", text=w.headings["credentials"]), *credentials]
    return blocks + summary_and_items(letter, w)


def l2013_credentials(letter: Letter, w: LayoutWording) -> str:
    """The 2013 prose sentence naming the reviewer's board certification and licensure."""
    specialties = " and ".join(letter.reviewer.specialties)
    licensure = " and ".join(letter.reviewer.licensure)
    if specialties and licensure:
        phrase = w.phrases["credentials"]
    else:
        phrase = w.phrases["credentials_specialties" if specialties else "credentials_licensure"]
    return phrase.format(specialties=specialties, licensure=licensure)


def l2013(letter: Letter) -> list[Block]:
    """The 2013-14 layout: no header block, credentials in the prose of the first section."""
    w = wording("L2013")
    statement = letter.reviewer.statement
    blocks = [Block("heading", text=w.headings["made"])]
    if (letter.reviewer.specialties or letter.reviewer.licensure) and not re.search(
        r"Board\s+Certified\s+in", statement, re.IGNORECASE
    ):
        statement = f"{statement} {l2013_credentials(letter, w)}".strip()
    blocks += paragraphs(statement)
    return blocks + summary_and_items(letter, w)


def summary_and_items(letter: Letter, w) -> list[Block]:
    """The clinical case summary, then the disputed items under their heading: how the
    2013, 2015 and 2016 layouts end."""
    blocks = [Block("heading", text=w.headings["summary"]), *paragraphs(letter.clinical_case_summary),
              Block("heading", text=w.headings["issues"])]
    for item in letter.items:
        blocks += item_blocks(item, w, organization=letter.review_organization)
    return blocks


def document_list(letter: Letter) -> list[Block]:
    """The records reviewed as a numbered list (nothing if the letter has none)."""
    return [Block("entries", entries=list(letter.documents_reviewed))] if letter.documents_reviewed else []


def l2015(letter: Letter) -> list[Block]:
    """The 2014-15 layout: organization title, short header, DOCUMENTS REVIEWED, items."""
    w = wording("L2015")
    lab = w.labels
    blocks = [Block("title", text=w.headings["title"]), Block("subtitle", text=w.headings["subtitle"])]
    blocks += field_rows(
        [
            (lab["case_number"], letter.case_number or ""),
            (lab["date_of_injury"], us_date(letter.date_of_injury)),
            (lab["ur_denial_date"], us_date(letter.ur_denial_date)),
            (lab["application_received"], us_date(letter.application_received)),
            (lab["decision_date"], us_date(letter.decision_date)),
            (lab["priority"], priority_text(letter, suffix="")),
        ]
    )
    blocks.append(Block("heading", text=w.headings["made"]))
    blocks += paragraphs(letter.reviewer.statement)
    credentials = credential_lines(letter, w)
    if credentials:
        blocks += [Block("para", text=w.phrases["credentials"]), *credentials]
    if letter.documents_reviewed:
        blocks += [Block("heading", text=w.headings["documents"]), Block("para", text=w.phrases["documents"])]
        blocks += document_list(letter)
    return blocks + summary_and_items(letter, w)


def professional(letter: Letter) -> list[Block]:
    """The MEDICAL PROFESSIONAL REVIEW layout: one section per question, items numbered."""
    w = wording("L-professional")
    lab = w.labels
    blocks = [Block("title", text=w.headings["title"])]
    blocks += field_rows(
        [
            (lab["case_number"], letter.case_number or ""),
            (lab["decision_date"], us_date(letter.decision_date)),
            (lab["date_of_injury"], us_date(letter.date_of_injury)),
            (lab["ur_denial_date"], us_date(letter.ur_denial_date)),
        ]
    )
    blocks.append(Block("heading", text=w.headings["issue"]))
    for n, item in enumerate(letter.items, 1):
        blocks.append(Block("item", label=lab["item"].format(n=n), text=f"{item_heading(item)}: {item.decision}"))
    blocks.append(Block("heading", text=w.headings["summary"]))
    blocks += paragraphs(letter.clinical_case_summary)
    if letter.documents_reviewed:
        blocks.append(Block("heading", text=w.headings["documents"]))
        blocks += document_list(letter)
    blocks.append(Block("heading", text=w.headings["guidelines"]))
    for n, item in enumerate(letter.items, 1):
        blocks.append(Block("labeled", label=lab["ca_guideline"].format(n=n), text=item.claims_administrator_guideline.text))
        blocks.append(Block("labeled", label=lab["imr_guideline"].format(n=n), text=item.imr_guideline.text))
    blocks.append(Block("heading", text=w.headings["rationale"]))
    for n, item in enumerate(letter.items, 1):
        blocks.append(Block("labeled", label=lab["rationale"].format(n=n), text=item.rationale))
    blocks.append(Block("heading", text=w.headings["qualifications"]))
    blocks += paragraphs(letter.reviewer.statement)
    blocks += credential_lines(letter, w)
    return blocks


def short_request(item: Item) -> str:
    """What a one-line finding names: the disputed portion of a modified request, else the request."""
    return item.disputed_request or item.request


def notice_findings(letter: Letter, w: LayoutWording) -> Block:
    """The numbered findings, one sentence per item."""
    entries = []
    for item in letter.items:
        necessity = "medically necessary" if item.medically_necessary else "not medically necessary"
        entries.append(w.phrases["finding"].format(
            organization=letter.review_organization, request=short_request(item), necessity=necessity))
    return Block("entries", entries=entries)


def notice_procedure(letter: Letter, w: LayoutWording) -> list[Block]:
    """The procedural recital: application received, UR decision disputed, notice of assignment."""
    parts = [
        (w.phrases["procedure_filed"], letter.application_received),
        (w.phrases["procedure_denial"], letter.ur_denial_date),
        (w.phrases["procedure_assigned"], letter.date_assigned),
    ]
    text = " ".join(phrase.format(date=us_date(day)) for phrase, day in parts if day)
    return [Block("para", text=text)] if text else []


def l2013_notice(letter: Letter) -> list[Block]:
    """The mid-2013 'Notice of Independent Medical Review Determination' layout."""
    w = wording("L2013-notice")
    lab = w.labels
    blocks = [Block("title", text=w.headings["title"]), Block("subtitle", text=w.headings["notice"])]
    blocks += field_rows([(lab["dated"], us_date(letter.decision_date))], per_row=1)
    blocks += field_rows([(lab["case_number"], letter.case_number or "")], per_row=1)
    blocks.append(notice_findings(letter, w))
    blocks.append(Block("heading", text=w.headings["decision"]))
    blocks += notice_procedure(letter, w)
    blocks.append(notice_findings(letter, w))
    blocks.append(Block("heading", text=w.headings["qualifications"]))
    blocks += paragraphs(letter.reviewer.statement)
    blocks += credential_lines(letter, w)
    blocks.append(Block("heading", text=w.headings["summary"]))
    blocks.append(Block("para", text=w.phrases["summary_disclaimer"]))
    blocks += paragraphs(letter.clinical_case_summary)
    blocks.append(Block("heading", text=w.headings["analysis"]))
    for n, item in enumerate(letter.items, 1):
        blocks.append(Block("item", label=lab["item"].format(n=n), text=f"{item_heading(item)}: {item.decision}"))
        if letter.documents_reviewed:
            blocks += [Block("para", text=lab["documents"]), *document_list(letter)]
        blocks += item_blocks(item, w)[1:]
    return blocks


LAYOUT_BLOCKS: dict[str, Callable[[Letter], list[Block]]] = {
    "L2016": l2016,
    "L2013": l2013,
    "L2015": l2015,
    "L-professional": professional,
    "L2013-notice": l2013_notice,
}


def letter_blocks(letter: Letter, layout: str) -> list[Block]:
    """The blocks of a letter in a layout."""
    try:
        build = LAYOUT_BLOCKS[layout]
    except KeyError:
        raise ValueError(f"unknown layout {layout!r}; one of {', '.join(LAYOUT_BLOCKS)}") from None
    return build(letter)
