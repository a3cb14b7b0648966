"""Fixtures of the library tests: letters built here, and the real letters ingested once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from openimr.models import Citation, GuidelineReference, Item, Letter, ReviewerCredentials

DATA = Path(__file__).parent / "data"


def make_letter(case: str, requests: list[tuple[str, str]], specialty: str = "Orthopedic Surgery", decided: date = date(2017, 1, 15)) -> Letter:
    """A letter with items (request, decision), each citing the MTUS Chronic Pain guideline."""
    citation = Citation(
        text="Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): Opioids.",
        scope="MTUS",
        guideline="Chronic Pain Medical Treatment",
        year=2016,
        sections=["Opioids"],
        references=[GuidelineReference(scope="MTUS", guideline="Chronic Pain Medical Treatment", year=2016, sections=["Opioids"])],
    )
    items = [
        Item(
            request=request,
            decision=decision,
            medically_necessary=decision == "Overturned",
            imr_guideline=citation,
            rationale=f"The guidelines were applied to the request for {request}. It is {'' if decision == 'Overturned' else 'not '}medically necessary.",
        )
        for request, decision in requests
    ]
    return Letter(
        layout="L2016",
        case_number=case,
        decision_date=decided,
        reviewer=ReviewerCredentials(licensure=["California"], specialties=[specialty]),
        clinical_case_summary="A worker injured at work.",
        items=items,
    )


def write_jsonl(path: Path, letters: list[Letter]) -> Path:
    path.write_text("".join(letter.model_dump_json() + "\n" for letter in letters))
    return path


@pytest.fixture(scope="session")
def real_library(tmp_path_factory, letter_pdfs) -> str:
    """An SQLite library holding the 129 real letters (ingested once per test worker)."""
    from openimr.library.ingest import ingest

    url = f"sqlite:///{tmp_path_factory.mktemp('real') / 'library.sqlite'}"
    summary = ingest([letter_pdfs[0].parent], url, workers=1)
    assert summary.added == 129 and not summary.failed
    return url
