"""Conflicts of interest between an expert reviewer and the parties of a case.

Lab. Code 139.5 (imr-facts.md 2.3): no material professional, familial or financial
affiliation with the employer, insurer or claims administrator, the UR organization, their
officers or attorneys, the requesting physician or medical group, the facility, the
manufacturer of the proposed drug or device, the employee, the family or the employee's
attorney; the parallel MPN rule (8 CCR 9768.2) also bars a reviewer who treated the worker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from openimr.cases.intake import Application

SOURCE = "Lab. Code 139.5; 8 CCR 9768.2"
TITLES = {"dr", "md", "do", "mr", "mrs", "ms", "miss", "jr", "sr", "ii", "iii", "phd", "dc", "psyd", "lac", "esq", "the"}
SUFFIXES = {"inc", "llc", "corp", "corporation", "co", "company", "ltd", "lp", "llp", "pc", "apc", "plc", "incorporated"}
KIND_LABELS = {
    "employee": "the employee",
    "employer": "the employer",
    "insurer": "the insurer",
    "claims_administrator": "the claims administrator",
    "officer": "an officer, director or manager of a party",
    "ur_organization": "the UR organization",
    "medical_group": "the requesting physician's medical group",
    "physician": "the requesting physician",
    "facility": "the facility",
    "manufacturer": "the manufacturer",
    "attorney": "the attorney",
    "law_firm": "the attorney's firm",
    "family": "the employee's family",
    "other": "a party",
}


def name_tokens(name: str) -> tuple[str, ...]:
    """A person's or organization's name as sorted significant words."""
    words = re.findall(r"[a-z0-9]+", name.lower().replace("&", " and "))
    return tuple(sorted(w for w in words if w not in TITLES and w not in SUFFIXES))


def same_party(a: str, b: str) -> bool:
    """Whether two names denote the same person or organization.

    Word order and titles do not matter ("Smith, John" = "Dr. John Smith"); a middle
    initial present in one name only is ignored.
    """
    x, y = name_tokens(a), name_tokens(b)
    if not x or not y:
        return False
    if x == y:
        return True
    small, large = (x, y) if len(x) < len(y) else (y, x)
    extra = list(large)
    for word in small:
        if word not in extra:
            return False
        extra.remove(word)
    return len(small) >= 2 and all(len(w) == 1 for w in extra)


def case_parties(apps: Iterable[Application]) -> list[tuple[str, str]]:
    """(kind, name) of every party of the case's applications."""
    return [party for app in apps for party in app.party_names()]


def conflicts(reviewer, apps: Iterable[Application]) -> list[str]:
    """Every conflict of `reviewer` with the parties of the case, as messages (no reviewer name)."""
    apps = list(apps)
    parties = case_parties(apps)
    found: list[str] = []
    for affiliation in reviewer.affiliations:
        for kind, name in parties:
            if same_party(affiliation.name, name):
                relation = f" ({affiliation.relation})" if affiliation.relation else ""
                found.append(
                    f"{affiliation.kind} affiliation{relation} with {KIND_LABELS.get(kind, 'a party')}, {name} ({SOURCE})"
                )
    for kind, name in parties:
        if same_party(reviewer.name, name):
            found.append(f"the reviewer is {KIND_LABELS.get(kind, 'a party')} of the case ({SOURCE})")
    for app in apps:
        if any(same_party(patient, app.employee.name) for patient in reviewer.patients_treated):
            found.append(f"the reviewer has treated or examined the employee ({SOURCE})")
    return list(dict.fromkeys(found))
