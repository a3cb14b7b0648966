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
from typing import TYPE_CHECKING

import yaml
from pydantic import Field, model_validator

from openimr.cases.intake import Application
from openimr.models import Letter, Model, ReviewerCredentials
from openimr.panel.conflicts import party_checks

if TYPE_CHECKING:
    from openimr.panel.reviewers import Reviewer

DATA = Path(__file__).parent / "data"
CODES = ("license", "certification", "experience", "active_practice", "specialty", "conflict", "workload")


class FitKind(Model):
    kind: str
    reason: str = Field(min_length=1)
    keywords: list[str]
    fits: list[str]
    only_categories: list[str] = Field(default_factory=list)
    limited_to: dict[str, list[str]] = Field(default_factory=dict)  # specialty -> the body regions it fits

    def covers(self, specialty: str, region: str | None) -> bool:
        """Whether `specialty` fits this kind in `region` (any region it is not limited in, and
        a request naming no region)."""
        return region is None or specialty not in self.limited_to or region in self.limited_to[specialty]

    def keyword_in(self, request: str) -> str | None:
        """The first of the kind's keywords the request holds (at a word's start), or None."""
        text = request.lower()
        return next((k for k in self.keywords if re.search(r"(?<![a-z])" + re.escape(k), text)), None)


class FitTable(Model):
    """data/specialty_fit.yaml: treatment kinds and the professions/specialties that fit them."""

    professions: list[str]
    physician_professions: list[str]
    aliases: dict[str, str]
    general_medicine: list[str]
    kinds: list[FitKind]
    by_category: dict[str, str] = Field(default_factory=dict)
    profession_titles: dict[str, str]

    @model_validator(mode="after")
    def _names_known(self) -> FitTable:
        from openimr.library.classify import categories

        specialties = {f for kind in self.kinds for f in kind.fits} | set(self.general_medicine)
        for alias, target in self.aliases.items():
            if target not in specialties and target not in self.professions:
                raise ValueError(f"alias {alias!r} points to {target!r}, which no kind lists")
        missing = set(self.physician_professions) - set(self.professions)
        if missing:
            raise ValueError(f"physician professions {sorted(missing)} are not professions")
        taxonomy = set(categories()) | {group for group, _label in categories().values()}  # the library's taxonomy
        names = {k.kind for k in self.kinds}
        from openimr.vocab import regions

        known_regions = {r.key for r in regions()}
        for kind in self.kinds:
            unknown = sorted(set(kind.only_categories) - taxonomy)
            if unknown:
                raise ValueError(f"kind {kind.kind!r}: only_categories {unknown} are not library categories")
            for specialty, where in kind.limited_to.items():
                if specialty not in kind.fits:
                    raise ValueError(f"kind {kind.kind!r}: limited_to names {specialty!r}, which it does not list")
                if not where or set(where) - known_regions:
                    raise ValueError(f"kind {kind.kind!r}: limited_to.{specialty}: regions {sorted(set(where) - known_regions)}"
                                     " are not body regions of openimr.vocab")
        for category, kind_name in self.by_category.items():
            if category not in taxonomy:
                raise ValueError(f"by_category: {category!r} is not a library category")
            if kind_name not in names:
                raise ValueError(f"by_category.{category}: {kind_name!r} is no kind")
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
        """The treatment kind of a request."""
        return self.placed(request)[0]

    def placed(self, request: str) -> tuple[FitKind, str]:
        """The treatment kind of a request and what placed it there: the first kind with a
        keyword in it (a kind with `only_categories` only when the precedent library's
        classifier puts the request in one of them), else the kind `by_category` names for
        the request's library category, else the catch-all."""
        from openimr.library.classify import category_label, classify

        found = classify(request)
        of = {found.category, found.category_group}
        for kind in self.kinds:
            if kind.only_categories and not of & set(kind.only_categories):
                continue
            keyword = kind.keyword_in(request)
            if keyword:
                gate = f", a {category_label(found.category).lower()} request" if kind.only_categories else ""
                return kind, f"{keyword!r} in the request{gate}"
        for category in (found.category, found.category_group):
            if category in self.by_category:
                kind = next(k for k in self.kinds if k.kind == self.by_category[category])
                return kind, f"a {category_label(found.category).lower()} request"
        return self.kinds[-1], "no kind's keyword in the request"


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
    reviewer: Reviewer
    reasons: list[dict] = field(default_factory=list)
    closeness: float = 0.0
    same_specialty: bool = False
    load: int = 0
    why: list[str] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)  # every check, passed or not, in CODES order
    fits: list[str] = field(default_factory=list)  # each item's fit: "<specialty>, the Nth fit for <kind>"

    def add(self, code: str, message: str) -> None:
        self.reasons.append({"code": code, "message": message})
        self.checks.append({"check": code, "ok": False, "detail": message})

    def passed(self, code: str, detail: str, **extra) -> None:
        self.checks.append({"check": code, "ok": True, "detail": detail, **extra})


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
        return
    held = [f"{lic.state} {lic.type or v.reviewer.profession}" + (f" to {lic.expires.isoformat()}" if lic.expires else "")
            for lic in current_licenses(v.reviewer, on)]
    where = "California" if settings.require_california_license else "any U.S. state"
    california = "California license held" if any(lic.state == "CA" for lic in current_licenses(v.reviewer, on)) \
        else "no California license (the panel's settings accept any U.S. state)"
    v.passed("license", f"current unrestricted license {', '.join(held)}; required: one in {where}; {california}"
                        " (Lab. Code 139.5(d)(4))")


def _check_practice(v: Verdict, settings: PanelSettings) -> None:
    r = v.reviewer
    if is_physician(r):
        boards = [f"{c.specialty} ({c.board})" for c in r.board_certifications if c.current]
        if boards:
            v.passed("certification", f"current board certification: {', '.join(boards)}")
        else:
            v.add("certification", "an MD/DO reviewer needs a current board certification (Lab. Code 139.5(d)(4))")
    else:
        v.passed("certification", f"not required of a {r.profession} (a non-physician reviewer of their own profession)")
    if r.years_active_practice <= settings.min_years_active_practice:
        v.add(
            "experience",
            f"{r.years_active_practice:g} years of active practice; more than {settings.min_years_active_practice:g} required",
        )
    else:
        v.passed("experience", f"{r.years_active_practice:g} years of active practice; more than "
                               f"{settings.min_years_active_practice:g} required")
    if r.hours_per_week < settings.min_hours_per_week:
        v.add(
            "active_practice",
            f"{r.hours_per_week:g} hours a week in active practice; at least {settings.min_hours_per_week:g} required",
        )
    else:
        v.passed("active_practice", f"{r.hours_per_week:g} hours a week in active practice; at least "
                                    f"{settings.min_hours_per_week:g} required")


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


Placed = tuple[str, FitKind, str, str | None]


def placements(apps: list[Application]) -> list[Placed]:
    """(request, treatment kind, what placed it there, the body region it names) of every
    disputed item of the case."""
    from openimr.vocab import find_region

    table = fit_table()
    return [(item.request, *table.placed(item.request), find_region(item.request))
            for app in apps for item in app.ur_decision.items]


def _check_specialty(v: Verdict, apps: list[Application], settings: PanelSettings,
                     placed: list[Placed] | None = None) -> None:
    table = fit_table()
    mine = fields_of(v.reviewer)
    ranks, unfit, why_fit = [], [], []
    for request, kind, because, region in placements(apps) if placed is None else placed:
        hits = [kind.fits.index(f) for f in mine if f in kind.fits and kind.covers(f, region)]
        elsewhere = [f"{f} fits it only in the {', '.join(kind.limited_to[f])}, not the {region}"
                     for f in mine if f in kind.fits and not kind.covers(f, region)]
        because += f"; {'; '.join(elsewhere)}" if elsewhere and not hits else ""
        if hits:
            ranks.append(min(hits))
            fit = kind.fits[min(hits)]
            v.why.append(f"{fit} fits {kind.kind} ({request})")
            v.fits.append(f"{fit}, the {_ordinal(min(hits) + 1)} fit for {kind.kind}")
            why_fit.append(f"{request}: {kind.kind} ({because}); {kind.reason}; {fit} is the "
                           f"{_ordinal(min(hits) + 1)} of {', '.join(kind.fits)}")
        else:
            unfit.append(f"{request} ({kind.kind}: {', '.join(kind.fits[:4])})")
            why_fit.append(f"{request}: {kind.kind} ({because}); {kind.reason}")
    if unfit:
        have = ", ".join(mine) or "no current specialty"
        v.add("specialty", f"{have}: does not fit {'; '.join(unfit)}")
        v.checks[-1].update(detail=f"{v.checks[-1]['detail']}. Why: {'; '.join(why_fit)}", kinds=why_fit)
        return
    v.closeness = sum(1.0 / (1 + r) for r in ranks) / len(ranks)
    wanted = {table.canonical(a.requesting_physician.specialty or "") for a in apps}
    v.same_specialty = bool(wanted & set(mine))
    if v.same_specialty:
        v.why.append("same specialty as the requesting physician")
    v.passed("specialty", "; ".join(why_fit) + ("; the same specialty as the requesting physician" if v.same_specialty
                                                else ""), kinds=why_fit)


def _check_conflicts(v: Verdict, apps: list[Application]) -> None:
    checks = party_checks(v.reviewer, apps)
    for check in checks:
        if check["ok"] is False:
            v.reasons.append({"code": "conflict", "message": check["detail"]})
    bad = [c for c in checks if c["ok"] is False]
    checked = [c for c in checks[:-1] if c["ok"] is not None]
    detail = ("; ".join(c["detail"] for c in bad) if bad else
              f"no tie with any of the {len(checked)} parties checked, and never treated the employee")
    v.checks.append({"check": "conflict", "ok": not bad, "detail": detail, "parties": checks})


def evaluate(reviewer, apps: list[Application], load: int, on: date, settings: PanelSettings,
             placed: list[Placed] | None = None) -> Verdict:
    """Every check of one reviewer against one case, each in `checks` with its result."""
    v = Verdict(reviewer, load=load)
    _check_license(v, on, settings)
    _check_practice(v, settings)
    _check_specialty(v, apps, settings, placed)
    _check_conflicts(v, apps)
    if load >= settings.max_open_cases:
        v.add("workload", f"{load} open cases; the limit is {settings.max_open_cases}")
    else:
        v.passed("workload", f"{load} open cases; new cases up to {settings.max_open_cases - 1}")
    return v


def score(v: Verdict, settings: PanelSettings) -> float:
    """Specialty closeness (1 = the closest fit), plus the same-specialty bonus."""
    return round(v.closeness + (settings.same_specialty_bonus if v.same_specialty else 0.0), 4)


def ahead_because(first: Verdict, second: Verdict, settings: PanelSettings) -> str:
    """Why `first` ranks above `second` (the order of `match`: score, then load, then id)."""
    mine, theirs = "; ".join(first.fits), "; ".join(second.fits)
    high, low = score(first, settings), score(second, settings)
    if high > low:
        if first.closeness > second.closeness:
            because = f"a closer specialty fit ({mine}) than {second.reviewer.id} ({theirs})"
            if second.same_specialty:
                because += f", more than {second.reviewer.id}'s same specialty as the requesting physician makes up"
        else:
            because = (f"the requesting physician's own specialty, which {second.reviewer.id} lacks ({mine} "
                       f"against {theirs})")
        return f"{because} (panel match score {high} against {low})"
    if first.load < second.load:
        return (f"the same panel match score ({high}) as {second.reviewer.id} and fewer open cases "
                f"({first.load} against {second.load})")
    return (f"the same panel match score ({high}) and open cases ({first.load}) as {second.reviewer.id}; "
            "the panel id decides the tie")


def ranking(ok: list[Verdict], verdicts: list[Verdict], settings: PanelSettings) -> dict | None:
    """Why the top eligible reviewer is ranked first: what put them ahead of the second, and
    each excluded reviewer whose specialty fits the treatment as closely or more (`passed_over`),
    with why they are excluded."""
    if not ok:
        return None
    first = ok[0]
    if len(ok) > 1:
        because = ahead_because(first, ok[1], settings)
    else:
        because = "the only eligible reviewer"
    top = score(first, settings)
    passed_over = [
        {"reviewer": v.reviewer.id, "fit": "; ".join(v.fits),
         "closer": score(v, settings) > top,
         "excluded": "; ".join(f"{r['code']}: {r['message']}" for r in v.reasons)}
        for v in sorted(verdicts, key=lambda v: (-score(v, settings), v.reviewer.id))
        if v.reasons and not any(r["code"] == "specialty" for r in v.reasons) and score(v, settings) >= top
    ]
    text = f"{first.reviewer.id} ranks first: {because}"
    for c in passed_over:
        text += (f"; {c['reviewer']} ({c['fit']}) fits {'more' if c['closer'] else 'as'} closely"
                 f" but is excluded ({c['excluded']})")
    return {"reviewer": first.reviewer.id, "second": ok[1].reviewer.id if len(ok) > 1 else None,
            "because": because, "passed_over": passed_over, "text": text}


def match(
    apps: Iterable[Application],
    reviewers: Iterable,
    loads: dict[str, int] | None = None,
    on: date | None = None,
    show_names: bool = False,
    settings: PanelSettings | None = None,
) -> dict:
    """The `panel match` object: eligible reviewers ranked, the others with every reason;
    each with every check and its result (`checks`), and `ranking`: why the first is first.

    `loads` adds cases assigned in the database to each reviewer's own `open_cases`.
    `show_names` (admin use only) adds the confidential name to each entry.
    """
    apps, settings, on, loads = list(apps), settings or panel_settings(), on or date.today(), loads or {}
    placed = placements(apps)
    verdicts = [evaluate(r, apps, r.open_cases + loads.get(r.id, 0), on, settings, placed) for r in reviewers]
    ok = sorted((v for v in verdicts if not v.reasons), key=lambda v: (-score(v, settings), v.load, v.reviewer.id))
    eligible = [
        _named(
            {
                "reviewer": v.reviewer.id,
                "score": score(v, settings),
                "why": "; ".join(v.why + [f"{v.load} open cases"]),
                "open_cases": v.load,
                "specialties": fields_of(v.reviewer),
                "checks": v.checks,
            },
            v.reviewer,
            show_names,
        )
        for v in ok
    ]
    excluded = [
        _named({"reviewer": v.reviewer.id, "reasons": v.reasons, "checks": v.checks}, v.reviewer, show_names)
        for v in sorted(verdicts, key=lambda v: v.reviewer.id)
        if v.reasons
    ]
    return {"eligible": eligible, "excluded": excluded, "ranking": ranking(ok, verdicts, settings)}


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
