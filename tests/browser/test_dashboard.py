"""The dashboard in Debian's chromium against a real `streamlit run` on the demo data."""

import sqlite3

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, serve, wait_idle


def sidebar_project(page):
    return page.get_by_test_id("stSidebar").get_by_role("combobox", name="Project")


def test_a_cold_deep_link_shows_the_filters_and_the_navigation(served_demo, tmp_path, browser):
    """The first request after a server start is a deep link: the frame must still run."""
    for base in serve(served_demo, tmp_path / "cold.log"):
        page = browser.new_page()
        page.goto(f"{base}/errors?project=storefront")
        wait_idle(page)
        expect(page.get_by_role("heading", name="Errors · storefront")).to_be_visible()
        expect(sidebar_project(page)).to_have_value("storefront")
        for name in ("All Work", "Specs", "Errors", "Sessions"):
            expect(page.get_by_role("link", name=name).first).to_be_visible()
        page.close()


def test_a_filtered_view_is_a_link_another_browser_opens_the_same(app_url, browser, page):
    page.goto(f"{app_url}/errors")
    wait_idle(page)
    search = page.get_by_test_id("stSidebar").get_by_label("Search")
    search.fill("cart")
    search.press("Enter")
    wait_idle(page)
    page.wait_for_url("**q=cart**")
    rows_here = page.get_by_test_id("stDataFrame").first.inner_text()
    shared = page.url
    other = browser.new_context()  # another browser: no shared session state
    second = other.new_page()
    second.goto(shared)
    wait_idle(second)
    # A fresh browser draws the sidebar after the page: on a loaded machine that takes a while.
    search_there = second.get_by_test_id("stSidebar").get_by_label("Search")
    expect(search_there).to_have_value("cart", timeout=30_000)
    assert second.get_by_test_id("stDataFrame").first.inner_text() == rows_here
    SCREENSHOTS.mkdir(exist_ok=True)
    second.screenshot(path=str(SCREENSHOTS / "errors-filtered.png"), full_page=True)
    other.close()


def decide(page, decision_word: str, rationale: str) -> None:
    """Save a decision with the failure page's form, as a person does."""
    form = page.get_by_test_id("stForm").first
    # Typed, not clicked: low on a long page the option list can open outside the viewport.
    decision = form.get_by_role("combobox", name="Decision")
    decision.click()
    decision.press_sequentially(decision_word)
    # The box shows typed text as its value before anything is chosen: Enter must wait for the
    # filtered option, or on a busy machine it chooses nothing and the default is saved.
    expect(page.get_by_role("option", name=decision_word)).to_be_visible()
    decision.press("Enter")
    form.get_by_label("Rationale").fill(rationale)
    expect(decision).to_have_value(decision_word)  # after the blur: the choice, not text
    form.get_by_role("button", name="Save decision").click()
    wait_idle(page)
    expect(page.get_by_text(f"Saved: {decision_word}")).to_be_visible()


def test_submitting_a_triage_override(app_url, served_demo, page):
    db = served_demo / "pmdash.db"
    con = sqlite3.connect(db)
    failure_id, project = con.execute(
        "SELECT t.test_failure_id, r.project FROM error_triage t JOIN test_failures f"
        " ON f.id = t.test_failure_id JOIN reports r ON r.id = f.report_id"
        " WHERE t.decided_by IS NULL AND t.decision != 'ignore' LIMIT 1"
    ).fetchone()
    con.close()
    page.goto(f"{app_url}/errors?project={project}&failure={failure_id}")
    wait_idle(page)
    decide(page, "ignore", "flaky network in the lab, not the product")
    con = sqlite3.connect(db)
    decision, rationale = con.execute(
        "SELECT decision, rationale FROM error_triage WHERE test_failure_id = ?", (failure_id,)
    ).fetchone()
    con.close()
    assert (decision, rationale) == ("ignore", "flaky network in the lab, not the product")
    page.screenshot(path=str(SCREENSHOTS / "failure.png"), full_page=True)
