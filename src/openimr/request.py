"""The one reading of a disputed item's request: what is asked for, how much, how often, for
how long, which drug in which form, for which body region and side, and — where the claims
administrator authorized part of it — which portion is still in dispute.

`parse_request(text)` takes the request as a letter heading or an application states it
("Physical therapy 2 times a week for 6 weeks (12 sessions) to the right elbow was the original
request. Physical therapy for 6 sessions was authorized by the Claims Administrator. The
remaining IMR eligible portion of the original request, 6 sessions of physical therapy").
The amounts describe the DISPUTED portion when the text names one (that is what the expert
reviewer decides); `original` and `authorized` keep the other portions as printed.

Drug names, their generic ingredients and the body regions come from the one vocabulary
(`openimr.vocab`: drugs.yaml, regions.yaml). The library's classification (`classify`) and the
engine read amounts through this module, not through regexes of their own.
"""

from __future__ import annotations

import math
import re
from datetime import date
from functools import lru_cache
from typing import Literal

from pydantic import ConfigDict, Field

from openimr.models import Model
from openimr.vocab import prefer_level, regions_in
from openimr.vocab.drugs import drug_names, ingredients_of, is_medical_food

Form = Literal["oral", "topical", "suspension", "patch", "injection", "other"]
Kind = Literal["initial", "additional", "continued", "retrospective", "unspecified"]
Side = Literal["left", "right", "bilateral"]


class RequestParse(Model):
    """A request read whole (see the module's docstring). Every field is None / empty when
    the text does not say it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    treatment: str
    drug: str | None = None
    strength: str | None = None
    form: Form | None = None
    ingredients: list[str] = Field(default_factory=list)
    medical_food: bool = False
    compound: bool = False
    quantity: int | None = None
    unit: str | None = None
    refills: int | None = None
    frequency_per_week: float | None = None
    weeks: int | None = None
    sessions: int | None = None
    kind: Kind = "unspecified"
    retrospective: bool = False
    retrospective_date: date | None = None
    original: str | None = None
    authorized: str | None = None
    disputed: str | None = None
    remainder_after_partial: bool = False
    region: str | None = None
    regions: list[str] = Field(default_factory=list)
    side: Side | None = None


# --- numbers ---------------------------------------------------------------------------

_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "eighteen": 18, "twenty": 20, "twenty-four": 24, "thirty": 30, "sixty": 60, "ninety": 90,
    "once": 1, "twice": 2, "single": 1, "a": 1, "an": 1,
}
_N = r"(?:\d+(?:\.\d+)?|twenty-four|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|eighteen|twenty|thirty|sixty|ninety)"
_NR = rf"{_N}(?:\s*(?:-|to)\s*{_N})?"  # a number or a range ("12-18", "7-10")
_I = re.IGNORECASE


def _num(tok: str) -> float:
    """A number word or numeral; a range gives its upper bound (what is asked for at most)."""
    parts = re.split(r"\s*(?:-(?!four)|\bto\b)\s*", tok.strip().lower())
    vals = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        vals.append(float(p) if p[0].isdigit() else float(_WORDS[p]))
    return max(vals)


def _int(tok: str) -> int:
    return int(round(_num(tok)))


# --- partial authorization -------------------------------------------------------------

_PARTIAL_FORMS = (
    # "X was the original request. Y was authorized by the Claims Administrator. The remaining
    # IMR eligible portion of the original request, Z"
    (re.compile(
        r"^(?P<original>.+?)\s+was\s+the\s+original\s+request\.\s+(?P<authorized>.+?)\s+was\s+authorized\s+by\s+"
        r"the\s+Claims\s+Administrator\.?\s+The\s+remaining\s+IMR\s+eligible\s+portion\s+of\s+the\s+original\s+"
        r"request,\s+(?P<disputed>.+)$", _I | re.DOTALL), True),
    # "X was the original request. The Claims Administrator authorized Y, leaving the original
    # request IMR eligible. The original request, Z" (a modification: the whole request is disputed)
    (re.compile(
        r"^(?P<original>.+?)\s+was\s+the\s+original\s+request\.\s+The\s+Claims\s+Administrator\s+authorized\s+"
        r"(?P<authorized>.+?),?\s+leaving\s+the\s+original\s+request\s+IMR\s+eligible\.\s+The\s+original\s+"
        r"request,\s+(?P<disputed>.+)$", _I | re.DOTALL), False),
    (re.compile(
        r"^(?P<authorized>.+?)\s+was\s+authorized\s+by\s+the\s+Claims\s+Administrator\.?\s+The\s+remaining\s+IMR\s+"
        r"eligible\s+portion\s+of\s+the\s+original\s+request,\s+(?P<disputed>.+)$", _I | re.DOTALL), True),
    # "12 visits of physical therapy (6 certified, 6 non-certified)"
    (re.compile(
        r"^(?P<original>.+?)\s*[(,;]\s*(?P<authorized>[^(),;]*?(?<!non-)(?<!non)(?<!not )\b(?:certified|authorized|approved)\b[^(),;]*?)\s*[,;]\s*"
        r"(?P<disputed>[^(),;]*?\b(?:non-?certified|not\s+certified|denied|non-?authorized)\b[^()]*?)\)?\s*$", _I), True),
    # "physical therapy x12 modified to x6" / "UR modified the request to 6 visits"
    (re.compile(r"^(?P<original>.+?)\s*,?\s*(?:which\s+|that\s+)?(?:was\s+|were\s+)?modified\s+(?:by\s+[\w\s]+?\s+)?to\s+(?P<authorized>.+)$", _I),
     True),
)


_LETTER_FORMS = 3  # the first three forms are the Final Determination letters' own headings


def letter_portions(heading: str) -> dict[str, str | None] | None:
    """The portions of a letter's item heading when it states a partial authorization:
    {"original_request", "authorized", "disputed_request"} as printed (the letter reader's
    fields), else None. Only the letters' own heading forms are read here."""
    for rx, _remainder in _PARTIAL_FORMS[:_LETTER_FORMS]:
        m = rx.match(heading)
        if m:
            g = m.groupdict()
            return {"original_request": g.get("original"), "authorized": g["authorized"].strip(" ,"),
                    "disputed_request": g["disputed"].strip(" ,")}
    return None


def partial_portions(text: str) -> tuple[str | None, str | None, str | None, bool] | None:
    """(original, authorized, disputed, remainder) when `text` states that the claims
    administrator authorized part of the request, else None. `remainder` is True when what is
    disputed is what was left after the authorized part (False for a modification that leaves
    the whole original request in dispute). `disputed` may be None when the text does not
    print it ("12 visits modified to 6": the remainder is 6 visits, see `parse_request`)."""
    text = " ".join((text or "").split())
    for rx, remainder in _PARTIAL_FORMS:
        m = rx.match(text)
        if m:
            g = m.groupdict()
            clean = {k: (v.strip(" ,.;") if v else None) for k, v in g.items()}
            return clean.get("original"), clean.get("authorized"), clean.get("disputed"), remainder
    return None


# --- amounts ---------------------------------------------------------------------------

_SESSION_UNITS = r"(?:sessions?|visits?|treatments?|appointments?)"
_PAREN_COUNT = re.compile(rf"\(\s*({_NR})\s*(?:{_SESSION_UNITS})?\s*\)", _I)
_COUNT_UNIT = re.compile(rf"(?<![\w/.-])({_NR})\s*(?:\(\d+\)\s*)?(?:[a-z-]+\s+){{0,3}}?{_SESSION_UNITS}\b", _I)
_UNIT_COMMA_N = re.compile(rf"{_SESSION_UNITS},?\s*(?:#|x|times\s+)?\s*(\d{{1,2}})\b(?!\s*(?:times|x|/))", _I)
_FREQ_WEEKS = re.compile(
    rf"\b({_N})\s*(?:(?:x|times?|visits?|sessions?)\s*(?:a|per|/|each)?|(?:a|per|/|each))\s*(?:week|wk)\b|\b(once|twice)\s+(?:a\s+|per\s+)?(?:week|weekly)\b"
    rf"|\b({_N})\s*(?:x|times)\s*weekly\b|\b(weekly)\b", _I)
_WEEKS = re.compile(rf"(?:\bfor|\bx|\btimes|\bover)\s*({_NR})\s*(?:more\s+|additional\s+)?(weeks?|wks?|months?|days?)\b", _I)
_TIMES_N = re.compile(rf"\b({_N})\s*(?:x|times)\s*({_N})\b(?!\s*(?:a|per|/|weekly|daily|day|week|hours?|hrs?|%|mg))", _I)
_HASH = re.compile(r"#\s*(\d+(?:\.\d+)?)\s*(boxe?s?|tubes?|bottles?|patch(?:es)?|grams?|gms?|g\b|containers?|tabs?|tablets?|capsules?|caps?|units?)?", _I)
_TIMES_COUNT = re.compile(rf"(?:\btimes|\bx)\s*({_N})\b(?!\s*(?:a|per|weeks?|wks?|months?|days?|weekly|daily|%))", _I)
_AMOUNT = re.compile(
    rf"(?<![\w/.%-])({_NR})[\s-]*(?:\(\d+\)\s*)?"
    r"(grams?|gms?|gm|g|ml|milliliters?|tablets?|tabs?|capsules?|caps|patch(?:es)?|containers?|tubes?|bottles?|boxe?s?|"
    r"injections?|units?|hours?|days?|weeks?|months?|pairs?)\b(?!\s*(?:a|per)\s+(?:day|week))", _I)
_DAILY = re.compile(
    rf"\b({_N}|once|twice)\s*(?:(?:times|x)\s*(?:a|per|/)?|(?:a|per|/))\s*(?:day|daily)\b|\b(once|twice)\s+daily\b|\b(daily|nightly|at bedtime|qhs|qd|bid|tid|qid)\b"
    rf"|\bevery\s+({_NR})\s*(?:hours|hrs|h)\b", _I)
_DAILY_WORDS = {"daily": 1, "nightly": 1, "at bedtime": 1, "qhs": 1, "qd": 1, "bid": 2, "tid": 3, "qid": 4}
_REFILLS = re.compile(rf"\bwith\s+({_N}|no)\s+refills?\b|\b({_N})\s+refills?\s+of\b", _I)
_STRENGTH = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\s*%?(?:\s*[-/]\s*\d+(?:\.\d+)?\s*%?)*\s*(?:mg|mcg|µg|%|iu|meq)(?:\s*/\s*(?:\d+\s*)?(?:g|gm|ml|hr|h|mL))?(?![\w])"
    r"|(?<![\w.])\d+(?:\.\d+)?\s*/\s*(?:300|325|500|650|750)\b", _I)

_UNIT_NAMES = {
    "g": "gram", "gm": "gram", "gms": "gram", "gram": "gram", "grams": "gram",
    "ml": "ml", "milliliter": "ml", "milliliters": "ml",
    "tab": "tablet", "tabs": "tablet", "tablet": "tablet", "tablets": "tablet",
    "cap": "capsule", "caps": "capsule", "capsule": "capsule", "capsules": "capsule",
    "patch": "patch", "patches": "patch", "container": "container", "containers": "container",
    "tube": "tube", "tubes": "tube", "bottle": "bottle", "bottles": "bottle",
    "box": "box", "boxes": "box", "boxs": "box",
    "injection": "injection", "injections": "injection", "unit": "unit", "units": "unit",
    "hour": "hour", "hours": "hour", "day": "day", "days": "day", "week": "week", "weeks": "week",
    "month": "month", "months": "month", "pair": "pair", "pairs": "pair",
    "session": "session", "sessions": "session", "visit": "visit", "visits": "visit",
    "treatment": "treatment", "treatments": "treatment", "appointment": "visit", "appointments": "visit",
}


def _unit_name(found: re.Match[str] | None) -> str:
    """The unit a session-unit word names ("visits" -> visit); a session when there is none."""
    return _UNIT_NAMES.get(found.group(0).lower(), "session") if found else "session"

# --- form, kind, side ------------------------------------------------------------------

_FORMS: list[tuple[Form, re.Pattern[str]]] = [
    ("injection", re.compile(r"\binject(?:ion|able)s?\b|\bIM\b|intramuscular|\bshot\b|\binfusion\b|\bIV\b", _I)),
    ("patch", re.compile(r"\bpatch(?:es)?\b|\blidoderm\b|\bbutrans\b|\bduragesic\b|\bflector\b|\bsalonpas\b", _I)),
    ("suspension", re.compile(r"suspension|oral solution|\belixir\b|\bsyrup\b|\bliquid\b|\bsusp\b|mg\s*/\s*\d*\s*ml", _I)),
    ("topical", re.compile(r"\bcream\b|\bgel\b|ointment|lotion|topical|transdermal|\bspray\b|liniment|roll-?on|\bapply\b|\brub\b"
                           r"|\d\s*%|\bcompound(?:ed)?\b", _I)),
    ("oral", re.compile(r"\btab(?:let)?s?\b|\bcap(?:sule)?s?\b|\bp\.?o\.?\b|by mouth|\borally\b|\boral\b|\b(?:ER|XR|DR|SR|CR|XL)\b", _I)),
]
_ADDITIONAL = re.compile(r"\badditional\b|\bmore\b|\bextra\b|\bfurther\b|\bextension\b", _I)
_CONTINUED = re.compile(r"\bcontinu(?:e|ed|ing|ation)\b|\brefills?\s+of\b|\bongoing\b|\brenew(?:al|ed)?\b", _I)
_INITIAL = re.compile(r"\binitial\b|\btrial\b|\bfirst\b|\bevaluat(?:e|ion) and treat", _I)
_RETRO = re.compile(r"\bretro(?:spective(?:ly)?|active)?\b|\bDOS\b|date of service|\bdispensed\b", _I)
_DOS = re.compile(r"(?:\bDOS\b|date of service|dispensed(?: on)?|retrospective(?:ly)?(?: request)?(?: for)?[^()]{0,80}?)"
                  r"\s*:?\s*\(?\s*(\d{1,2})/(\d{1,2})/(\d{2,4})", _I)
_SIDES = re.compile(r"\b(bilateral(?:ly)?|both|b/l|left|right|lt|rt|L(?=\s+(?:knee|shoulder|hip|wrist|hand|elbow|ankle|foot))"
                    r"|R(?=\s+(?:knee|shoulder|hip|wrist|hand|elbow|ankle|foot))|RUE|LUE|RLE|LLE|BUE|BLE)\b", _I)
_SIDE_OF = {"bilateral": "bilateral", "bilaterally": "bilateral", "both": "bilateral", "b/l": "bilateral",
            "left": "left", "lt": "left", "l": "left", "lue": "left", "lle": "left",
            "right": "right", "rt": "right", "r": "right", "rue": "right", "rle": "right",
            "bue": "bilateral", "ble": "bilateral"}
_PREFIX = re.compile(r"^\s*(?:(?:retrospective(?: request)?(?: for)?|associated surgical services?|prospective(?: request)?(?: for)?"
                     r"|post-?op(?:erative)?|pre-?op(?:erative)?|additional|continued?|continuation(?: of| for)?|purchase of(?: an?)?)"
                     r"\b[\s:,-]*)+", _I)


def _side(text: str) -> Side | None:
    found = [_SIDE_OF[m.group(1).lower()] for m in _SIDES.finditer(text)]
    if not found:
        return None
    if "bilateral" in found:
        return "bilateral"
    return found[0]  # type: ignore[return-value]


def _kind(text: str) -> tuple[Kind, bool, date | None]:
    retro = bool(_RETRO.search(text))
    when = None
    m = _DOS.search(text)
    if m:
        month, day, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        year = year + 2000 if year < 100 else year
        try:
            when = date(year, month, day)
        except ValueError:
            when = None
    if _ADDITIONAL.search(text):
        kind: Kind = "additional"
    elif _CONTINUED.search(text):
        kind = "continued"
    elif _INITIAL.search(text):
        kind = "initial"
    elif retro:
        kind = "retrospective"
    else:
        kind = "unspecified"
    return kind, retro, when


def _per_day(m: re.Match[str]) -> float:
    tok = m.group(1) or m.group(2)
    if tok:
        return _num(tok) if tok[0].isdigit() else float(_WORDS[tok.lower()])
    if m.group(3):
        return float(_DAILY_WORDS[m.group(3).lower()])
    return 24.0 / max(_num(m.group(4)), 1.0)


def _weeks_of(n: float, unit: str) -> int:
    unit = unit.lower()
    if unit.startswith("month"):
        return int(round(n * 4.33))
    if unit.startswith("day"):
        return max(1, math.ceil(n / 7))
    return int(round(n))


def _strip_dos(text: str) -> str:
    return re.sub(r"\(?\s*(?:DOS|date of service)\s*:?\s*\d{1,2}/\d{1,2}/\d{2,4}\s*\)?", " ", text, flags=_I)


def _amounts(text: str, is_drug: bool, form: Form | None) -> dict:
    """Quantity, unit, frequency, weeks and sessions of one portion's text."""
    text = _strip_dos(text)
    out: dict = {"quantity": None, "unit": None, "frequency_per_week": None, "weeks": None, "sessions": None}
    # frequency per week (therapy) or per day (drugs, home aide hours)
    fm = _FREQ_WEEKS.search(text)
    if fm:
        tok = fm.group(1) or fm.group(2) or fm.group(3)
        out["frequency_per_week"] = 1.0 if fm.group(4) and not tok else _num(tok)
    dm = _DAILY.search(text)
    if dm and out["frequency_per_week"] is None:
        out["frequency_per_week"] = round(_per_day(dm) * 7, 2)
    wm = _WEEKS.search(text)
    if wm:
        out["weeks"] = _weeks_of(_num(wm.group(1)), wm.group(2))
    # "2x6", "two times four visits": frequency x weeks when no per-week wording
    tm = _TIMES_N.search(text)
    if tm and out["frequency_per_week"] is None and not is_drug:
        out["frequency_per_week"] = _num(tm.group(1))
        if out["weeks"] is None:
            out["weeks"] = _int(tm.group(2))
    # explicit counts
    count = None
    unit = None
    pm = _PAREN_COUNT.search(text)
    cm = _COUNT_UNIT.search(text)
    um = _UNIT_COMMA_N.search(text)
    if pm:
        count = _int(pm.group(1))
        unit = "session"
    elif cm:
        count = _int(cm.group(1))
        unit = _unit_name(re.search(_SESSION_UNITS, cm.group(0), _I))
    elif um:
        count = int(um.group(1))
        unit = _unit_name(re.match(_SESSION_UNITS, um.group(0), _I))
    if count is not None and not is_drug:
        out["quantity"], out["unit"] = count, unit
        out["sessions"] = count
        return out
    # drugs, goods and other amounts
    am = _AMOUNT.search(text)
    hm = _HASH.search(text)
    if am and am.group(2).lower() in ("hour", "hours") and hm:
        am = None  # "12 hours on 12 hours off ... #1 box": the hash count is the amount
    if am and am.group(2).lower().startswith(("gram", "gm", "g", "ml", "milli")):
        out["quantity"], out["unit"] = _int(am.group(1)), _UNIT_NAMES[am.group(2).lower()]
    elif hm:
        out["quantity"] = int(float(hm.group(1)))
        if hm.group(2):
            out["unit"] = _UNIT_NAMES.get(hm.group(2).lower().rstrip("s") if hm.group(2).lower() not in _UNIT_NAMES else hm.group(2).lower())
        elif is_drug:
            out["unit"] = {"patch": "patch", "topical": "container", "suspension": "bottle", "injection": "injection"}.get(form or "", "tablet")
        elif out["frequency_per_week"] is None:
            out["unit"] = "session" if _therapy_words(text) else "unit"
    elif am:
        u = _UNIT_NAMES[am.group(2).lower()]
        if u not in ("hour",) or not is_drug:
            out["quantity"], out["unit"] = _int(am.group(1)), u
            if u in ("week", "month", "day") and out["weeks"] is None:
                out["weeks"] = _weeks_of(_num(am.group(1)), u)
    else:
        xm = _TIMES_COUNT.search(text)
        if xm and not (tm and xm.start() >= tm.start() and xm.end() <= tm.end()):
            out["quantity"] = _int(xm.group(1))
            out["unit"] = "session" if _therapy_words(text) else "unit"
    if not is_drug and out["unit"] == "session":
        out["sessions"] = out["quantity"]
    if out["sessions"] is None and not is_drug and out["frequency_per_week"] and out["weeks"] and _therapy_words(text):
        out["sessions"] = int(round(out["frequency_per_week"] * out["weeks"]))
        out["quantity"], out["unit"] = out["sessions"], "session"
    return out


_THERAPY = re.compile(r"therap|acupunct|chiropract|manipulat|sessions?|visits?|treatments?|stim|ultrasound|myofascial|"
                      r"infrared|massage|rehab|psych|counsel|biofeedback|\bPT\b|\bOT\b|\bCBT\b|exercise", _I)


def _therapy_words(text: str) -> bool:
    return bool(_THERAPY.search(text))


_QTY_WORDS = re.compile(
    rf"\s*(?:\b\d{{1,2}}\s*x\s*\d{{1,2}}\b|\(\s*{_NR}\s*(?:{_SESSION_UNITS})?\s*\)|#\s*\d+(?:\.\d+)?(?:\s*(?:boxe?s?|tubes?|grams?|gms?|tabs?|tablets?|capsules?|caps?|patch(?:es)?))?"
    rf"|(?<![\w/.-]){_NR}\s*(?:x|times?)\s*(?:a|per|/)?\s*(?:weekly|weeks?|wks?|daily|days?)?\s*(?:(?:for|x|times)\s*{_NR}\s*(?:weeks?|wks?|months?|days?))?"
    rf"|\b(?:for|x|times)\s*{_NR}\s*(?:more\s+)?(?:weeks?|wks?|months?|days?)?\b"
    rf"|(?<![\w/.-]){_NR}[\s-]*(?:sessions?|visits?|treatments?|grams?|gms?|gm|ml|tablets?|tabs?|capsules?|containers?|days?|weeks?|months?)\b(?:\s+(?:rental|supply|coverage|use|trial))?"
    rf"|\bwith\s+(?:{_N}|no)\s+refills?\b|\b(?:once|twice)\s+(?:a\s+|per\s+)?(?:day|daily|week|weekly)\b|\b(?:daily|nightly)\b"
    rf"|(?<![\w.])\d+(?:\.\d+)?\s*%?(?:\s*[-/]\s*\d+(?:\.\d+)?\s*%?)*\s*(?:mg|mcg|%)(?:\s*/\s*(?:\d+\s*)?(?:g|gm|ml))?(?![\w]))",
    _I)


_STATUS_WORDS = re.compile(r"\b(?:non-?certified|not certified|certified|authorized|approved|denied|sessions?|visits?|treatments?"
                           r"|tablets?|tabs?|units?|remaining|more|additional|of|the|and|x|times|#)\b", _I)


def _treatment_words(text: str) -> bool:
    """Whether a portion names a treatment, not only an amount and its status."""
    rest = _STATUS_WORDS.sub(" ", _QTY_WORDS.sub(" ", text))
    return bool(re.search(r"[A-Za-z]{3,}", rest))


def _treatment(text: str) -> str:
    core = _PREFIX.sub("", _strip_dos(text)) or text
    core = _QTY_WORDS.sub(" ", core)
    core = re.sub(r"^\s*(?:(?:supply|coverage|rental|use|trial)\s+)?(?:of|for)\s+", "", core, flags=_I)
    core = re.sub(r"\b(?:of|for|to|with|which|that)?\s*(?:was|were)?\s*modified\s*$", " ", core, flags=_I)
    core = re.sub(r"\b(?:of|for|to|with)\s*(?=[,.;]|$)", " ", core, flags=_I)
    core = re.sub(r"\s*,(\s*,)+", ",", core)
    core = re.sub(r"\(\s*\)", " ", core)
    return " ".join(core.split()).strip(" ,.;:-/") or " ".join(text.split())


def _drug(text: str) -> tuple[str | None, list[str], bool, bool]:
    """(first drug name, generic ingredients in order, medical food?, compound?)."""
    names = drug_names(text)
    if not names:
        return None, [], False, bool(re.search(r"\bcompound(?:ed)?\b", text, _I))
    first = names[0][2]
    ingredients: list[str] = []
    for _s, _e, name in names:
        for ingredient in ingredients_of(name):
            if ingredient not in ingredients:
                ingredients.append(ingredient)
    distinct_named = {n for _s, _e, n in names if ingredients_of(n)}
    compound = bool(re.search(r"\bcompound(?:ed)?\b", text, _I)) or (len(distinct_named) >= 2 and "%" in text)
    return first, ingredients, any(is_medical_food(n) for _s, _e, n in names), compound


def _form(text: str, drug: str | None, strength: str | None, compound: bool) -> Form | None:
    if drug is None and not compound:
        return "injection" if _FORMS[0][1].search(text) else None
    for form, rx in _FORMS:
        if rx.search(text):
            return form
    if compound:
        return "topical"
    if strength and re.search(r"mg|mcg|/\s*(?:300|325|500|650|750)\b", strength, _I):
        return "oral"  # a drug with a milligram strength and no other form named: a tablet
    return "other"


@lru_cache(maxsize=50_000)
def parse_request(text: str) -> RequestParse:
    """Read a request whole (see the module's docstring)."""
    text = " ".join((text or "").split())
    parts = partial_portions(text)
    original = authorized = disputed = None
    remainder = False
    subject = text
    if parts:
        original, authorized, disputed, remainder = parts
        subject = disputed or original or text
    # the treatment words: the disputed portion's, or the original's where the disputed
    # portion prints only an amount ("6 non-certified")
    named = subject if _treatment_words(subject) else (original or subject)
    kind, retro, when = _kind(text)
    drug, ingredients, medical_food, compound = _drug(named)
    sm = _STRENGTH.search(subject) or _STRENGTH.search(named)
    strength = " ".join(sm.group(0).split()) if sm and (drug or compound) else None
    form = _form(named, drug, strength, compound)
    therapy = _THERAPY.search(named)
    first_drug = drug_names(named)[:1]
    as_drug = (drug is not None or compound) and not (therapy and first_drug and therapy.start() < first_drug[0][0])
    amounts = _amounts(subject, as_drug, form)
    if parts and disputed and amounts["quantity"] is None and amounts["sessions"] is None:
        # "(6 certified, 6 non-certified)": a bare count in the original's unit
        bare = re.match(rf"\s*#?\s*({_N})\b", disputed, _I)
        if bare:
            base = _amounts(original or text, as_drug, form)
            amounts = {**base, "quantity": _int(bare.group(1)),
                       "sessions": _int(bare.group(1)) if base["sessions"] is not None else None}
    if parts and disputed is None and original and authorized:
        # "12 visits modified to 6": the remainder is the difference when both are counts
        before = _amounts(original, as_drug, form)
        after = _amounts(authorized, as_drug, form)
        if before["quantity"] is None and before["sessions"] is None:
            before = amounts
        qb = before["sessions"] or before["quantity"]
        qa = after["sessions"] or after["quantity"]
        if after["quantity"] is None and re.fullmatch(rf"\s*#?\s*({_N})\s*", authorized, _I):
            qa = _int(re.sub(r"[#\s]", "", authorized))
        if qb is not None and qa is not None and qb > qa:
            unit = before["unit"] or after["unit"]
            amounts = {**before, "quantity": qb - qa, "sessions": (qb - qa) if before["sessions"] else None}
            disputed = f"{qb - qa} {unit}s" if unit else str(qb - qa)
        else:
            remainder = False
    refills = None
    rm = _REFILLS.search(subject)
    if rm:
        tok = rm.group(1) or rm.group(2)
        refills = 0 if tok.lower() == "no" else _int(tok)
    region_keys = _regions_of(named)
    if not region_keys and named is not text:
        region_keys = _regions_of(original or text)
    region_key = prefer_level(region_keys)
    return RequestParse(
        text=text,
        treatment=_treatment(named),
        drug=drug,
        strength=strength,
        form=form,
        ingredients=ingredients,
        medical_food=medical_food,
        compound=compound,
        refills=refills,
        kind=kind,
        retrospective=retro,
        retrospective_date=when,
        original=original,
        authorized=authorized,
        disputed=disputed,
        remainder_after_partial=remainder,
        region=region_key,
        regions=region_keys,
        side=_side(named) or (_side(original) if original else None),
        **amounts,
    )


def _regions_of(text: str) -> list[str]:
    out: list[str] = []
    for _s, _e, key in regions_in(text):
        if key not in out:
            out.append(key)
    return out


__all__ = ["RequestParse", "letter_portions", "parse_request", "partial_portions"]
