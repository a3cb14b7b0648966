"""`openimr casefile index`: pages read in the bounded worker, OCR only where needed, split,
typed, dated, attributed, deduplicated, chronology and summary (synthetic case files)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from openimr.casefile.index import index_file
from openimr.casefile.synth import case_file, events_from_summary
from openimr.cli import app


def _truth(cf):
    return [(d.first_page, d.last_page, d.type, d.date.isoformat()) for d in cf.documents]


def _found(result):
    return [(d["first_page"], d["last_page"], d["type"], d["date"]) for d in result["documents"]]


def test_events_come_from_the_summary(summary):
    events = events_from_summary(summary)
    assert [(e.date, e.type) for e in events] == [
        (dt.date(2015, 3, 4), "progress_report"), (dt.date(2015, 3, 20), "imaging_report"),
        (dt.date(2015, 4, 15), "therapy_note"), (dt.date(2015, 5, 12), "progress_report")]
    assert "C5-C6" in events[1].finding


def test_text_layer_file_is_split_typed_dated_and_read(tmp_path, summary):
    cf = case_file(summary, seed=3, scanned_share=0.0)
    cf_path = tmp_path / "records.pdf"
    cf_path.write_bytes(cf.pdf)
    result = index_file(cf_path, ocr="auto")
    assert result["pages"] == len(cf.pages)
    assert _found(result) == _truth(cf)
    duplicates = {i + 1: d.duplicate_of for i, d in enumerate(cf.documents) if d.duplicate_of}
    assert {i + 1: d["duplicate_of"] for i, d in enumerate(result["documents"]) if d["duplicate_of"]} == duplicates
    # the faxed copy is scanned even in a text-layer file; nothing else is
    assert [d["scanned"] for d in result["documents"]] == [d.faxed for d in cf.documents]
    for truth, found in zip(cf.documents, result["documents"]):
        if truth.faxed:  # read by OCR from a 100-150 dpi fax: checked in the benchmark
            continue
        assert found["author"] and truth.author.split(",")[0].lower() in found["author"].lower()
    # each clinical event once (duplicates are not counted twice), on its page
    events = {(d.date.isoformat(), d.event_page) for d in cf.documents
              if d.duplicate_of is None and d.finding and d.type not in ("imr_application", "correspondence")}
    found_events = {(e["date"], e["page"]) for e in result["chronology"]}
    assert events <= found_events
    assert len(result["chronology"]) == len(found_events)
    assert "In a progress report dated 03/04/2015, the treating provider documented" in result["summary"]
    for sentence in result["summary_sentences"]:
        assert f"{sentence['text']} [p. {sentence['page']}]" in result["summary"]
    assert len(result["documents_reviewed"]) == sum(1 for d in cf.documents if d.duplicate_of is None)


def _f1(truth, found):
    t, f = {(a, b) for a, b, *_ in truth}, {(a, b) for a, b, *_ in found}
    hit = len(t & f)
    return 2 * hit / (len(t) + len(f))


def test_scanned_pages_are_read_with_tesseract(tmp_path, summary):
    cf = case_file(summary, seed=5, scanned_share=0.3, max_events=2)
    cf_path = tmp_path / "scanned.pdf"
    cf_path.write_bytes(cf.pdf)
    result = index_file(cf_path)
    scanned = [i + 1 for i, p in enumerate(cf.pages) if p["scanned"]]
    assert scanned and [o["page"] for o in result["ocr"]] == scanned
    assert all(o["confidence"] > 60 for o in result["ocr"])
    assert _f1(_truth(cf), _found(result)) >= 0.9
    right = sum(t == f for t, f in zip(_truth(cf), _found(result)))
    assert right >= 0.85 * len(cf.documents)
    faxed = next(i + 1 for i, d in enumerate(cf.documents) if d.faxed)
    assert result["documents"][faxed - 1]["duplicate_of"] == cf.documents[faxed - 1].duplicate_of


def test_ocr_never_leaves_scans_unread_and_always_reads_text_pages(tmp_path, summary):
    import random

    from openimr.casefile.pdfwrite import PdfWriter
    from openimr.casefile.synth import _placed, _render
    from openimr.casefile.worker import read_pages

    lines = [(13, True, "OPERATIVE REPORT"), (10, False, "Date of surgery: 02/03/2016"),
             (10, False, "Procedure performed: Right shoulder arthroscopy with subacromial decompression.")]
    writer = PdfWriter()
    writer.text_page(_placed(lines))
    writer.image_page(_render(lines, 200, random.Random(2), fax=False))
    path = tmp_path / "two.pdf"
    path.write_bytes(writer.getvalue())
    auto = list(read_pages(path, ocr="auto"))
    assert [p["scanned"] for p in auto] == [False, True]
    assert "arthroscopy" in auto[0]["text"] and "arthroscopy" in auto[1]["text"]
    never = list(read_pages(path, ocr="never"))
    assert [p["scanned"] for p in never] == [False, False] and never[1]["text"].strip() == ""
    always = list(read_pages(path, ocr="always"))
    assert [p["scanned"] for p in always] == [True, True]
    assert "subacromial" in always[0]["text"]
    assert index_file(path, ocr="never")["ocr"] == []


def _image_pages(summary, count):
    import random

    from openimr.casefile.synth import _render

    cf = case_file(summary, seed=7, scanned_share=0.0, max_events=1)
    from openimr.casefile.synth import _paginate

    rng = random.Random(1)
    pages = []
    for doc in cf.documents[:count]:
        pages.append(_render(_paginate(doc, rng, False)[0], 200, rng, fax=False))
    return cf, pages


def test_tiff_fax_and_png_pages(tmp_path, summary):
    cf, images = _image_pages(summary, 3)
    tiff = tmp_path / "fax.tif"
    images[0].save(tiff, save_all=True, append_images=images[1:], dpi=(200, 200), compression="tiff_lzw")
    result = index_file(tiff)
    assert result["pages"] == 3 and result["errors"] == []
    assert [d["type"] for d in result["documents"]] == [d.type for d in cf.documents[:3]]
    assert all(d["scanned"] for d in result["documents"])
    png = tmp_path / "page.png"
    images[1].save(png, dpi=(200, 200))
    one = index_file(png)
    assert one["pages"] == 1 and one["documents"][0]["type"] == cf.documents[1].type
    assert one["documents"][0]["date"] == cf.documents[1].date.isoformat()
    jpeg = tmp_path / "page.jpg"
    images[2].save(jpeg, "JPEG", quality=80, dpi=(200, 200))
    assert index_file(jpeg)["documents"][0]["type"] == cf.documents[2].type


def test_corrupt_page_is_named_and_the_others_still_read(tmp_path, summary):
    _cf, images = _image_pages(summary, 3)
    tiff = tmp_path / "broken.tif"
    images[0].save(tiff, save_all=True, append_images=images[1:], dpi=(200, 200), compression="raw")
    data = bytearray(tiff.read_bytes())
    # damage the strips of the last page: its pixels come from past the end of the file
    tiff.write_bytes(bytes(data[: len(data) - images[2].width * images[2].height // 2]) )
    runner = CliRunner()
    out = runner.invoke(app, ["casefile", "index", str(tiff), "--json"])
    assert out.exit_code == 1
    assert f"{tiff}: page 3: corrupt page 3" in out.stderr
    result = json.loads(out.stdout)
    assert result["pages"] == 3 and len(result["documents"]) >= 2


def test_bad_files_get_one_line(tmp_path, summary, monkeypatch):
    runner = CliRunner()
    text = tmp_path / "notes.txt"
    text.write_text("just some words\n")
    out = runner.invoke(app, ["casefile", "index", str(text)])
    assert out.exit_code == 1 and out.stderr.strip() == f"{text}: not a PDF or image (PDF, TIFF, PNG or JPEG)"
    from pypdf import PdfReader, PdfWriter

    cf = case_file(summary, seed=2, scanned_share=0.0, max_events=1)
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(cf.pdf)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="secret", owner_password="owner")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    out = runner.invoke(app, ["casefile", "index", str(locked)])
    assert out.exit_code == 1 and out.stderr.strip() == f"{locked}: encrypted with a password"
    monkeypatch.setenv("OPENIMR_PDF_MAX_PAGES", "2")
    out = runner.invoke(app, ["casefile", "index", str(plain)])
    assert out.exit_code == 1
    assert out.stderr.strip() == f"{plain}: refused: {len(cf.pages)} pages, over the limit of 2 pages"
    assert "Traceback" not in out.output
    out = runner.invoke(app, ["casefile", "index", str(plain), "--ocr", "sometimes"])
    assert out.exit_code == 1 and "--ocr" in out.stderr


def test_json_contract_and_cluster(tmp_path, summary):
    from distributed import LocalCluster

    cf = case_file(summary, seed=3, scanned_share=0.0, max_events=2)
    path = tmp_path / "r.pdf"
    path.write_bytes(cf.pdf)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        out = CliRunner().invoke(app, ["casefile", "index", str(path), str(path), "--json",
                                       "--cluster", cluster.scheduler_address])
    assert out.exit_code == 0, out.output
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == 2 and lines[0] == lines[1]
    one = lines[0]
    assert set(one) >= {"file", "pages", "documents", "chronology", "documents_reviewed", "summary"}
    assert set(one["documents"][0]) == {"type", "date", "first_page", "last_page", "author", "scanned", "duplicate_of"}
    assert set(one["chronology"][0]) == {"date", "document", "page", "text"}
    assert one["documents"][0]["first_page"] == 1


def test_a_page_over_the_memory_limit_costs_that_page_only(tmp_path, monkeypatch):
    """OCR needs more address space than 200 MB: the scanned page is refused by the limit, the
    worker is replaced, and the text pages before and after it are read."""
    import random

    from openimr.casefile.pdfwrite import PdfWriter
    from openimr.casefile.synth import _placed, _render

    lines = [(13, True, "OPERATIVE REPORT"), (10, False, "Date of surgery: 02/03/2016, right shoulder arthroscopy.")]
    writer = PdfWriter()
    writer.text_page(_placed(lines))
    writer.image_page(_render(lines, 150, random.Random(1), fax=False))
    writer.text_page(_placed(lines))
    path = tmp_path / "three.pdf"
    path.write_bytes(writer.getvalue())
    monkeypatch.setenv("OPENIMR_PDF_MEMORY_MB", "200")
    result = index_file(path)
    assert result["errors"] == [f"{path}: page 2: over the memory limit of 200 MB"]
    assert result["pages"] == 3
    assert [d["first_page"] for d in result["documents"]] == [1, 3]


def test_a_missing_tesseract_model_is_named_not_taken_for_the_memory_limit(tmp_path, monkeypatch):
    """TESSDATA_PREFIX at an empty folder: the scanned page's error names the missing model and
    the folder (it used to say "over the memory limit"); the text pages are still read."""
    import random

    from openimr.casefile.pdfwrite import PdfWriter
    from openimr.casefile.synth import _placed, _render

    lines = [(13, True, "OPERATIVE REPORT"), (10, False, "Date of surgery: 02/03/2016, right shoulder arthroscopy.")]
    writer = PdfWriter()
    writer.text_page(_placed(lines))
    writer.image_page(_render(lines, 150, random.Random(1), fax=False))
    path = tmp_path / "two.pdf"
    path.write_bytes(writer.getvalue())
    empty = tmp_path / "tessdata"
    empty.mkdir()
    monkeypatch.setenv("TESSDATA_PREFIX", str(empty))
    result = index_file(path)
    assert result["errors"] == [
        f"{path}: page 2: Tesseract's English model (Debian: tesseract-ocr-eng), eng.traineddata, is not installed "
        f"in {empty} (TESSDATA_PREFIX); make system-deps installs it"]
    assert result["pages"] == 2 and result["documents"][0]["first_page"] == 1


def test_interrupted_indexing_resumes_where_it_stopped(tmp_path, summary):
    from openimr.casefile.index import _checkpoint

    cf = case_file(summary, seed=3, scanned_share=0.0, max_events=2)
    path = tmp_path / "r.pdf"
    path.write_bytes(cf.pdf)
    keep = tmp_path / "work"
    seen = []

    class Interrupted(Exception):
        pass

    def stop_at_four(page, pages):
        seen.append((page, pages))
        if page == 4:
            raise Interrupted

    with pytest.raises(Interrupted):
        index_file(path, resume=keep, progress=stop_at_four)
    assert seen == [(n, len(cf.pages)) for n in range(1, 5)]
    checkpoint = _checkpoint(keep, path, "auto")
    with checkpoint.open("a") as handle:
        handle.write('{"page": 5, "te')  # torn by the interruption
    again = []
    result = index_file(path, resume=keep, progress=lambda page, pages: again.append(page))
    assert result["resumed_pages"] == 4 and again == list(range(5, len(cf.pages) + 1))
    assert _found(result) == _truth(cf)
    assert index_file(path, resume=keep)["resumed_pages"] == len(cf.pages)  # all kept: nothing read
    out = CliRunner().invoke(app, ["casefile", "index", str(path), "--progress"])
    assert f"{path}: page {len(cf.pages)} of {len(cf.pages)}" in out.stderr


def test_pages_turned_90_180_and_270_degrees_are_read_upright(summary):
    """A generated page turned a quarter, a half and three quarters: Tesseract's orientation
    detection (OSD, Debian's osd.traineddata) finds the turn and the page reads as upright."""
    import re

    from openimr.casefile.ocr import Reader

    _cf, images = _image_pages(summary, 1)
    reader = Reader()
    try:
        upright = reader.page(images[0], 200)
        words = set(re.findall(r"[a-z]{5,}", upright["text"].lower()))
        assert upright["rotation"] == 0 and len(words) >= 15
        for turn in (90, 180, 270):
            read = reader.page(images[0].rotate(turn, expand=True, fillcolor=255), 200)
            found = set(re.findall(r"[a-z]{5,}", read["text"].lower()))
            # turned back by OSD, or (a quarter turn Tesseract's layout analysis reads as vertical
            # lines) read as it lies: either way the same words at about the same confidence
            assert read["rotation"] in ((90, 180, 270) if turn == 180 else (0, 90, 180, 270))
            assert len(found & words) >= 0.9 * len(words), (turn, sorted(words - found)[:10])
            assert read["confidence"] >= 0.9 * upright["confidence"]
    finally:
        reader.close()


def test_page_images_for_the_viewer_are_the_stored_frames_or_the_pdf_page_drawn(tmp_path, summary):
    from PIL import Image, ImageChops

    from openimr.casefile.worker import VIEW_MAX_PIXELS, CaseFileError, render_page

    _cf, images = _image_pages(summary, 2)
    tiff = tmp_path / "fax.tif"
    images[0].save(tiff, save_all=True, append_images=images[1:], dpi=(200, 200), compression="tiff_lzw")
    out = render_page(tiff, 2, tmp_path / "p2.png")
    with Image.open(out) as shown:
        second = images[1].convert("L").copy()
        second.thumbnail((VIEW_MAX_PIXELS, VIEW_MAX_PIXELS))
        assert shown.size == second.size  # the second frame itself, reduced
        assert ImageChops.difference(shown.convert("L"), second).getbbox() is None
    pdf = tmp_path / "records.pdf"
    pdf.write_bytes(case_file(summary, seed=7, scanned_share=0.0, max_events=1).pdf)
    with Image.open(render_page(pdf, 1, tmp_path / "p1.png")) as drawn:
        assert drawn.size == (round(8.5 * 110), round(11 * 110))  # a letter page at VIEW_DPI
        assert drawn.convert("L").getextrema()[0] < 100
    with pytest.raises(CaseFileError, match="page 9: the file has 2 pages"):
        render_page(tiff, 9, tmp_path / "p9.png")
    assert not (tmp_path / "p9.png").exists()
