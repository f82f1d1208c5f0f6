"""DuckDB over the homelab SQLite file (attached read-only); runs the SQL in queries/ by name."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import duckdb_extensions
import pandas as pd

from pmdata.errors import QueryError, StoreError
from pmdata.paths import state_dir
from pmdata.store.database import ONE_SQLITE_AT_A_TIME, check_database
from pmdata.typed_copy import copy_table, insert_rows

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
ALIAS = "homelab"
_HEADER = re.compile(r"^--\s*(?P<key>name|param|about|times|reads):\s*(?P<value>.*)$")
_PARAM = re.compile(
    r"^(?P<name>[a-z_][a-z0-9_]*)\s+(?P<type>text|int|float|bool|date)"
    r"(?:\s*=\s*(?P<default>\S.*?))?\s*(?:#\s*(?P<doc>.*))?$"
)


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    doc: str = ""

    def convert(self, raw: str) -> Any:
        if raw.lower() in ("", "null", "none"):
            return None
        try:
            if self.type == "int" and raw.lower() == "now":
                # Portable SQL takes the clock as a parameter: SQLite and DuckDB spell it apart.
                return int(time.time())
            if self.type == "int":
                return int(raw)
            if self.type == "float":
                return float(raw)
            if self.type == "bool":
                if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError(raw)
                return raw.lower() in ("1", "true", "yes")
        except ValueError:
            raise QueryError(f"parameter {self.name} must be {self.type}, got {raw!r}") from None
        return raw


@dataclass(frozen=True)
class Query:
    """One question, answered by one .sql file; its header declares what it takes."""

    name: str
    about: str
    sql: str
    params: tuple[Param, ...] = field(default_factory=tuple)
    # Columns the SQL returns as epoch seconds (portable SQL has no common timestamp
    # function) and the runner turns into UTC timestamps.
    times: tuple[str, ...] = ()
    # The tables the SQL reads, declared in its header (`-- reads: failures, runs`) and checked
    # against DuckDB's own parse by a test: a cached answer is keyed on exactly these.
    reads: frozenset[str] = frozenset()

    def bind(self, given: dict[str, Any]) -> dict[str, Any]:
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            accepted = ", ".join(known) or "no parameters"
            raise QueryError(
                f"query {self.name} has no parameter {unknown[0]!r} (it takes {accepted})"
            )
        values = {}
        for p in self.params:
            raw = given.get(p.name, p.default)
            values[p.name] = p.convert(raw) if isinstance(raw, str) else raw
        return values


def parse_query(name: str, text: str) -> Query:
    about, params, times, reads = "", [], (), frozenset()
    for line in text.splitlines():
        m = _HEADER.match(line.strip())
        if not m:
            if line.strip() and not line.strip().startswith("--"):
                break
            continue
        if m["key"] == "about":
            about = m["value"].strip()
        elif m["key"] == "reads":
            reads = frozenset(t.strip().lower() for t in m["value"].split(",") if t.strip())
        elif m["key"] == "times":
            times = tuple(c.strip() for c in m["value"].split(",") if c.strip())
        elif m["key"] == "param":
            pm = _PARAM.match(m["value"].strip())
            if not pm:
                raise QueryError(f"queries/{name}.sql: cannot read parameter line {line!r}")
            default = pm["default"]
            default = None if default in (None, "NULL", "null") else default
            params.append(Param(pm["name"], pm["type"], default, (pm["doc"] or "").strip()))
    return Query(name, about, text, tuple(params), times, reads)


def list_queries(folder: Path = QUERIES_DIR) -> list[Query]:
    return [
        parse_query(p.stem, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.sql"))
    ]


def load_query(name: str, folder: Path = QUERIES_DIR) -> Query:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise QueryError(f"no query named {name!r}: names are lower_snake_case")
    path = folder / f"{name}.sql"
    if not path.is_file():
        names = ", ".join(q.name for q in list_queries(folder))
        raise QueryError(f"no query named {name!r}; `pmdata query --list` shows them ({names})")
    return parse_query(name, path.read_text(encoding="utf-8"))


def connect_duckdb(db_path: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the SQLite file attached READ_ONLY as the default catalog."""
    con = duckdb.connect(":memory:")
    # From the pinned wheel: DuckDB would otherwise try to download the extension.
    duckdb_extensions.import_extension("sqlite_scanner", con=con)
    with ONE_SQLITE_AT_A_TIME:  # ATTACH reads the file's schema (see store.database)
        con.execute(f"ATTACH '{_quote(db_path)}' AS {ALIAS} (TYPE sqlite, READ_ONLY)")
    con.execute(f"USE {ALIAS}")
    return con


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


SNAPSHOT = "snap"
# Homelab tables whose rows are written once and never changed (new rows get higher ids).
APPEND_ONLY = ("reports", "test_failures", "test_results")
# Our tables whose every write sets a timestamp column: changed rows are found by it.
STAMPED = {"error_triage": "updated_at"}
STAMP_MARGIN_S = 5  # how long before a read a write may take its stamp and still commit after
# A refresh normally reads only what is new: rows past the copy's last id, triage rows by their
# stamp. Rows deleted from the middle of a table (a report removed with its failures) are found
# by counting whole tables, which at millions of rows costs more than half a second: that full
# check runs on a fresh copy's first refresh (a kept copy's comes this long after the start)
# and then at most this often.
FULL_CHECK_S = 60


def snapshot_file_for(db_path: Path, environ: dict[str, str] | None = None) -> Path:
    """Where the dashboard keeps its DuckDB copy of one database: pmdash's state folder
    (PMDASH_STATE_DIR, else ~/.local/state/pmdash), one file per database path."""
    key = hashlib.sha1(str(Path(db_path).resolve()).encode()).hexdigest()[:16]
    return Path(state_dir(environ)) / "snapshots" / (f"{key}.duckdb")


def file_version(db_path: Path) -> tuple:
    """Changes whenever a writer commits: the database file's and its WAL's size and mtime.

    Two stat calls, so an idle dashboard can ask it on every refresh (PRAGMA data_version would
    need a connection held open per reader, and only sees other connections' commits)."""
    out = []
    for path in (db_path, db_path.with_name(db_path.name + "-wal")):
        try:
            st = path.stat()
        except OSError:
            st = None
        # An empty WAL holds nothing: it appears when a reader opens the file (our own copy's
        # scanner does) and must not count as a change, or every copy would be made twice.
        if st is None or (path is not db_path and st.st_size == 0):
            out += [None, None]
        else:
            out += [st.st_size, st.st_mtime_ns]
    return tuple(out)


class Analytics:
    """Runs named queries against one database. Thread-safe: each call uses its own cursor.

    With `snapshot=True` the queries run on a columnar copy of the homelab tables, refreshed when
    the file changes (`file_version`): at a million failures the SQLite scanner needs seconds per
    query, the copy tens of milliseconds. The copy lives in DuckDB's memory, or in
    `snapshot_file` when given, so that a new process only tops it up instead of copying a
    million rows again (falling back to memory when another process holds that file).
    """

    def __init__(
        self,
        db_path: Path | str,
        queries_dir: Path = QUERIES_DIR,
        snapshot: bool = False,
        snapshot_file: Path | None = None,
    ):
        self.db_path = check_database(db_path)
        self.queries_dir = queries_dir
        self.snapshot = snapshot
        self.snapshot_file = snapshot_file
        self._lock = threading.Lock()
        self._snapshot_version: tuple | None = None
        self._full_check_at: float | None = None  # monotonic time of the last full check
        # Per table, how many refreshes changed its copy: what a cached answer is keyed on, so
        # that a hook event does not throw away the failure tables' answers.
        self._table_versions: dict[str, int] = {}
        self._known_tables: frozenset[str] = frozenset()
        try:
            self._con = connect_duckdb(self.db_path)
        except duckdb.Error as exc:
            raise StoreError(f"cannot attach {self.db_path} in DuckDB: {exc}") from exc

    def version(self) -> tuple:
        return file_version(self.db_path)

    def refresh(self) -> bool:
        """Copy the tables again if the file changed since the last copy; True when it did."""
        version = self.version()
        if version == self._snapshot_version:
            return False
        with self._lock:
            if version == self._snapshot_version:
                return False
            cursor = self._con.cursor()
            try:
                ONE_SQLITE_AT_A_TIME.acquire()  # the copy scans the file (see store.database)
                if self._snapshot_version is None and self._attach_snapshot(cursor):
                    # A restarted server tops its kept copy up at once and counts whole tables
                    # FULL_CHECK_S later: a deletion made while it was down shows by then.
                    self._full_check_at = time.monotonic()
                    if self._kept_version(cursor) == version:
                        # A restart with nothing written since the copy was last topped up.
                        self._known_tables = frozenset(_tables_in(cursor, SNAPSHOT))
                        self._snapshot_version = version
                        return False
                tables = _tables_in(cursor, ALIAS)
                reading_at = int(time.time())  # before any read: see _changed_in_place
                full = (
                    self._full_check_at is None
                    or time.monotonic() - self._full_check_at >= FULL_CHECK_S
                )
                checked_at = time.monotonic()
                grown = self._appendable(cursor, tables, full)
                changed = self._changed_in_place(cursor, tables, full)
                # Rows only ever appended (runs, failures, outcomes) are copied from the last id
                # on, stamped rows (triage) by their stamp; everything else is copied whole
                # beside the old copy, then swapped in, so a reader never sees half.
                moved = {t for t, rows in (grown | changed).items() if len(rows)}
                for table in tables:
                    if table in grown or table in changed:
                        continue
                    copy_table(cursor, f'{ALIAS}."{table}"', f'{SNAPSHOT}."{table}__new"')
                    if not self._same_rows(cursor, table):
                        moved.add(table)
                cursor.execute("BEGIN")
                for table, new_rows in grown.items():
                    if len(new_rows):
                        insert_rows(cursor, f'{SNAPSHOT}."{table}"', new_rows)
                for table, rows in changed.items():
                    if len(rows):
                        cursor.register("changed_ids", rows[["id"]])
                        cursor.execute(
                            f'DELETE FROM {SNAPSHOT}."{table}" '
                            "WHERE id IN (SELECT id FROM changed_ids)"
                        )
                        cursor.unregister("changed_ids")
                        insert_rows(cursor, f'{SNAPSHOT}."{table}"', rows)
                for table in tables:
                    if table in grown or table in changed:
                        continue
                    cursor.execute(f'DROP TABLE IF EXISTS {SNAPSHOT}."{table}"')
                    cursor.execute(f'ALTER TABLE {SNAPSHOT}."{table}__new" RENAME TO "{table}"')
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {SNAPSHOT}.pmdash_read_at "
                    "(name TEXT PRIMARY KEY, read_at BIGINT)"
                )
                for table in STAMPED:
                    if table in tables:
                        cursor.execute(
                            f"INSERT OR REPLACE INTO {SNAPSHOT}.pmdash_read_at VALUES ($n, $t)",
                            {"n": table, "t": reading_at},
                        )
                cursor.execute(
                    f"CREATE OR REPLACE TABLE {SNAPSHOT}.pmdash_version AS "
                    "SELECT $version AS version",
                    {"version": json.dumps(version)},
                )
                cursor.execute("COMMIT")
            except duckdb.Error as exc:
                raise StoreError(f"cannot copy {self.db_path} into DuckDB: {exc}") from exc
            finally:
                ONE_SQLITE_AT_A_TIME.release()
                cursor.close()
            self._snapshot_version = version
            if full:
                self._full_check_at = checked_at
            for table in moved:
                self._table_versions[table] = self._table_versions.get(table, 0) + 1
            self._known_tables = frozenset(tables)
        return True

    def _attach_snapshot(self, cursor) -> bool:
        """The copy's home, on the first refresh of this object. A copy on disk is kept only if
        it was made from this very file (same device and inode: a rebuilt or replaced database
        is a new file), else it is emptied and made again. True when a kept copy is reused."""
        target = None
        if self.snapshot_file is not None:
            try:
                self.snapshot_file.parent.mkdir(parents=True, exist_ok=True)
                cursor.execute(f"ATTACH IF NOT EXISTS '{_quote(self.snapshot_file)}' AS {SNAPSHOT}")
                target = self.snapshot_file
            except (OSError, duckdb.Error):
                self.snapshot_file = None  # held by another process, or unwritable
        if target is None:
            cursor.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SNAPSHOT}")
            return False
        st = self.db_path.stat()
        source = [st.st_dev, st.st_ino, str(self.db_path.resolve())]
        try:
            kept = cursor.execute(
                f"SELECT device, inode, path FROM {SNAPSHOT}.pmdash_source"
            ).fetchone()
        except duckdb.Error:
            kept = None
        if kept is not None and list(kept) == source:
            return True
        for table in _tables_in(cursor, SNAPSHOT):
            cursor.execute(f'DROP TABLE {SNAPSHOT}."{table}"')
        cursor.execute(
            f"CREATE TABLE {SNAPSHOT}.pmdash_source (device BIGINT, inode BIGINT, path TEXT)"
        )
        cursor.execute(f"INSERT INTO {SNAPSHOT}.pmdash_source VALUES (?, ?, ?)", source)
        return False

    @staticmethod
    def _same_rows(cursor, table: str) -> bool:
        """Whether a table copied whole holds what its previous copy held."""
        try:
            return cursor.execute(
                f'SELECT (SELECT count(*) FROM {SNAPSHOT}."{table}__new") = '
                f'(SELECT count(*) FROM {SNAPSHOT}."{table}") AND NOT EXISTS ('
                f'SELECT * FROM {SNAPSHOT}."{table}__new" '
                f'EXCEPT ALL SELECT * FROM {SNAPSHOT}."{table}")'
            ).fetchone()[0]
        except duckdb.Error:
            return False  # no previous copy, or its columns changed

    def token(self, query: Query) -> tuple:
        """Changes when a table the query reads changed: the key for a cached answer. Brings
        the copy up to date first (a stat when the file did not change)."""
        if not self.snapshot:
            return self.version()
        self.refresh()
        read = query.reads
        return (
            tuple((t, self._table_versions.get(t, 0)) for t in sorted(read & self._known_tables))
            or self.version()
        )

    @staticmethod
    def _kept_version(cursor) -> tuple | None:
        """The file's `file_version` when the copy on disk was last brought up to date."""
        try:
            row = cursor.execute(f"SELECT version FROM {SNAPSHOT}.pmdash_version").fetchone()
        except duckdb.Error:
            return None
        return tuple(json.loads(row[0])) if row else None

    def _changed_in_place(
        self, cursor, tables: list[str], full: bool = True
    ) -> dict[str, pd.DataFrame]:
        """Stamped tables whose changes since the copy can be read by their stamp: table -> the
        new and changed rows. Changed means stamped since the last read (kept in the copy, less
        a margin for a write that took its stamp before that read and committed after it).
        On a `full` check they are checked before use: the copy with them applied must have the
        file's row count and stamp total (a deletion, or a write that kept an old stamp, means
        a whole copy instead); in between, every writer of ours stamps what it changes."""
        out = {}
        try:
            raw = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error:
            return out  # the whole copy says what is wrong
        with closing(raw) as con:
            for table, stamp in STAMPED.items():
                if table not in tables or not self._same_columns(cursor, con, table):
                    continue
                count, last_id, total = cursor.execute(
                    f'SELECT count(*), max(id), sum("{stamp}") FROM {SNAPSHOT}."{table}"'
                ).fetchone()
                read_at = self._read_at(cursor, table)
                if not count or read_at is None:
                    continue
                rows = pd.read_sql_query(
                    f'SELECT * FROM "{table}" WHERE id > ? OR "{stamp}" >= ?',
                    con,
                    params=(last_id, read_at - STAMP_MARGIN_S),
                )
                if not full:
                    out[table] = rows
                    continue
                old = rows[rows["id"] <= last_id]
                replaced = 0
                if len(old):
                    cursor.register("old_ids", old[["id"]])
                    replaced = cursor.execute(
                        f'SELECT coalesce(sum("{stamp}"), 0) FROM {SNAPSHOT}."{table}" '
                        "WHERE id IN (SELECT id FROM old_ids)"
                    ).fetchone()[0]
                    cursor.unregister("old_ids")
                want_count, want_total = con.execute(
                    f'SELECT count(*), coalesce(sum("{stamp}"), 0) FROM "{table}"'
                ).fetchone()
                new_total = (total or 0) - replaced + int(rows[stamp].fillna(0).sum())
                if want_count == count + int((rows["id"] > last_id).sum()) and (
                    want_total == new_total
                ):
                    out[table] = rows
        return out

    @staticmethod
    def _read_at(cursor, table: str) -> int | None:
        try:
            row = cursor.execute(
                f"SELECT read_at FROM {SNAPSHOT}.pmdash_read_at WHERE name = $name",
                {"name": table},
            ).fetchone()
        except duckdb.Error:
            return None
        return row[0] if row else None

    @staticmethod
    def _same_columns(cursor, con, table: str) -> bool:
        """A copy exists and has the file's columns (a migrate or revert changes them)."""
        try:
            copied = [r[0] for r in cursor.execute(f'DESCRIBE {SNAPSHOT}."{table}"').fetchall()]
        except duckdb.Error:
            return False  # no copy yet
        return copied == [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]

    def _appendable(self, cursor, tables: list[str], full: bool = True) -> dict[str, pd.DataFrame]:
        """Append-only tables whose copy is a prefix of the file's: table -> its new rows.

        A table qualifies when the file holds exactly the copied rows plus newer ids (nothing
        deleted or renumbered) under the same columns. A `full` check counts the file's rows up
        to the copy's last id; in between, the oldest id must match (a purge of old rows, or a
        table emptied and refilled, shows there at once)."""
        out = {}
        try:
            con = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error:
            return out
        try:
            for table in APPEND_ONLY:
                if table not in tables:
                    continue
                try:
                    copied = cursor.execute(
                        f'SELECT count(*), max(id), min(id) FROM {SNAPSHOT}."{table}"'
                    ).fetchone()
                except duckdb.Error:
                    continue  # no copy yet
                count, last, first = copied
                if not count:
                    continue
                if not self._same_columns(cursor, con, table):
                    continue  # a migrate or revert changed its columns: copy it whole
                if full:
                    kept = (
                        con.execute(
                            f'SELECT count(*) FROM "{table}" WHERE id <= ?', (last,)
                        ).fetchone()[0]
                        == count
                    )
                else:
                    kept = con.execute(f'SELECT min(id) FROM "{table}"').fetchone()[0] == first
                if kept:
                    # Read by SQLite itself: the scanner would walk the whole table for them.
                    out[table] = pd.read_sql_query(
                        f'SELECT * FROM "{table}" WHERE id > ?', con, params=(last,)
                    )
        except sqlite3.Error:
            return {}
        finally:
            con.close()
        return out

    def run(self, name: str, **params: Any) -> pd.DataFrame:
        query = load_query(name, self.queries_dir)
        frame = self.run_sql(query.sql, query.bind(params), name)
        for column in query.times:
            if column in frame:
                frame[column] = pd.to_datetime(frame[column], unit="s", utc=True)
        return frame

    def run_sql(self, sql: str, params: dict[str, Any], name: str = "query") -> pd.DataFrame:
        if self.snapshot:
            self.refresh()
        with self._lock:
            cursor = self._con.cursor()
        try:
            # A cursor does not inherit the parent's USE.
            cursor.execute(f"USE {SNAPSHOT if self.snapshot else ALIAS}")
            if self.snapshot:  # the in-memory copy: the file is not touched
                return cursor.execute(sql, params).df()
            with ONE_SQLITE_AT_A_TIME:  # a scan of the file (see store.database)
                return cursor.execute(sql, params).df()
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            if isinstance(exc, duckdb.BinderException) and "does not have a column" not in str(exc):
                raise StoreError(f"{name}: {_first_line(exc)}") from exc
            # A table or one of our columns is missing: a database never migrated, or reverted.
            raise StoreError(
                f"{name}: the database {self.db_path} lacks what it needs ({_first_line(exc)}); "
                f"run `pmdata migrate --db {self.db_path}`"
            ) from exc
        except duckdb.Error as exc:
            raise StoreError(f"{name}: {_first_line(exc)}") from exc
        finally:
            cursor.close()

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Analytics:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _tables_in(cursor, catalog: str) -> list[str]:
    return [
        row[0]
        for row in cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = $catalog",
            {"catalog": catalog},
        ).fetchall()
    ]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
