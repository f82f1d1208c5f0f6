"""The dashboard in a real browser on data nobody made up (tests/real_site.py): the fixture
OpenSpec trees as project roots (their folder names hold `+`) and the homelab database filled
the way the homelab fills it. Every page, a change and a spec of every tree, and a sample of
failures and sessions open with no exception and no raw value (None, nan, NaT, a dict) in their
text."""

from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from pmdata.openspec.tree import OpenSpecTree
from tests import real_site
from tests.browser.conftest import serve, wait_idle
from tests.conftest import rows
from tests.test_real_data import RAW, REPOS


@pytest.fixture(scope="module")
def real_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real-served")
    db = real_site.build(folder)
    for base in serve(folder, folder / "server.log", db=db, roots=real_site.TREES):
        yield base, db


def opened(page, url: str) -> str:
    """The page's text once it has run, after checking it shows no exception."""
    page.goto(url)
    wait_idle(page)
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
    assert page.get_by_test_id("stException").count() == 0, url
    return page.get_by_test_id("stApp").inner_text()


def raw_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if RAW.search(line)]


@pytest.mark.parametrize("path", ["", "specs", "errors", "sessions"])
def test_every_page_opens_on_real_data(real_url, page, path):
    base, _ = real_url
    assert raw_lines(opened(page, f"{base}/{path}")) == []


def test_a_change_and_a_spec_of_every_real_tree_open(real_url, page):
    base, _ = real_url
    for repo in REPOS:
        tree = OpenSpecTree(real_site.TREES / repo / "openspec")
        project = quote(repo, safe="")
        change = min(tree.change_ids(include_dot=False), default=None)
        if change:
            text = opened(page, f"{base}/change?project={project}&change={quote(change)}")
            assert change in text and raw_lines(text) == [], (repo, change)
        spec = min((s["id"] for s in tree.list_specs()), default=None)
        if spec:
            text = opened(page, f"{base}/spec?project={project}&spec={quote(spec)}")
            assert spec in text and raw_lines(text) == [], (repo, spec)


def test_failures_and_sessions_open_on_real_data(real_url, page):
    base, db = real_url
    # A sample (the AppTest suite, tests/test_real_data.py, opens every one): the latest
    # failure, the session whose calls touch no file and the one with the most calls.
    for (failure,) in rows(db, "SELECT max(id) FROM test_failures"):
        text = opened(page, f"{base}/failure?project=shop&failure={failure}")
        assert "Run history" in text and raw_lines(text) == [], failure
    for (session,) in rows(
        db,
        "SELECT id FROM (SELECT s.id, count(h.id) AS n FROM sessions s"
        " LEFT JOIN hooks h ON h.session_id = s.id GROUP BY s.id ORDER BY n DESC)"
        " WHERE n > 0 LIMIT 1",
    ) + rows(db, "SELECT max(id) FROM sessions"):
        text = opened(page, f"{base}/session?session={session}")
        assert f"Session {session}" in text and raw_lines(text) == [], session
