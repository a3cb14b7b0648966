"""Clinical facts from case documents, each with its evidence span.

A blank spaCy pipeline (offline) with PyRuSH sentence splitting and medspaCy ConText:
fact mentions are found by the patterns of `data/facts.yaml`; ConText marks each as
negated, uncertain, historical, hypothetical or about family. The default ConText rules
": no" / ": none" look backward only, so "EXAM: No focal deficits" escaped negation; they are
replaced here by backward rules that fire only at the end of a clause ("Fever: no."),
which lets the ordinary forward "no" negate what follows a heading.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

from openimr.engine.kb import KnowledgeBase, default_kb
from openimr.vocab import prefer_level


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
    # where in the record the mention stands: the examination ("exam"), the worker's complaints
    # ("complaint"), the history of treatment ("history"), utilization review's own reasoning
    # ("ur"), the plan or a request ("plan"), else "other"; and the body region it is bound to
    section: str = "other"
    region: str | None = None

    @property
    def affirmed(self) -> bool:
        """The mention asserts the fact for this worker (not negated, not family)."""
        return not self.negated and not self.family

    @property
    def from_records(self) -> bool:
        """The mention reports what the records show (not utilization review's reasoning)."""
        return self.section != "ur"

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


_AFFIRMED_AFTER_COMMA = ("intact", "normal", "decreased", "diminished", "reduced", "absent", "impaired", "altered",
                         "positive", "weak", "mild", "mildly", "moderate", "moderately", "severe",
                         "sensation", "strength", "reflexes", "full", "limited")


def _context_rules():
    """Default ConText rules, with the backward-only heading rules made clause-final."""
    import spacy
    from medspacy.context import ConText, ConTextRule

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
        # "negative McMurray test": a negative examination sign names the test right after it
        ConTextRule("negative (sign)", "NEGATED_EXISTENCE", direction="FORWARD", max_scope=3,
                    pattern=[{"LOWER": "negative"}]),
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
        # a comma before a finding stated affirmatively ends a negation: "no tenderness, intact
        # sensation", "no weakness, decreased sensation" (a list "no tenderness, swelling or
        # deformity" stays negated)
        ConTextRule(", <affirmed finding>", "TERMINATE", direction="TERMINATE",
                    pattern=[{"ORTH": ","}, {"LOWER": {"IN": list(_AFFIRMED_AFTER_COMMA)}}]),
        # "and" opening a new clause about the worker ends a negation: "he is not a surgical
        # candidate and is motivated to return to work" (a list "no numbness and tingling" stays negated)
        ConTextRule("and <new clause>", "TERMINATE", direction="TERMINATE",
                    pattern=[{"LOWER": "and"}, {"LOWER": {"IN": ["is", "was", "has", "remains", "wants", "reports", "states", "feels", "can", "continues"]}}]),
        # a strength or function that "declined from 5/5 to 4/5" is a change, not a refusal
        ConTextRule("declined from", "PSEUDO", direction="PSEUDO",
                    pattern=[{"LOWER": {"IN": ["declined", "declining", "decline"]}}, {"LOWER": {"IN": ["from", "to", "in"]}}]),
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
    import medspacy  # noqa: F401  (registers the medspaCy factories)
    import spacy

    from openimr.bounds import MAX_DOCUMENT_TEXT

    _quiet_pyrush()
    nlp = spacy.blank("en")
    nlp.max_length = MAX_DOCUMENT_TEXT  # a case document's bound (no parser or NER: memory grows with the text only)
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


_Compiled = list[tuple[str, re.Pattern[str], re.Pattern[str] | None]]


def _compile(kb: KnowledgeBase) -> _Compiled:
    """One case-insensitive alternation per fact, and one of its `unless` patterns (or None)."""
    def alt(patterns: list[str]) -> re.Pattern[str] | None:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE) if patterns else None

    return [(fact, alt(spec.patterns), alt(spec.unless)) for fact, spec in kb.facts.items()]  # type: ignore[misc]


@lru_cache(maxsize=1)
def _default_patterns() -> _Compiled:
    return _compile(default_kb())


def _patterns(kb: KnowledgeBase | None) -> _Compiled:
    if kb is None or kb is default_kb():
        return _default_patterns()
    return _compile(kb)


_CLAUSE_START = re.compile(r"[;:]|\.\s|\n\s*\n")


def _clause_before(text: str, start: int, end: int) -> str:
    """The clause a mention ends (from the last semicolon, colon or sentence end before it, at
    most 200 characters back) up to the mention's end."""
    lo = max(0, start - 200)
    head = text[lo:start]
    cuts = [m.end() for m in _CLAUSE_START.finditer(head)]
    return text[lo + (cuts[-1] if cuts else 0):end]


# A long record is read in pieces of about this many characters, cut at a paragraph or a
# sentence's end: the sentence splitter's work grows with the square of a text's sentences
# (it re-checks the whole document for each), so a 200,000-character record took minutes.
# Every mention's sentence lies inside one piece; a clinical summary is one piece.
_PIECE = 20_000
_PIECE_CUT = re.compile(r"\n\s*\n|[.!?]\s+(?=[A-Z])")


def _pieces(text: str) -> list[tuple[int, str]]:
    """(offset, piece) covering `text` in order, each at most about _PIECE characters."""
    out: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > _PIECE:
        cuts = [m.end() for m in _PIECE_CUT.finditer(text, start + _PIECE // 2, start + _PIECE)]
        end = cuts[-1] if cuts else start + _PIECE
        out.append((start, text[start:end]))
        start = end
    out.append((start, text[start:]))
    return out


def extract_text(text: str, document: int = 0, kb: KnowledgeBase | None = None) -> list[Mention]:
    """All fact mentions in one document text, with ConText assertion attributes."""
    if len(text) > _PIECE:
        out: list[Mention] = []
        for offset, piece in _pieces(text):
            out += [replace(m, start=m.start + offset, end=m.end + offset) for m in _extract_piece(piece, document, kb)]
        return out
    return _extract_piece(text, document, kb)


def _extract_piece(text: str, document: int = 0, kb: KnowledgeBase | None = None) -> list[Mention]:
    from spacy.tokens import Span

    nlp = _pipeline()
    with _LOCK:
        doc = nlp.make_doc(text)
        # the tokens a character range overlaps, found by bisection (doc.char_span scans the
        # tokens from the start for every span: quadratic in a long record)
        starts = [t.idx for t in doc]
        ends = [t.idx + len(t) for t in doc]
        spans: list[Span] = []
        for fact, rx, unless in _patterns(kb):
            for m in rx.finditer(text):
                if m.end() <= m.start():
                    continue
                if unless is not None and unless.search(_clause_before(text, m.start(), m.end())):
                    continue
                first, stop = bisect.bisect_right(ends, m.start()), bisect.bisect_left(starts, m.end())
                if first < stop:
                    spans.append(Span(doc, first, stop, label=fact))
        doc.spans["facts"] = spans
        for _name, proc in nlp.pipeline:
            doc = proc(doc)
        categories = _categories_within_sentence(doc)
        places = _Places(text, doc)
        out = []
        for sp in doc.spans["facts"]:
            found = categories.get((sp.start, sp.end, sp.label_), set())
            section, region = places.of(sp.start_char, sp.end_char)
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
                    section=section,
                    region=region,
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


# --- where a mention stands: section and region -----------------------------------------

SECTIONS = ("exam", "complaint", "history", "ur", "plan", "other")
# A sentence that reports utilization review's (or the claims administrator's) decision or
# reasons: what it says is missing or present is UR's reading, not the records.
_UR_RX = re.compile(
    r"\butilization review\b|\bUR\b|claims administrator|\bnon-?certif\w*|previously (?:been )?(?:denied|modified|non-?certified)"
    r"|(?:was|were) (?:denied|modified|non-?certified)\b|(?:denied|non-?certified|modified) (?:the|this|a) request"
    r"|(?:the )?(?:prior|previous) review(?:er)?\b|\breviewer (?:noted|stated|indicated|found)", re.IGNORECASE)
# A sentence right after UR's that goes on saying what is not documented is UR's too.
_UR_GOES_ON = re.compile(r"\b(?:no|lack of|absence of)\s+(?:\w+\s+){0,2}(?:documentation|indication|evidence)\b"
                         r"|\bnot (?:been )?(?:documented|supported|indicated|established)\b|\bguidelines?\b", re.IGNORECASE)
_CUES: list[tuple[str, re.Pattern[str]]] = [
    ("exam", re.compile(
        r"\b(?:physical|objective|neurologic(?:al)?|orthopedic|musculoskeletal|motor|sensory) (?:exam(?:ination)?|findings?)\b"
        r"|\bexam(?:ination)?\b(?! (?:was |is )?(?:requested|ordered))|\bon exam\b|\bobjective(?:ly)?\b|\bpalpation\b|\binspection\b"
        r"|\b(?:revealed|demonstrated|showed|noted) (?:\w+ ){0,3}(?:tenderness|decreased|diminished|positive|negative|weakness|spasm|\d/5)"
        r"|\btenderness\b|\brange of motion\b|\bstrength (?:was|is|of|in|testing)\b|\breflexes\b|\b(?:[0-5][+-]?)/5\b"
        r"|\bpositive\b|\bnegative\b", re.IGNORECASE)),
    ("complaint", re.compile(
        r"\bcomplain\w*|\bc/o\b|\bden(?:ies|ied|ying)\b|\breport(?:s|ed|ing)\b(?! (?:dated|of|from))|\bendors\w*|\bdescribed as\b|\bsubjective\w*"
        r"|\bstat(?:es|ed) (?:that )?(?:she|he|the (?:patient|applicant|injured worker))|\bnoted (?:ongoing|continued|persistent)\b"
        r"|\bsymptoms?\b|\b(?:he|she) (?:has|had|feels|felt|notes|noted)\b", re.IGNORECASE)),
    ("history", re.compile(
        r"\b(?:x-?rays?|MRI|CT(?: scan)?|imaging|radiograph\w*|diagnostic studies|studies|EMG|NCV|NCS)\b(?=[^.]{0,60}?\b(?:showed|shows|revealed|"
        r"reveals|demonstrated|noted|was (?:negative|positive|normal|unremarkable)))"
        r"|\b(?:treatment|therapy|care) to date\b|\bto date\b|\bhas included\b|\bincluded\b|\bprior (?:treatment|history)\b"
        r"|\bhistory of\b|\bpreviously\b|\bunderwent\b|\bstatus[- ]post\b|\bhad (?:been|undergone|completed|received)\b",
        re.IGNORECASE)),
    ("plan", re.compile(
        r"\b(?:treatment )?plan\b|\brecommend\w*|\brequest\w*|\bRFA\b|\border(?:ed|s)?\b|\bwill\b|\bwould\b|\bconsider\w*"
        r"|\bpropos\w*|\bschedul\w*|\bprescrib\w*", re.IGNORECASE)),
]


_PLACED_IN = re.compile(r"^\s*(?:(?:is|was|were|are)\s+)?(?:noted\s+)?(?:in|of|over|at|to|along|on|about|around|involving)\s+"
                        r"(?:the\s+)?(?:(?:left|right|bilateral|both|lateral|medial|anterior|posterior)\s+)*$", re.IGNORECASE)


class _Places:
    """Section and region of a span: the section of the nearest cue before it in its sentence
    (else the sentence's first cue, else "exam" carried over from an examination sentence just
    before); the body region named nearest to it in the sentence."""

    def __init__(self, text: str, doc) -> None:
        from openimr.vocab import regions_in

        self.text = text
        self.sentences: list[tuple[int, int, str, list[tuple[int, str]], list[tuple[int, int, str]]]] = []
        previous = "other"
        for sent in doc.sents:
            start, end = sent.start_char, sent.end_char
            chunk = text[start:end]
            if _UR_RX.search(chunk) or (previous == "ur" and _UR_GOES_ON.search(chunk)):
                self.sentences.append((start, end, "ur", [], regions_in(chunk)))
                previous = "ur"
                continue
            cues = sorted((m.start(), name) for name, rx in _CUES for m in rx.finditer(chunk))
            # a sentence without a cue goes on with the examination or complaints before it
            default = cues[0][1] if cues else (previous if previous in ("exam", "complaint") else "other")
            self.sentences.append((start, end, default, cues, regions_in(chunk)))
            previous = cues[-1][1] if cues else default
            if re.search(r"(?:examination|exam|findings)\s*:?\s*$", chunk, re.IGNORECASE):
                previous = "exam"

        self._starts = [s[0] for s in self.sentences]  # in text order: a span's sentence by bisection
        levels = {k for s in self.sentences for _a, _b, k in s[4] if k in ("cervical", "thoracic", "lumbar")}
        self.only_level = next(iter(levels)) if len(levels) == 1 else None

    def of(self, start: int, end: int) -> tuple[str, str | None]:
        first = max(0, bisect.bisect_right(self._starts, start) - 1)
        for index in range(first, len(self.sentences)):
            s_start, s_end, default, cues, regions = self.sentences[index]
            if s_start > start:
                break
            if s_start <= start < s_end:
                rel = start - s_start
                before = [name for pos, name in cues if pos <= rel]
                section = before[-1] if before and default != "ur" else default
                region = None
                if regions:
                    rel_end = end - s_start
                    chunk = self.text[s_start:s_end]
                    # "decreased sensation in the left hand": a region the finding is placed in
                    following = [r for r in regions if 0 <= r[0] - rel_end <= 30 and _PLACED_IN.match(chunk[rel_end:r[0]])]
                    region = (following[0] if following else
                              min(regions, key=lambda r: min(abs(r[0] - rel_end), abs(rel - r[1]))))[2]
                    if region == "spine":  # "cervical spine ... paraspinal": the level named
                        region = prefer_level([r[2] for r in regions]) or region
                elif index and section in ("exam", "ur"):
                    # an examination (or UR) sentence naming no region goes on with the region of
                    # the sentence before it in the same section
                    prev = self.sentences[index - 1]
                    if prev[2] == section and prev[4]:
                        region = prefer_level([r[2] for r in prev[4]])
                if region == "spine" and self.only_level:
                    region = self.only_level  # the one spinal level the document names
                return section, region
        return "other", None


def for_criteria(mentions: list[Mention], region: str | None = None, kb: KnowledgeBase | None = None) -> list[Mention]:
    """The mentions that count as what the records show for a request's criteria:

    - a mention in a sentence reporting utilization review's own reasoning never counts;
    - an objective finding (a fact marked `objective` in data/facts.yaml) counts only where the
      examination reports it — a complained-of weakness is not a motor deficit;
    - a regional finding (marked `regional`) bound to another body region than the request's
      does not count (a thumb fracture is no red flag for a shoulder MRI); one whose sentence
      names no region is kept.

    Call `summarize(for_criteria(mentions, region))` to get the per-fact summary of what counts.
    """
    kb = kb or default_kb()
    out = []
    for m in mentions:
        if m.section == "ur":
            continue
        spec = kb.facts.get(m.fact)
        if spec is not None and spec.objective and m.section != "exam" and m.document != CASE_DATES:
            continue
        if region and spec is not None and spec.regional and m.region and not region_counts(m.region, region, spec.neural):
            continue
        out.append(m)
    return out


def region_counts(finding: str, request: str, neural: bool = False) -> bool:
    """Whether a finding in region `finding` bears on a request for region `request`: the same
    region, one the request falls under or that falls under it (covered_by); for a neurologic
    finding (`neural`) also a limb whose nerve roots the requested spine supplies, or the spine
    that supplies the requested limb."""
    from openimr.vocab import region as region_of

    if finding == request:
        return True
    f, r = region_of(finding), region_of(request)
    if f is None or r is None:
        return True
    if request in f.covered_by or finding in r.covered_by:
        return True
    if neural:
        spine_of = lambda x: x.nerve_supply or (x.key if x.key in ("cervical", "lumbar", "thoracic") else None)  # noqa: E731
        sf, sr = spine_of(f), spine_of(r)
        if sf and sr and sf == sr and (f.nerve_supply is None or r.nerve_supply is None):
            return True  # the limb and the spine that supplies it
        if sf and sr and sf == sr and "extremity" in (finding + request):
            return True  # an extremity and a part of it ("upper extremities" / "hand")
    return False


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


Summary = dict[str, dict[str, list[Mention]]]  # fact -> {"affirmed": [...], "negated": [...]} (summarize)


def summarize(mentions: list[Mention]) -> Summary:
    """Per fact: affirmed and negated mentions."""
    out: Summary = {}
    for m in mentions:
        slot = out.setdefault(m.fact, {"affirmed": [], "negated": []})
        if m.family:
            continue
        slot["negated" if m.negated else "affirmed"].append(m)
    return out
