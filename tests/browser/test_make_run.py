"""`make run` on a checkout with no database configured: builds the demo once and serves it."""

import os
import shutil
import signal
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import free_port, wait_healthy, wait_idle
from tests.conftest import ROOT


def start_make_run(demo_dir, port, log, address="127.0.0.1"):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMDASH_")}
    with log.open("w") as out:
        return subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "run",
                *([f"ADDRESS={address}"] if address else []),  # None: the Makefile's 0.0.0.0
                f"PORT={port}",
                f"DEMO_DIR={demo_dir}",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=15)


def test_make_run_builds_demo_once_and_serves_it_twice(tmp_path, page):
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    demo = tmp_path / "demo"
    port = free_port()
    proc = start_make_run(demo, port, tmp_path / "run1.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc, tmp_path / "run1.log", 120)
        page.goto(f"http://127.0.0.1:{port}")
        wait_idle(page)
        expect(page).to_have_title("pmdash")
        expect(page.get_by_test_id("stMetric").first).to_be_visible()
    finally:
        stop(proc)
    db = demo / "pmdash.db"
    assert db.exists() and (demo / "projects").is_dir()
    built = db.stat().st_mtime_ns

    port = free_port()
    proc = start_make_run(demo, port, tmp_path / "run2.log", address=None)  # as a user runs it
    try:
        wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc, tmp_path / "run2.log", 120)
    finally:
        stop(proc)
    assert db.stat().st_mtime_ns == built, "the demo is built once, not on every run"
    log = (tmp_path / "run2.log").read_text()
    assert "serving the demo data" in log
    assert f"http://localhost:{port}" in log
    # Streamlit's banner would have asked checkip.amazonaws.com for the external address.
    assert "external IP" not in log and "External URL" not in log
