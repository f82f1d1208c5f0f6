"""DuckDB with the homelab SQLite file attached read-only: what every query runs on, and the
source of the kept copy."""

from __future__ import annotations

from pathlib import Path

import duckdb
import duckdb_extensions

from pmdata.store.database import ONE_SQLITE_AT_A_TIME

ALIAS = "homelab"


def connect_duckdb(db_path: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the SQLite file attached READ_ONLY as the default catalog."""
    con = duckdb.connect(":memory:")
    # From the pinned wheel: DuckDB would otherwise try to download the extension.
    duckdb_extensions.import_extension("sqlite_scanner", con=con)
    with ONE_SQLITE_AT_A_TIME:  # ATTACH reads the file's schema (see store.database)
        con.execute(f"ATTACH '{quoted(db_path)}' AS {ALIAS} (TYPE sqlite, READ_ONLY)")
    con.execute(f"USE {ALIAS}")
    return con


def quoted(path: Path) -> str:
    return str(path).replace("'", "''")
