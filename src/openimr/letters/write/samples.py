"""Realistic sample letters, for the layouts that have no real sample and for tests.

`sample_letter(chooser, layout)` builds a Letter from sample_vocabulary.yaml. Every choice
goes through a Chooser, so the same code serves a seeded `random.Random` (fixtures, demos:
`RandomChooser(seed)`) and Hypothesis (the property tests draw each choice, and shrink).
Citations carry the meaning the reader gives their text (`parse_citation`), so a sample is
what a reader would make of the printed letter.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from openimr.models import DocumentReviewed, Item, Layout, Letter, LetterContext, Parties, ReviewerCredentials, Supersedes

VOCABULARY_FILE = Path(__file__).with_name("sample_vocabulary.yaml")
T = TypeVar("T")


class MtusGuideline(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    year: int
    chapter: int | None = None
    sections: list[str]
    pages: list[str]


class Vocabulary(BaseModel):
    """The words sample letters are made of."""

    model_config = ConfigDict(extra="forbid")
    states: list[str]
    specialties: list[str]
    statements: list[str]
    treatments: list[str]
    body_parts: list[str]
    mtus_guidelines: list[MtusGuideline]
    non_mtus: list[str]
    summary_sentences: list[str]
    rationale_sentences: list[str]
    documents: list[str]
    parties: dict[str, list[str]]
    records: list[tuple[str, str]]  # (title, author: a party key or a provider's name)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The sample vocabulary, validated at first use."""
    from openimr.vocab.data import load

    vocab = load(VOCABULARY_FILE.name, Vocabulary, VOCABULARY_FILE, ValueError)
    for name in ("states", "specialties"):
        if any("," in entry or " and " in entry for entry in getattr(vocab, name)):
            raise ValueError(f"{VOCABULARY_FILE.name}: {name} must not contain ',' or ' and ' (list separators)")
    return vocab


class Chooser(Protocol):
    """Where a sample's choices come from."""

    def pick(self, options: Sequence[T]) -> T: ...
    def integer(self, low: int, high: int) -> int: ...


class RandomChooser:
    """Choices from a seeded random generator."""

    def __init__(self, seed: int | None = None) -> None:
        self.rng = random.Random(seed)

    def pick(self, options: Sequence[T]) -> T:
        return self.rng.choice(list(options))

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


def chance(chooser: Chooser, percent: int) -> bool:
    """True about `percent` times in a hundred."""
    return chooser.integer(0, 99) < percent


def some(chooser: Chooser, options: Sequence[T], low: int, high: int) -> list[T]:
    """Between low and high distinct options, in a chosen order."""
    pool = list(options)
    chosen = []
    for _ in range(chooser.integer(low, min(high, len(pool)))):
        item = chooser.pick(pool)
        pool.remove(item)
        chosen.append(item)
    return chosen


def us(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def fill(chooser: Chooser, template: str, dates: dict[str, date]) -> str:
    """A vocabulary template with its {placeholders} chosen."""
    vocab = vocabulary()
    values = {
        "n": chooser.integer(2, 120),
        "score": chooser.integer(3, 9),
        "refills": chooser.integer(1, 3),
        "age": chooser.integer(19, 68),
        "sex": chooser.pick(["man", "woman"]),
        "part": chooser.pick(vocab.body_parts),
        **{key: us(value) for key, value in dates.items()},
    }
    return template.format(**values)


def mtus_citation(chooser: Chooser) -> str:
    """'Decision based on MTUS <guideline> <year>[, Section(s): ...| , Page(s): ...].'"""
    guideline = chooser.pick(vocabulary().mtus_guidelines)
    text = f"Decision based on MTUS {guideline.name} {guideline.year}"
    form = chooser.integer(0, 2)
    if form == 1 and guideline.sections:
        text += ", Section(s): " + ", ".join(some(chooser, guideline.sections, 1, 2))
    elif form == 2 and guideline.pages:
        text += ", Page(s): " + chooser.pick(guideline.pages)
    return text + "."


def citation_text(chooser: Chooser, party: str) -> str:
    """A guideline line as letters print it; party is 'The Claims Administrator' or 'The Expert Reviewer'."""
    form = chooser.integer(0, 9)
    non_mtus = f"Decision based on Non-MTUS Citation {chooser.pick(vocabulary().non_mtus)}."
    if form <= 4:
        return mtus_citation(chooser)
    if form <= 6:
        return f"{mtus_citation(chooser)} {non_mtus}"
    if form <= 8:
        return f"{party} based their decision on recommendation(s) outside of the MTUS Guidelines. {non_mtus}"
    return f"{party} did not cite any medical evidence for its decision."


def sample_item(chooser: Chooser, dates: dict[str, date]) -> Item:
    """One disputed item: request (sometimes modified by UR), decision, citations, rationale."""
    from openimr.letters.read.citations import parse_citation

    vocab = vocabulary()
    treatment = chooser.pick(vocab.treatments)
    overturned = chance(chooser, 12)
    parts: dict[str, str | None] = {}
    if "{n}" in treatment and treatment.count("{n}") == 1 and chance(chooser, 20):
        original, authorized = chooser.integer(6, 24), chooser.integer(1, 5)
        parts = {
            "original_request": treatment.format(n=original),
            "authorized": treatment.format(n=authorized),
            "disputed_request": treatment.format(n=original - authorized),
        }
        request = (
            f"{parts['original_request']} was the original request. {parts['authorized']} was authorized by the "
            f"Claims Administrator. The remaining IMR eligible portion of the original request, {parts['disputed_request']}"
        )
        named = parts["disputed_request"]
    else:
        request = named = fill(chooser, treatment, dates)
    verdict = "is medically necessary" if overturned else "is not medically necessary"
    sentences = some(chooser, vocab.rationale_sentences, 1, 4)
    rationale = " ".join([*sentences, f"Therefore, the request for {named} {verdict}."])
    return Item(
        request=request,
        decision="Overturned" if overturned else "Upheld",
        medically_necessary=overturned,
        claims_administrator_guideline=parse_citation(citation_text(chooser, "The Claims Administrator")),
        imr_guideline=parse_citation(citation_text(chooser, "The Expert Reviewer")),
        rationale=rationale,
        **parts,
    )


# When each layout was in use (first and last decision date).
ERAS = {
    "L2013-notice": (date(2013, 5, 1), date(2013, 12, 31)),
    "L2013": (date(2013, 7, 1), date(2014, 12, 31)),
    "L2015": (date(2014, 6, 1), date(2015, 12, 31)),
    "L2016": (date(2016, 1, 1), date(2017, 12, 31)),
    "L-professional": (date(2013, 7, 1), date(2017, 12, 31)),
}


def sample_dates(chooser: Chooser, layout: str = "L2016") -> dict[str, date]:
    """Injury, visit, UR denial, application received, assignment and decision, in the layout's era."""
    first, last = ERAS[layout]
    decided = first + timedelta(days=chooser.integer(0, (last - first).days))
    assigned = decided - timedelta(days=chooser.integer(5, 35))
    received = assigned - timedelta(days=chooser.integer(1, 9))
    ur = received - timedelta(days=chooser.integer(2, 28))
    visit = ur - timedelta(days=chooser.integer(3, 20))
    injury = visit - timedelta(days=chooser.integer(20, 3000))
    return {"injury": injury, "visit": visit, "ur": ur, "received": received, "assigned": assigned, "decided": decided}


def sample_reviewer(chooser: Chooser, layout: str) -> ReviewerCredentials:
    """Licensure, specialties and the statement (with the 2013 prose sentence where that layout has it)."""
    vocab = vocabulary()
    licensure = some(chooser, vocab.states, 1, 3)
    specialties = some(chooser, vocab.specialties, 1, 2)
    statement = " ".join(chooser.pick(vocab.statements).split())
    if layout == "L2013":
        statement += (
            f" The expert reviewer is Board Certified in {' and '.join(specialties)} and is licensed to practice in "
            f"{' and '.join(licensure)}."
        )
    return ReviewerCredentials(licensure=licensure, specialties=specialties, statement=statement)


def sample_letter(chooser: Chooser, layout: Layout = "L2016") -> Letter:
    """A realistic letter in a layout (fields the layout does not print are filled all the same)."""
    vocab = vocabulary()
    dates = sample_dates(chooser, layout)
    summary = " ".join(fill(chooser, s, dates) for s in some(chooser, vocab.summary_sentences, 2, 6))
    documents = [fill(chooser, d, dates) for d in some(chooser, vocab.documents, 1, 5)]
    return Letter(
        layout=layout,
        case_number=f"CM{dates['decided'].year % 100:02d}-{chooser.integer(0, 9_999_999):07d}",
        date_assigned=dates["assigned"],
        date_of_injury=dates["injury"],
        decision_date=dates["decided"],
        ur_denial_date=dates["ur"],
        application_received=dates["received"],
        priority="expedited" if chance(chooser, 8) else "standard",
        reviewer=sample_reviewer(chooser, layout),
        documents_reviewed=documents if layout in ("L2015", "L-professional", "L2013-notice") else None,
        clinical_case_summary=summary,
        items=[sample_item(chooser, dates) for _ in range(chooser.integer(1, 6))],
    )


def sample_context(chooser: Chooser, layout: Layout = "L2016", supersedes: bool = False) -> LetterContext:
    """A mailed letter's context: a sample letter, its parties, the records reviewed (by
    author and date), the reviewer's credentials with years in practice, and, if asked, the
    earlier letter it supersedes."""
    vocab = vocabulary()
    letter = sample_letter(chooser, layout)
    parties = {key: chooser.pick(names) for key, names in vocab.parties.items()}
    parties["claim_number"] = f"{chooser.integer(10, 99)}-{chooser.integer(100_000, 999_999)}"
    last = letter.ur_denial_date or letter.decision_date or date(2016, 1, 1)
    documents = []
    for title, author in some(chooser, vocab.records, 2, 5):
        day = last - timedelta(days=chooser.integer(0, 60))
        through = day + timedelta(days=chooser.integer(7, 40)) if "notes" in title else None
        documents.append(DocumentReviewed(title=title, author=parties.get(author, author), date=day, through=through))
    reviewer = letter.reviewer.model_copy(update={"years_in_practice": chooser.integer(6, 35)})
    earlier = None
    if supersedes:
        decided = letter.decision_date or date(2016, 1, 1)
        earlier = Supersedes(
            determination=f"{letter.case_number} v1",
            date=decided - timedelta(days=chooser.integer(3, 20)),
            reason="The earlier letter gave the wrong date of the utilization review decision.",
        )
    return LetterContext(letter=letter, parties=Parties(**parties), documents=documents, reviewer=reviewer,
                         supersedes=earlier)
