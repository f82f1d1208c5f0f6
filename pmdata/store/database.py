"""Opening the homelab SQLite file: checks that fail with a clear message, and writing engines."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

from pmdata.errors import StoreError

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


# DuckDB's sqlite scanner carries its own copy of SQLite. Two copies in one process cannot see
# each other's locks on a file, so one opening it while the other has it open takes itself for
# the only user and resets the WAL index under the other's memory map (a bus error once the WAL
# outgrows one index page). Within a process, a DuckDB scan and a writing connection therefore
# never overlap: both hold this lock. Separate processes (the homelab services, the hook
# recorder) are unaffected: their locks are seen.
class FileTurns:
    """A reentrant lock that knows when someone waits for it: a holder that would gladly keep
    the file open (the server's hook writer, between batches) gives it up when asked."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._count = threading.Lock()
        self._waiting = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(blocking=False):
            return True
        if not blocking:
            return False
        with self._count:
            self._waiting += 1
        try:
            return self._lock.acquire(True, timeout)
        finally:
            with self._count:
                self._waiting -= 1

    def release(self) -> None:
        self._lock.release()

    def wanted(self) -> bool:
        """Whether another thread waits for the file now."""
        return self._waiting > 0

    def __enter__(self) -> FileTurns:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


ONE_SQLITE_AT_A_TIME = FileTurns()
HOW_TO_CREATE = "run `pmdata migrate --db PATH` to create one, or `pmdata demo DIR` for demo data"


def check_database(path: Path | str | None, require_tables: tuple[str, ...] = ()) -> Path:
    """The database path, after checking it exists, is SQLite, and holds `require_tables`."""
    if path is None:
        raise StoreError(f"no database configured: set PMDASH_DB or pass --db ({HOW_TO_CREATE})")
    path = Path(path)
    if not path.exists():
        raise StoreError(f"database not found: {path} ({HOW_TO_CREATE})")
    if not path.is_file():
        raise StoreError(f"database path is not a file: {path}")
    if not os.access(path, os.R_OK):
        raise StoreError(f"database is not readable: {path} (check its permissions)")
    check_header(path)
    if require_tables:
        missing = sorted(set(require_tables) - table_names(path))
        if missing:
            raise StoreError(
                f"database {path} lacks table(s) {', '.join(missing)}: "
                f"run `pmdata migrate --db {path}`"
            )
    return path


def check_header(path: Path) -> None:
    """Refuse a file that is not SQLite; an empty file is a new database and is fine."""
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_HEADER))
    if head and head != SQLITE_HEADER:
        raise StoreError(f"not a SQLite database (corrupt or another format): {path}")


def table_names(path: Path) -> set[str]:
    """Names of the tables in the file, read without taking a write lock."""
    try:
        with _read_only(path) as con:
            rows = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read database {path}: {exc}") from exc
    return {name for (name,) in rows}


class _read_only:
    def __init__(self, path: Path):
        ONE_SQLITE_AT_A_TIME.acquire()
        try:
            self.con = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
            )
        except BaseException:
            ONE_SQLITE_AT_A_TIME.release()
            raise

    def __enter__(self) -> sqlite3.Connection:
        return self.con

    def __exit__(self, *exc: object) -> None:
        try:
            self.con.close()
        finally:
            ONE_SQLITE_AT_A_TIME.release()


def _configure_writer(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own implicit transactions
    # skip DDL, which would break one-transaction migrations).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys = ON")
    # The journal mode is left as found: the homelab's services chose it for their file.
    cur.close()


def _begin_immediate(conn) -> None:
    # IMMEDIATE takes the write lock up front, so two writers wait (busy timeout) instead of
    # failing later with "database is locked" on lock upgrade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Store:
    """One SQLite file and the way to write it: `with Store(path).transaction() as conn`.

    A connection is opened per transaction and closed after it (no pool). SQLite serialises
    writers on the file anyway, and a connection held open would hold ONE_SQLITE_AT_A_TIME
    (above), the process-wide lock that keeps a DuckDB scan and a write from overlapping: a
    connection takes it when it opens and gives it back when it closes. A transaction begins
    IMMEDIATE, so two writers wait for each other (busy timeout) rather than fail half-way."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._engine = open_engine(self.path)  # checks the file (or its folder) first

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Everything in the block commits together, or nothing does."""
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for a few reads: nothing it does is committed (its transaction, begun
        on first use like any other, is rolled back when the block ends)."""
        with self._engine.connect() as conn:
            yield conn


def open_engine(path: Path | str) -> Engine:
    """An engine for writing: foreign keys on, a busy timeout, transactions that cover DDL."""
    path = Path(path)
    if path.exists():
        check_header(path)
    elif not path.parent.is_dir():
        raise StoreError(f"cannot create database {path}: folder {path.parent} does not exist")
    elif not os.access(path.parent, os.W_OK):
        raise StoreError(f"cannot create database {path}: folder {path.parent} is not writable")
    # No pool: a connection lives for one transaction, so it holds ONE_SQLITE_AT_A_TIME no longer.
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
        poolclass=NullPool,
    )
    event.listen(engine, "connect", _hold_and_configure)
    event.listen(engine, "begin", _begin_immediate)
    event.listen(engine, "close", _release_the_file)
    return engine


def _hold_and_configure(dbapi_connection, record) -> None:
    """The connection holds ONE_SQLITE_AT_A_TIME until it closes; released at once if it cannot
    be set up (SQLAlchemy then never reports it closed)."""
    ONE_SQLITE_AT_A_TIME.acquire()
    try:
        _configure_writer(dbapi_connection, record)
    except BaseException:
        ONE_SQLITE_AT_A_TIME.release()
        raise


def _release_the_file(_dbapi_connection, _record) -> None:
    ONE_SQLITE_AT_A_TIME.release()


def journal_mode(path: Path | str) -> str:
    """The file's journal mode (delete, wal, ...), read without changing it."""
    with _read_only(Path(path)) as con:
        return con.execute("PRAGMA journal_mode").fetchone()[0]


def use_wal(path: Path | str) -> None:
    """WAL for a database pmdash created itself: readers (the dashboard) and writers (hooks,
    ingest) then never wait on each other. Never called on a file someone else made."""
    with ONE_SQLITE_AT_A_TIME, sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000) as con:
        con.execute("PRAGMA journal_mode = WAL")
