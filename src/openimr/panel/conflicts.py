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
EXPECTED = ("ur_organization", "attorney")  # named on most applications: said when absent
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


def _findings(reviewer, apps: list[Application]) -> list[tuple[str, str, list[str]]]:
    """(party label, name, conflicts found) for each party of the case, then for the employee
    as the reviewer's patient (8 CCR 9768.2)."""
    found = []
    for kind, name in dict.fromkeys(case_parties(apps)):
        label = KIND_LABELS.get(kind, "a party")
        ties = [
            f"{a.kind} affiliation{f' ({a.relation})' if a.relation else ''} with {label}, {name} ({SOURCE})"
            for a in reviewer.affiliations
            if same_party(a.name, name)
        ]
        if same_party(reviewer.name, name):
            ties.append(f"the reviewer is {label} of the case ({SOURCE})")
        found.append((label, name, ties))
    named = {kind for kind, _name in case_parties(apps)}
    found += [(KIND_LABELS[kind], "", []) for kind in EXPECTED if kind not in named]
    employees = list(dict.fromkeys(app.employee.name for app in apps))
    treated = any(same_party(patient, name) for patient in reviewer.patients_treated for name in employees)
    found.append(("the employee as a patient", ", ".join(employees),
                  [f"the reviewer has treated or examined the employee ({SOURCE})"] if treated else []))
    return found


def party_checks(reviewer, apps: Iterable[Application]) -> list[dict]:
    """The conflict check against each party of the case, one entry a party: {"party" (its
    role, e.g. "the employer"), "name", "ok", "detail"} (the reviewer's own name never in
    it); a party the application names none of (the UR organization, the attorney) with
    `ok` None; and last whether the reviewer ever treated or examined the employee."""
    return [{"party": label, "name": name, "ok": not ties if name else None,
             "detail": " and ".join(ties) if ties else
             ("never treated or examined by the reviewer" if label == "the employee as a patient"
              else "no affiliation, and not the reviewer" if name
              else "none named on the application: nothing to check")}
            for label, name, ties in _findings(reviewer, list(apps))]


def conflicts(reviewer, apps: Iterable[Application]) -> list[str]:
    """Every conflict of `reviewer` with the parties of the case, as messages (no reviewer name)."""
    return list(dict.fromkeys(tie for _label, _name, ties in _findings(reviewer, list(apps)) for tie in ties))
