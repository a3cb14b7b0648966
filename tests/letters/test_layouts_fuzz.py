"""The sample-layout readers never crash or hang on mangled text: a Letter or a LetterError."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openimr.letters.read import LetterError, parse_text
from tests.conftest import FIXTURES

SAMPLES = sorted((FIXTURES / "letters").glob("*-sample.txt"))


@st.composite
def mangled(draw, text: str) -> str:
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 8))):
        if not lines:
            break
        action = draw(st.sampled_from(["drop", "dup", "cut", "join", "junk", "swap"]))
        i = draw(st.integers(0, len(lines) - 1))
        if action == "drop":
            del lines[i]
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif action == "join" and i + 1 < len(lines):
            lines[i : i + 2] = [lines[i] + lines[i + 1]]
        elif action == "junk":
            lines.insert(i, draw(st.text(max_size=40)))
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
@settings(max_examples=80, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mangled_samples_read_or_fail_cleanly(path: Path, data):
    text = data.draw(mangled(path.read_text(encoding="utf-8")))
    try:
        letter = parse_text(text, "mangled.txt")
    except LetterError as error:
        assert str(error).startswith("mangled.txt: ") and "\n" not in str(error)
    else:
        assert letter.items
