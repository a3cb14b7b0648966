"""The planted-identifier benchmark of redaction (bench/bench_redaction.py, tests/hostile).

For each real letter a seeded generator makes up a case — the worker (with hyphenated and
compound surnames, accents and middle initials), the requesting physician, the attorney, the
adjuster, a relative listed among the parties, people the records name that the case does
not list, the expert reviewer, a workbench user — and its numbers: date of birth, SSN,
medical record, account, claim, ADJ and policy numbers, phones, e-mail, street address. The
identifiers are planted, in the many forms letters and records write them, as sentences in
the letter's real clinical case summary and rationales; the ground truth (every planted
form, and the sentence it is in) is kept beside the letter. The letter is redacted with the
case's redactor, rendered back as text by the letter writer, and every planted form is
searched for. The unplanted letter is redacted too: the share of its clinical text that
survives is the cost of redaction.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date

from openimr.cases.intake import parse_application
from openimr.cases.redact import for_application, redact_letter
from openimr.models import Letter

SEED = 20261201
FIRST = ["Maria", "José", "Siobhan", "DeShawn", "Anna-Marie", "Kwame", "Priya", "Luis", "Oksana", "Yusuf",
         "Mei-Ling", "Thanh", "Guadalupe", "Bartholomew", "Ngozi", "Raúl", "Ingrid", "Tomasz", "Fatima", "Ezekiel"]
LAST = ["Gonzalez", "O'Brien", "Nguyen", "García-López", "Washington", "Kowalski", "Okafor", "Patel",
        "Fitzgerald", "Haddad", "Yamamoto", "Abernathy", "Delacroix", "de la Cruz", "Van der Berg",
        "Muñoz Salazar", "McAllister", "Oyelaran-Briggs", "Szymański", "Castellanos"]
RELATIONS = ["wife", "husband", "daughter", "son", "sister", "brother", "mother", "father"]
OTHERS = ["co-worker", "supervisor", "neighbor", "friend", "roommate", "foreman"]
STREETS = ["Elm Street", "Olive Avenue", "Cedar Boulevard", "Mission Road", "Sunset Blvd", "Magnolia Drive",
           "Palomino Lane", "Tularosa Court", "Kearney Way", "Shaw Avenue"]
CITIES = ["Fresno", "Bakersfield", "Oxnard", "Stockton", "Riverside", "Modesto", "Visalia", "Merced"]
EMPLOYERS = ["Acme Logistics, Inc.", "Sierra Nut Packers LLC", "Coastal Freightways", "Valley Fresh Foods Corporation"]
FACILITIES = ["Valley Surgery Center", "Saint Brendan Hospital", "Redwood Imaging Institute"]
FIRMS = ["Lopez & Marks Law Offices", "Harlan Injury Attorneys", "Baker Wells LLP"]
CREDENTIALS = ["M.D.", "MD", "D.O.", "PA-C", "NP", "D.C.", "Ph.D.", "RN"]


@dataclass
class Planted:
    """One letter's made-up case: the application, the reviewer and workbench user names,
    every planted form (the ground truth) and the sentences that plant them."""

    application: dict
    reviewer: str
    people: list[str]
    forms: list[tuple[str, str]] = field(default_factory=list)  # (kind, text as planted)
    sentences: list[str] = field(default_factory=list)


def _person(rng: random.Random) -> tuple[str, str, str]:
    return rng.choice(FIRST), rng.choice("ABCDEFGHJKLMNPRSTW"), rng.choice(LAST)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _date_forms(day: date) -> list[str]:
    m, d, y = day.month, day.day, day.year
    month = day.strftime("%B")
    return [f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y % 100:02d}", f"{y}-{m:02d}-{d:02d}", f"{month} {d}, {y}",
            f"{d} {month[:3]} {y}", f"{m:02d}-{d:02d}-{y}", f"{m:02d}.{d:02d}.{y}", f"{month[:3]}. {d}th, {y}"]


def _lower_ok(word: str) -> bool:
    from openimr.cases.redact import vocabulary

    return word.lower() not in set(vocabulary().common_words) | set(vocabulary().never_alone)


KEPT_BY_DESIGN = "initials_abbreviation"  # the kind of the planted forms that stay


def _initials(*names: str) -> tuple[str, str]:
    """Initials as a chart writes them without dots ("MQG"). Those that spell a clinical
    abbreviation ("MS", "PA") are kept by design (see redact.py): planted as their own kind
    and counted apart from the forms that must not survive."""
    from openimr.cases.redact import not_initials

    form = "".join(name[0].upper() for name in names)
    return (KEPT_BY_DESIGN if form in not_initials() else "initials"), form


def make_case(i: int, seed: int = SEED, outsiders: bool = True) -> Planted:
    """A made-up case for letter number i: application, names, identifiers and the sentences.
    Without `outsiders`, the expert reviewer's and the workbench user's names are not planted
    (for a publication whose reviewer is the panel's)."""
    rng = random.Random(seed * 1000 + i)
    e_first, e_mid, e_last = _person(rng)
    p_first, _, p_last = _person(rng)
    a_first, _, a_last = _person(rng)
    j_first, _, j_last = _person(rng)
    r_first, _, r_last = _person(rng)  # a relative, listed among the parties
    o_first, _, o_last = _person(rng)  # someone the records name, not in the application
    v_first, _, v_last = _person(rng)  # the expert reviewer
    u_first, _, u_last = _person(rng)  # a workbench user
    c_first, _, c_last = _person(rng)  # a clinician named with a credential only
    relation, other = rng.choice(RELATIONS), rng.choice(OTHERS)
    dob = date(1950 + rng.randrange(45), 1 + rng.randrange(12), 1 + rng.randrange(28))
    number = 100 + rng.randrange(9800)
    street = rng.choice(STREETS)
    unlisted_street = rng.choice([s for s in STREETS if s != street])
    city = rng.choice(CITIES)
    claim = f"{rng.choice(['WC', 'CLM', '05'])}-{2010 + rng.randrange(15)}-{_digits(rng, 6)}"
    ssn = [_digits(rng, 3), _digits(rng, 2), _digits(rng, 4)]
    area = rng.choice(["559", "661", "805", "209", "951"])
    phone = [area, _digits(rng, 3), _digits(rng, 4)]
    employer, facility, firm = rng.choice(EMPLOYERS), rng.choice(FACILITIES), rng.choice(FIRMS)
    email = f"{e_first.lower()}.{e_last.split()[-1].lower()}{_digits(rng, 2)}@example.com"
    email = re.sub(r"[^a-z0-9.@-]", "", email.encode("ascii", "ignore").decode())
    app = {
        "review_type": "regular", "received": "2016-11-14", "signed": True, "ur_decision_attached": True,
        "date_of_injury": "2015-10-10",
        "employee": {"name": f"{e_first} {e_mid}. {e_last}", "date_of_birth": dob.isoformat(),
                     "address": f"{number} {street}, {city}, CA 93{rng.randrange(1000):03d}",
                     "claim_number": claim, "phone": "-".join(phone)},
        "employer": {"name": employer},
        "claims_administrator": {"name": "Golden State Claims Services", "adjuster": f"{j_first} {j_last}"},
        "requesting_physician": {"name": f"{p_first} {p_last}", "specialty": "Pain Medicine",
                                 "medical_group": "Central Valley Pain Group"},
        "attorney": {"name": f"{a_first} {a_last}", "firm": firm},
        "parties": [{"name": facility, "kind": "facility"}, {"name": f"{r_first} {r_last}", "kind": "family"}],
        "ur_decision": {"date": "2016-11-09", "served": "2016-11-10", "items": [{"request": "x", "outcome": "denied"}]},
    }
    e_parts = re.split(r"[-\s]+", e_last)
    dates = _date_forms(dob)
    mrn, account, adj, policy = _digits(rng, 8), f"{_digits(rng, 4)}-{_digits(rng, 3)}", _digits(rng, 7), _digits(rng, 7)
    forms: list[tuple[str, str]] = [
        ("name", f"{e_first} {e_last}"), ("name", f"{e_last.upper()}, {e_first.upper()}"), ("name", e_first),
        ("name", f"{e_first[0]}. {e_last}"), ("name", f"{e_last}, {e_first[0]}. {e_mid}."),
        ("name", f"{e_first[0]}.{e_mid}.{e_parts[-1][0].upper()}."),
        ("name", e_parts[-1]), ("name", e_parts[0] if len(e_parts[0]) > 3 else e_parts[-1]),
        ("name", f"{p_first} {p_last}"), ("name", p_last.upper()), ("name", f"{a_first} {a_last}"),
        ("name", f"{j_first} {j_last}"), ("name", f"{r_first} {r_last}"), ("name", r_first),
        ("name", f"{o_first} {o_last}"), ("reviewer", f"{v_first} {v_last}"), ("reviewer", v_last),
        ("user", f"{u_first} {u_last}"), ("name", f"{c_first} {c_last}"),
        ("date_of_birth", dates[0]), ("date_of_birth", dates[1]), ("date_of_birth", dates[2]),
        ("date_of_birth", dates[3]), ("date_of_birth", dates[4]), ("date_of_birth", dates[5]),
        ("date_of_birth", dates[6]), ("date_of_birth", dates[7]),
        ("ssn", "-".join(ssn)), ("ssn", " ".join(ssn)), ("ssn", "".join(ssn)), ("ssn", ".".join(ssn)),
        ("medical_record", mrn), ("medical_record", f"A{mrn[:6]}"), ("account", account), ("claim", claim),
        ("claim", _digits(rng, 9)), ("adj", f"ADJ{adj}"), ("adj", f"ADJ {adj[::-1]}"), ("policy", f"WC {policy}"),
        ("phone", f"({phone[0]}) {phone[1]}-{phone[2]}"), ("phone", ".".join(phone)), ("phone", " ".join(phone)),
        ("phone", "".join(phone)), ("phone", f"+1 {' '.join(phone)}"), ("email", email), ("email", email.upper()),
        ("street", f"{number} {street}"), ("street", street), ("street", unlisted_street), ("city", city),
        ("organization", employer.split(",")[0]), ("organization", facility), ("organization", firm),
        # bare surnames: of someone the records name but the case does not list, of the physician
        ("name", o_last.split()[-1]), ("name", p_last), ("user", u_last.split()[-1]),
        # initials without dots, the worker's (first, middle, last) and the attorney's
        _initials(e_first, e_mid, e_parts[-1]), _initials(a_first, a_last),
    ]
    if _lower_ok(e_parts[-1]):
        forms.append(("name", e_parts[-1].lower()))
    f = dict(enumerate(text for _, text in forms))
    sentences = [
        f"The applicant, {f[0]} (DOB {f[19]}), of {f[46]}, {f[49]}, was seen; date of birth {f[20]} per intake.",
        f"Claim number {f[34]} and claim no. {f[35]} were filed against {f[50]}; the record lists {f[1]}.",
        f"{f[2]} said {f[3]} and {f[4]} are the same person; the chart is initialed {f[5]} on each page.",
        f"Dr. {p_last} ({f[8]}, Central Valley Pain Group) saw the patient, born {f[21]}, at {f[51]}.",
        f"Attorney {f[10]} of {f[52]} wrote to adjuster {f[11]} at Golden State Claims Services; {f[9]} replied.",
        f"Her {relation}, {f[12]}, drove her; {f[13]} stayed. Her {other} {f[14]} saw the fall.",
        (f"Reviewed by {f[15]}; {f[16]} concurred. Entered by {f[17]}. " if outsiders else "")
        + f"Seen by {f[18]}, {rng.choice(CREDENTIALS)}.",
        f"SSN {f[27]}; social security number {f[28]}; SS# {f[29]}; SSN: {f[30]}.",
        f"MRN: {f[31]}. Medical Record No. {f[32]}. Acct #: {f[33]}. Policy No. {f[38]}.",
        f"WCAB case {f[36]}; also {f[37]} on file.",
        f"Phone {f[39]}, cell {f[40]}, home {f[41]}, {f[42]} (work), mobile {f[43]}; e-mail {f[44]} or {f[45]}.",
        f"She lives on {f[47]} near {f[48]}, moved from {f[46]}; the {f[6]} family and {f[7]} relatives.",
        f"D.O.B. {f[22]}; birth date {f[23]}; DOB: {f[24]}; born on {f[25]}; on {f[26]} she turned 18.",
    ]
    # in another field than the full name (the first sentences go to the summary)
    sentences.insert(1, f"Per Dr. {f[54]}, the worker spoke with {f[53]} about the fall.")
    if outsiders:
        sentences.append(f"The file was checked by {f[55]}.")
    sentences.append(f"The nurse wrote that {f[56]} walked in; {f[57]} sent the request for {f[56]}.")
    if len(forms) > 58:
        sentences.append(f"Per the note, {f[58]} reported pain.")
    if not outsiders:
        forms = [(kind, form) for kind, form in forms if kind not in ("reviewer", "user")]
    assert len(forms) >= 50 and all(form in " ".join(sentences) for _, form in forms), "a form is not planted"
    return Planted(app, f"Dr. {v_first} {v_last}", [f"{u_first} {u_last}"], forms, sentences)


def plant(letter: Letter, planted: Planted) -> Letter:
    """The letter with the planted sentences spread over its summary and each rationale."""
    s = planted.sentences
    items = letter.items
    slots = max(1, len(items) + 1)
    groups = [[sentence for k, sentence in enumerate(s) if k % slots == slot] for slot in range(slots)]
    summary = f"{' '.join(groups[0][:1])} {letter.clinical_case_summary} {' '.join(groups[0][1:])}"
    updated = [
        item.model_copy(update={"rationale": f"{' '.join(groups[k + 1])} {item.rationale}"})
        for k, item in enumerate(items)
    ]
    return letter.model_copy(update={"clinical_case_summary": summary, "items": updated})


def as_text(letter: Letter) -> str:
    """The letter rendered back as text by the writer."""
    from openimr.letters.write import render

    return render(letter, format="text")


def _form_pattern(form: str) -> re.Pattern:
    body = r"[\s-]+".join(re.escape(word) for word in form.split())
    if re.fullmatch(r"(?:[A-Z]\.\s?)+[A-Z]?\.?", form):  # initials: not inside "M.D."
        return re.compile(rf"(?<![\w.]){body}(?![\w.])")
    return re.compile(rf"(?<![\w]){body}(?![\w])", re.I if len(form.split()) > 1 or "@" in form else 0)


def survivors(text: str, planted: Planted, original: str) -> list[str]:
    """Planted forms still in `text` (a form already in the unplanted letter is not counted)."""
    found = []
    for kind, form in planted.forms:
        pattern = _form_pattern(form)
        if pattern.search(text) and not pattern.search(original):
            found.append(f"{kind}: {form}")
    return found


@dataclass
class Measure:
    letters: int = 0
    planted: int = 0
    survived: list[tuple[str, str]] = field(default_factory=list)
    not_planted: list[tuple[str, str]] = field(default_factory=list)
    unchecked: list[tuple[str, str]] = field(default_factory=list)  # already in the real letter
    kept_by_design: list[tuple[str, str]] = field(default_factory=list)  # initials spelling an abbreviation
    clinical_chars: int = 0
    clinical_kept: int = 0
    removed: list[str] = field(default_factory=list)  # what redaction cut from the real letters

    @property
    def kept_ratio(self) -> float:
        return self.clinical_kept / self.clinical_chars if self.clinical_chars else 1.0


def clinical_text(letter: Letter) -> str:
    return "\n".join([letter.clinical_case_summary] + [i.rationale for i in letter.items])


def redactor_for(planted: Planted):
    return for_application([parse_application(planted.application)], planted.reviewer, planted.people)


def measure(letters: list[tuple[str, Letter]], seed: int = SEED) -> Measure:
    """Plant, redact, render and search every letter; count clinical text kept unplanted."""
    result = Measure()
    for i, (name, letter) in enumerate(letters):
        planted = make_case(i, seed)
        redactor = redactor_for(planted)
        original = as_text(letter)
        dirty = plant(letter, planted)
        clean, _ = redact_letter(dirty, redactor)
        result.letters += 1
        rendered = as_text(dirty)
        present = {form for form in survivors(rendered, planted, "")}
        result.not_planted += [(name, f"{k}: {f}") for k, f in planted.forms if f"{k}: {f}" not in present]
        result.unchecked += [(name, f"{k}: {f}") for k, f in planted.forms if _form_pattern(f).search(original)]
        result.planted += len(planted.forms)
        for form in survivors(as_text(clean), planted, original):
            kept = form.startswith(f"{KEPT_BY_DESIGN}: ")
            (result.kept_by_design if kept else result.survived).append((name, form))
        text = clinical_text(letter)
        spans = redactor.spans(text)
        result.removed += [text[s.start : s.end] for s in spans]
        unplanted, _ = redact_letter(letter, redactor)
        result.clinical_chars += len(text)
        result.clinical_kept += len(clinical_text(unplanted))
    return result
