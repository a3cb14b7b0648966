"""Treatment to date, read from the case documents: sessions completed per therapy, drugs and
how long each has been taken, prior imaging and injections, surgeries with their dates, and the
weeks since the injury. Every item carries its evidence span (document index, start, end, text)
so a rationale can quote it.

What is read is what the records say was DONE: a sentence that orders, requests or reports
utilization review's decision on a treatment ("8 sessions of physical therapy were ordered",
"6 sessions ... was certified at the prior review") is not treatment to date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from openimr.engine.models import Case
from openimr.vocab import find_region
from openimr.vocab.drugs import drug_names, ingredients_of


@dataclass(frozen=True)
class Span:
    """Where an item was read: document index in the case, character offsets, the text."""

    document: int
    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        return {"document": self.document, "start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class SessionCount:
    therapy: str
    count: int
    evidence: tuple[Span, ...]


@dataclass(frozen=True)
class DrugUse:
    """A drug the worker has taken: its generic name, months taken (None when not stated),
    the first date seen beside it, and where."""

    drug: str
    months: float | None
    first_seen: date | None
    evidence: tuple[Span, ...]


@dataclass(frozen=True)
class Procedure:
    """A prior study, injection or surgery: what, which region, when (None if not stated)."""

    kind: str
    text: str
    region: str | None
    date: date | None
    evidence: Span


@dataclass(frozen=True)
class TreatmentHistory:
    sessions: dict[str, SessionCount] = field(default_factory=dict)
    # therapies the records say were given, with or without a count of visits ("treatment to
    # date has included ... physical therapy", "no improvement despite physical therapy")
    done: dict[str, Span] = field(default_factory=dict)
    drugs: dict[str, DrugUse] = field(default_factory=dict)
    prior_imaging: list[Procedure] = field(default_factory=list)
    injections: list[Procedure] = field(default_factory=list)
    surgeries: list[Procedure] = field(default_factory=list)
    weeks_since_injury: float | None = None

    @property
    def sessions_completed(self) -> dict[str, int]:
        """Sessions completed per engine therapy category."""
        return {k: v.count for k, v in self.sessions.items()}


# --- sentences -----------------------------------------------------------------------------

# A sentence ends at . ! or ? before a space, the end, or a capitalised word ("2016.On 1-12-17");
# a point inside a number or a word ("Meloxicam 7.5mg", "Norco 7.5/325") does not end it.
_SENT = re.compile(r"(?:[^.!?\n]|[.!?]+(?![\s.!?]|$|[A-Z][a-z]))+(?:[.!?]+|\n|$)")


def _sentences(text: str):
    """(start, end, sentence) for each sentence; abbreviations such as "Dr." may split early,
    which only shortens the evidence span."""
    for m in _SENT.finditer(text):
        s = m.group(0)
        if s.strip():
            lead = len(s) - len(s.lstrip())
            yield m.start() + lead, m.end(), s.strip()


# Sentences about requests, orders or UR's decision, not about what was done.
_REQUESTED = re.compile(
    r"\b(?:request(?:ed|s)?|order(?:ed|s)?|RFA|recommend(?:ed|s)?|plan(?:ned)?|prescrib(?:ed|e)\s+for\s+future|"
    r"authori[sz](?:ed|ation)|approved|certified|non-?certified|denied|modified|IMR eligible|utilization review|"
    r"\bUR\b|will|would|to be|is scheduled|pending|consider(?:ed|ing)?)\b", re.IGNORECASE)

_N = r"(\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|sixteen|eighteen|twenty|twenty-four|thirty)"
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
          "eleven": 11, "twelve": 12, "fifteen": 15, "sixteen": 16, "eighteen": 18, "twenty": 20, "twenty-four": 24,
          "thirty": 30}

THERAPIES: dict[str, str] = {
    "physical_therapy": r"physical therap\w*|physiotherap\w*|\bPT\b|occupational therap\w*|\bOT\b|aqua(?:tic)? therap\w*|hand therap\w*",
    "chiropractic": r"chiropractic(?: \w+)?|chiropractor|manipulat\w*(?: therapy)?",
    "acupuncture": r"(?:electro[- ]?)?acupuncture",
    "psych": r"psychotherap\w*|cognitive behavio\w* therap\w*|\bCBT\b|psycholog\w* (?:sessions|visits|treatment|therapy)|counsel+ing",
    "functional_restoration": r"functional restoration(?: program\w*)?|\bFRP\b|HELP program\w*|(?:multi|inter)disciplinary pain (?:management )?program\w*|chronic pain (?:management )?program\w*",
}
_UNITS = r"(?:sessions?|visits?|treatments?)"
# a day programme is counted in full days ("completed 10 days of functional restoration")
_UNITS_OF = {"functional_restoration": r"(?:sessions?|visits?|treatments?|(?:full[- ])?days?)"}


def _therapy_patterns() -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for key, words in THERAPIES.items():
        units = _UNITS_OF.get(key, _UNITS)
        out.append((key, re.compile(
            rf"(?:(?:at least |approximately |about |a total of |over )?#?{_N}(?:\s*\(\d+\))?(?:\s*(?:of|out of)\s*{_N})?\s+(?:prior\s+|previous\s+|completed\s+|authori[sz]ed\s+|approved\s+|certified\s+)?"
            rf"(?:(?:{units})\s+of\s+(?:[\w-]+\s+){{0,2}}?(?:{words})|(?:{words})\s+{units}|{units}\s+(?:{words}))"
            rf"|(?:{words})\s+(?:for\s+)?#?(?P<after>{_N})\s+{units})",
            re.IGNORECASE)))
    return out


_THERAPY_RX = _therapy_patterns()
# "no prior chiropractic therapy", "has not had any physical therapy": none completed
_NONE_RX = [(key, re.compile(rf"\b(?:no|not had any|never had|has not had|had not had|without any)\s+(?:prior\s+|previous\s+|formal\s+)*(?:{words})",
                             re.IGNORECASE)) for key, words in THERAPIES.items()]
_DONE = re.compile(r"\b(?:had|has had|have had|completed|attended|gone to|went to|underwent|undergone|received|tried|included|includ(?:es|ing)|"
                   r"to date|prior|previous(?:ly)?|after|since|failed|despite|with(?:out)? (?:significant |some |no )?(?:benefit|relief|improvement)|"
                   r"course of|status post)\b", re.IGNORECASE)


def _num(tok: str) -> int:
    return int(tok) if tok.isdigit() else _WORDS[tok.lower()]


# --- dates ---------------------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"], 1)}
_DATE = re.compile(
    r"\b(\d{1,2})[/-](\d{1,2})[/-](\d{2,4})\b"
    r"|\b(January|February|March|April|May|June|July|August|September|October|November|December)\s+(?:(\d{1,2}),?\s+)?(\d{4})\b",
    re.IGNORECASE)


def _dates(text: str) -> list[date]:
    out = []
    for m in _DATE.finditer(text):
        try:
            if m.group(1):
                y = int(m.group(3))
                y = y + 2000 if y < 100 else y
                out.append(date(y, int(m.group(1)), int(m.group(2))))
            else:
                out.append(date(int(m.group(6)), _MONTHS[m.group(4).lower()], int(m.group(5) or 1)))
        except ValueError:
            continue
    return out


# --- drugs ---------------------------------------------------------------------------------

_DURATION = re.compile(rf"\b(?:for|over|x)\s+(?:the\s+(?:past|last)\s+)?(?:at least\s+|about\s+|approximately\s+)?{_N}\+?\s+(months?|years?|weeks?)\b"
                       rf"|\b{_N}\s+(months?|years?|weeks?)\s+of\b", re.IGNORECASE)
_SINCE = re.compile(r"\bsince\s+(?:at least\s+)?([^,;.]{3,30})", re.IGNORECASE)
_TAKING = re.compile(r"\b(?:taking|takes|on|using|uses|used|took|prescribed|medications?(?= include| included|:)|current(?:ly)?|"
                     r"continues?|tried|trial of|has been)\b", re.IGNORECASE)


def _months(n: int, unit: str) -> float:
    unit = unit.lower()
    return float(n * 12) if unit.startswith("year") else round(n / 4.33, 1) if unit.startswith("week") else float(n)


# --- studies, injections, surgery -----------------------------------------------------------

_IMAGING = re.compile(r"\b(?:MRI|MR arthrogram|magnetic resonance imaging|CT(?: scan)?|computed tomography|x-?rays?|radiographs?|"
                      r"EMG|NCV|NCS|electromyograph\w*|nerve conduction(?: studies| study| velocity)?|ultrasound|bone scan)\b",
                      re.IGNORECASE)
_RESULT = re.compile(r"\b(?:revealed|reveals|showed|shows|demonstrated|demonstrates|noted|dated|performed|was done|were done|"
                     r"impression|findings?|consistent with|positive for|negative|normal|unremarkable|obtained|had|underwent|"
                     r"prior|previous)\b", re.IGNORECASE)
_INJECTION = re.compile(r"\b(?:(?:epidural|steroid|cortisone|corticosteroid|trigger point|facet|medial branch|intra-?articular|"
                        r"subacromial|joint|knee|shoulder|PRP|platelet[- ]rich plasma|toradol|ketorolac|intramuscular|viscosupplement\w*)\s+(?:steroid\s+)?"
                        r"(?:injections?|blocks?|shots?)|ESIs?\b|nerve blocks?|radiofrequency ablation|rhizotomy)", re.IGNORECASE)
_INJ_DONE = re.compile(r"\b(?:received|had|has had|underwent|undergone|given|status post|s/p|prior|previous(?:ly)?|after|"
                       r"with(?:out)? (?:\w+ )?(?:relief|benefit|improvement)|provided|administered|performed|included)\b",
                       re.IGNORECASE)
_INJ_AFTER = re.compile(r"[^.;]{0,40}\b(?:with(?:out)?\s+(?:\w+\s+)?(?:relief|benefit|improvement)|helped|provided|was performed|"
                        r"were performed|was given|were given|was administered)\b", re.IGNORECASE)
_SURGERY = re.compile(
    r"\b(?:status post-?|s/p|underwent|had|has had|post-?op(?:erative)?(?: from)?|following|after)\s+(?:an?\s+|the\s+)?(?:(?:left|right|bilateral)\s+)?"
    r"((?:[\w/-]+\s+){0,5}?(?:surgery|arthroscop\w*|repair|fusion|ORIF|open reduction(?: and)? internal fixation|replacement|"
    r"arthroplasty|release|laminectomy|laminotomy|discectomy|microdiscectomy|meniscectomy|decompression|reconstruction|"
    r"debridement|carpal tunnel release|tenodesis|amputation|excision)(?:\s+(?:of|on)\s+(?:the\s+)?(?:left|right)?\s*[\w-]+)?)",
    re.IGNORECASE)
_SURG_NOT_DONE = re.compile(r"\b(?:request(?:ed)?|recommend(?:ed)?|candidate|consider(?:ed|ing)?|plan(?:ned)?|scheduled|"
                            r"pending|will|would|authori[sz]|certif|denied|non-?certif)\w*", re.IGNORECASE)


def treatment_history(case: Case) -> TreatmentHistory:
    """Treatment to date from the case's documents (see the module's docstring)."""
    sessions: dict[str, SessionCount] = {}
    done: dict[str, Span] = {}
    drugs: dict[str, DrugUse] = {}
    imaging: list[Procedure] = []
    injections: list[Procedure] = []
    surgeries: list[Procedure] = []
    for doc_index, doc in enumerate(case.documents):
        if doc.kind == "ur_decision":
            continue  # UR's reasons are not the records of treatment
        text = doc.text
        for start, end, sent in _sentences(text):
            span = Span(doc_index, start, end, text[start:end])
            requested = bool(_REQUESTED.search(sent))
            _read_sessions(sent, span, requested, sessions)
            if not requested:
                _read_done(sent, span, done)
            _read_drugs(sent, span, requested, drugs, case.ur_denial_date)
            if not requested:
                _read_procedures(sent, span, imaging, injections, surgeries)
    weeks = None
    if case.date_of_injury and case.ur_denial_date and case.ur_denial_date >= case.date_of_injury:
        weeks = round((case.ur_denial_date - case.date_of_injury).days / 7, 1)
    for key, count in sessions.items():
        if count.count == 0:
            done.pop(key, None)  # "no prior physical therapy" outweighs a loose mention
        elif key not in done:
            done[key] = count.evidence[0]
    return TreatmentHistory(sessions, done, drugs, imaging, injections, surgeries, weeks)


def _read_sessions(sent: str, span: Span, requested: bool, out: dict[str, SessionCount]) -> None:
    for key, rx in _NONE_RX:
        m = rx.search(sent)
        if m and key not in out:
            s = span.start + m.start()
            out[key] = SessionCount(key, 0, (Span(span.document, s, s + len(m.group(0)), m.group(0)),))
    for key, rx in _THERAPY_RX:
        for m in rx.finditer(sent):
            before = sent[max(0, m.start() - 50): m.start()]
            after = sent[m.end(): m.end() + 30]
            if requested and (_REQUESTED.search(before) or _REQUESTED.search(after)):
                continue  # "requested ... included six sessions", "6 sessions ... was certified"
            cues = list(_REQUESTED.finditer(sent, 0, m.start()))
            if cues and not _DONE.search(sent[cues[-1].end(): m.start()]):
                continue  # "the following treatments were requested: MRIs ..., and 6 sessions of acupuncture"
            if not _DONE.search(sent):
                continue
            # "completed 6 of 6 visits": the first number is what was done
            count = _num(m.group(1) or m.group("after"))
            s = span.start + m.start()
            ev = Span(span.document, s, s + len(m.group(0)), m.group(0))
            prev = out.get(key)
            if prev is None or count > prev.count:
                out[key] = SessionCount(key, count, (ev,) + (prev.evidence if prev else ()))
            else:
                out[key] = SessionCount(key, prev.count, prev.evidence + (ev,))


_PT_NOT_LAB = (r"\bPT\b", r"\bPT\b(?![/-]?PTT)")  # "PT/PTT" is a coagulation test, not therapy
_THERAPY_WORDS = [(key, re.compile(r"\b(?:" + words.replace(*_PT_NOT_LAB) + ")", re.IGNORECASE))
                  for key, words in THERAPIES.items()]
# "no documentation of (attendance of) physical therapy", "has not started therapy": not given
_NOT_GIVEN = re.compile(r"\b(?:no|not|never|without|lack of|yet to)\b[^.;]{0,40}$", re.IGNORECASE)
# "physical therapy referral", "chiropractic request": the therapy named is ordered, not given
_ONLY_ORDERED = re.compile(r"\s+(?:referr?als?|requests?|orders?|prescriptions?|authori[sz]ations?)\b", re.IGNORECASE)


def therapies_named(text: str) -> set[str]:
    """The therapy categories a text names ("physical therapy", "chiropractic", "CBT" ...)."""
    return {key for key, rx in _THERAPY_WORDS if rx.search(text)}


def _read_done(sent: str, span: Span, out: dict[str, Span]) -> None:
    """Therapies a sentence reports as given (treatment to date, "despite ...", "had ..."),
    whether or not it counts the visits; never a sentence that orders or requests them."""
    if not _DONE.search(sent):
        return
    for key, rx in _THERAPY_WORDS:
        m = rx.search(sent)
        if m is None or key in out or _NOT_GIVEN.search(sent[: m.start()]) or _ONLY_ORDERED.match(sent, m.end()):
            continue
        s = span.start + m.start()
        out[key] = Span(span.document, s, s + len(m.group(0)), m.group(0))


def _read_drugs(sent: str, span: Span, requested: bool, out: dict[str, DrugUse], ref: date | None) -> None:
    names = drug_names(sent)
    if not names:
        return
    if requested and not _TAKING.search(sent):
        return
    when = _dates(sent)
    for start, end, name in names:
        generics = ingredients_of(name) or []
        tail = sent[end: end + 80]
        months = None
        dm = _DURATION.search(tail)
        if dm:
            n = dm.group(1) or dm.group(3)
            unit = dm.group(2) or dm.group(4)
            months = _months(_num(n), unit)
        else:
            sm = _SINCE.search(tail)
            since = _dates(sm.group(1)) if sm else []
            if since and ref and ref >= since[0]:
                months = round((ref - since[0]).days / 30.44, 1)
        ev = Span(span.document, span.start + start, span.start + end, sent[start:end])
        for g in generics:
            prev = out.get(g)
            first = min([d for d in when] + ([prev.first_seen] if prev and prev.first_seen else []), default=None)
            m = max([x for x in (months, prev.months if prev else None) if x is not None], default=None)
            out[g] = DrugUse(g, m, first, (prev.evidence if prev else ()) + (ev,))


def _read_procedures(sent: str, span: Span, imaging: list, injections: list, surgeries: list) -> None:
    when = _dates(sent)
    region = find_region(sent)
    for m in _IMAGING.finditer(sent):
        if _RESULT.search(sent[max(0, m.start() - 50): m.end() + 60]):
            s = span.start + m.start()
            imaging.append(Procedure(m.group(0).upper() if len(m.group(0)) <= 3 else m.group(0).lower(), m.group(0),
                                     region, when[0] if when else None, Span(span.document, s, s + len(m.group(0)), m.group(0))))
            break  # one study per sentence
    for m in _INJECTION.finditer(sent):
        if _INJ_DONE.search(sent[max(0, m.start() - 50): m.start()]) or _INJ_AFTER.match(sent[m.end(): m.end() + 60]):
            s = span.start + m.start()
            injections.append(Procedure("injection", m.group(0), region, when[0] if when else None,
                                        Span(span.document, s, s + len(m.group(0)), m.group(0))))
            break
    for m in _SURGERY.finditer(sent):
        if _SURG_NOT_DONE.search(sent[max(0, m.start() - 40): m.end() + 20]):
            continue
        proc = m.group(1).strip()
        s = span.start + m.start(1)
        surgeries.append(Procedure("surgery", proc, find_region(proc) or region, when[0] if when else None,
                                   Span(span.document, s, s + len(proc), proc)))


__all__ = ["DrugUse", "Procedure", "SessionCount", "Span", "TreatmentHistory", "therapies_named", "treatment_history"]
