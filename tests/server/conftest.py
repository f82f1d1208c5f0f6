"""A live server (`streamlit run server.py`, as `make run` starts it) on the real homelab
database and OpenSpec trees, with a password and a token made by `pmdata token create`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pmdata.store import migrate
from tests.browser.conftest import serve
from tests.conftest import ROOT, SHARED, copy_fixture_db

PASSWORD = "correct horse"
HOOKS = SHARED / "fixtures" / "hooks"
FULL = (HOOKS / "session-full.jsonl").read_text().splitlines()
REPORTS = SHARED / "fixtures" / "playwright"


def pmdata(state: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PMDASH_STATE_DIR": str(state)}
    env.pop("PMDASH_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "pmdata.cli", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


@pytest.fixture(scope="package")  # one server for every module here: it takes seconds to start
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("server")
    db = copy_fixture_db(folder / "claude.db")
    migrate(db)
    roots = SHARED / "fixtures" / "openspec"
    for base in serve(folder, folder / "server.log", db=db, roots=roots, password=PASSWORD):
        made = pmdata(folder / "state", "token", "create", "ci-runner")
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip()
        assert made.stdout == token + "\n"  # stdout holds the token and nothing else
        yield {"base": base, "db": db, "token": token, "state": folder / "state", "log": folder}
