"""Runs the named queries against one database, on the file itself or on the kept copy."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pmdata.analytics.attach import ALIAS, connect_duckdb
from pmdata.analytics.catalog import QUERIES_DIR, load_query, macros
from pmdata.analytics.kept_copy import SNAPSHOT, KeptCopy
from pmdata.errors import StoreError
from pmdata.store.database import ONE_SQLITE_AT_A_TIME, check_database


class Analytics(KeptCopy):
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
        self._macros = macros(queries_dir)
        self.snapshot = snapshot
        self.snapshot_file = snapshot_file
        self._lock = threading.Lock()
        self._snapshot_version: tuple | None = None
        self._full_check_at: float | None = None  # monotonic time of the last full check
        # Per table, how many refreshes changed its copy: what a cached answer is keyed on, so
        # that a hook event does not throw away the failure tables' answers.
        self._table_versions: dict[str, int] = {}
        self._known_tables: frozenset[str] = frozenset()
        self._fingerprints: dict[str, str] = {}  # of the small tables as last copied
        self._unhashed: set[str] = set()  # tables too big to hash (FINGERPRINT_ROWS)
        self._schema_seen: tuple[int | None, list[str]] = (None, [])  # schema version, tables
        try:
            self._con = connect_duckdb(self.db_path)
        except duckdb.Error as exc:
            raise StoreError(f"cannot attach {self.db_path} in DuckDB: {exc}") from exc

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
            if self._macros:  # temporary: each cursor is a connection of its own
                cursor.execute(self._macros)
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


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
