"""Guideline lines: from the printed text to scope, guideline, year, chapter, sections, pages."""

from __future__ import annotations

import pytest

from openimr.letters.read.citations import canonical_guideline, parse_citation, split_sections


def test_mtus_with_sections():
    c = parse_citation(
        "Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): NSAIDs, GI symptoms & "
        "cardiovascular risk, Proton Pump Inhibitors (PPIs)."
    )
    assert (c.scope, c.guideline, c.year) == ("MTUS", "Chronic Pain Medical Treatment", 2016)
    assert c.sections == ["NSAIDs, GI symptoms & cardiovascular risk", "Proton Pump Inhibitors (PPIs)"]


def test_several_mtus_guidelines_then_non_mtus():
    c = parse_citation(
        "Decision based on MTUS Low Back Complaints 2004, Section(s): Summary, and Chronic Pain Medical "
        "Treatment 2016, Section(s): Facet blocks. Decision based on Non-MTUS Citation ACOEM Occupational "
        "Medicine Practice Guidelines, 3rd ed., Low Back Disorders, pg. 607."
    )
    assert [(r.scope, r.guideline, r.year) for r in c.references] == [
        ("MTUS", "Low Back Complaints", 2004),
        ("MTUS", "Chronic Pain Medical Treatment", 2016),
        ("non-MTUS", "ACOEM Occupational Medicine Practice Guidelines", None),
    ]
    assert c.references[2].pages == ["607"]
    assert c.guideline == "Low Back Complaints" and c.sections == ["Summary"]


def test_guideline_name_with_commas_is_not_split():
    c = parse_citation(
        "Decision based on MTUS Forearm, Wrist, and Hand Complaints 2004, Section(s): Work-Relatedness, and "
        "Postsurgical Treatment 2009, Section(s): Forearm, Wrist, & Hand."
    )
    assert [r.guideline for r in c.references] == ["Forearm, Wrist, and Hand Complaints", "Postsurgical Treatment"]
    assert c.references[1].sections == ["Forearm, Wrist, & Hand"]


def test_outside_the_mtus():
    c = parse_citation(
        "The Expert Reviewer based their decision on recommendation(s) outside of the MTUS Guidelines. "
        "Decision based on Non-MTUS Citation Official Disability Guidelines (ODG), Knee and Leg Chapter."
    )
    assert (c.scope, c.guideline) == ("non-MTUS", "Official Disability Guidelines")
    assert c.sections == ["Knee and Leg Chapter"]


@pytest.mark.parametrize(
    "text",
    [
        "The Claims Administrator did not cite any medical evidence for its decision.",
        "The Expert Reviewer did not cite any medical evidence for its decision.",
        "",
    ],
)
def test_no_evidence_cited(text):
    c = parse_citation(text)
    assert c.scope == "none" and c.references == [] and c.guideline is None


def test_2013_acoem_chapter_and_pages():
    c = parse_citation("Decision based on MTUS ACOEM Chapter 8 Neck and Upper Back Complaints Page(s): 178.")
    assert (c.scope, c.guideline, c.chapter, c.pages) == ("MTUS", "Neck and Upper Back Complaints", 8, ["178"])


def test_two_spellings_of_one_guideline_mean_the_same():
    a = parse_citation("Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): Opioids, criteria for use.")
    b = parse_citation("CA MTUS Chronic Pain Medical Treatment Guidelines, Page(s): 78")
    assert a.guideline == b.guideline == "Chronic Pain Medical Treatment"
    assert a.sections == ["Opioids, criteria for use"] and b.pages == ["78"]
    assert canonical_guideline("ODG") == canonical_guideline("Official Disability Guidelines")


def test_numbered_opioid_sections_stay_whole():
    sections = split_sections(
        "3.3.4 Opioids for Chronic Pain: Use of CURES, to Ensure Safe Use, 3.3.5 Opioids for Chronic Pain: Dosing"
    )
    assert sections == ["3.3.4 Opioids for Chronic Pain: Use of CURES, to Ensure Safe Use", "3.3.5 Opioids for Chronic Pain: Dosing"]


def test_unknown_mtus_guideline_is_still_read():
    c = parse_citation("Decision based on MTUS Hearing Loss Disorders 2019, Section(s): Hearing aids.")
    assert (c.scope, c.guideline, c.year, c.sections) == ("MTUS", "Hearing Loss Disorders", 2019, ["Hearing aids"])
