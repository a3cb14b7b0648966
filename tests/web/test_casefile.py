"""A case file on the workbench (web/routes_casefile.py, casefile/jobs.py): uploaded, indexed
in the background by the command line's code, its progress, the documents stored in the one
case record with the records-received event, the documents by type and date with duplicates
linked, the chronology, the page viewer with the engine's evidence on its page; double
submits, interruption and resume, who may, bad input one line."""

from __future__ import annotations

import time

import pytest

from openimr.casefile.synth import case_file

from .test_workflow import _new_assigned_case

SUMMARY = (
    "The applicant is a 47-year-old male with chronic low back pain after lifting a box. "
    "In a progress note dated 03/04/2015, the treating provider documented lumbar pain radiating to the left "
    "leg with tenderness of the lumbar paraspinals and a positive straight leg raise. "
    "An MRI of the lumbar spine dated 03/20/2015 demonstrated a disc protrusion at L4-L5 with mild foraminal "
    "narrowing.")


@pytest.fixture(scope="module")
def records_pdf() -> bytes:
    return case_file(SUMMARY, seed=3, scanned_share=0.0, max_events=2).pdf


@pytest.fixture(scope="module")
def cli_index(records_pdf, tmp_path_factory) -> dict:
    """What `openimr casefile index` reads of the same file (the workbench must store the same)."""
    from openimr.casefile.index import index_file

    path = tmp_path_factory.mktemp("cf") / "records.pdf"
    path.write_bytes(records_pdf)
    return index_file(path)


def wait_done(client, case_id: int, job_id: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        jobs = client.get(f"/api/cases/{case_id}/casefile/jobs").json()["jobs"]
        job = next(j for j in jobs if j["id"] == job_id)
        seen.append((job["state"], job["page"]))
        if job["state"] in ("done", "failed"):
            job["seen"] = seen
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not done in {seconds} s: {seen[-3:]}")


def test_upload_index_store_list_and_view_pages(world, records_pdf, cli_index):
    case_id = _new_assigned_case(world)
    intake = world.client("intake")
    sent = intake.post(f"/api/cases/{case_id}/casefile", files={"file": ("records.pdf", records_pdf, "application/pdf")})
    assert sent.status_code == 202, sent.text
    assert sent.json()["new"] is True and sent.json()["job"]["state"] == "queued"
    job = wait_done(intake, case_id, sent.json()["job"]["id"])
    assert job["state"] == "done", job
    truth = case_file(SUMMARY, seed=3, scanned_share=0.0, max_events=2)
    expected = cli_index["documents"]  # the command line's reading of the same file
    assert job["pages"] == len(truth.pages) == cli_index["pages"] and job["documents"] == len(expected)
    assert job["duplicates"] == sum(1 for d in expected if d["duplicate_of"]) >= 1
    assert len(job["stored"]) == len(expected) and "actor" not in job
    # a page error is the command line's, naming the uploaded file (not where it is kept)
    assert job["errors"] == [e.replace(cli_index["file"], "records.pdf") for e in cli_index["errors"]]
    dupes_n = job["duplicates"]

    # the documents are the one case record's, the receipt recorded through record_event
    records = intake.get(f"/api/cases/{case_id}/records").json()
    assert records["documents"] == 1 + len(expected) - dupes_n and records["duplicates"] == dupes_n
    assert "records_received" in [e["kind"] for e in records["events"]]
    trail = [a["action"] for a in world.client("admin").get(f"/api/cases/{case_id}/audit").json()]
    assert trail.count("document_added") == 1 + len(expected) and trail[-1] == "records_received"

    # the same file again (a double submit) is the same job: nothing stored twice
    again = intake.post(f"/api/cases/{case_id}/casefile", files={"file": ("copy.pdf", records_pdf, "application/pdf")})
    assert again.status_code == 202 and again.json()["new"] is False and again.json()["job"]["id"] == job["id"]
    assert intake.get(f"/api/cases/{case_id}/records").json()["documents"] == records["documents"]

    # documents by type and date, duplicates linked to their originals
    view = intake.get(f"/api/cases/{case_id}/casefile").json()
    docs = view["documents"]
    from openimr.casefile.rules import DOCUMENT_TYPES

    order = [(DOCUMENT_TYPES.index(d["type"]), d["date"]) for d in docs]
    assert order == sorted(order) and len(docs) == len(expected)
    assert sorted((d["type"], d["date"], d["first_page"], d["last_page"], d["author"]) for d in docs) == sorted(
        (d["type"], d["date"], d["first_page"], d["last_page"], d["author"]) for d in expected)
    ids = {d["id"] for d in docs}
    dupes = [d for d in docs if d["duplicate_of"]]
    assert len(dupes) == dupes_n and all(d["duplicate_of"] in ids and d["duplicate_of_name"] for d in dupes)
    assert [(e["date"], e["page"], e["text"]) for e in view["chronology"]] == [
        (e["date"], e["page"], e["text"]) for e in cli_index["chronology"]]
    assert all(e["document"] in ids for e in view["chronology"])

    # the records page lists them, links each page, shows the job; the case page too
    page = intake.get(f"/cases/{case_id}/records").text
    assert "Case files sent" in page and "records.pdf" in page and "duplicate</span> of" in page
    first = view["chronology"][0]
    link = f'/cases/{case_id}/documents/{first["document"]}/pages/{first["page"]}'
    assert link in page and "Chronology" in page
    assert link in intake.get(f"/cases/{case_id}").text
    shown = intake.get(link)
    assert shown.status_code == 200 and first["text"][:40] in shown.text.replace("&#39;", "'")

    # the engine read the pages: its evidence cites a stored document and the page it is on
    reviewer = world.client("rev_a")
    detail = reviewer.get(f"/api/cases/{case_id}").json()
    spans = [(item, c, e) for item in detail["disputed_items"] if item["draft"] for c in item["draft"]["criteria"]
             for e in c["evidence"] if e["document"] != -1]  # -1: the case's own dates, not a document
    assert spans, "the engine found no evidence in the case file"
    stored = {d["id"]: d for d in docs}
    originals = {i for i, d in stored.items() if not d["duplicate_of"]}
    assert all(e["document_id"] in originals and e["page"] for _i, _c, e in spans), [e for *_x, e in spans]
    for _item, _c, e in spans:
        d = stored[e["document_id"]]
        assert d["first_page"] <= e["page"] <= d["last_page"]
    _item, criterion, e = spans[0]
    viewer = reviewer.get(f"/cases/{case_id}/documents/{e['document_id']}/pages/{e['page']}")
    assert viewer.status_code == 200
    assert "<mark" in viewer.text and "Disputed items" in viewer.text and _item["request"] in viewer.text
    assert f"/documents/{e['document_id']}/pages/{e['page']}" in reviewer.get(f"/cases/{case_id}").text

    # a page the document has not, a document of another case: 404 in one line
    missing = intake.get(f"/cases/{case_id}/documents/{e['document_id']}/pages/9999")
    assert missing.status_code == 404 and "page 9999" in missing.text
    other = _new_assigned_case(world)
    assert intake.get(f"/cases/{other}/documents/{e['document_id']}/pages/{e['page']}").status_code == 404


def test_who_may_and_bad_input(sqlite_world, records_pdf, monkeypatch):
    world = sqlite_world
    case_id = _new_assigned_case(world)
    url = f"/api/cases/{case_id}/casefile"
    refused = world.client("qa").post(url, files={"file": ("r.pdf", records_pdf, "application/pdf")})
    assert refused.status_code == 403 and "intake or admin" in refused.text
    assert world.client("rev_b").get(f"/api/cases/{case_id}/casefile/jobs").status_code == 403
    intake = world.client("intake")
    text = intake.post(url, files={"file": ("notes.txt", b"just some words", "text/plain")})
    assert text.status_code == 422 and text.json()["detail"] == "notes.txt: not a PDF or image (PDF, TIFF, PNG or JPEG)"
    empty = intake.post(url, files={"file": ("empty.pdf", b"", "application/pdf")})
    assert empty.status_code == 422 and empty.json()["detail"] == "empty.pdf: the file is empty"
    assert intake.post(url, data={"x": "1"}).json()["detail"] == "file: choose a file to upload (a multipart/form-data body)"
    assert intake.post(url, files={"other": ("r.pdf", records_pdf)}).json()["detail"] == "file: choose a file to upload"
    monkeypatch.setattr("openimr.bounds.MAX_CASEFILE_BYTES", 1000)  # the bound holds while streaming
    big = intake.post(url, files={"file": ("big.pdf", records_pdf, "application/pdf")})
    assert big.status_code == 422
    assert big.json()["detail"] == "big.pdf: too large: case files are limited to 0 MB; nothing was stored"
    assert intake.get(f"/api/cases/{case_id}/casefile/jobs").json()["jobs"] == []
    jobs = world.app.state.casefile_jobs
    assert list((jobs.folder / "incoming").iterdir()) == []  # nothing left behind
    assert intake.post("/api/cases/999999/casefile", files={"file": ("r.pdf", records_pdf)}).status_code == 404


def _streamed_body(boundary: str, name: str, size: int, csrf: str | None = None):
    """A multipart body sent a chunk at a time (chunked encoding, no Content-Length): the file
    `name` of `size` bytes, a PDF header then zeros, never built whole in memory."""
    if csrf is not None:
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n").encode()
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
           "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n").encode()
    sent, chunk = 9, b"\0" * 65536
    while sent < size:
        part = chunk[: min(len(chunk), size - sent)]
        sent += len(part)
        yield part
    yield f"\r\n--{boundary}--\r\n".encode()


def test_a_case_file_past_the_bound_is_refused_in_one_line_and_nothing_is_kept(sqlite_world, monkeypatch):
    world = sqlite_world
    case_id = _new_assigned_case(world)
    intake = world.client("intake")
    jobs = world.app.state.casefile_jobs
    monkeypatch.setattr("openimr.bounds.MAX_CASEFILE_BYTES", 3 * 1024 * 1024)  # lowered for a quick test
    kind = {"content-type": "multipart/form-data; boundary=XyZ"}
    big = intake.post(f"/api/cases/{case_id}/casefile", headers=kind,
                      content=_streamed_body("XyZ", "fax-bundle.pdf", 5 * 1024 * 1024))
    assert big.status_code == 422, big.text
    assert big.json()["detail"] == "fax-bundle.pdf: too large: case files are limited to 3 MB; nothing was stored"
    # the page form: the same line on the records page, the CSRF token read from the form
    form = world.client("intake", fresh=True)
    token = form.headers.pop("X-CSRF-Token")
    page = form.post(f"/cases/{case_id}/records/casefile", headers=kind,
                     content=_streamed_body("XyZ", "fax-bundle.pdf", 4 * 1024 * 1024, csrf=token))
    assert page.status_code == 422 and "fax-bundle.pdf: too large: case files are limited to 3 MB" in page.text
    forged = form.post(f"/cases/{case_id}/records/casefile", headers=kind,
                       content=_streamed_body("XyZ", "r.pdf", 1000, csrf="wrong"))
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert intake.get(f"/api/cases/{case_id}/casefile/jobs").json()["jobs"] == []
    assert list((jobs.folder / "incoming").iterdir()) == []
    # a body past even the backstop (the file and as much again): refused before the route
    huge = intake.post(f"/api/cases/{case_id}/casefile", headers=kind,
                       content=_streamed_body("XyZ", "huge.pdf", 8 * 1024 * 1024))
    assert huge.status_code == 413 and huge.json()["detail"] == "request too large: case files are limited to 3 MB"
    # under the case-file bound, a body past the workbench's other bound (10.5 MB) is taken
    monkeypatch.setattr("openimr.bounds.MAX_CASEFILE_BYTES", 200 * 1024 * 1024)
    from openimr.bounds import MAX_BODY_BYTES

    taken = intake.post(f"/api/cases/{case_id}/casefile", headers=kind,
                        content=_streamed_body("XyZ", "junk.pdf", MAX_BODY_BYTES + 1024 * 1024))
    assert taken.status_code == 202, taken.text
    assert taken.json()["job"]["bytes"] == MAX_BODY_BYTES + 1024 * 1024
    failed = wait_done(intake, case_id, taken.json()["job"]["id"])
    assert failed["state"] == "failed" and failed["error"].startswith("junk.pdf: ") and failed["stored"] == []
    assert not list((jobs.folder / "files").glob(failed["id"] + ".*"))  # a refused file is not kept


def test_a_case_file_of_more_pages_than_the_bound_fails_whole(sqlite_world, records_pdf, monkeypatch):
    world = sqlite_world
    case_id = _new_assigned_case(world)
    intake = world.client("intake")
    before = intake.get(f"/api/cases/{case_id}/records").json()["documents"]
    monkeypatch.setattr("openimr.bounds.MAX_CASEFILE_PAGES", 2)
    sent = intake.post(f"/api/cases/{case_id}/casefile", files={"file": ("records.pdf", records_pdf, "application/pdf")})
    job = wait_done(intake, case_id, sent.json()["job"]["id"])
    assert job["state"] == "failed" and job["stored"] == []
    assert job["error"].startswith("records.pdf: refused: ") and job["error"].endswith("pages, over the limit of 2 pages")
    assert intake.get(f"/api/cases/{case_id}/records").json()["documents"] == before


def test_the_real_case_file_bounds_are_stated_in_openapi_and_on_the_form(sqlite_world):
    from openimr import bounds

    assert bounds.MAX_CASEFILE_BYTES == 200 * 1024 * 1024 and bounds.MAX_CASEFILE_PAGES == 2000
    schema = sqlite_world.client().get("/openapi.json").json()
    upload = schema["paths"]["/api/cases/{case_id}/casefile"]["post"]
    assert "at most 200 MB and 2,000 pages" in upload["description"]
    body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"] and "200 MB" in body["properties"]["file"]["description"]
    case_id = _new_assigned_case(sqlite_world)
    assert "at most 200 MB" in sqlite_world.client("intake").get(f"/cases/{case_id}/records").text


def test_interrupted_indexing_resumes_at_the_next_start(sqlite_world, records_pdf, cli_index, tmp_path):
    """A stop between two pages leaves the job at page N; the next start goes on from there
    (the pages kept are not read again) and stores the documents once."""
    from openimr.casefile.jobs import Jobs

    world = sqlite_world
    case_id = _new_assigned_case(world)
    number = world.client("intake").get(f"/api/cases/{case_id}").json()["case_number"]
    first = Jobs(tmp_path / "jobs", world.url)
    real = first._update

    def stop_after_two(job, **changes):  # the app is stopped while page 2 is read
        out = real(job, **changes)
        if (changes.get("page") or 0) >= 2 and job["state"] == "indexing":
            first._stopping.set()
        return out

    first._update = stop_after_two
    received = first.incoming()
    received.write_bytes(records_pdf)
    import hashlib

    job, new = first.submit(received, number, case_id, "records.pdf", hashlib.sha256(records_pdf).hexdigest(), "pdf",
                            len(records_pdf), "web:intake")
    assert new
    assert first._stopping.wait(60), "the job did not reach page 2"
    first.stop()  # waits for the worker thread: it stops after page 2
    stopped = first.get(job["id"])
    assert stopped["state"] == "indexing" and stopped["page"] == 2, stopped
    assert world.client("intake").get(f"/api/cases/{case_id}/records").json()["documents"] == 1

    second = Jobs(tmp_path / "jobs", world.url)
    assert second.start() == 1
    deadline = time.monotonic() + 120
    while second.get(job["id"])["state"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
    second.stop()
    done = second.get(job["id"])
    assert done["state"] == "done" and done["resumed_pages"] == 2, done
    assert done["documents"] == len(cli_index["documents"]) and done["duplicates"] >= 1
    assert world.client("intake").get(f"/api/cases/{case_id}/records").json()["documents"] == \
        1 + done["documents"] - done["duplicates"]
    assert second.start() == 0  # nothing left to resume
    second.stop()


def test_the_page_image_is_drawn_once_kept_and_shown_only_to_who_may_see_the_case(world, records_pdf):
    case_id = _new_assigned_case(world)
    intake = world.client("intake")
    sent = intake.post(f"/api/cases/{case_id}/casefile", files={"file": ("records.pdf", records_pdf, "application/pdf")})
    assert wait_done(intake, case_id, sent.json()["job"]["id"])["state"] == "done"
    doc = intake.get(f"/api/cases/{case_id}/casefile").json()["documents"][0]
    url = f"/cases/{case_id}/documents/{doc['id']}/pages/{doc['first_page']}/image"
    assert f'src="{url}"' in intake.get(url.removesuffix("/image")).text
    shown = intake.get(url)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    from io import BytesIO

    from PIL import Image

    picture = Image.open(BytesIO(shown.content))
    assert picture.width >= 800 and picture.height > picture.width  # a letter page, drawn
    assert picture.convert("L").getextrema()[0] < 100  # with ink on it
    kept = list((world.app.state.casefile_jobs.folder / "images").glob(f"{sent.json()['job']['id']}-*.png"))
    assert len(kept) == 1
    before = kept[0].stat().st_mtime_ns
    assert intake.get(url).content == shown.content and kept[0].stat().st_mtime_ns == before  # not drawn again
    # a reviewer not assigned to the case, a page the document has not, another case: refused
    assert world.client("rev_b").get(url).status_code == 403
    assert intake.get(f"/cases/{case_id}/documents/{doc['id']}/pages/9999/image").status_code == 404
    other = _new_assigned_case(world)
    assert intake.get(f"/cases/{other}/documents/{doc['id']}/pages/{doc['first_page']}/image").status_code == 404


def test_the_workbench_hands_the_pages_to_a_dask_cluster(sqlite_world, records_pdf, cli_index, tmp_path):
    """`openimr serve --cluster`: the job's pages are read on the cluster, the documents split
    and stored here, the same as the command line's."""
    import hashlib

    from distributed import LocalCluster

    from openimr.casefile.jobs import Jobs

    world = sqlite_world
    case_id = _new_assigned_case(world)
    number = world.client("intake").get(f"/api/cases/{case_id}").json()["case_number"]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        jobs = Jobs(tmp_path / "jobs", world.url, cluster=cluster.scheduler_address)
        received = jobs.incoming()
        received.write_bytes(records_pdf)
        job, _new = jobs.submit(received, number, case_id, "records.pdf", hashlib.sha256(records_pdf).hexdigest(),
                                "pdf", len(records_pdf), "web:intake")
        deadline = time.monotonic() + 120
        while jobs.get(job["id"])["state"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.2)
        jobs.stop()
        ran = set(cluster.scheduler.task_prefixes)
    done = jobs.get(job["id"])
    assert done["state"] == "done", done
    assert "pages_on_worker" in ran  # read on the cluster (Dask strips the leading underscore)
    assert done["pages"] == cli_index["pages"] and done["documents"] == len(cli_index["documents"])
    assert len(done["stored"]) == len(cli_index["documents"])
