import urllib.request

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, wait_idle


def test_health_endpoint_answers(app_url):
    with urllib.request.urlopen(f"{app_url}/_stcore/health", timeout=5) as resp:
        assert resp.status == 200 and resp.read() == b"ok"


def test_real_browser_shows_the_app_and_its_data(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    expect(page).to_have_title("pmdash")
    expect(page.get_by_role("heading", name="pmdash")).to_be_visible()
    expect(page.get_by_test_id("stMetric").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "overview.png"), full_page=True)
