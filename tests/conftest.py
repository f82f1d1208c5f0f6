"""Shared fixtures: real SQLite files and real demo trees in tmp_path, never mocks."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURE_DB = SHARED / "fixtures" / "homelab" / "claude.db"
# A fixed end of history, so demo content is the same in every run of the suite.
DEMO_NOW = 1_795_000_000


def copy_fixture_db(dest: Path) -> Path:
    """A writable copy of the homelab fixture, with its WAL files (cp -p keeps mtimes)."""
    if not FIXTURE_DB.exists():
        pytest.fail(f"missing {FIXTURE_DB}: the suite needs ../shared beside the checkout")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{FIXTURE_DB}{suffix}")
        if src.exists():
            shutil.copy2(src, f"{dest}{suffix}")
            Path(f"{dest}{suffix}").chmod(0o644)
    return dest


@pytest.fixture
def fixture_db(tmp_path: Path) -> Path:
    return copy_fixture_db(tmp_path / "claude.db")


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    from pmdata.demo import build_demo

    out = tmp_path_factory.mktemp("demo")
    build_demo(out, now=DEMO_NOW)
    return out


@pytest.fixture
def demo_db(demo_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database that a test may write to."""
    dest = tmp_path / "pmdash.db"
    src = sqlite3.connect(demo_dir / "pmdash.db")
    with sqlite3.connect(dest) as out:
        src.backup(out)
    src.close()
    return dest


def rows(db: Path, sql: str, *args) -> list[tuple]:
    """The rows one SQL statement returns from a real database file."""
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def dump(path: Path, tables: list[str] | None = None) -> dict[str, list[tuple]]:
    """Every row of every (or the named) table, ordered, for before/after comparisons."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = tables or [
            n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in names}
    finally:
        con.close()


def wait_for(condition, seconds: float) -> bool:
    """Whether `condition()` came true within `seconds`: a test waits on what it needs, the
    ceiling only stops a broken run from hanging."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture(scope="module")
def real_site_db(tmp_path_factory) -> Path:
    """The database of the real site (tests/real_site.py), built once per module."""
    from tests import real_site

    return real_site.build(tmp_path_factory.mktemp("real"))


@pytest.fixture
def real(real_site_db, tmp_path, monkeypatch) -> Path:
    """The app served from the real site: the fixture trees as project roots, the filled
    homelab database."""
    from tests import real_site
    from tests.test_app import serve_from

    serve_from(monkeypatch, tmp_path, real_site_db, real_site.TREES)
    return real_site_db
