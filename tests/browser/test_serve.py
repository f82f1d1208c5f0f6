import urllib.request

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, wait_idle

PAGES = {
    "": "All Work",  # the default page lives at /
    "specs": "Specs",
    "errors": "Errors",
    "sessions": "Sessions",
}


def test_health_endpoint_answers(app_url):
    with urllib.request.urlopen(f"{app_url}/_stcore/health", timeout=5) as resp:
        assert resp.status == 200 and resp.read() == b"ok"


def test_every_page_opens_in_a_real_browser(app_url, page):
    SCREENSHOTS.mkdir(exist_ok=True)
    for path, title in PAGES.items():
        page.goto(f"{app_url}/{path}")
        wait_idle(page)
        expect(page.get_by_text("Page not found")).to_have_count(0)
        expect(page).to_have_title("pmdash")
        expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        name = path or "all_work"
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
