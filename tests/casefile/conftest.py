"""Small synthetic case files for the casefile tests (openimr.casefile.synth)."""

from __future__ import annotations

import pytest

# A clinical case summary written for these tests in the published letters' manner.
SUMMARY = (
    "The applicant is a 52-year-old female who has filed a claim for chronic neck and shoulder pain. "
    "In a progress note dated 03/04/2015, the treating provider noted neck pain radiating to the right arm with "
    "numbness in the hand. "
    "An MRI of the cervical spine dated 03/20/2015 demonstrated a broad-based disc protrusion at C5-C6 with "
    "moderate foraminal narrowing. "
    "The applicant completed physical therapy on 04/15/2015 with little lasting relief of the arm symptoms. "
    "On 05/12/2015, the attending provider documented persistent radicular pain and recommended an epidural "
    "injection."
)


@pytest.fixture(scope="session")
def summary() -> str:
    return SUMMARY
