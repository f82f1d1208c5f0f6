"""Text from files, reports and people never makes a viewer's browser fetch anything from
elsewhere: a listener stands where `![x](http://...)` points, and must hear nothing."""

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from pmdata.ingest.playwright_ingest import ingest_report
from pmdata.store import migrate
from pmdata.triage.service import override, run_triage
from tests.browser.conftest import serve, wait_idle
from tests.conftest import SHARED, copy_fixture_db, rows


@pytest.fixture
def listener():
    """An HTTP server on loopback that records every path asked of it."""
    heard: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            heard.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", heard
    server.shutdown()


def tracked(url: str, where: str) -> str:
    return f"![{where}]({url}/{where}.png)"


def make_site(tmp_path, url):
    """A project tree and a database whose text points images at the listener."""
    site = tmp_path / "site"
    tree = site / "projects" / "shop" / "openspec"
    change = tree / "changes" / "track-me"
    (change / "specs" / "cart").mkdir(parents=True)
    (tree / "specs").mkdir()
    (change / "proposal.md").write_text(
        f"# Track me\n\n## Why\n{tracked(url, 'why')} Shoppers need it.\n\n"
        f"## What Changes\n- {tracked(url, 'what')} a change\n"
        f'<img src="{url}/html-img.png">\n'
    )
    (change / "design.md").write_text(f"# Design\n\n{tracked(url, 'design')}\n")
    (change / "tasks.md").write_text(f"## 1. Do\n- [ ] 1.1 {tracked(url, 'task')} a task\n")
    (change / "specs" / "cart" / "spec.md").write_text(
        f"## ADDED Requirements\n### Requirement: Totals {tracked(url, 'req-name')}\n"
        f"The cart SHALL show totals {tracked(url, 'req')}.\n\n"
        f"#### Scenario: shown {tracked(url, 'scenario-name')}\n"
        f"- **WHEN** {tracked(url, 'when')}\n- **THEN** it shows\n"
    )
    db = copy_fixture_db(site / "pmdash.db")
    migrate(db)
    report = json.loads((SHARED / "fixtures" / "playwright" / "run-4.json").read_text())
    spec = report["suites"][0]["suites"][0]["specs"][0]
    spec["title"] = f"adds {tracked(url, 'test-name')}"
    for test in spec["tests"]:
        test["status"] = "unexpected"
        test["results"][-1]["status"] = "failed"
        test["results"][-1]["error"] = {"message": f"Error: {tracked(url, 'message')}"}
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    ingest_report(db, path, "shop")
    [(failure_id,)] = rows(db, "SELECT id FROM test_failures WHERE test_name LIKE '%test-name%'")
    run_triage(db)
    override(db, failure_id, "one_off_fix", f"because {tracked(url, 'rationale')}", 3, "ana")
    return site, failure_id


def test_markdown_images_in_files_reports_and_rationales_load_nothing(tmp_path, browser, listener):
    if not shutil.which("chromium"):
        pytest.skip("chromium is missing: `make test` installs it as root")
    url, heard = listener
    site, failure_id = make_site(tmp_path, url)
    asked = []  # every address the browser asks for, the favicon and fonts included
    for base in serve(site, tmp_path / "server.log"):
        page = browser.new_page()
        page.on("request", lambda request: asked.append(request.url))
        page.goto(f"{base}/specs?project=shop&change=track-me")
        wait_idle(page)
        expect(page.get_by_text("Shoppers need it.", exact=False)).to_be_visible()
        page.get_by_role("tab", name="Deltas").click()
        page.get_by_text("ADDED · Totals", exact=False).first.click()  # open the requirement
        expect(page.get_by_text("The cart SHALL show totals", exact=False)).to_be_visible()
        for tab in ("Tasks", "Design"):
            page.get_by_role("tab", name=tab).click()
            wait_idle(page)
        page.goto(f"{base}/errors?project=shop&failure={failure_id}")
        wait_idle(page)
        expect(page.get_by_text("because", exact=False).first).to_be_visible()
        page.goto(f"{base}/?project=shop")
        wait_idle(page)
        page.close()
    assert heard == [], f"the browser fetched {heard}"
    elsewhere = [u for u in asked if not u.startswith((base, "data:", "blob:"))]
    assert elsewhere == [], f"the page asked outside the server for {elsewhere}"
