"""Property tests: any realistic letter, in every layout, reads back after rendering.

Letters are built by openimr.letters.write.samples with every choice drawn by Hypothesis
(so failures shrink), plus free "noise" words with characters that text extraction and
HTML escaping could trip over. Compared: the fields each layout prints (SURVIVING_FIELDS).
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openimr.letters.read import parse_text, read_letter
from openimr.letters.write import render, surviving_fields
from openimr.letters.write.samples import sample_letter
from openimr.models import LAYOUTS, Letter

NOISE_ALPHABET = string.ascii_letters + string.digits + "/-%#&<>()'\"+="
noise_word = st.text(alphabet=NOISE_ALPHABET, min_size=1, max_size=14).filter(lambda w: w.strip("-/") and w[0] not in "-/")


class DrawChooser:
    """Choices drawn by Hypothesis."""

    def __init__(self, draw) -> None:
        self.draw = draw

    def pick(self, options):
        return self.draw(st.sampled_from(list(options)))

    def integer(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))


@st.composite
def letters(draw, layout: str) -> Letter:
    """A realistic letter in a layout, with some noise words in its free text."""
    letter = sample_letter(DrawChooser(draw), layout)
    words = draw(st.lists(noise_word, max_size=6))
    if words:
        letter.clinical_case_summary = f"{letter.clinical_case_summary} Noted: {' '.join(words)}."
    items = []
    for item in letter.items:
        if not item.original_request and draw(st.booleans()):
            tag = draw(noise_word)
            request = f"{item.request} ({tag})"
            rationale = item.rationale.replace(item.request, request)
            item = item.model_copy(update={"request": request, "rationale": f"Also {tag} was weighed. {rationale}"})
        items.append(item)
    letter.items = items
    if draw(st.integers(0, 9)) == 0:
        letter.review_organization = draw(st.sampled_from(["Independent Review Services", "West Coast IMR & Co"]))
    return letter


def assert_round_trip(letter: Letter, again: Letter, layout: str) -> None:
    assert again.layout == layout
    assert surviving_fields(again, layout) == surviving_fields(letter, layout)


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_text_round_trip_of_generated_letters(layout, data):
    letter = data.draw(letters(layout))
    assert_round_trip(letter, parse_text(render(letter, "text")), layout)


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_pdf_round_trip_of_generated_letters(layout, data):
    letter = data.draw(letters(layout))
    draft = data.draw(st.booleans())
    assert_round_trip(letter, read_letter(render(letter, "pdf", draft=draft)), layout)


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_draft_text_round_trip_and_layout_change(layout, data):
    """A draft reads back like the letter; a letter rendered in another layout keeps that layout's fields."""
    letter = data.draw(letters(layout))
    assert_round_trip(letter, parse_text(render(letter, "text", draft=True)), layout)
    other = data.draw(st.sampled_from([x for x in LAYOUTS if x != layout]))
    moved = letter.model_copy(update={"layout": other})
    assert_round_trip(moved, parse_text(render(letter, "text", layout=other)), other)


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mailed_text_round_trip_of_generated_letters(layout, data):
    """A mailed letter (letterhead, parties, documents, supersede notice, appeal rights) and its
    published version read back like the letter they print, whatever the parties are called."""
    from openimr.letters.write import render_determination
    from openimr.letters.write.samples import sample_context

    context = sample_context(DrawChooser(data.draw), layout, supersedes=data.draw(st.booleans()))
    context = context.model_copy(update={"letter": data.draw(letters(layout))})
    names = {key: f"{value} {data.draw(noise_word)}" for key, value in context.parties.model_dump().items() if value}
    context = context.model_copy(update={"parties": context.parties.model_copy(update=names)})
    for published in (False, True):
        mailed = render_determination(context, "text", published=published, draft=data.draw(st.booleans()))
        assert_round_trip(mailed.letter, parse_text(mailed.content), layout)
