"""The Errors page's analytics in a real browser, on the labelled history of a real Playwright
suite (tests/fixtures/triage-suite): a test's page, the runs view and a comparison chosen in
it, search in error text, muting a test, and a chart's bar that filters the page."""

from urllib.parse import quote, unquote

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from pmdata.ingest.playwright_ingest import ingest_report
from pmdata.store import migrate
from pmdata.triage import service
from tests.browser.conftest import serve, wait_idle
from tests.browser.test_real_site import opened as opened_once
from tests.browser.test_real_site import raw_lines
from tests.conftest import ROOT, SHARED, rows

REPORTS = sorted((ROOT / "tests" / "fixtures" / "triage-suite" / "reports").glob("run-*.json"))


@pytest.fixture(scope="module")
def suite_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("suite-served")
    db = folder / "claude.db"
    migrate(db)
    for run, report in enumerate(REPORTS, 1):
        ingest_report(db, report, "shop", "shop-e2e", run)
        service.classify_on_arrival(db, workflow="shop-e2e")
    for base in serve(folder, folder / "server.log", db=db, roots=SHARED / "fixtures" / "openspec"):
        yield base, db


def opened(page, url: str) -> str:
    """The page's text once it has run: no exception, no raw value."""
    text = opened_once(page, url)
    assert raw_lines(text) == [], url
    return text


def href(page) -> str:
    return unquote(page.evaluate("location.href"))


def test_a_tests_page(suite_url, page):
    base, _ = suite_url
    test = quote("cart › applies a coupon", safe="")
    opened(page, f"{base}/test?workflow=shop-e2e&test={test}")
    # Waited on, not read once: a rerun right after the first run (the live check) redraws the
    # metrics, and a fresh-clone run once read the page between the two.
    # (the changes themselves are a table, drawn on a canvas: tests/test_errors_analytics.py)
    expect(page.get_by_test_id("stMetricValue").filter(has_text="Recovered")).to_be_visible()
    expect(page.get_by_text("Where it changed state", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(2)


def test_the_runs_view_and_a_comparison_chosen_in_it(suite_url, page):
    base, _ = suite_url
    opened(page, f"{base}/errors?chart=Runs")
    said = page.get_by_text("shop-e2e run 12 against shop-e2e run 11: 4 newly failing tests")
    expect(said).to_be_visible()
    page.get_by_test_id("stSelectbox").filter(has_text="Compare run").click()
    page.keyboard.type("shop-e2e run 4")  # the list is long: narrow it as a person would
    # The one option left is the focused one; Enter takes it, as a person's keyboard does
    # (a click can land on the runs table that the open list lies over).
    expect(page.get_by_role("option")).to_have_count(1)
    expect(page.get_by_role("option", name="shop-e2e run 4", exact=True)).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_text("shop-e2e run 4 against shop-e2e run 3:")).to_be_visible()
    page.wait_for_function("location.href.includes('run_head=')")
    assert "run_head=shop-e2e run 4" in href(page).replace("+", " ")


def test_search_finds_error_text(suite_url, page):
    base, _ = suite_url
    opened(page, f"{base}/errors?q=ECONNREFUSED")
    expect(page.get_by_text("3 failing tests ·")).to_be_visible()
    opened(page, f"{base}/errors?q=widgetz")
    expect(page.get_by_text("these are close matches")).to_be_visible()


def test_a_bar_of_most_failing_filters_the_page_and_the_url(suite_url, page):
    base, _ = suite_url
    opened(page, f"{base}/errors?chart=Most+failing")
    chart = page.get_by_test_id("stPlotlyChart")
    expect(chart).to_have_count(1)
    # The top bar: the test that failed most (every bar is a test's failures).
    # Plotly's drag layer lies over the bars: click where the widest bar is, as a mouse does.
    bars = chart.locator("g.point path")
    expect(bars.first).to_be_visible()
    for _ in range(3):  # a click that lands while the chart redraws is lost: click again
        wait_idle(page)
        boxes = [bars.nth(i).bounding_box() for i in range(bars.count())]
        box = max((b for b in boxes if b), key=lambda b: b["width"])
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        try:
            page.wait_for_function("location.href.includes('q=')", timeout=10_000)
            break
        except PlaywrightTimeout:
            wait_idle(page)
    wait_idle(page)
    assert "q=" in href(page)
    expect(page.get_by_test_id("stTextInput").locator("input")).not_to_have_value("")
    expect(page.get_by_text("1 failing test ·")).to_be_visible()  # the list, narrowed to it


def test_muting_a_test_from_its_failure(suite_url, page):
    base, db = suite_url
    failure = rows(
        db, "SELECT max(id) FROM test_failures WHERE test_name = 'dashboard › shows the widgets'"
    )[0][0]
    opened(page, f"{base}/failure?failure={failure}&form=Mute")
    page.get_by_label("Why").fill("the widgets are being rebuilt")
    page.get_by_role("button", name="Mute this test").click()
    expect(page.get_by_text("Muted for 14 days.")).to_be_visible()
    opened(page, f"{base}/errors")
    expect(page.get_by_text("Muted (1): shown apart, raising no priority")).to_be_visible()
