"""The knowledge base: guideline entries (one data file per guideline topic) and the matcher
that tells which entry a disputed item falls under.

Every file in `guidelines/` is validated at load by the pydantic models below; so are the
fact catalogue (`data/facts.yaml`) and the request categories (`data/categories.yaml`: the
engine's categories as refinements of the precedent library's taxonomy, so one classifier decides
what a request is).
Entry selection follows the MTUS evidence search sequence (8 CCR 9792.21.1): an MTUS entry
that addresses the category and body region wins; a non-MTUS entry (ODG, later ACOEM) is
used only when no MTUS entry does, and it states why the MTUS was left (`mtus_gap`).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from openimr.engine.models import EvidenceStep
from openimr.models import Citation, GuidelineReference

HERE = Path(__file__).parent
GUIDELINES_DIR = HERE / "guidelines"
DATA_DIR = HERE / "data"


class KBError(ValueError):
    """A knowledge-base data file is missing or invalid (message names the file)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_regexes(patterns: list[str]) -> list[str]:
    for p in patterns:
        try:
            re.compile(p)
        except re.error as exc:
            raise ValueError(f"bad pattern {p!r}: {exc}") from exc
    return patterns


class FactSpec(_Strict):
    """One clinical fact the criteria ask about, and how it is phrased in records."""

    label: str
    patterns: list[str] = Field(min_length=1)
    # objective: a finding that counts only where the examination reports it (not a complaint);
    # regional: a finding that belongs to a body region (bound to the request's region);
    # neural: a regional finding that also counts for the spinal region supplying the limb.
    objective: bool = False
    regional: bool = False
    neural: bool = False
    # unless: a mention is not this fact when its clause, up to the mention's end, matches one of
    # these (an MRI ordered "to rule out a tear" reports no tear)
    unless: list[str] = Field(default_factory=list)

    _v = field_validator("patterns", "unless")(_check_regexes)


class Criterion(_Strict):
    """A criterion of an entry, as a structured fact in OpenIMR's own words.

    `fact` must be present (or absent, with `expect: absent`) for the criterion to be met;
    `also` lists facts that count the same as `fact`; `against` lists facts whose affirmed
    presence makes the criterion not met. `role`: required (all must be met), sufficient
    (met alone suffices, e.g. a red flag) or supporting (informs the probability only).
    """

    id: str
    text: str
    fact: str
    expect: Literal["present", "absent"] = "present"
    role: Literal["required", "sufficient", "supporting"] = "required"
    also: list[str] = Field(default_factory=list)
    against: list[str] = Field(default_factory=list)


TESTS = (
    "always",  # holds for every item of the entry (a treatment the guideline does not recommend)
    # what the request says (its form)
    "remainder_after_partial",  # the disputed part is what is left after UR authorized a part
    "duplicate_request",  # the same request appears earlier in the application
    "same_class_twice",  # another disputed item of the application is a drug of the same category
    "no_quantity",  # a drug or supply request with no quantity, duration or supply length
    "request_matches",  # the request text matches one of `values` (regular expressions)
    "form_is",  # the drug's form is one of `values` (oral, topical, suspension, patch, injection)
    "ingredient_not_recommended",  # a listed ingredient of a compound is not recommended topically
    "ingredients_all_recommended",  # every ingredient read is a recommended topical ingredient
    "drug_in",  # the drug named (or one of its ingredients) is one of `values` (lower-case names)
    "medical_food",  # the request is for a medical food
    "kind_is",  # initial / additional / continued / retrospective / unspecified, one of `values`
    "region_in",  # the request's body region is one of `values` (region keys)
    # arithmetic of sessions
    "requested_over",  # more than `value` visits requested
    "requested_at_most",  # the visits requested are known and at most `value`
    "total_over",  # visits already completed plus requested exceed `value`
    "total_at_most",  # visits completed and requested are both known and add up to at most `value`
    # the statutory cap (Labor Code 4604.5): visits of the request's own discipline (physical therapy,
    # occupational therapy, chiropractic) completed on this injury, as the records count them, plus
    # those requested, exceed `value`
    "discipline_total_over",
    "prior_course",  # the treatment history shows visits of this therapy done, or the request continues a course
    "no_prior_course",  # neither
    "therapy_given",  # the treatment history reports one of `values` (physical_therapy, chiropractic, acupuncture, psych) given
    # timing
    "weeks_since_injury_over",  # more than `value` weeks from injury to the UR decision
    "weeks_since_injury_under",  # fewer than `value` weeks from injury to the UR decision
    "injury_on_or_after",  # the date of injury is known and on or after `values[0]` (an ISO date, e.g. 2004-01-01)
    "surgery_within_months",  # the treatment history shows a surgery within `value` months before the UR decision, or one of no stated date
    "long_term_use",  # the drug (or its class) is already in use for weeks or months
    "drug_taken",  # the treatment history shows one of `values` (generic drug names) taken
    "class_taken",  # the treatment history shows a drug of the requested drug's category taken (the drug itself or another of its class)
    "drug_continued",  # the requested drug itself (or one of its ingredients, or one of its class) was taken before: a continuation, not a first trial
    "phase_is",  # the phase of care is one of `values`: acute (< 4 weeks from injury to UR), subacute (4-12), chronic (> 12, or the records call the pain chronic)
    # what the records show
    "fact_present",  # `fact` (or one of `values`) affirmed in the records
    "fact_absent",  # `fact` (and each of `values`) not affirmed in the records
    "surgery_not_overturned",  # an item serving a surgery whose surgery is not found necessary
    "surgery_overturned",  # an item serving a surgery that is found necessary
    "surgery_matches",  # the surgery disputed in the same application matches one of `values` (regular expressions)
    "opioid_with_it",  # an opioid requested in the same application is found necessary, or (none requested) one is in use
    "opioid_denied",  # the opioid requested in the same application is not found necessary
    "nsaid_with_it",  # an NSAID requested in the same application is found necessary
    "nsaid_denied",  # the NSAID requested in the same application is not found necessary
    # the worker
    "age_under",  # the worker's age (as the records state it) is known and under `value`
)


class Condition(_Strict):
    """One test of a rule (see TESTS for what each test reads)."""

    test: Literal[TESTS]  # type: ignore[valid-type]
    value: float | None = None
    values: list[str] = Field(default_factory=list)
    fact: str | None = None
    negate: bool = False  # the condition holds when the test does not (e.g. no such drug taken)

    @model_validator(mode="after")
    def _has_arguments(self) -> Condition:
        needs_value = {"requested_over", "requested_at_most", "total_over", "total_at_most", "discipline_total_over",
                       "weeks_since_injury_over", "weeks_since_injury_under", "age_under", "surgery_within_months"}
        needs_values = {"request_matches", "form_is", "drug_in", "kind_is", "region_in", "surgery_matches", "therapy_given",
                        "phase_is", "drug_taken", "injury_on_or_after"}
        if self.test in needs_value and self.value is None:
            raise ValueError(f"test {self.test!r} needs a value")
        if self.test in needs_values and not self.values:
            raise ValueError(f"test {self.test!r} needs values")
        if self.test in {"fact_present", "fact_absent"} and not (self.fact or self.values):
            raise ValueError(f"test {self.test!r} needs a fact")
        if self.test in {"request_matches", "surgery_matches"}:
            _check_regexes(self.values)
        if self.test == "injury_on_or_after":
            import datetime

            try:
                datetime.date.fromisoformat(self.values[0])
            except ValueError as exc:
                raise ValueError(f"test 'injury_on_or_after' needs an ISO date, got {self.values[0]!r}") from exc
        return self


class Rule(_Strict):
    """An explicit decision rule of an entry, read top to bottom: the first rule whose
    conditions all hold decides the item. `firm` marks rules a reviewer applies without
    weighing (a compound with a not-recommended ingredient, a remainder after a partial
    authorization): their items are drafted as `clear`. `text` is the deciding criterion in
    plain words, as the rationale states it; `{requested}`, `{completed}`, `{total}` and
    `{course}` are filled with the arithmetic of the item."""

    id: str
    when: list[Condition] = Field(min_length=1)
    decision: Literal["Upheld", "Overturned"]
    firm: bool = False
    text: str = Field(min_length=1)
    section: str | None = None  # the guideline section this rule comes from, when narrower than the entry's


class DiagnosisCourse(_Strict):
    """How a rule's text names the course for a diagnosis: the first whose conditions all hold
    on the item gives `{course}` its words ("8-10 visits over 4 weeks for neuralgia, neuritis or
    radiculitis")."""

    when: list[Condition] = Field(min_length=1)
    words: str = Field(min_length=1)


class Course(_Strict):
    """The guideline's course of a therapy, in visits (or, for a day programme, full-day
    sessions): a first trial, the usual course, and the most allowed with documented objective
    functional improvement. `words` names the course in a rule's text (`{course}`) when none of
    `by_diagnosis` holds; without it the text says "<course> visits"."""

    trial: int | None = None
    course: int
    most: int | None = None
    unit: Literal["visits", "days"] = "visits"
    words: str | None = None
    by_diagnosis: list[DiagnosisCourse] = Field(default_factory=list)


class Entry(_Strict):
    """A guideline recommendation for one treatment category and body region."""

    id: str
    category: str
    regions: list[str] = Field(min_length=1)
    # procedure entries (e.g. a carpal tunnel release within hand surgery): the entry takes only
    # requests matching one of these patterns, and takes them before the category's general entry
    requests: list[str] = Field(default_factory=list)
    # routed entries (e.g. nerve studies for a suspected entrapment, ACOEM ch. 11, rather than the
    # Chronic Pain guideline's general section): the entry takes an item of its category and region
    # only when all these conditions hold on the item (its diagnosis, the weeks since injury), and
    # then before the category's other entries of the same scope
    route: list[Condition] = Field(default_factory=list)
    # a routed entry may name the entries that do not address the items it takes (the Chronic Pain
    # guideline's physical medicine, written for chronic pain, for a sprain in the subacute phase):
    # when its route holds they give way to it, even an MTUS entry (the search sequence goes on to
    # the next step where the MTUS is silent; `mtus_gap` says why)
    displaces: list[str] = Field(default_factory=list)
    title: str | None = None
    sections: list[str] = Field(default_factory=list)
    pages: list[str] = Field(default_factory=list)
    summary: str
    mtus_gap: str | None = None
    not_recommended_when: list[str] = Field(default_factory=list)
    course: Course | None = None
    rules: list[Rule] = Field(default_factory=list)
    criteria: list[Criterion] = Field(min_length=1)

    _v = field_validator("requests")(_check_regexes)

    @model_validator(mode="after")
    def _displaces_needs_route(self) -> Entry:
        if self.displaces and not self.route:
            raise ValueError(f"entry {self.id}: only a routed entry (route) may displace others")
        return self


class GuidelineHead(_Strict):
    """The guideline a knowledge-base file belongs to: `key` names a guideline of the one
    registry (openimr.vocab, vocab/guidelines.yaml), which gives its scope, the name drafts print
    (for the MTUS the name letters print after "MTUS", otherwise the full title), its ACOEM
    chapter and its year. A head may still state scope/name/year/chapter; they must agree with
    the registry (a head without `key` is found by its name)."""

    id: str
    key: str | None = None
    scope: Literal["MTUS", "non-MTUS"] | None = None
    name: str | None = None
    year: int | None = None
    chapter: int | None = None

    @model_validator(mode="after")
    def _from_registry(self) -> GuidelineHead:
        from openimr.vocab.guidelines import by_name, guideline, guidelines

        g = guideline(self.key) if self.key else (
            by_name(self.name, self.scope) or next((x for x in guidelines() if x.title == self.name), None))
        if g is None:
            raise ValueError(f"guideline {self.key or self.name!r} is not in the guideline registry (vocab/guidelines.yaml)")
        printed_name = g.name if g.scope == "MTUS" and g.name else g.title
        for field, want in (("scope", g.scope), ("chapter", g.acoem_chapter)):
            have = getattr(self, field)
            if have is not None and have != want:
                raise ValueError(f"guideline {g.key}: {field} {have!r} disagrees with the registry's {want!r}")
        object.__setattr__(self, "key", g.key)
        object.__setattr__(self, "scope", g.scope)
        object.__setattr__(self, "name", self.name if self.name in (g.name, g.title, *g.aliases) and self.name else printed_name)
        object.__setattr__(self, "chapter", g.acoem_chapter)
        if self.year is None and "year" not in self.model_fields_set:
            object.__setattr__(self, "year", g.year)
        return self


class GuidelineFile(_Strict):
    """One knowledge-base data file: a guideline topic and its entries."""

    guideline: GuidelineHead
    entries: list[Entry] = Field(min_length=1)

    @model_validator(mode="after")
    def _non_mtus_says_why(self) -> GuidelineFile:
        if self.guideline.scope == "non-MTUS":
            for e in self.entries:
                if not e.mtus_gap:
                    raise ValueError(f"entry {e.id}: a non-MTUS entry must say why it leaves the MTUS (mtus_gap)")
        return self


class CategoryRule(_Strict):
    category: str
    patterns: list[str] = Field(min_length=1)
    _v = field_validator("patterns")(_check_regexes)


class LibraryScope(_Strict):
    """Engine categories allowed within one library category: refinement rules tried in
    order, else the default (None: no engine category)."""

    refine: list[str] = Field(default_factory=list)
    default: str | None = None


class CategoriesFile(_Strict):
    """The engine's categories as refinements of the precedent library's taxonomy."""

    within: dict[str, LibraryScope]
    rules: list[CategoryRule]

    @model_validator(mode="after")
    def _scopes_are_complete(self) -> CategoriesFile:
        from openimr.library.classify import categories as library_categories

        library = set(library_categories())
        if set(self.within) != library:
            missing, unknown = sorted(library - set(self.within)), sorted(set(self.within) - library)
            raise ValueError(f"within must name every library category: missing {missing}, unknown {unknown}")
        ruled = {r.category for r in self.rules}
        for key, scope in self.within.items():
            for name in scope.refine:
                if name != "*" and name not in ruled:
                    raise ValueError(f"within.{key}.refine: {name!r} has no rule")
        return self


class FactsFile(_Strict):
    facts: dict[str, FactSpec]


@dataclass(frozen=True)
class KBEntry:
    """An entry with the guideline it belongs to."""

    guideline: GuidelineHead
    entry: Entry

    @property
    def mtus(self) -> bool:
        return self.guideline.scope == "MTUS"

    @property
    def evidence_step(self) -> tuple[int, EvidenceStep]:
        """The step of the evidence search sequence (8 CCR 9792.21.1) the entry stands at, and
        its name: the MTUS; ACOEM or ODG outside it; other nationally recognized guidelines."""
        if self.mtus:
            return 1, "MTUS"
        if self.guideline.key in ("odg", "acoem-non-mtus"):
            return 2, "ACOEM/ODG"
        return 3, "other guidelines"


@dataclass
class KnowledgeBase:
    """All guideline entries, the facts catalogue and the request categories."""

    entries: list[KBEntry]
    facts: dict[str, FactSpec]
    categories: CategoriesFile

    def categories_covered(self) -> set[str]:
        """Treatment categories with at least one entry."""
        return {e.entry.category for e in self.entries}


def _load_yaml(path: Path, model: type[BaseModel]):
    """One data file, validated; KBError naming the file and the first bad field."""
    from openimr.vocab.data import load

    return load(path.name, model, path, error=KBError)


def load_kb(guidelines_dir: Path | None = None, data_dir: Path | None = None) -> KnowledgeBase:
    """Load and validate the knowledge base; raise KBError naming the bad file and field."""
    gdir = guidelines_dir or GUIDELINES_DIR
    ddir = data_dir or DATA_DIR
    facts = _load_yaml(ddir / "facts.yaml", FactsFile).facts
    cats = _load_yaml(ddir / "categories.yaml", CategoriesFile)
    entries: list[KBEntry] = []
    seen: set[str] = set()
    files = sorted(gdir.glob("*.yaml"))
    if not files:
        raise KBError(f"{gdir}: no guideline data files")
    for path in files:
        gf = _load_yaml(path, GuidelineFile)
        for e in gf.entries:
            if e.id in seen:
                raise KBError(f"{path}: entries.{e.id}: duplicate entry id")
            seen.add(e.id)
            for c in e.criteria:
                for f in [c.fact, *c.also, *c.against]:
                    if f not in facts:
                        raise KBError(f"{path}: entries.{e.id}.criteria.{c.id}: unknown fact {f!r}")
            for r in e.rules:
                _check_rule_facts(r, facts, f"{path}: entries.{e.id}.rules.{r.id}")
            _check_conditions(e.route, facts, f"{path}: entries.{e.id}.route")
            for i, d in enumerate(e.course.by_diagnosis if e.course else []):
                _check_conditions(d.when, facts, f"{path}: entries.{e.id}.course.by_diagnosis[{i}]")
            entries.append(KBEntry(gf.guideline, e))
    for kbe in entries:
        for other in kbe.entry.displaces:
            if other not in seen:
                raise KBError(f"entries.{kbe.entry.id}.displaces: unknown entry {other!r}")
    return KnowledgeBase(entries, facts, cats)


def _check_rule_facts(rule: Rule, facts: dict, where: str) -> None:
    _check_conditions(rule.when, facts, where)


def _check_conditions(conditions: list[Condition], facts: dict, where: str) -> None:
    for cond in conditions:
        if cond.test in {"fact_present", "fact_absent"}:
            for f in [cond.fact, *cond.values] if cond.fact else cond.values:
                if f not in facts:
                    raise KBError(f"{where}: unknown fact {f!r}")


@lru_cache(maxsize=1)
def default_kb() -> KnowledgeBase:
    """The packaged knowledge base (loaded once)."""
    return load_kb()


@lru_cache(maxsize=4096)
def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def classify_request(request: str, kb: KnowledgeBase | None = None) -> str | None:
    """The engine category of a request, or None: the precedent library's classification
    (one taxonomy for the library and the engine), refined within that library category by
    the first matching rule, else the library category's default."""
    from openimr.library.classify import classify

    kb = kb or default_kb()
    scope = kb.categories.within[classify(request).category]
    allowed = set(scope.refine)
    for rule in kb.categories.rules:
        if ("*" in allowed or rule.category in allowed) and any(_rx(p).search(request) for p in rule.patterns):
            return rule.category
    return scope.default


def find_region(text: str, kb: KnowledgeBase | None = None) -> str | None:
    """The body region named first in `text` (a key of the one region set, openimr.vocab), or None."""
    from openimr.vocab import find_region as vocab_find_region

    return vocab_find_region(text)


def odg_chapter(region: str | None, kb: KnowledgeBase | None = None) -> str:
    """The ODG chapter name of a body region ("Pain" when unknown)."""
    from openimr.vocab import region as region_of

    r = region_of(region)
    return r.odg if r else "Pain"


@dataclass(frozen=True)
class Match:
    """The entry a request falls under, and why."""

    category: str | None
    region: str | None
    kb_entry: KBEntry | None
    left_mtus_because: str | None = None


def _region_fits(entry: Entry, region: str | None, request: str = "") -> int:
    """3: a procedure entry (`requests`) whose pattern the request matches, in a region it
    covers (or the request names none); 2: the entry names the region or one it falls under
    (vocab regions' covered_by: an arm under the neck's entries, a foot under the ankle's);
    1: the entry covers any region; 0: no fit (also a procedure entry the request does not match)."""
    from openimr.vocab import region as region_of

    fit = 1 if "any" in entry.regions else 0
    if region:
        r = region_of(region)
        if region in entry.regions or (r is not None and set(r.covered_by) & set(entry.regions)):
            fit = 2
    if entry.requests:
        named = any(_rx(p).search(request) for p in entry.requests)
        return 3 if named and (fit or region is None) else 0
    return fit


def match_request(request: str, context_region: str | None = None, kb: KnowledgeBase | None = None,
                  routed: Callable[[Entry], bool] | None = None) -> Match:
    """Find the knowledge-base entry for a request, MTUS first (evidence search sequence).

    `context_region` is the case's main body region, used when the request names none.
    `routed` tells whether a routed entry's conditions (`route`) hold on the item; without it
    no routed entry is taken.
    """
    kb = kb or default_kb()
    category = classify_request(request, kb)
    region = find_region(request, kb) or context_region
    if category is None:
        return Match(None, region, None)
    candidates = [(e, _region_fits(e.entry, region, request)) for e in kb.entries if e.entry.category == category]
    candidates = [(e, 4 + fit if e.entry.route else fit) for e, fit in candidates
                  if fit and (not e.entry.route or (routed is not None and routed(e.entry)))]
    displaced = {d for e, _fit in candidates for d in e.entry.displaces}  # routed entries whose route holds
    candidates = [(e, fit) for e, fit in candidates if e.entry.id not in displaced]
    if not candidates:
        return Match(category, region, None)
    # MTUS before non-MTUS; within a scope, a routed entry whose conditions hold, then a
    # procedure's entry before the region's, and a
    # region-specific entry before a general one (ties: the order of the data files).
    candidates.sort(key=lambda ef: (not ef[0].mtus, -ef[1]))
    chosen = candidates[0][0]
    reason = None if chosen.mtus else chosen.entry.mtus_gap
    return Match(category, region, chosen, reason)


def superseded_on(kb_entry: KBEntry, on: _dt.date | None) -> tuple[str, int | None] | None:
    """(name, year) of the MTUS guideline that replaced the entry's by the date `on` (8 CCR
    9792.22-9792.24.4, 1 December 2017), or None when the entry's own guideline was in force."""
    from openimr.vocab.guidelines import guideline

    g = guideline(kb_entry.guideline.key)
    if g is None or g.superseded is None or on is None or on < g.superseded.since:
        return None
    return g.superseded.by, g.superseded.year


def citation_for(kb_entry: KBEntry, region: str | None = None, kb: KnowledgeBase | None = None,
                 on: _dt.date | None = None) -> Citation:
    """The letter-style guideline citation of an entry, as a Citation; for a decision dated `on`
    after the MTUS replaced the entry's guideline, the successor by name, without the earlier
    edition's sections and pages."""
    g, e = kb_entry.guideline, kb_entry.entry
    assert g.scope is not None and g.name is not None  # both set from the registry when the file loads
    successor = superseded_on(kb_entry, on) if g.scope == "MTUS" else None
    sections, pages = ([], []) if successor else (list(e.sections), list(e.pages))
    year = successor[1] if successor else g.year
    if g.scope == "MTUS":
        name = successor[0] if successor else g.name
        text = f"Decision based on MTUS {name}" + (f" {year}" if year else "")
        if sections:
            text += ", Section(s): " + ", ".join(sections)
        if pages:
            text += ", Page(s): " + ", ".join(pages)
        text += "."
    else:
        name = (e.title or g.name).replace("{odg_chapter}", odg_chapter(region, kb))
        text = f"Decision based on Non-MTUS Citation {name}"
        if e.sections:
            text += ", " + ", ".join(e.sections)
        text += "."
    chapter = None if successor else g.chapter
    ref = GuidelineReference(scope=g.scope, guideline=name, year=year, chapter=chapter, sections=sections, pages=pages)
    return Citation(
        text=text, scope=g.scope, guideline=name, year=year, chapter=chapter, sections=sections, pages=pages,
        references=[ref],
    )
