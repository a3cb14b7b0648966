"""Fuzzing: mutated letters and random bytes never hang or crash the reader."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openimr.letters.read import LetterError, parse_text, read_letter
from openimr.letters.read.source import letter_text
from openimr.models import Letter
from tests.conftest import LETTERS_DIR

_PATHS = sorted(LETTERS_DIR.glob("*.pdf"))[::16]
TEXTS = [letter_text(p)[1] for p in _PATHS]
PDFS = [p.read_bytes() for p in _PATHS[:3]]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_or_refuse(call) -> None:
    started = time.perf_counter()
    try:
        result = call()
        assert isinstance(result, Letter)
    except LetterError as error:
        assert "\n" not in str(error)
    assert time.perf_counter() - started < 2.0, "the reader took too long: a pathological input"


@st.composite
def mutated_text(draw):
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "swap_lines", "truncate"]))
        n = len(text)
        if n < 2:
            break
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(a, min(n, a + 400)))
        if kind == "delete":
            text = text[:a] + text[b:]
        elif kind == "insert":
            junk = draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
            junk = draw(st.sampled_from([junk, ": Upheld\n", "Claims Administrator guideline:", "Decision rationale:", "\f"]))
            text = text[:a] + junk + text[a:]
        elif kind == "duplicate":
            text = text[:b] + text[a:b] + text[b:]
        elif kind == "swap_lines":
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        else:
            text = text[:b]
    return text


@FUZZ
@given(mutated_text())
def test_mutated_letters(text):
    _read_or_refuse(lambda: parse_text(text, "mutated.txt"))


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data):
    _read_or_refuse(lambda: read_letter(data))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PDFS), st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 255)), min_size=1, max_size=20))
def test_corrupted_pdfs(pdf, flips):
    data = bytearray(pdf)
    for position, value in flips:
        data[position % len(data)] = value
    _read_or_refuse(lambda: read_letter(bytes(data)))


@FUZZ
@given(st.text(max_size=3000))
def test_random_text(text):
    _read_or_refuse(lambda: parse_text(text or " ", "random.txt") if text.strip() else read_letter(text or " "))


def test_corrupted_pdf_with_empty_item_heading_is_refused():
    """Found by the fuzzer: one zeroed byte of a real letter leaves an item whose heading lines
    are empty; the reader used to fail with IndexError instead of refusing the letter."""
    path = LETTERS_DIR / "CM16-0246487.pdf"
    data = bytearray(path.read_bytes())
    data[7720] = 0
    _read_or_refuse(lambda: read_letter(bytes(data)))
