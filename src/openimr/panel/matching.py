"""Matching a case to the expert reviewer panel, and the letter's credentials block.

Each reviewer is either eligible, with a score, or excluded with every reason (codes:
license, certification, experience, active_practice, specialty, conflict, workload).
Ranking prefers the closest specialty for the disputed treatment (data/specialty_fit.yaml),
then the same specialty as the requesting physician, then the lightest load.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import model_validator

from openimr.cases.intake import Application
from openimr.models import Letter, Model, ReviewerCredentials
from openimr.panel.conflicts import conflicts

DATA = Path(__file__).parent / "data"
CODES = ("license", "certification", "experience", "active_practice", "specialty", "conflict", "workload")


class FitKind(Model):
    kind: str
    keywords: list[str]
    fits: list[str]


class FitTable(Model):
    """data/specialty_fit.yaml: treatment kinds and the professions/specialties that fit them."""

    professions: list[str]
    physician_professions: list[str]
    aliases: dict[str, str]
    general_medicine: list[str]
    kinds: list[FitKind]
    profession_titles: dict[str, str]

    @model_validator(mode="after")
    def _names_known(self) -> FitTable:
        specialties = {f for kind in self.kinds for f in kind.fits} | set(self.general_medicine)
        for alias, target in self.aliases.items():
            if target not in specialties and target not in self.professions:
                raise ValueError(f"alias {alias!r} points to {target!r}, which no kind lists")
        missing = set(self.physician_professions) - set(self.professions)
        if missing:
            raise ValueError(f"physician professions {sorted(missing)} are not professions")
        return self

    def canonical(self, name: str) -> str:
        """The canonical spelling of a profession or specialty."""
        key = " ".join(name.lower().split())
        if key in self.aliases:
            return self.aliases[key]
        for known in self.professions:
            if known.lower() == key:
                return known
        for kind in self.kinds:
            for fit in kind.fits:
                if fit.lower() == key:
                    return fit
        return name.strip()

    def kind_of(self, request: str) -> FitKind:
        """The treatment kind of a request (the first kind with a keyword in it)."""
        text = request.lower()
        for kind in self.kinds:
            if any(re.search(r"(?<![a-z])" + re.escape(k), text) for k in kind.keywords):
                return kind
        return self.kinds[-1]


@lru_cache(maxsize=1)
def fit_table() -> FitTable:
    """The specialty-fit table, validated."""
    path = DATA / "specialty_fit.yaml"
    from openimr.vocab.data import load

    table = load(path.name, FitTable, path, ValueError, "file")
    if not table.kinds or table.kinds[-1].keywords:
        raise ValueError(f"{path}: the last kind must be the catch-all (no keywords)")
    return table


class PanelEntry(Model):
    value: int | float | bool
    tag: str
    source: str
    meaning: str


class PanelSettings(Model):
    min_years_active_practice: float
    min_hours_per_week: float
    require_california_license: bool
    max_open_cases: int
    same_specialty_bonus: float


@lru_cache(maxsize=1)
def panel_settings() -> PanelSettings:
    """data/panel.yaml, validated."""
    raw = yaml.safe_load((DATA / "panel.yaml").read_text(encoding="utf-8"))
    entries = {name: PanelEntry.model_validate(entry) for name, entry in raw.items()}
    return PanelSettings.model_validate({name: e.value for name, e in entries.items()})


def is_physician(reviewer) -> bool:
    return reviewer.profession in fit_table().physician_professions


def fields_of(reviewer) -> list[str]:
    """What a reviewer is qualified in: current board specialties (MD/DO) or the profession."""
    table = fit_table()
    if is_physician(reviewer):
        return [table.canonical(c.specialty) for c in reviewer.board_certifications if c.current]
    return [reviewer.profession]


def current_licenses(reviewer, on: date) -> list:
    """Unrestricted licenses not expired on `on`."""
    return [lic for lic in reviewer.licenses if lic.unrestricted and (lic.expires is None or lic.expires >= on)]


@dataclass
class Verdict:
    reviewer: object
    reasons: list[dict] = field(default_factory=list)
    closeness: float = 0.0
    same_specialty: bool = False
    load: int = 0
    why: list[str] = field(default_factory=list)

    def add(self, code: str, message: str) -> None:
        self.reasons.append({"code": code, "message": message})


def license_problem(reviewer, on: date, settings: PanelSettings | None = None) -> str | None:
    """Why the reviewer holds no licence that lets them review (None when they do): no
    current unrestricted licence (in California, where the panel's settings require it)."""
    settings = settings or panel_settings()
    valid = current_licenses(reviewer, on)
    if settings.require_california_license:
        valid = [lic for lic in valid if lic.state == "CA"]
    if valid:
        return None
    where = "California" if settings.require_california_license else "any U.S. state"
    problems = [
        f"{lic.state} {'restricted' if not lic.unrestricted else 'expired ' + lic.expires.isoformat()}"
        for lic in reviewer.licenses
        if not lic.unrestricted or (lic.expires and lic.expires < on)
    ]
    detail = f" ({'; '.join(problems)})" if problems else ""
    return f"no current unrestricted license in {where}{detail} (Lab. Code 139.5(d)(4))"


def _check_license(v: Verdict, on: date, settings: PanelSettings) -> None:
    problem = license_problem(v.reviewer, on, settings)
    if problem:
        v.add("license", problem)


def _check_practice(v: Verdict, settings: PanelSettings) -> None:
    r = v.reviewer
    if is_physician(r) and not any(c.current for c in r.board_certifications):
        v.add("certification", "an MD/DO reviewer needs a current board certification (Lab. Code 139.5(d)(4))")
    if r.years_active_practice <= settings.min_years_active_practice:
        v.add(
            "experience",
            f"{r.years_active_practice:g} years of active practice; more than {settings.min_years_active_practice:g} required",
        )
    if r.hours_per_week < settings.min_hours_per_week:
        v.add(
            "active_practice",
            f"{r.hours_per_week:g} hours a week in active practice; at least {settings.min_hours_per_week:g} required",
        )


def _check_specialty(v: Verdict, apps: list[Application], settings: PanelSettings) -> None:
    table = fit_table()
    mine = fields_of(v.reviewer)
    ranks, unfit = [], []
    for app in apps:
        for item in app.ur_decision.items:
            kind = table.kind_of(item.request)
            hits = [kind.fits.index(f) for f in mine if f in kind.fits]
            if hits:
                ranks.append(min(hits))
                v.why.append(f"{kind.fits[min(hits)]} fits {kind.kind} ({item.request})")
            else:
                unfit.append(f"{item.request} ({kind.kind}: {', '.join(kind.fits[:4])})")
    if unfit:
        have = ", ".join(mine) or "no current specialty"
        v.add("specialty", f"{have}: does not fit {'; '.join(unfit)}")
        return
    v.closeness = sum(1.0 / (1 + r) for r in ranks) / len(ranks)
    wanted = {table.canonical(a.requesting_physician.specialty or "") for a in apps}
    v.same_specialty = bool(wanted & set(mine))
    if v.same_specialty:
        v.why.append("same specialty as the requesting physician")


def evaluate(reviewer, apps: list[Application], load: int, on: date, settings: PanelSettings) -> Verdict:
    """Every check of one reviewer against one case."""
    v = Verdict(reviewer, load=load)
    _check_license(v, on, settings)
    _check_practice(v, settings)
    _check_specialty(v, apps, settings)
    for message in conflicts(reviewer, apps):
        v.add("conflict", message)
    if load >= settings.max_open_cases:
        v.add("workload", f"{load} open cases; the limit is {settings.max_open_cases}")
    return v


def score(v: Verdict, settings: PanelSettings) -> float:
    """Specialty closeness (1 = the closest fit), plus the same-specialty bonus."""
    return round(v.closeness + (settings.same_specialty_bonus if v.same_specialty else 0.0), 4)


def match(
    apps: Iterable[Application],
    reviewers: Iterable,
    loads: dict[str, int] | None = None,
    on: date | None = None,
    show_names: bool = False,
    settings: PanelSettings | None = None,
) -> dict:
    """The `panel match` object: eligible reviewers ranked, the others with every reason.

    `loads` adds cases assigned in the database to each reviewer's own `open_cases`.
    `show_names` (admin use only) adds the confidential name to each entry.
    """
    apps, settings, on, loads = list(apps), settings or panel_settings(), on or date.today(), loads or {}
    verdicts = [evaluate(r, apps, r.open_cases + loads.get(r.id, 0), on, settings) for r in reviewers]
    ok = sorted((v for v in verdicts if not v.reasons), key=lambda v: (-score(v, settings), v.load, v.reviewer.id))
    eligible = [
        _named(
            {
                "reviewer": v.reviewer.id,
                "score": score(v, settings),
                "why": "; ".join(v.why + [f"{v.load} open cases"]),
                "open_cases": v.load,
                "specialties": fields_of(v.reviewer),
            },
            v.reviewer,
            show_names,
        )
        for v in ok
    ]
    excluded = [
        _named({"reviewer": v.reviewer.id, "reasons": v.reasons}, v.reviewer, show_names)
        for v in sorted(verdicts, key=lambda v: v.reviewer.id)
        if v.reasons
    ]
    return {"eligible": eligible, "excluded": excluded}


def _named(entry: dict, reviewer, show: bool) -> dict:
    return entry | {"name": reviewer.name} if show else entry


def credentials(reviewer, on: date | None = None, organization: str | None = None) -> ReviewerCredentials:
    """The letter's block on the expert reviewer, from the panel record (never the name)."""
    from openimr.panel.reviewers import states

    on = on or date.today()
    settings = panel_settings()
    names = states()
    licensure = list(dict.fromkeys(names[lic.state] for lic in current_licenses(reviewer, on)))
    table = fit_table()
    if is_physician(reviewer):
        specialties = [c.specialty for c in reviewer.board_certifications if c.current]
    else:
        specialties = [table.profession_titles.get(reviewer.profession, reviewer.profession.title())]
    organization = organization or Letter.model_fields["review_organization"].default
    years = int(reviewer.years_active_practice)
    return ReviewerCredentials(licensure=licensure, specialties=specialties, years_in_practice=years,
                               statement=statement(settings, organization))


def statement(settings: PanelSettings, organization: str) -> str:
    """How the determination was made: the review organization's standard account, in our words."""
    return (
        f"{organization} sent the whole case file to an expert reviewer who has no "
        "professional, family or financial tie to the employer, the employee, the treating "
        "providers or the claims administrator. The reviewer has practised clinically for more "
        f"than {settings.min_years_active_practice:g} years and still practises at least "
        f"{settings.min_hours_per_week:g} hours a week. The reviewer was chosen for clinical "
        "experience, training and expertise in the same or a similar specialty to those that "
        "evaluate or treat the condition and the disputed items, and knows the laws and "
        "regulations that govern Independent Medical Review, including its hierarchy of medical evidence."
    )
