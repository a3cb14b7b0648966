"""End to end in a real headless browser (Debian's Chromium driven by Playwright) against
the real app served by uvicorn on loopback: sign in, open a case, change a draft, sign,
download the PDF; every page screenshotted and checked for keyboard use and labels."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import PASSWORD, ROOT_DIR, live_server
from .test_workflow import pdf_text

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT_DIR / "test-output" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def server(sqlite_world):
    """The app served by uvicorn on a free loopback port, in a thread."""
    with live_server(sqlite_world.app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


def _page(browser, downloads: bool = False):
    context = browser.new_context(viewport={"width": 1366, "height": 800}, accept_downloads=downloads)
    context.set_default_timeout(30000)
    return context.new_page()


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def _check_accessible(page, name: str) -> None:
    """Screenshot; every visible control has a label; the first Tab reaches the skip link."""
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden' && e.type !== 'radio' && e.type !== 'checkbox')
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
        .map(e => e.name || e.id)""")
    assert unlabeled == [], f"{name}: controls without a label: {unlabeled}"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip", f"{name}: skip link is not first"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def _sees_the_drafts_explanation(page, detail: dict) -> None:
    """Beside each engine recommendation: what the criteria alone say and the draft's
    confidence (clear / uncertain), as the API gives them; drivers only for drafts of the
    earlier learned engine."""
    words = {"met": "met", "not_met": "not met", "not_shown": "not shown in the records",
             "no_entry": "no guideline entry addresses this request"}
    shown = 0
    for item in detail["disputed_items"]:
        draft = page.locator(f"#item-{item['index']} .draft")
        verdict = draft.locator(".verdict")
        assert verdict.is_visible()
        assert verdict.inner_text() == f"Criteria alone: {words[item['draft']['criteria_verdict']]}"
        assert draft.locator(".confidence").inner_text() == item["draft"]["confidence"]
        texts = draft.locator(".drivers li").all_inner_texts()
        assert len(texts) == len(item["draft"]["drivers"])
        for text, driver in zip(texts, item["draft"]["drivers"]):
            way = "toward overturning" if driver["weight"] > 0 else "toward upholding"
            assert text.startswith(f"{driver['label']}: {way}"), text
        shown += 1
    assert shown, "no draft was shown"


def test_reviewer_signs_in_changes_a_draft_signs_and_downloads(server, browser, sqlite_world):
    page = _page(browser, downloads=True)
    page.goto(f"{server}/login")
    _check_accessible(page, "01-sign-in")
    _sign_in(page, server, "rev_a")
    page.goto(f"{server}/cases")
    _check_accessible(page, "02-case-queue")
    case_id = sqlite_world.cases["rev_a"]
    for _ in range(40):  # keyboard only: Tab to the case link, Enter opens it
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == f"/cases/{case_id}":
            break
    else:
        pytest.fail("the case link is not reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cases/{case_id}")
    page.wait_for_selector("h1")
    _check_accessible(page, "03-case")
    _sees_the_drafts_explanation(page, sqlite_world.client("qa").get(f"/api/cases/{case_id}").json())
    items = page.locator("article.item")
    count = items.count()
    assert count >= 2, "the walk needs two disputed items"
    for index in range(count):  # nothing decided: each item says it shows the engine's text
        assert "the editor shows the engine's draft, unedited" in page.locator(f"#state-{index}").inner_text()
    waiting = ", ".join(str(i + 1) for i in range(count))
    assert (f"Still without your decision (the engine's text shown, not yours): item {waiting}."
            in page.locator("#decisions-form").inner_text())
    assert page.locator("#sign-blocked").is_visible()
    # item 1 decided and item 2's rationale edited, neither saved
    first = page.locator("#item-0 fieldset.editor")
    draft = page.locator("#item-0 .draft .dec").first.inner_text()
    choice = "Overturned" if draft == "Upheld" else "Upheld"  # change the engine's draft
    assert page.locator("#unsaved").is_hidden()
    first.locator(f'input[value="{choice}"]').check()
    first.get_by_label("Rationale").fill("Reviewer's own rationale for item 1.")
    second = page.locator("#item-1 fieldset.editor")
    second.get_by_label("Rationale").fill("Reviewer's half-written rationale for item 2.")
    assert page.locator("#unsaved").is_visible()
    # leaving the page with unsaved edits asks first; staying keeps every edit
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="Records: notice of assignment, receipt, what is still missing").click(
        no_wait_after=True)
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"] and page.url.split("#")[0].endswith(f"/cases/{case_id}")
    assert second.get_by_label("Rationale").input_value() == "Reviewer's half-written rationale for item 2."
    # saving while item 2 has edits but no decision: held, the page names the item, nothing lost
    page.locator("#decisions-form").get_by_role("button", name="Save all decisions").click()
    page.wait_for_timeout(300)
    assert page.url.split("#")[0].endswith(f"/cases/{case_id}")
    assert "Not saved: item 2 has your edits but no decision" in page.locator("#unsaved").inner_text()
    assert page.evaluate("document.activeElement.name") == "decision-1"
    assert second.get_by_label("Rationale").input_value() == "Reviewer's half-written rationale for item 2."
    page.screenshot(path=str(SHOTS / "03b-case-unsaved-held.png"), full_page=True)
    # the preview works before every item is saved: the typed text is in it, nothing is saved
    with page.expect_popup() as tab, page.context.expect_event(
            "response", lambda r: r.url.endswith("/preview.pdf")) as previewed:
        page.get_by_role("button", name="Preview the letter with these decisions").click()
    preview = previewed.value  # it opens in its own tab, in the browser's PDF viewer
    assert preview.status == 200 and preview.headers["content-type"] == "application/pdf"
    assert int(preview.headers["content-length"]) > 1000
    assert tab.value.url.split("#")[0] == preview.url
    # the viewer keeps the bytes to itself: the page's own form sends the same again, as the browser does
    import base64

    sent = page.evaluate("""async () => {
        const form = document.getElementById('decisions-form');
        const reply = await fetch(form.action.replace(/decisions$/, 'preview.pdf'),
                                  {method: 'POST', body: new FormData(form)});
        const bytes = new Uint8Array(await reply.arrayBuffer());
        let text = ''; for (const b of bytes) text += String.fromCharCode(b);
        return btoa(text); }""")
    preview_text = " ".join(pdf_text(base64.b64decode(sent)).split())
    assert "Reviewer's own rationale for item 1" in preview_text and "DRAFT" in preview_text
    assert "NOT DECIDED YET" in preview_text  # item 2 has no decision chosen yet
    tab.value.close()
    api = sqlite_world.client("qa").get(f"/api/cases/{case_id}").json()
    assert all(item["decision"] is None for item in api["disputed_items"])
    for index in range(1, count):  # every other item decided, then all saved at once (one form)
        editor = page.locator(f"#item-{index} fieldset.editor")
        editor.locator('input[value="Upheld"]').check()
        editor.get_by_label("Rationale").fill(f"Reviewer's own rationale for item {index + 1}.")
    page.locator("#decisions-form").get_by_role("button", name="Save all decisions").click()
    page.wait_for_selector(".notice")
    assert "every item has your decision" in page.locator(".notice").inner_text()
    for index in range(count):
        assert page.locator(f"#state-{index}").inner_text() == "Your decision, in your words"
    assert page.locator("#sign-blocked").count() == 0
    page.screenshot(path=str(SHOTS / "04-case-decided.png"), full_page=True)
    step = page.locator("#sign-step")
    page.locator("#sign-step summary").click()  # the confirm step opens
    assert "reviewed the records of the case and decided each disputed item" in step.inner_text()
    page.get_by_role("button", name="Confirm: sign and issue").click()  # the box is not ticked yet
    assert page.locator("text=Not signed yet.").count() == 1 and page.evaluate(
        "!document.querySelector('#attest').checkValidity()")
    page.screenshot(path=str(SHOTS / "04b-case-confirm-step.png"), full_page=True)
    page.locator("#sign-step summary").click()  # cancel: the step closes, nothing is signed
    assert step.get_attribute("open") is None and not page.get_by_label("I, the expert reviewer").is_visible()
    assert sqlite_world.client("qa").get(f"/api/cases/{case_id}").json()["determinations"] == []
    page.locator("#sign-step summary").click()
    page.get_by_label("I, the expert reviewer").check()
    page.get_by_role("button", name="Confirm: sign and issue").click()
    page.wait_for_selector("text=Version 1, signed")
    page.screenshot(path=str(SHOTS / "05-case-signed.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_role("link", name="download PDF").first.click()
    path = info.value.path()
    content = Path(path).read_bytes()
    assert content.startswith(b"%PDF-")
    from openimr import read_letter

    letter = read_letter(content)
    assert letter.items[0].rationale.startswith("Reviewer's own rationale for item 1")
    assert "Dr. Alice Zamora" not in letter.model_dump_json()
    page.context.close()


def test_every_page_renders_and_is_keyboard_usable(server, browser, sqlite_world):
    page = _page(browser)
    _sign_in(page, server, "admin")
    for name, path in (("06-search", "/search?q=lumbar+MRI"), ("07-letters", "/letters"),
                       ("09-analytics", "/analytics"), ("10-panel", "/panel"),
                       ("11-case-admin", f"/cases/{sqlite_world.cases['rev_b']}")):
        page.goto(server + path)
        _check_accessible(page, name)
    page.goto(f"{server}/letters")
    page.locator("table.list tbody a").first.click()
    page.wait_for_selector("h1")
    _check_accessible(page, "08-letter")
    assert page.locator("article.item").count() >= 1
    page.goto(f"{server}/search?q=lumbar+MRI")
    assert page.locator("ol.hits mark").count() >= 1
    page.goto(f"{server}/analytics")
    assert page.locator("svg.chart").count() == 3
    page.context.close()


def _fill_application(page, employee: str, received: str, ur_date: str, served: str, employer: str) -> None:
    page.get_by_label("Date received").fill(received)
    page.get_by_label("Application signed").check()
    page.get_by_label("UR decision attached").check()
    page.get_by_label("Employee", exact=True).fill(employee)
    page.get_by_label("Date of injury").fill("2024-02-01")
    page.get_by_label("Employer", exact=True).fill(employer)
    page.get_by_label("Claims administrator").fill("Claims Co")
    page.get_by_label("Requesting physician").fill("Dr. Req Walker")
    page.get_by_label("UR decision date").fill(ur_date)
    page.get_by_label("Date served").fill(served)
    page.get_by_label("Disputed items, one per line").fill("Acupuncture 6 sessions\nMRI of the lumbar spine")


def test_intake_walk_bad_field_fixed_eligibility_parties_event_records(server, browser, sqlite_world, tmp_path):
    """Intake's whole job: an application with a bad field (the error beside it in plain
    words, what was typed kept), fixed; the eligibility and deadlines; the parties on the
    case; an event recorded; a record uploaded; never a reviewer's name; an error page that
    leads back; a late application found not eligible."""
    from datetime import date, timedelta

    today = date.today()
    received, ur_date, served = (str(today - timedelta(days=n)) for n in (5, 20, 25))  # served before the UR
    employee = "Browser Walk Worker"
    page = _page(browser)
    _sign_in(page, server, "intake")
    page.goto(f"{server}/intake")
    _check_accessible(page, "12-intake")
    _fill_application(page, employee, received, ur_date, served, employer="")
    page.get_by_role("button", name="Check eligibility and record the application").click()
    page.wait_for_selector(".field-error")
    page.screenshot(path=str(SHOTS / "12b-intake-bad-field.png"), full_page=True)
    employer_error = page.locator("#employer + .field-error")  # beside its field, in plain words
    assert employer_error.inner_text() == "Employer: required"
    served_error = page.locator("#ur_served + .field-error").inner_text()
    assert served_error.startswith("Date served:") and "before the UR decision date" in served_error
    assert "." not in served_error.split(":")[0] and "items.0" not in page.locator("main").inner_text()
    assert page.get_by_label("Employer", exact=True).get_attribute("aria-invalid") == "true"
    assert page.locator(".result").count() == 0  # nothing stored
    assert page.get_by_label("Employee", exact=True).input_value() == employee  # what was typed is kept
    assert page.get_by_label("Disputed items, one per line").input_value() == (
        "Acupuncture 6 sessions\nMRI of the lumbar spine")
    assert page.get_by_label("UR decision date").input_value() == ur_date
    page.get_by_role("alert").get_by_role("link", name="Employer: required").click()  # the summary leads to it
    assert page.evaluate("document.activeElement.id") == "employer"
    page.get_by_label("Employer", exact=True).fill("Acme Walks")
    page.get_by_label("Date served").fill(str(today - timedelta(days=19)))
    page.get_by_role("button", name="Check eligibility and record the application").click()
    page.wait_for_selector(".result")
    result = page.locator(".result")
    assert "Eligible for review" in result.locator("h2").inner_text()
    deadlines = result.locator("dl.facts dt").all_inner_texts()
    assert deadlines and all(text.strip() for text in result.locator("dl.facts dd").all_inner_texts())
    page.screenshot(path=str(SHOTS / "13-intake-result.png"), full_page=True)
    result.get_by_role("link").click()
    page.wait_for_url("**/cases/*")
    case_url = page.url
    parties = page.locator("section.parties").inner_text()
    for name in (employee, "Acme Walks", "Claims Co", "Dr. Req Walker"):
        assert name in parties
    # record an event: the notice of assignment sent electronically today
    before_due = page.locator(".facts dd").nth(3).inner_text()
    page.get_by_label("Event", exact=True).select_option("notice_sent")
    page.get_by_label("Date", exact=True).fill(str(today))
    page.get_by_label("Notice sent by (for a notice)").select_option("electronic")
    page.get_by_role("button", name="Record the event").click()
    page.wait_for_selector(".notice")
    assert page.locator(".notice").inner_text() == f"Recorded: notice sent {today}"
    assert f"{today}: notice sent (electronic)" in page.locator("ul.events").inner_text()
    records_due = page.locator(".facts dd").nth(3).inner_text()
    assert records_due != before_due and records_due >= str(today)
    # upload a record: it is listed among the case's documents
    record = tmp_path / "progress-note.txt"
    record.write_text("Progress note: low back pain, no red flags; acupuncture requested.", encoding="utf-8")
    page.locator("#file").set_input_files(str(record))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("text=Document added")
    assert "progress-note" in page.locator("section.docs").inner_text()
    _check_accessible(page, "14-intake-case")
    for name in ("Zamora", "Yoshida"):
        assert name not in page.content()
    # a page intake may not open: the error page leads back to the case
    page.evaluate("location.href = '/users'")
    page.wait_for_url("**/users")
    assert page.locator("h1").inner_text() == "Not allowed"
    page.screenshot(path=str(SHOTS / "15-intake-refused.png"))
    page.get_by_role("link", name="Back to where you were").click()
    page.wait_for_url(case_url.split("#")[0] + "*")
    # a late application: not eligible, and why
    page.goto(f"{server}/intake")
    _fill_application(page, "Browser Late Worker", str(today - timedelta(days=5)), "2020-01-02", "2020-01-03",
                      employer="Acme")
    page.get_by_role("button", name="Check eligibility and record the application").click()
    page.wait_for_selector(".result")
    assert "Not eligible" in page.locator(".result h2").inner_text()
    assert "late" in page.locator(".result").inner_text()
    page.goto(f"{server}/cases/{sqlite_world.cases['rev_a']}")
    assert "Zamora" not in page.content()
    page.context.close()


def test_api_docs_draw_with_no_internet(server, browser):
    """/docs draws Swagger UI from the installed package: every request the page makes goes
    to the workbench itself, the operations of the API are listed, and nothing is refused by
    the page's content security policy."""
    page = _page(browser)
    requests: list[str] = []
    refused: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{server}/docs")
    page.wait_for_selector(".opblock", timeout=30000)
    assert page.locator(".opblock").count() >= 10
    assert page.get_by_text("/api/cases/{case_id}/sign").count() >= 1
    outside = [url for url in requests if not url.startswith(server) and not url.startswith("data:")]
    assert outside == [], f"/docs fetched from outside the workbench: {outside}"
    assert refused == []
    page.screenshot(path=str(SHOTS / "api-docs.png"))
    page.context.close()


def test_unknown_page_is_an_html_page_that_leads_back(server, browser):
    page = _page(browser)
    _sign_in(page, server, "admin")
    page.goto(f"{server}/cases")
    page.evaluate("location.href = '/no-such-page'")
    page.wait_for_url(lambda url: url.endswith("/no-such-page"))
    assert page.locator("h1").inner_text() == "Not found"
    assert page.get_by_role("alert").inner_text() == "there is no such page"
    page.get_by_role("link", name="Back to where you were").click()
    page.wait_for_url(lambda url: url.endswith("/cases"))
    page.screenshot(path=str(SHOTS / "not-found.png"))
    page.context.close()


def _scanned_records(tmp_path) -> Path:
    """A small scanned case file: the progress report and imaging report of a generated
    case file, each page an image at 200 dpi (read by OCR)."""
    import random

    from openimr.casefile.pdfwrite import PdfWriter
    from openimr.casefile.synth import _paginate, _render, case_file

    from .test_casefile import SUMMARY

    cf = case_file(SUMMARY, seed=3, scanned_share=0.0, max_events=2)
    rng = random.Random(4)
    writer = PdfWriter()
    for doc in cf.documents:
        if doc.duplicate_of is None and doc.type in ("progress_report", "imaging_report"):
            for lines in _paginate(doc, rng, True):
                writer.image_page(_render(lines, 200, rng, fax=False))
    path = tmp_path / "scanned-records.pdf"
    path.write_bytes(writer.getvalue())
    return path


def test_intake_uploads_a_scanned_case_file_and_the_reviewer_sees_the_evidence_on_its_page(
        server, browser, sqlite_world, tmp_path):
    from .test_workflow import _new_assigned_case

    case_id = _new_assigned_case(sqlite_world)
    records = _scanned_records(tmp_path)
    page = _page(browser)
    _sign_in(page, server, "intake")
    page.goto(f"{server}/cases/{case_id}/records")
    page.locator("#casefile").set_input_files(str(records))
    page.get_by_role("button", name="Upload and index").click()
    page.wait_for_selector("text=indexing in the background")
    for _ in range(120):  # the page refreshes itself while the job runs
        page.wait_for_timeout(1000)
        state = page.locator("[data-job]").first.get_attribute("data-state")
        if state in ("done", "failed"):
            break
    assert state == "done", page.locator(".jobs").inner_text()
    page.reload()
    table = page.locator("table.casefile-documents")
    assert "progress report" in table.inner_text() and "imaging report" in table.inner_text()
    assert "scanned (OCR" in table.inner_text()
    _check_accessible(page, "20-records-case-file")
    page.context.close()

    reviewer = _page(browser)
    _sign_in(reviewer, server, "rev_a")
    reviewer.goto(f"{server}/cases/{case_id}")
    cited = reviewer.locator("ul.cited a")
    assert cited.count() >= 1, "no evidence on the case file's pages"
    cited.first.click()
    reviewer.wait_for_url("**/documents/*/pages/*")
    marks = reviewer.locator("pre.doc mark")
    assert marks.count() >= 1 and marks.first.inner_text().strip()
    assert "Disputed items" in reviewer.locator("aside.page-items").inner_text()
    image = reviewer.locator(".page-image img")  # the page as sent, beside its text
    image.scroll_into_view_if_needed()
    reviewer.wait_for_function("() => { const i = document.querySelector('.page-image img');"
                               " return i && i.complete && i.naturalWidth > 0; }", timeout=60000)
    assert image.evaluate("i => i.naturalWidth") >= 800 and image.is_visible()
    _check_accessible(reviewer, "21-case-file-page")
    reviewer.context.close()
