"""Clinical facts from case documents, each with its evidence span.

A blank spaCy pipeline (offline) with PyRuSH sentence splitting and medspaCy ConText:
fact mentions are found by the patterns of `data/facts.yaml`; ConText marks each as
negated, uncertain, historical, hypothetical or about family. The default ConText rules
": no" / ": none" look backward only, so "EXAM: No focal deficits" escaped negation; they are
replaced here by backward rules that fire only at the end of a clause ("Fever: no."),
which lets the ordinary forward "no" negate what follows a heading.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Iterable

from openimr.engine.kb import KnowledgeBase, default_kb


@dataclass(frozen=True)
class Mention:
    """One mention of a fact in a document."""

    fact: str
    document: int
    start: int
    end: int
    text: str
    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    hypothetical: bool = False
    family: bool = False

    @property
    def affirmed(self) -> bool:
        """The mention asserts the fact for this worker (not negated, not family)."""
        return not self.negated and not self.family

    def evidence(self) -> dict:
        """The evidence span {document, start, end, text, fact, negated}."""
        return {"document": self.document, "start": self.start, "end": self.end, "text": self.text,
                "fact": self.fact, "negated": self.negated}

    def to_dict(self) -> dict:
        return asdict(self)


_LOCK = threading.Lock()


def _quiet_pyrush() -> None:
    for name in ("PyRuSH", "PyRuSH.PyRuSHSentencizer", "PyRuSH.RuSH", "pyrush"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:  # PyRuSH logs through loguru at debug level
        from loguru import logger as _lg

        _lg.disable("PyRuSH")
    except Exception:  # pragma: no cover - loguru absent
        pass


def _context_rules():
    """Default ConText rules, with the backward-only heading rules made clause-final."""
    from medspacy.context import ConText, ConTextRule
    import spacy

    defaults = ConText(spacy.blank("en"), rules="default").rules
    kept = [r for r in defaults if r.literal.strip().lower() not in {": no", ": none"}]
    extra = [
        ConTextRule(
            ": no (clause end)",
            "NEGATED_EXISTENCE",
            pattern=[{"ORTH": ":"}, {"LOWER": {"IN": ["no", "none"]}}, {"IS_PUNCT": True}],
            direction="BACKWARD",
        ),
        ConTextRule("was negative", "NEGATED_EXISTENCE", direction="BACKWARD",
                    pattern=[{"LOWER": {"IN": ["was", "is", "were", "are"]}}, {"LOWER": "negative"}]),
        ConTextRule("no evidence of", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("did not", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("has not", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("had not", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("not clearly", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("failed to", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("absence of", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("there was no", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("made no mention", "NEGATED_EXISTENCE", direction="FORWARD"),
        ConTextRule("nor", "NEGATED_EXISTENCE", direction="FORWARD"),
        # a closing parenthesis ends the scope of a negation opened inside it
        ConTextRule(")", "TERMINATE", direction="TERMINATE", pattern=[{"ORTH": ")"}]),
        # utilization review "denied the request for X" does not deny that X exists
        ConTextRule("denied the request", "PSEUDO", direction="PSEUDO",
                    pattern=[{"LOWER": {"IN": ["denied", "non-certified", "noncertified"]}},
                             {"LOWER": {"IN": ["the", "a", "certification", "authorization", "request"]}}]),
        # "7/10 without medication" is a pain score, not a denial that anything exists
        ConTextRule("without medication", "PSEUDO", direction="PSEUDO",
                    pattern=[{"LOWER": "without"},
                             {"LOWER": {"IN": ["medication", "medications", "meds", "medicine", "medicines"]}}]),
        ConTextRule("previously denied", "PSEUDO", direction="PSEUDO",
                    pattern=[{"LOWER": {"IN": ["was", "were"]}, "OP": "?"}, {"LOWER": "previously", "OP": "?"},
                             {"LOWER": "denied"}, {"LOWER": {"IN": ["due", "by", "on", "because", "as"]}}]),
    ]
    return kept + extra


@lru_cache(maxsize=1)
def _pipeline():
    """The blank spaCy pipeline with PyRuSH and ConText (built once per process)."""
    import spacy
    import medspacy  # noqa: F401  (registers the medspaCy factories)

    _quiet_pyrush()
    nlp = spacy.blank("en")
    nlp.add_pipe("medspacy_pyrush")
    ctx = nlp.add_pipe(
        "medspacy_context",
        config={"rules": None, "input_span_type": "group", "span_group_name": "facts", "max_scope": 12},
    )
    ctx.add(_context_rules())
    _quiet_pyrush()
    return nlp


def load_models() -> None:
    """Build the pipeline now (model loading, excluded from timing)."""
    _pipeline()


def _compile(kb: KnowledgeBase) -> list[tuple[str, re.Pattern[str]]]:
    """One case-insensitive alternation per fact."""
    return [
        (fact, re.compile("|".join(f"(?:{p})" for p in spec.patterns), re.IGNORECASE)) for fact, spec in kb.facts.items()
    ]


@lru_cache(maxsize=1)
def _default_patterns() -> list[tuple[str, re.Pattern[str]]]:
    return _compile(default_kb())


def _patterns(kb: KnowledgeBase | None) -> list[tuple[str, re.Pattern[str]]]:
    if kb is None or kb is default_kb():
        return _default_patterns()
    return _compile(kb)


def extract_text(text: str, document: int = 0, kb: KnowledgeBase | None = None) -> list[Mention]:
    """All fact mentions in one document text, with ConText assertion attributes."""
    from spacy.tokens import Span

    nlp = _pipeline()
    with _LOCK:
        doc = nlp.make_doc(text)
        spans: list[Span] = []
        for fact, rx in _patterns(kb):
            for m in rx.finditer(text):
                if m.end() <= m.start():
                    continue
                sp = doc.char_span(m.start(), m.end(), label=fact, alignment_mode="expand")
                if sp is not None and len(sp):
                    spans.append(sp)
        doc.spans["facts"] = spans
        for _name, proc in nlp.pipeline:
            doc = proc(doc)
        categories = _categories_within_sentence(doc)
        out = []
        for sp in doc.spans["facts"]:
            found = categories.get((sp.start, sp.end, sp.label_), set())
            out.append(
                Mention(
                    fact=sp.label_,
                    document=document,
                    start=sp.start_char,
                    end=sp.end_char,
                    text=sp.text,
                    negated="NEGATED_EXISTENCE" in found,
                    uncertain="POSSIBLE_EXISTENCE" in found,
                    historical="HISTORICAL" in found,
                    hypothetical="HYPOTHETICAL" in found,
                    family="FAMILY" in found,
                )
            )
    out.sort(key=lambda m: (m.document, m.start, m.fact))
    return out


def _categories_within_sentence(doc) -> dict[tuple[int, int, str], set[str]]:
    """ConText's modifier categories of each fact span, counting only modifiers in the span's
    own sentence and outside the span itself.

    With `max_scope` set, medspaCy scopes a modifier by a token window that ignores sentence
    ends, so "There were no red flags. The physician is considering surgery" would negate the
    surgery; and a cue inside the span ("7/10 without medication") would modify the span.
    """
    out: dict[tuple[int, int, str], set[str]] = {}
    for target, modifier in doc._.context_graph.edges:
        start, end = modifier.modifier_span
        if start < target.end and target.start < end:
            continue
        if doc[start].sent.start != target.sent.start:
            continue
        out.setdefault((target.start, target.end, target.label_), set()).add(modifier.category)
    return out


AGE_RX = re.compile(r"\b(\d{2,3})[- ](?:year|yr)s?[- ]old\b", re.IGNORECASE)


def extract(texts: Iterable[str], kb: KnowledgeBase | None = None) -> list[Mention]:
    """Fact mentions across documents (document = index in `texts`), plus age over 65."""
    mentions: list[Mention] = []
    for i, text in enumerate(texts):
        mentions.extend(extract_text(text, i, kb))
        m = AGE_RX.search(text)
        if m and int(m.group(1)) > 65:
            mentions.append(Mention("gi_risk", i, m.start(), m.end(), m.group(0)))
    return mentions


CASE_DATES = -1  # evidence `document` index for the case's own dates (not a document text)


def date_facts(date_of_injury, ur_denial_date) -> list[Mention]:
    """Facts derived from the case dates: whether six weeks had passed since the injury
    when UR decided (the acute phase in which imaging and most tests wait)."""
    if not date_of_injury or not ur_denial_date:
        return []
    days = (ur_denial_date - date_of_injury).days
    if days < 0:
        return []
    text = f"date of injury {date_of_injury.isoformat()}, UR denial {ur_denial_date.isoformat()} ({days // 7} weeks)"
    return [Mention("weeks_since_injury_6plus", CASE_DATES, 0, len(text), text, negated=days < 42)]


def summarize(mentions: list[Mention]) -> dict[str, dict[str, list[Mention]]]:
    """Per fact: affirmed and negated mentions."""
    out: dict[str, dict[str, list[Mention]]] = {}
    for m in mentions:
        slot = out.setdefault(m.fact, {"affirmed": [], "negated": []})
        if m.family:
            continue
        slot["negated" if m.negated else "affirmed"].append(m)
    return out
