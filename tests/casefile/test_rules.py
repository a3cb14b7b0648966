"""The case-file rules file is validated at load; deskew finds a page's small rotation;
the splitter's rules on text alone (no OCR: fast)."""

from __future__ import annotations

import random

import pytest
import yaml

from openimr.casefile.rules import rules
from openimr.casefile.split import split


def test_rules_load_and_refuse_an_unknown_type(tmp_path):
    loaded = rules()
    assert [t.name for t in loaded.types][:2] == ["imr_application", "rfa"]
    from pathlib import Path

    import openimr.casefile.rules as module

    source = Path(module.__file__).with_name("data") / "doctypes.yaml"
    data = yaml.safe_load(source.read_text())
    data["types"][0]["name"] = "fax_cover"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=r"bad\.yaml: types\.0\.name: .*unknown document type 'fax_cover'"):
        rules.__wrapped__(str(bad))
    data["types"][0]["name"] = "imr_application"
    data["page_of"] = "page (\\d+"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=r"bad\.yaml: page_of: .*bad pattern"):
        rules.__wrapped__(str(bad))


def test_skew_is_found_and_undone():
    from openimr.casefile.ocr import skew_angle
    from openimr.casefile.synth import _FILLER, _render

    lines = [(10, False, text) for text in _FILLER * 3]
    rng = random.Random(4)
    image = _render(lines, 150, rng, fax=False)  # _render skews by up to 2.5 degrees itself
    straight = skew_angle(image)
    turned = image.rotate(3.0, fillcolor=255)
    assert abs(skew_angle(turned) - (straight - 3.0)) <= 0.5


def _frame(n, text, **extra):
    return {"page": n, "text": text, **extra}


def test_page_numbers_fax_headers_and_near_copies():
    report = ("Harbor Orthopedic Medical Group\nPRIMARY TREATING PHYSICIAN'S PROGRESS REPORT (PR-2)\n"
              "Patient: A B   DOB: 01/02/1970\nDate of injury: 03/04/2014\nDate of service: 05/06/2015\n"
              "Assessment: Lumbar strain with left leg radiculopathy.\nElectronically signed by: Ana Chen, MD\n")
    continuation = "PROGRESS REPORT continued\nPlan: continue home exercise.\nPage 2 of 2"
    fax = "FROM: (555) 555-1234 TO: IMR UNIT 06/01/2015 10:00 P. 001/004\n" + report.replace("Lumbar", "Lumbar")
    frames = [_frame(1, report + "Page 1 of 2"), _frame(2, continuation),
              _frame(3, "Dear Claims Adjuster:\nEnclosed are the records.\nSincerely,\n\nRosa Diaz\n"),
              _frame(4, fax, scanned=True)]
    documents = split(frames)
    assert [(d.first_page, d.last_page, d.type) for d in documents] == [
        (1, 2, "progress_report"), (3, 3, "correspondence"), (4, 4, "progress_report")]
    assert str(documents[0].date) == "2015-05-06" and documents[0].author == "Ana Chen, MD"
    assert documents[1].author == "Rosa Diaz"
    assert documents[2].duplicate_of == 1 and documents[2].scanned


def test_chronology_skips_a_type_the_rules_give_no_sentence(tmp_path):
    """Rules without an entry for a clinical type: its documents are no event (before: the
    summary failed on the missing sentence), the other documents still are."""
    import datetime as dt
    from pathlib import Path

    import openimr.casefile.rules as module
    from openimr.casefile.chronology import read
    from openimr.casefile.split import Document, Page

    def document(number, kind, day):
        page = Page(number=number, text=f"Assessment: lumbar strain seen on visit {number} with pain.\n")
        return Document(number=number, pages=[page], type=kind, date=day)

    documents = [document(1, "progress_report", dt.date(2015, 3, 4)),
                 document(2, "lab_report", dt.date(2015, 4, 5))]
    both = read(documents)
    assert [e["document"] for e in both["chronology"]] == [1, 2]
    data = yaml.safe_load((Path(module.__file__).with_name("data") / "doctypes.yaml").read_text())
    data["types"] = [t for t in data["types"] if t["name"] != "lab_report"]
    fewer = tmp_path / "fewer.yaml"
    fewer.write_text(yaml.safe_dump(data))
    result = read(documents, rules.__wrapped__(str(fewer)))
    assert [e["document"] for e in result["chronology"]] == [1]
    assert [s["document"] for s in result["summary_sentences"]] == [1]
    assert len(result["documents_reviewed"]) == 2
