"""The workbench at a phone's width (390 × 844, a real headless Chromium): no page is wider
than the screen (wide tables scroll inside their own box), and every link of the main
navigation is on screen and opens its page. Screenshots under test-output/screenshots/."""

from __future__ import annotations

import pytest

from .test_browser import SHOTS, _sign_in, browser, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
WIDTH, HEIGHT = 390, 844
# the nav's pages for admin (who sees every one), and the reviewer's case page
PAGES = ("/cases", "/intake", "/late", "/panel", "/search?q=lumbar+MRI", "/letters", "/letters/1", "/users",
         "/analytics")


def _phone(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    context.set_default_timeout(30000)
    return context.new_page()


def _fits(page, name: str) -> None:
    """No horizontal scrolling of the page itself; a screenshot of it."""
    page.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(f"""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > {WIDTH} + 1)
        .filter(e => !e.closest('.scroll, table.list, table.casefile-documents, .doc'))
        .map(e => e.tagName + '.' + e.className).slice(0, 5)""")
    assert width <= WIDTH, f"{name}: the page is {width} px wide at {WIDTH} px ({wide})"


def _nav_usable(page, base: str) -> None:
    """Every link of the main navigation is visible, inside the screen, and opens its page."""
    links = page.locator("nav[aria-label=Main] a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) >= 6, hrefs
    for i, href in enumerate(hrefs):
        link = page.locator("nav[aria-label=Main] a").nth(i)
        assert link.is_visible(), href
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (href, box)
        assert box["height"] >= 24, (href, box)  # big enough to tap
        link.click()
        page.wait_for_url(f"**{href}")
        assert page.locator("h1").first.is_visible(), href


def test_every_page_fits_a_phone_and_its_navigation_works(server, browser, sqlite_world):  # noqa: F811
    page = _phone(browser)
    _sign_in(page, server, "admin")
    page.goto(f"{server}/cases")
    _nav_usable(page, server)
    for path in PAGES:
        page.goto(f"{server}{path}")
        assert page.locator("h1").first.is_visible(), path
        _fits(page, path.strip("/").split("?")[0].replace("/", "-") or "home")
    case_id = sqlite_world.cases["rev_a"]
    for who in ("admin", "rev_a"):  # admin sees assignment and audit; the reviewer the editor
        if who != "admin":
            page.context.clear_cookies()
            _sign_in(page, server, who)
        page.goto(f"{server}/cases/{case_id}")
        page.wait_for_selector("article.item")
        _fits(page, f"case-{who}")
        page.goto(f"{server}/cases/{case_id}/records")
        _fits(page, f"records-{who}")
    page.goto(f"{server}/cases")
    _fits(page, "cases-reviewer")
    table = page.locator("table.list").first
    assert table.is_visible()
    # the queue's table scrolls inside its own box when it is wider than the screen
    overflow = table.evaluate("t => getComputedStyle(t).overflowX")
    assert overflow == "auto", overflow
    page.context.close()
