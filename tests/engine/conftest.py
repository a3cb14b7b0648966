"""Fixtures of the engine tests: the shared letters read once, medspaCy loaded once."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _factscore():
    spec = importlib.util.spec_from_file_location("engine_factscore", HERE / "factscore.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def factscore():
    """The scoring helper of the labelled fact mentions."""
    return _factscore()


@pytest.fixture(scope="session")
def nlp_loaded():
    """Build the medspaCy pipeline once per test process."""
    from openimr.engine import facts

    facts.load_models()
    return True


@pytest.fixture(scope="session")
def letters(letter_pdfs):
    """(name, Letter) for the 129 shared letters."""
    import openimr

    return [(p.stem, openimr.read_letter(p)) for p in letter_pdfs]


@pytest.fixture
def case_of(letters):
    """The outcome-hidden case of a shared letter, by case number."""
    from openimr.engine.evaluate import case_from_letter

    by_name = dict(letters)

    def get(name: str):
        return case_from_letter(by_name[name], name)

    return get


@pytest.fixture
def decide_one():
    """Decide one disputed item on a one-summary case `weeks` after the injury (by default 60
    weeks after 2015-01-05): tests/support/engine_case.decide_one."""
    from datetime import date
    from functools import partial

    from tests.support.engine_case import decide_one

    return partial(decide_one, weeks=60, injury=date(2015, 1, 5))
