"""The kept copy: the homelab tables copied into DuckDB's columnar storage and topped up as the
file changes, so that a query at a million failures takes tens of milliseconds, not seconds."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import duckdb

from pmdata.analytics import changes
from pmdata.analytics.attach import ALIAS, quoted
from pmdata.analytics.catalog import Query
from pmdata.analytics.changes import SNAPSHOT, STAMPED
from pmdata.errors import StoreError
from pmdata.paths import state_dir
from pmdata.store.database import ONE_SQLITE_AT_A_TIME
from pmdata.typed_copy import copy_table, insert_rows

# A refresh normally reads only what is new (pmdata.analytics.changes). Rows deleted from the
# middle of a table (a report removed with its failures) are found by counting whole tables,
# which at millions of rows costs more than half a second: that full check runs on a fresh
# copy's first refresh (a kept copy's comes this long after the start) and then at most this
# often.
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


class KeptCopy:
    """The copy's half of `Analytics` (pmdata.analytics.runner): when the file changed, bring
    the copy up to date, and key cached answers on the tables a query reads."""

    db_path: Path
    snapshot: bool
    snapshot_file: Path | None

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
            # Held while the file is read (the scanner's copy of SQLite, see store.database),
            # not while the copy takes what was read: writers wait for less.
            holding = ONE_SQLITE_AT_A_TIME.acquire()
            try:
                if self._snapshot_version is None and self._attach_snapshot(cursor):
                    # A restarted server tops its kept copy up at once and counts whole tables
                    # FULL_CHECK_S later: a deletion made while it was down shows by then.
                    self._full_check_at = time.monotonic()
                    if self._kept_version(cursor) == version:
                        # A restart with nothing written since the copy was last topped up.
                        self._known_tables = frozenset(_tables_in(cursor, SNAPSHOT))
                        self._snapshot_version = version
                        return False
                tables = self._file_tables(cursor)
                reading_at = int(time.time())  # before any read: see changes.changed_in_place
                full = (
                    self._full_check_at is None
                    or time.monotonic() - self._full_check_at >= FULL_CHECK_S
                )
                checked_at = time.monotonic()
                grown, changed, unchanged, fingerprints = self._what_changed(cursor, tables, full)
                # Rows only ever appended (runs, failures, outcomes) are copied from the last id
                # on, stamped rows (triage) by their stamp, open rows (tool calls) again; a
                # table whose fingerprint did not change is left as it is; everything else is
                # copied whole beside the old copy, then swapped in, so a reader never sees half.
                moved = {t for t, rows in (grown | changed).items() if len(rows)}
                whole = [t for t in tables if t not in grown | changed.keys() | unchanged]
                for table in whole:
                    copy_table(cursor, f'{ALIAS}."{table}"', f'{SNAPSHOT}."{table}__new"')
                ONE_SQLITE_AT_A_TIME.release()
                holding = False
                for table in whole:
                    if fingerprints.get(table) or not self._same_rows(cursor, table):
                        moved.add(table)  # a new fingerprint says it changed
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
                for table in whole:
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
                if holding:
                    ONE_SQLITE_AT_A_TIME.release()
                cursor.close()
            self._snapshot_version = version
            self._fingerprints = {
                t: f for t, f in {**self._fingerprints, **fingerprints}.items() if f and t in tables
            }
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
                cursor.execute(f"ATTACH IF NOT EXISTS '{quoted(self.snapshot_file)}' AS {SNAPSHOT}")
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

    def _file_tables(self, cursor) -> list[str]:
        """The file's tables as the scanner lists them (~10 ms), listed again only when the
        schema changed: its version is a read of the file's header."""
        try:
            uri = f"file:{self.db_path}?mode=ro"
            with closing(sqlite3.connect(uri, uri=True, timeout=5)) as con:
                schema = con.execute("PRAGMA schema_version").fetchone()[0]
        except sqlite3.Error:
            schema = None
        if schema is None or schema != self._schema_seen[0]:
            listed = _tables_in(cursor, ALIAS)
            self._schema_seen = (schema, [t for t in listed if t not in changes.NOT_COPIED])
        return self._schema_seen[1]

    def _what_changed(self, cursor, tables: list[str], full: bool) -> tuple:
        """(appended rows, changed rows, tables unchanged, fingerprints) since the last refresh,
        read by SQLite itself (pmdata.analytics.changes). Nothing known when the file cannot
        be read that way: the whole copy then says what is wrong."""
        try:
            con = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error:
            return {}, {}, set(), {}
        try:
            grown = changes.appendable(cursor, con, tables, full)
            changed = changes.changed_in_place(cursor, con, tables, full)
            if not full:
                changed |= changes.open_rows(cursor, con, tables)
            rest = [t for t in tables if t not in grown and t not in changed]
            # A table too big to hash is not read for it again until the next full check.
            fingerprints = {
                t: None if t in self._unhashed and not full else changes.fingerprint(con, t)
                for t in rest
            }
        except sqlite3.Error:
            return {}, {}, set(), {}
        finally:
            con.close()
        self._unhashed = {t for t, f in fingerprints.items() if f is None}
        unchanged = {
            t for t, f in fingerprints.items() if f is not None and self._fingerprints.get(t) == f
        }
        return grown, changed, unchanged, fingerprints


def _tables_in(cursor, catalog: str) -> list[str]:
    """The catalog's tables, less SQLite's own (sqlite_sequence changes with every insert and
    no query reads it)."""
    return [
        row[0]
        for row in cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = $catalog"
            " AND table_name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
            {"catalog": catalog},
        ).fetchall()
    ]
