"""A real `streamlit run` on the demo data, and Debian's chromium driven by playwright."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
# The suite shares two cores with a server and a browser: a page that draws in 1 s alone can
# take several under load. Expectations wait on their condition up to this long, never longer.
expect.set_options(timeout=15_000)
SCREENSHOTS = ROOT / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"streamlit not healthy after {timeout}s:\n{log.read_text()}")


def serve(
    demo: Path,
    log: Path,
    db: Path | None = None,
    roots: Path | None = None,
    script: str = "server.py",
    **settings: str,
):
    """`streamlit run server.py` (as `make run` does) on a demo folder (or on `db` and the
    project `roots`), with more PMDASH_ `settings` (password="x"); yields the base URL, stops
    the server after."""
    port = free_port()
    env = {
        **os.environ,
        "PMDASH_DB": str(db or demo / "pmdash.db"),
        "PMDASH_PROJECT_ROOTS": str(roots or demo / "projects"),
        "PMDASH_STATE_DIR": str(log.parent / "state"),
        **{f"PMDASH_{k.upper()}": v for k, v in settings.items()},
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                script,
                "--server.address=127.0.0.1",
                f"--server.port={port}",
                "--server.headless=true",
                "--browser.gatherUsageStats=false",
                "--server.fileWatcherType=none",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(f"{base}/_stcore/health", proc, log)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def served_demo(demo_dir, tmp_path_factory) -> Path:
    """A copy of the demo the browser may write to (a triage override, say)."""
    copy = tmp_path_factory.mktemp("served") / "demo"
    shutil.copytree(demo_dir, copy)
    return copy


@pytest.fixture(scope="session")
def app_url(served_demo, tmp_path_factory):
    yield from serve(served_demo, tmp_path_factory.mktemp("streamlit") / "server.log")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() or not shutil.which("chromium"):
        pytest.skip(
            f"{CHROMIUM} is missing: `make test` installs it as root (apt-get install -y chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-extensions",
            ],
        )
        yield b
        b.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test, for `page` to know whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        # What the browser showed when the test gave up, in the CI log: a flaky wait is
        # otherwise a bare timeout (the screenshot stays on this machine).
        try:
            print(f"address bar at failure: {page.evaluate('location.href')}")
            print("page text at failure:", page.evaluate("document.body.innerText")[:1500])
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"failed-{request.node.name[:80]}.png")
        except Exception as exc:  # a closed page says nothing more; the failure stands
            print(f"no view of the page at failure: {exc}")
    context.close()


def wait_idle(page) -> None:
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=30_000
    )
