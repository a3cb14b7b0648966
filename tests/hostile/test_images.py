"""Image bombs (a few bytes declaring billions of pixels, as PNG, JPEG and TIFF, a later TIFF
page declaring them, a TIFF of thousands of pages) are refused from their headers, in the case
file's worker subprocess, in seconds and with the caller's memory bounded; and through the
workbench's case-file upload on SQLite and PostgreSQL, with nothing stored."""

from __future__ import annotations

import resource
import time

import pytest

from openimr.casefile.worker import MAX_PIXELS, CaseFileError, read_pages

from .bombs import jpeg_bomb, png_bomb, tiff_bomb, tiff_frames
from .conftest import GROWTH_KB, memory_kb

PIXELS = f"over the limit of {MAX_PIXELS:,} pixels"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("name, bomb, size", [
    ("bomb.png", png_bomb(), "100,000 x 100,000"),
    ("bomb.jpg", jpeg_bomb(), "65,000 x 65,000"),
    ("bomb.tif", tiff_bomb(), "100,000 x 100,000"),
    ("between.png", png_bomb(9_000, 9_000), "9,000 x 9,000"),  # where Pillow would only warn
])
def test_an_image_bomb_is_refused_from_its_header(tmp_path, name, bomb, size):
    path = tmp_path / name
    path.write_bytes(bomb)
    before, started = _peak_mb(), time.monotonic()
    with pytest.raises(CaseFileError) as refused:
        list(read_pages(path))
    assert time.monotonic() - started < 10
    assert str(refused.value) == f"{path}: refused: {size} pixels, {PIXELS}"
    assert _peak_mb() - before < 50  # no pixel reached this process


def test_a_huge_later_page_costs_that_page_only(tmp_path):
    path = tmp_path / "pages.tif"
    path.write_bytes(tiff_frames(3, huge_last=True))
    started = time.monotonic()
    frames = list(read_pages(path, ocr="always"))
    assert time.monotonic() - started < 10
    assert [f.get("error") for f in frames] == [None, None, f"refused: 100,000 x 100,000 pixels, {PIXELS}"]


def test_a_tiff_of_thousands_of_pages_is_refused_by_its_count(tmp_path):
    path = tmp_path / "many.tif"
    path.write_bytes(tiff_frames(5000))
    started = time.monotonic()
    with pytest.raises(CaseFileError, match=r"refused: 5,000 pages, over the limit of 2,000 pages$"):
        list(read_pages(path))
    assert time.monotonic() - started < 15


def test_image_bombs_uploaded_as_case_files_are_refused_and_nothing_stored(live):
    admin = live.client("admin")
    documents = live.documents()
    workers = live.worker_pids()
    before = {pid: memory_kb(pid, "VmHWM") for pid in workers}  # warmed up (engine, library model)
    for name, bomb in (("bomb.png", png_bomb()), ("bomb.jpg", jpeg_bomb()), ("bomb.tif", tiff_bomb())):
        sent = admin.post(f"/api/cases/{live.case_id}/casefile", files={"file": (name, bomb, "image/png")})
        assert sent.status_code == 202, sent.text
        job_id = sent.json()["job"]["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            jobs = {j["id"]: j for j in admin.get(f"/api/cases/{live.case_id}/casefile/jobs").json()["jobs"]}
            if jobs[job_id]["state"] in ("done", "failed"):
                break
            time.sleep(0.2)
        job = jobs[job_id]
        assert job["state"] == "failed" and job["error"].startswith(f"{name}: refused: ") and \
            job["error"].endswith(PIXELS), job
    assert live.documents() == documents
    for pid in workers:
        grew = memory_kb(pid, "VmHWM") - before[pid]
        assert grew < GROWTH_KB, f"server worker {pid} grew by {grew} KB for a bomb"
