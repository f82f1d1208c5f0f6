"""An open dashboard follows the world without a reload: a hook event, a session that ends and a
spec edit each show within the 5 s refresh (we allow 15 s, the suite's wait for any condition:
on two cores shared with a server and a browser, a rerun of the page can take seconds)."""

import json
import os
import re
import subprocess
import sys
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, wait_idle
from tests.conftest import ROOT, SHARED

LIVE_TIMEOUT_MS = 15_000


def metric(page, label):
    return (
        page.get_by_test_id("stMetric")
        .filter(has=page.get_by_text(label, exact=True))
        .get_by_test_id("stMetricValue")
    )


def hook(served_demo, payload: dict) -> None:
    """One real `pmdata hook` process, as Claude Code runs it."""
    env = {
        **os.environ,
        "PMDASH_DB": str(served_demo / "pmdash.db"),
        "PMDASH_STATE_DIR": str(served_demo / "hook-state"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pmdata.cli", "hook"],
        input=json.dumps(payload),
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0


def test_a_new_session_and_its_end_show_without_a_reload(app_url, served_demo, page):
    page.goto(f"{app_url}/sessions")
    wait_idle(page)
    running = int(metric(page, "Running").inner_text())
    agent = str(uuid.uuid4())
    start = {"session_id": agent, "hook_event_name": "SessionStart", "source": "startup"}
    hook(served_demo, {**start, "cwd": str(served_demo / "projects" / "storefront")})
    expect(metric(page, "Running")).to_have_text(str(running + 1), timeout=LIVE_TIMEOUT_MS)
    hook(served_demo, {"session_id": agent, "hook_event_name": "SessionEnd", "reason": "exit"})
    toast = page.get_by_test_id("stToast").filter(has_text="finished")
    expect(toast.first).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(metric(page, "Running")).to_have_text(str(running), timeout=LIVE_TIMEOUT_MS)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "session-finished.png"), full_page=True)


def test_a_spec_edit_on_disk_shows_without_a_reload(app_url, served_demo, page):
    page.goto(f"{app_url}/?project=notes-app")
    wait_idle(page)
    drafts = int(metric(page, "No tasks yet").inner_text())
    change = served_demo / "projects" / "notes-app" / "openspec" / "changes" / "add-live-test"
    change.mkdir()
    (change / "proposal.md").write_text(
        "# Add a live test\n\n## Why\nTo see edits arrive.\n\n## What Changes\n- Nothing real\n"
    )
    expect(metric(page, "No tasks yet")).to_have_text(str(drafts + 1), timeout=LIVE_TIMEOUT_MS)


def ingest(served_demo, tmp_path, project: str) -> None:
    """A new Playwright run, ingested the way a CI job does: `pmdata ingest playwright`."""
    report = json.loads((SHARED / "fixtures" / "playwright" / "run-1.json").read_text())
    report["stats"]["startTime"] = "2026-11-26T09:00:00.000Z"  # a new run, not a re-upload
    path = tmp_path / "run.json"
    path.write_text(json.dumps(report))
    done = subprocess.run(
        [sys.executable, "-m", "pmdata.cli", "ingest", "playwright", str(path)]
        + ["--project", project, "--db", str(served_demo / "pmdash.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_a_new_failing_run_shows_on_the_errors_page_without_a_reload(
    app_url, served_demo, page, tmp_path
):
    page.goto(f"{app_url}/errors?project=homelab-portal")
    wait_idle(page)
    counts = page.get_by_text(re.compile(r"^\d+ failing tests · \d+ failures"))
    before = counts.inner_text()
    ingest(served_demo, tmp_path, "homelab-portal")
    expect(counts).not_to_have_text(before, timeout=LIVE_TIMEOUT_MS)
    failures = lambda text: int(re.search(r"· (\d+) failures", text)[1])  # noqa: E731
    assert failures(counts.inner_text()) == failures(before) + 2  # the run's two failures


def test_a_new_change_on_disk_shows_on_the_specs_page_without_a_reload(app_url, served_demo, page):
    page.goto(f"{app_url}/specs?project=billing-api")
    wait_idle(page)
    counts = page.get_by_text(re.compile(r"^\d+ changes · \d+ no tasks"))
    drafts = lambda text: int(re.search(r"(\d+) no tasks", text)[1])  # noqa: E731
    before = drafts(counts.inner_text())
    change = served_demo / "projects" / "billing-api" / "openspec" / "changes" / "add-live-test-2"
    change.mkdir()
    (change / "proposal.md").write_text(
        "# Add a second live test\n\n## Why\nTo see edits arrive.\n\n## What Changes\n- None\n"
    )
    expect(counts).to_contain_text(f"{before + 1} no tasks", timeout=LIVE_TIMEOUT_MS)
