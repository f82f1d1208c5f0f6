"""Opening an item from a list: in the same tab (no reload, no new sign-in), and back to the list
with its filters."""

from playwright.sync_api import expect

from tests.browser.conftest import wait_idle


def choose_first_row(page) -> None:
    """The grid is a canvas: the first row's selection box sits left of its first cell."""
    grid = page.get_by_test_id("stDataFrame").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 18)


def test_choosing_a_row_opens_its_item_here_and_the_way_back_keeps_the_filters(app_url, page):
    page.goto(f"{app_url}/errors?project=storefront&q=cart")
    wait_idle(page)
    tabs = len(page.context.pages)
    choose_first_row(page)
    # The address bar changes by history.replaceState: read it, not page.url.
    page.wait_for_function("/[/]failure[?].*failure=[0-9]+/.test(location.href)")
    wait_idle(page)
    assert len(page.context.pages) == tabs, "opened in this tab"
    expect(page.get_by_role("heading", name="Run history", exact=True)).to_be_visible()
    page.get_by_role("button", name="Back to Errors").click()
    page.wait_for_function(
        "!location.href.includes('failure=') && location.href.includes('q=cart')"
    )
    wait_idle(page)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()  # the list again
    expect(page.get_by_test_id("stSidebar").get_by_label("Search")).to_have_value("cart")


def test_the_navigation_brings_back_the_list_from_an_item(app_url, page):
    """Clicking the open page's own name in the navigation: its list, with the filters."""
    page.goto(f"{app_url}/errors?project=storefront&q=cart")
    wait_idle(page)
    choose_first_row(page)
    page.wait_for_function("/failure=[0-9]+/.test(location.href)")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Run history", exact=True)).to_be_visible()
    page.get_by_role("link", name="Errors", exact=True).click()
    page.wait_for_function(
        "!location.href.includes('failure=') && location.href.includes('q=cart')"
        " && location.pathname === '/errors'"
    )
    wait_idle(page)
    expect(page.get_by_role("heading", name="Run history", exact=True)).to_have_count(0)
    expect(page.get_by_test_id("stSidebar").get_by_label("Search")).to_have_value("cart")
