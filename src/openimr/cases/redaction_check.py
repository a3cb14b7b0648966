"""Measuring redaction on real letters: plant identifiers, redact, look for survivors.

For each letter, a made-up case (employee, physician, attorney, employer, facility,
adjuster, addresses, date of birth, claim number) is planted into the clinical case
summary and every rationale, in the forms letters write them; the letter is redacted with
that case's parties, rendered back as text by the letter writer, and every planted form
is searched for. The unplanted letter is redacted too, to measure how much clinical
text redaction costs. Used by tests/cases and bench/bench_cases.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from openimr.cases.intake import parse_application
from openimr.cases.redact import date_pattern, for_application, redact_letter
from openimr.models import Letter

FIRST = ["Maria", "José", "Tran", "Siobhan", "DeShawn", "Li", "Anna-Marie", "Kwame", "Priya", "Luis", "Oksana", "Yusuf"]
LAST = ["Gonzalez", "O'Brien", "Nguyen", "García-López", "Washington", "Kowalski", "Okafor", "Patel", "Fitzgerald",
        "Haddad", "Yamamoto", "Abernathy", "Delacroix"]
STREETS = ["Elm Street", "Olive Ave", "Cedar Boulevard", "Mission Road", "Sunset Blvd", "Magnolia Drive"]
CITIES = ["Fresno", "Bakersfield", "Oxnard", "Stockton", "Riverside", "Modesto"]
EMPLOYERS = ["Acme Logistics, Inc.", "Sierra Nut Packers LLC", "Coastal Freightways", "Valley Fresh Foods Corporation"]
FACILITIES = ["Valley Surgery Center", "Saint Brendan Hospital", "Redwood Imaging Institute"]
FIRMS = ["Lopez & Marks Law Offices", "Harlan Injury Attorneys", "Baker Wells LLP"]


@dataclass
class Planted:
    """One letter's made-up case: the application and every planted identifier form."""

    application: dict
    forms: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)


def _person(i: int, shift: int) -> tuple[str, str]:
    return FIRST[(i + shift) % len(FIRST)], LAST[(i * 7 + shift) % len(LAST)]


def make_case(i: int) -> Planted:
    """A made-up case for letter number i, with the sentences that plant it."""
    e_first, e_last = _person(i, 0)
    p_first, p_last = _person(i, 3)
    a_first, a_last = _person(i, 5)
    j_first, j_last = _person(i, 8)
    dob = date(1950 + i % 40, 1 + i % 12, 1 + i % 28)
    street = f"{100 + i * 37} {STREETS[i % len(STREETS)]}"
    city = CITIES[i % len(CITIES)]
    claim = f"{'WC' if i % 2 else 'CLM'}-{2010 + i % 15}-{100000 + i * 7919:06d}"
    employer, facility, firm = EMPLOYERS[i % 4], FACILITIES[i % 3], FIRMS[i % 3]
    app = {
        "review_type": "regular", "received": "2016-11-14", "signed": True, "ur_decision_attached": True,
        "date_of_injury": "2015-10-10",
        "employee": {"name": f"{e_first} Q. {e_last}", "date_of_birth": dob.isoformat(),
                     "address": f"{street}, {city}, CA 93{i % 1000:03d}", "claim_number": claim},
        "employer": {"name": employer},
        "claims_administrator": {"name": "Golden State Claims Services", "adjuster": f"{j_first} {j_last}"},
        "requesting_physician": {"name": f"{p_first} {p_last}", "specialty": "Pain Medicine",
                                 "medical_group": "Central Valley Pain Group"},
        "attorney": {"name": f"{a_first} {a_last}", "firm": firm},
        "parties": [{"name": facility, "kind": "facility"}],
        "ur_decision": {"date": "2016-11-09", "served": "2016-11-10", "items": [{"request": "x", "outcome": "denied"}]},
    }
    sentences = [
        f"The applicant, {e_first} {e_last} (DOB {dob:%m/%d/%Y}), of {street}, {city}, was seen.",
        f"Claim number {claim} was filed by Mr. {e_last} against {employer} on behalf of {e_last.upper()}, {e_first.upper()}.",
        f"Dr. {p_last} ({p_first} {p_last}, Central Valley Pain Group) saw the patient, born {dob:%B} {dob.day}, {dob.year}, at {facility}.",
        f"Attorney {a_first} {a_last} of {firm} wrote to adjuster {j_first} {j_last} at Golden State Claims Services.",
        f"{e_last} reported pain; {p_last}'s note and {a_last}'s letter were read, and {j_last} replied to {e_first}.",
    ]
    forms = [
        f"{e_first} {e_last}", e_first, e_last, e_last.upper(), f"{p_first} {p_last}", p_last, f"{a_first} {a_last}", a_last,
        f"{j_first} {j_last}", j_last, street, claim, employer.split(",")[0], facility, firm,
        "Central Valley Pain Group", "Golden State Claims Services",
    ]
    return Planted(app, forms, sentences)


def plant(letter: Letter, planted: Planted) -> Letter:
    """The letter with the planted sentences added to its summary and to each rationale."""
    s = planted.sentences
    n = len(s)
    items = [
        item.model_copy(update={"rationale": f"{s[(k + 1) % n]} {item.rationale} {s[(k + 2) % n]}"})
        for k, item in enumerate(letter.items)
    ]
    summary = f"{s[0]} {letter.clinical_case_summary} {' '.join(s[1:])}"
    return letter.model_copy(update={"clinical_case_summary": summary, "items": items})


def as_text(letter: Letter) -> str:
    """The letter rendered back as text by the writer (or its text fields if none)."""
    try:
        from openimr.letters.write import render
    except ImportError:  # pragma: no cover - the writer ships with OpenIMR
        return "\n".join([letter.clinical_case_summary] + [i.rationale for i in letter.items])
    return render(letter, format="text")


def survivors(text: str, planted: Planted, original: str) -> list[str]:
    """Planted forms still in `text` (a form already in the unplanted letter is not counted)."""
    found = []
    app = parse_application(planted.application)
    for form in planted.forms:
        body = r"\s+".join(re.escape(word) for word in form.split())
        pattern = re.compile(rf"(?<![\w]){body}(?![\w])", re.I if len(form.split()) > 1 else 0)
        if pattern.search(text) and not pattern.search(original):
            found.append(form)
    dob = date_pattern(app.employee.date_of_birth)
    if dob.search(text) and not dob.search(original):
        found.append("date of birth")
    return found


@dataclass
class Measure:
    letters: int = 0
    planted: int = 0
    survived: list[tuple[str, str]] = field(default_factory=list)
    not_planted: list[tuple[str, str]] = field(default_factory=list)
    clinical_chars: int = 0
    clinical_kept: int = 0

    @property
    def kept_ratio(self) -> float:
        return self.clinical_kept / self.clinical_chars if self.clinical_chars else 1.0


def clinical_text(letter: Letter) -> str:
    return "\n".join([letter.clinical_case_summary] + [i.rationale for i in letter.items])


def measure(letters: list[tuple[str, Letter]]) -> Measure:
    """Plant, redact, render and search every letter; count clinical text kept unplanted."""
    result = Measure()
    for i, (name, letter) in enumerate(letters):
        planted = make_case(i)
        redactor = for_application([parse_application(planted.application)])
        original = as_text(letter)
        dirty = plant(letter, planted)
        clean, _ = redact_letter(dirty, redactor)
        result.letters += 1
        # every form must be in the planted letter as rendered (else the check proves nothing)
        present = set(survivors(as_text(dirty), planted, ""))
        result.not_planted += [(name, f) for f in planted.forms + ["date of birth"] if f not in present]
        result.planted += len(planted.forms) + 1
        result.survived += [(name, form) for form in survivors(as_text(clean), planted, original)]
        unplanted, _ = redact_letter(letter, redactor)
        result.clinical_chars += len(clinical_text(letter))
        result.clinical_kept += len(clinical_text(unplanted))
    return result
