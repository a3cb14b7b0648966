"""A seeded generator of SYNTHETIC case files, for the benchmark and the tests.

No real case file can be published, so this builds records from the published letters'
clinical case summaries (their dated events and findings, read with the project's reader):
each dated event becomes a document of the matching type (progress report, imaging report,
therapy note, operative report, medical-legal evaluation, laboratory report), laid out as such
records are (DWC-like forms for the application and the Request for Authorization, narrative
notes on letterheads, a utilization review notice, a pharmacy profile, a cover letter), bound
in arrival order with an exact duplicate and a faxed copy, and about half the pages degraded
as scans and faxes (rendered at 100-200 dpi, skewed, speckled, fax header lines). The truth
(boundaries, types, dates, authors, duplicates, events with their pages, each page's text) is
returned beside the file. Names, organizations and numbers are invented."""

from __future__ import annotations

import datetime as dt
import random
import re
import textwrap
from dataclasses import dataclass, field

from openimr.casefile.pdfwrite import PdfWriter
from openimr.casefile.split import _DATE, parse_date

LINES_PER_PAGE = 42
WRAP = 92

_FIRST = ["Maria", "James", "Linda", "Robert", "Ana", "David", "Grace", "Luis", "Helen", "Victor", "Rosa", "Kevin"]
_LAST = ["Alvarez", "Bennett", "Chen", "Duarte", "Ellison", "Fujimoto", "Garcia", "Hollis", "Ibarra", "Jensen",
         "Kowalski", "Lindqvist", "Moreno", "Nakamura", "Okafor", "Petrov", "Quintero", "Ramirez", "Stewart"]
_PLACES = ["Pacific", "Valley", "Sierra", "Harbor", "Golden State", "Coastal", "Mission", "Redwood", "Canyon"]
_STREETS = ["Main Street", "Oak Avenue", "Pine Boulevard", "Harbor Drive", "Mission Road"]

# (type, words in the letters' sentence that make an event that kind of record)
_KINDS = [
    ("imaging_report", r"\b(mri|x-?rays?|radiograph\w*|ct scan|emg|nerve conduction|ultrasound|imaging)\b"),
    ("operative_report", r"\b(underwent|status post|s/p|surgery|surgical|arthroscop\w*|operative)\b"),
    ("therapy_note", r"\b(physical therapy|chiropractic|acupuncture|therapy sessions?|occupational therapy)\b"),
    ("medical_legal_report", r"\b(qme|ame|qualified medical|agreed medical|medical-legal)\b"),
    ("lab_report", r"\b(drug screen|urine|toxicology|laboratory|lab results)\b"),
]
_SKIP = r"\b(industrial injury|injury date|date of injury|injured on|claims administrator|utilization review|non-?certif\w*|request for authorization|rfa|independent medical review|imr)\b"


@dataclass
class Event:
    date: dt.date
    type: str
    finding: str


@dataclass
class TruthDoc:
    type: str
    date: dt.date
    author: str
    first_page: int = 0
    last_page: int = 0
    duplicate_of: int | None = None  # 1-based number of the original document
    event_page: int | None = None
    finding: str = ""
    lines: list = field(default_factory=list, repr=False)  # [(size, bold, text)]
    faxed: bool = False


def events_from_summary(summary: str, injury: dt.date | None = None) -> list[Event]:
    """The dated clinical events of a letter's clinical case summary."""
    events = []
    for sentence in re.split(r"(?<=[a-z0-9)][.])\s+(?=[A-Z])", summary.replace("\n", " ")):
        match = _DATE.search(sentence)
        if not match or re.search(_SKIP, sentence, re.I):
            continue
        day = parse_date(match)
        if not day or day.year < 1990 or day.year > 2030:
            continue
        kind = next((k for k, p in _KINDS if re.search(p, sentence, re.I)), "progress_report")
        finding = sentence.strip()
        rest = re.sub(r"^.{0,80}?" + re.escape(match.group(0)) + r"[^,]{0,60},\s*", "", finding, count=1)
        rest = re.sub(r"^(the )?(applicant|patient|injured worker|(attending |treating )?(provider|physician))\s+"
                      r"(noted|reported|documented|indicated|stated|had|was)( that)?\s+", "", rest, flags=re.I)
        finding = (rest if len(rest) >= 20 else finding).strip()
        finding = _DATE.sub(lambda m: m.group(0), finding)
        if len(finding) < 20:
            continue
        finding = finding[0].upper() + finding[1:]
        if not finding.endswith("."):
            finding += "."
        events.append(Event(day, kind, finding[:400]))
    seen, unique = set(), []
    for event in events:
        if (event.date, event.type) not in seen:
            seen.add((event.date, event.type))
            unique.append(event)
    return unique


class _Names:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def person(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"

    def doctor(self) -> str:
        return f"{self.person()}, {self.rng.choice(['MD', 'DO'])}"

    def org(self, kind: str) -> str:
        return f"{self.rng.choice(_PLACES)} {kind}"

    def address(self) -> str:
        return f"{self.rng.randint(100, 9999)} {self.rng.choice(_STREETS)}, Suite {self.rng.randint(1, 400)}, " \
               f"{self.rng.choice(['Fresno', 'Oakland', 'San Diego', 'Riverside', 'Sacramento'])}, CA " \
               f"9{self.rng.randint(1000, 6199)}"


def _d(day: dt.date) -> str:
    return day.strftime("%m/%d/%Y")


def _long(day: dt.date) -> str:
    return day.strftime("%B %-d, %Y")


_FILLER = [
    "The patient was seen in the office today for follow-up of the industrial injury.",
    "Medications were reviewed with the patient, including dose, frequency and side effects.",
    "The patient denies new trauma since the last visit. Sleep is disturbed by pain at night.",
    "On examination there is tenderness to palpation over the paraspinal musculature bilaterally.",
    "Range of motion is limited in flexion and extension with pain at the end of range.",
    "Motor strength is 5/5 in the major muscle groups; sensation is intact to light touch.",
    "Reflexes are 2+ and symmetric. Gait is antalgic without an assistive device.",
    "The treatment options were discussed and the patient wishes to proceed with the plan.",
    "Functional goals include return to modified duty and independence with home exercise.",
    "The patient was instructed to call the office for any worsening of symptoms.",
]


class _Builder:
    def __init__(self, rng: random.Random, patient: str, dob: dt.date, injury: dt.date, claim: str):
        self.rng, self.patient, self.dob, self.injury, self.claim = rng, patient, dob, injury, claim
        self.names = _Names(rng)

    def _head(self, org: str, title: str) -> list:
        return [(12, True, org), (9, False, self.names.address()),
                (9, False, f"Phone ({self.rng.randint(200, 999)}) 555-{self.rng.randint(1000, 9999)}"), (10, False, ""),
                (13, True, title), (10, False, "")]

    def _patient(self) -> list:
        return [(10, False, f"Patient: {self.patient}        DOB: {_d(self.dob)}"),
                (10, False, f"Claim number: {self.claim}        Date of injury: {_d(self.injury)}")]

    def _para(self, label: str, text: str) -> list:
        wrapped = textwrap.wrap(f"{label}: {text}", WRAP)
        return [(10, False, line) for line in wrapped] + [(10, False, "")]

    def _filler(self, count: int) -> list:
        """`count` lines of examination and discussion (paragraphs of two to four sentences)."""
        out: list = []
        while len(out) < count:
            text = " ".join(self.rng.sample(_FILLER, self.rng.randint(2, 4)))
            out += [(10, False, line) for line in textwrap.wrap(text, WRAP)] + [(10, False, "")]
        return out[:count]

    def clinical(self, event: Event) -> TruthDoc:
        kind, day = event.type, event.date
        if kind == "imaging_report":
            author = self.names.doctor()
            org = self.names.org("Imaging Center")
            modality = self.rng.choice(["MRI OF THE LUMBAR SPINE", "RADIOLOGY REPORT", "IMAGING REPORT"])
            lines = self._head(org, modality) + self._patient() + [(10, False, f"Exam date: {_d(day)}"), (10, False, "")]
            lines += self._para("Technique", "Multiplanar multisequence images were obtained without contrast.")
            lines += self._para("Impression", event.finding)
            lines += [(10, False, f"Radiologist: {author}")]
            return TruthDoc(kind, day, author, finding=event.finding, lines=lines)
        if kind == "therapy_note":
            author = f"{self.names.person()}, PT"
            org = self.names.org("Physical Therapy")
            lines = self._head(org, "PHYSICAL THERAPY DAILY NOTE") + self._patient()
            lines += [(10, False, f"Date of visit: {_d(day)}"), (10, False, f"Visit number: {self.rng.randint(2, 12)}"),
                      (10, False, "")]
            lines += self._para("Assessment", event.finding) + self._filler(self.rng.randint(3, 20))
            lines += [(10, False, ""), (10, False, f"Therapist: {author}")]
            return TruthDoc(kind, day, author, finding=event.finding, lines=lines)
        if kind == "operative_report":
            author = self.names.doctor()
            org = self.names.org("Surgery Center")
            lines = self._head(org, "OPERATIVE REPORT") + self._patient()
            lines += [(10, False, f"Date of surgery: {_d(day)}"), (10, False, f"Surgeon: {author}"), (10, False, "")]
            lines += self._para("Procedure performed", event.finding)
            lines += self._para("Anesthesia", "General endotracheal anesthesia.") + self._filler(self.rng.randint(10, 50))
            return TruthDoc(kind, day, author, finding=event.finding, lines=lines)
        if kind == "medical_legal_report":
            author = self.names.doctor()
            org = self.names.org("Medical-Legal Evaluations")
            lines = self._head(org, "QUALIFIED MEDICAL EVALUATOR'S REPORT") + self._patient()
            lines += [(10, False, f"Date of evaluation: {_d(day)}"), (10, False, f"Evaluator: {author}"), (10, False, "")]
            lines += self._para("Summary", event.finding) + self._filler(self.rng.randint(60, 110))
            return TruthDoc(kind, day, author, finding=event.finding, lines=lines)
        if kind == "lab_report":
            org = self.names.org("Toxicology Laboratory")
            lines = self._head(org, "LABORATORY REPORT - URINE DRUG SCREEN") + self._patient()
            lines += [(10, False, f"Collection date: {_d(day)}"), (10, False, "Specimen: urine"), (10, False, "")]
            lines += self._para("Results", event.finding)
            lines += [(10, False, "Reference range: see laboratory cut-off levels."), (10, False, ""),
                      (10, False, "Laboratory: " + org)]
            return TruthDoc(kind, day, org, finding=event.finding, lines=lines)
        author = self.names.doctor()
        org = self.names.org(self.rng.choice(["Orthopedic Medical Group", "Pain Management Clinic",
                                               "Occupational Medicine Center"]))
        lines = self._head(org, "PRIMARY TREATING PHYSICIAN'S PROGRESS REPORT (PR-2)") + self._patient()
        lines += [(10, False, f"Date of service: {_d(day)}"), (10, False, "")]
        lines += self._para("Subjective", "The patient returns for re-evaluation of ongoing symptoms.")
        lines += self._filler(self.rng.randint(4, 40))
        lines += [(10, False, "")] + self._para("Assessment", event.finding)
        lines += self._para("Plan", "Continue the current treatment plan; follow up in four to six weeks.")
        lines += self._filler(self.rng.randint(0, 30))
        lines += [(10, False, ""), (10, False, f"Electronically signed by: {author}")]
        return TruthDoc("progress_report", day, author, finding=event.finding, lines=lines)

    def rfa(self, day: dt.date, request: str) -> TruthDoc:
        author = self.names.doctor()
        lines = [(9, False, "State of California, Division of Workers' Compensation"),
                 (13, True, "REQUEST FOR AUTHORIZATION"), (9, False, "DWC Form RFA"), (10, False, ""),
                 (10, True, "Employee Information"), (10, False, f"Name (Last, First): {self.patient}"),
                 (10, False, f"Date of injury: {_d(self.injury)}     Claim number: {self.claim}"), (10, False, ""),
                 (10, True, "Requesting Physician Information"), (10, False, f"Requesting physician: {author}"),
                 (10, False, "Specialty: Orthopedic Surgery"), (10, False, ""),
                 (10, False, f"Date of request: {_d(day)}")]
        lines += self._para("Requested treatment", request)
        return TruthDoc("rfa", day, author, finding=request, lines=lines)

    def ur(self, day: dt.date, request: str) -> TruthDoc:
        org = self.names.org("Utilization Review Services, Inc.")
        lines = self._head(org, "NOTICE OF UTILIZATION REVIEW DECISION") + self._patient()
        lines += [(10, False, f"Date of decision: {_d(day)}"), (10, False, f"Reviewing organization: {org}"),
                  (10, False, "")]
        lines += self._para("Determination", f"The request for {request.rstrip('.')} is non-certified as not medically "
                                             "necessary under the Medical Treatment Utilization Schedule.")
        lines += self._filler(2)
        return TruthDoc("ur_decision", day, org, finding=request, lines=lines)

    def application(self, day: dt.date, request: str) -> TruthDoc:
        lines = [(9, False, "State of California, Division of Workers' Compensation"),
                 (13, True, "APPLICATION FOR INDEPENDENT MEDICAL REVIEW"), (9, False, "DWC Form IMR"), (10, False, ""),
                 (10, False, f"Employee name: {self.patient}"), (10, False, f"Date of injury: {_d(self.injury)}"),
                 (10, False, f"Claim number: {self.claim}"), (10, False, f"Date of application: {_d(day)}"),
                 (10, False, "")]
        lines += self._para("Disputed treatment", request)
        lines += [(10, False, f"Signed: {self.patient}")]
        return TruthDoc("imr_application", day, self.patient, lines=lines)

    def pharmacy(self, day: dt.date) -> TruthDoc:
        org = self.names.org("Pharmacy")
        lines = self._head(org, "PRESCRIPTION PROFILE") + self._patient()
        lines += [(10, False, f"Fill date: {_d(day)}"), (10, False, "")]
        for drug in self.rng.sample(["Naproxen 550 mg", "Cyclobenzaprine 7.5 mg", "Omeprazole 20 mg",
                                     "Tramadol 50 mg", "Gabapentin 300 mg"], 3):
            lines.append((10, False, f"{drug}   Quantity: {self.rng.choice([30, 60, 90])}   Refills: 0   Dispensed"))
        lines += [(10, False, ""), (10, False, f"Pharmacy: {org}")]
        return TruthDoc("pharmacy", day, org, finding="", lines=lines)

    def letter(self, day: dt.date) -> TruthDoc:
        org = self.names.org("Insurance Company")
        author = self.names.person()
        lines = [(12, True, org), (9, False, self.names.address()), (10, False, ""), (10, False, _long(day)),
                 (10, False, ""), (10, False, "Dear Independent Medical Review Unit:"), (10, False, "")]
        lines += [(10, False, line) for line in textwrap.wrap(
            f"Enclosed please find the medical records in our file for {self.patient}, claim number {self.claim}, "
            "as requested in your notice of assignment. Please contact the undersigned with any questions.", WRAP)]
        lines += [(10, False, ""), (10, False, "Sincerely,"), (10, False, ""), (10, False, author),
                  (10, False, "Claims Adjuster")]
        return TruthDoc("correspondence", day, author, lines=lines)


def _paginate(doc: TruthDoc, rng: random.Random, footer: bool) -> list[list]:
    body = doc.lines
    pages = [body[i: i + LINES_PER_PAGE] for i in range(0, len(body), LINES_PER_PAGE)] or [[]]
    if footer:
        pages = [page + [(10, False, ""), (9, False, f"Page {n} of {len(pages)}")] for n, page in enumerate(pages, 1)]
    return pages


@dataclass
class CaseFile:
    pdf: bytes
    documents: list[TruthDoc]
    pages: list[dict]  # per page: {"text", "scanned", "dpi"}

    def truth(self) -> dict:
        """The ground truth as JSON, in the shape `openimr casefile index --json` prints
        (documents with 1-based pages and `duplicate_of` by number; each page's text)."""
        return {
            "pages": len(self.pages),
            "documents": [
                {"type": d.type, "date": d.date.isoformat(), "author": d.author, "first_page": d.first_page,
                 "last_page": d.last_page, "scanned": all(self.pages[n - 1]["scanned"]
                                                          for n in range(d.first_page, d.last_page + 1)),
                 "duplicate_of": d.duplicate_of, "faxed": d.faxed, "event_page": d.event_page,
                 "finding": d.finding}
                for d in self.documents
            ],
            "page_texts": [dict(page, number=n) for n, page in enumerate(self.pages, start=1)],
        }


def _fax_line(rng: random.Random, day: dt.date, n: int, total: int) -> tuple:
    sender = f"({rng.randint(200, 999)}) 555-{rng.randint(1000, 9999)}"
    return (8, False, f"FROM: {sender}   TO: IMR UNIT   {_d(day)} {rng.randint(7, 18):02d}:{rng.randint(0, 59):02d}"
                      f"   P. {n:03d}/{total:03d}")


def _render(lines: list, dpi: int, rng: random.Random, fax: bool):
    """A text page rendered as a scan: resolution, skew, speckle (and black-and-white for a fax)."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    writer = PdfWriter()
    writer.text_page(_placed(lines))
    pdf = pdfium.PdfDocument(writer.getvalue())
    image = pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    pdf.close()
    image = image.rotate(rng.uniform(-2.5, 2.5), resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    pixels = np.asarray(image, dtype=np.int16)
    noise = np.random.default_rng(rng.randint(0, 2**31)).random(pixels.shape)
    pixels = np.where(noise < 0.0005, 0, pixels)
    if fax:
        pixels = np.where(pixels < 150, 0, 255)
    return Image.fromarray(pixels.astype(np.uint8), "L")


def _placed(lines: list) -> list:
    out, y = [], 50.0
    for size, bold, text in lines:
        y += size + 3.5
        out.append((60.0, y, float(size), bold, text))
    return out


def page_text(lines: list) -> str:
    return "\n".join(text for _size, _bold, text in lines if text)


def case_file(summary: str, seed: int, scanned_share: float = 0.5, injury: dt.date | None = None,
              max_events: int = 8) -> CaseFile:
    """One synthetic case file from a letter's clinical case summary."""
    rng = random.Random(seed)
    events = events_from_summary(summary)[:max_events]
    if not events:
        events = [Event(dt.date(2015, 3, 2), "progress_report", "Persistent low back pain with radiation to the left leg.")]
    last = max(e.date for e in events)
    injury = injury or min(e.date for e in events) - dt.timedelta(days=rng.randint(60, 900))
    names = _Names(rng)
    builder = _Builder(rng, names.person(), dt.date(rng.randint(1955, 1990), rng.randint(1, 12), rng.randint(1, 28)),
                       injury, f"{rng.randint(10, 99)}-{rng.randint(100000, 999999)}")
    request = rng.choice(["Physical therapy, twelve sessions for the lumbar spine",
                          "MRI of the cervical spine without contrast", "Tramadol 50 mg, quantity 60",
                          "Lumbar epidural steroid injection at L4-L5", "Functional restoration program"])
    rfa_day = last + dt.timedelta(days=rng.randint(1, 10))
    ur_day = rfa_day + dt.timedelta(days=rng.randint(3, 5))
    docs = [builder.application(ur_day + dt.timedelta(days=rng.randint(5, 25)), request),
            builder.ur(ur_day, request), builder.rfa(rfa_day, request)]
    clinical = [builder.clinical(e) for e in events]
    rng.shuffle(clinical)  # records arrive in no particular order
    docs += clinical
    docs.append(builder.pharmacy(last - dt.timedelta(days=rng.randint(1, 30))))
    docs.append(builder.letter(ur_day + dt.timedelta(days=rng.randint(20, 40))))
    originals = len(docs)
    copies = [i for i in range(3, originals) if docs[i].type not in ("correspondence",)]
    duplicate, faxed = rng.sample(copies, 2) if len(copies) >= 2 else (copies[0], None)
    for index, fax in ((duplicate, False), (faxed, True)):
        if index is None:
            continue
        source = docs[index]
        copy = TruthDoc(source.type, source.date, source.author, duplicate_of=index + 1, finding=source.finding,
                        lines=source.lines, faxed=fax)
        docs.insert(rng.randint(index + 1, len(docs)), copy)
    # renumber duplicate_of to the originals' final places
    for doc in docs:
        if doc.duplicate_of is not None:
            original = next(d for d in docs if d.lines is doc.lines and d.duplicate_of is None)
            doc.duplicate_of = docs.index(original) + 1

    writer = PdfWriter()
    pages: list[dict] = []
    rendered = []
    for doc in docs:
        footer = rng.random() < 0.6
        for lines in _paginate(doc, rng, footer):
            rendered.append((doc, lines))
    total = len(rendered)
    scans = set(rng.sample(range(total), round(total * scanned_share)))
    for number, (doc, lines) in enumerate(rendered, start=1):
        if not doc.first_page:
            doc.first_page = number
        doc.last_page = number
        if doc.event_page is None and doc.finding and any(doc.finding[:30] in t or t in doc.finding
                                                          for _s, _b, t in lines if len(t) > 20):
            doc.event_page = number
        fax = doc.faxed
        if fax:
            lines = [_fax_line(rng, doc.date + dt.timedelta(days=30), number - doc.first_page + 1, 12)] + lines
        if fax or number - 1 in scans:
            dpi = rng.choice([100, 150]) if fax else rng.choice([150, 200, 200])
            writer.image_page(_render(lines, dpi, rng, fax))
            pages.append({"text": page_text(lines), "scanned": True, "dpi": dpi, "fax": fax})
        else:
            writer.text_page(_placed(lines))
            pages.append({"text": page_text(lines), "scanned": False, "dpi": None, "fax": False})
    for doc in docs:
        if doc.event_page is None and doc.finding:
            doc.event_page = doc.first_page
    return CaseFile(writer.getvalue(), docs, pages)


def letter_summaries(folder: str, limit: int | None = None) -> list[tuple[str, str]]:
    """(case number, clinical case summary) of the published letters in `folder`."""
    from pathlib import Path

    from openimr.letters.read import read_letter

    out = []
    for path in sorted(Path(folder).glob("*.pdf")):
        try:
            letter = read_letter(path)
        except Exception:  # noqa: BLE001 - a letter the reader refuses is simply not used
            continue
        summary = getattr(letter, "clinical_case_summary", "") or ""
        if len(events_from_summary(summary)) >= 2:
            out.append((path.stem, summary))
        if limit and len(out) >= limit:
            break
    return out
