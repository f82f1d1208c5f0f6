"""Our additive, idempotent migrations, recorded in a table of ours so we know what we added."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DatabaseError, OperationalError

from pmdata.errors import StoreError
from pmdata.store import schema
from pmdata.store.database import Store, use_wal

RECORD_TABLE = "pmdash_migrations"


@dataclass(frozen=True)
class Migration:
    name: str
    apply: Callable[[Connection], list[str]]  # returns what it did, one line per change


MIGRATIONS: list[Migration] = []


def migration(name: str):
    """Register a migration; they run in the order they are declared."""

    def register(fn: Callable[[Connection], list[str]]):
        MIGRATIONS.append(Migration(name, fn))
        return fn

    return register


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _columns(conn: Connection, table: str) -> set[str]:
    return {row[1] for row in conn.exec_driver_sql(f'PRAGMA table_info("{table}")')}


def _indexes(conn: Connection) -> set[str]:
    rows = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {name for (name,) in rows}


def _create_missing(conn: Connection, tables: list) -> list[str]:
    done = []
    existing, indexes = _tables(conn), _indexes(conn)
    for table in tables:
        if table.name not in existing:
            table.create(conn)
            done.append(f"created table {table.name}")
            continue
        for index in table.indexes:
            if index.name not in indexes:
                index.create(conn)
                done.append(f"created index {index.name}")
    return done


@migration("homelab_base")
def _homelab_base(conn: Connection) -> list[str]:
    # A new, empty file gets the homelab's tables so the app and tests work without their
    # services; on their database every table already exists and nothing happens here.
    existing = _tables(conn)
    done = []
    for table in schema.metadata.sorted_tables:
        if table.name in schema.HOMELAB_TABLES and table.name not in existing:
            table.create(conn)
            done.append(f"created table {table.name}")
    return done


@migration("error_triage")
def _error_triage(conn: Connection) -> list[str]:
    done = _create_missing(conn, [schema.error_triage])
    # A table created by an earlier version of ours may lack later nullable columns.
    have = _columns(conn, "error_triage")
    for column in schema.error_triage.columns:
        if column.name not in have:
            conn.exec_driver_sql(f"ALTER TABLE error_triage ADD COLUMN {_column_ddl(conn, column)}")
            done.append(f"added column error_triage.{column.name}")
    return done


# Columns added after "added_columns" was first applied come with a migration of their own:
# applied migrations are not run again, so a new column in an old one would never arrive.
LATER_COLUMNS = {
    ("reports", "run_attempt"): "reports_run_attempt",
    **{
        ("test_failures", name): "failure_facts"
        for name in (
            "outcome",
            "final_status",
            "error_location",
            "failed_in",
            "error_snippet",
            "attachments",
        )
    },
}


@migration("added_columns")
def _added_columns(conn: Connection) -> list[str]:
    first = [(t, c) for t, c in schema.ADDED_COLUMNS if (t, c.name) not in LATER_COLUMNS]
    return _add_columns(conn, first)


def _add_columns(conn: Connection, columns) -> list[str]:
    done = []
    for table, column in columns:
        if column.name not in _columns(conn, table):
            conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD COLUMN {_column_ddl(conn, column)}')
            done.append(f"added column {table}.{column.name}")
    return done


def _column_ddl(conn: Connection, column) -> str:
    ddl = f'"{column.name}" {column.type.compile(dialect=conn.dialect)}'
    if column.server_default is not None:
        value = str(column.server_default.arg).replace("'", "''")
        ddl += f" DEFAULT '{value}'"
    return ddl


@migration("test_results")
def _test_results(conn: Connection) -> list[str]:
    return _create_missing(conn, [schema.test_results])


@migration("triage_one_row_per_failure")
def _triage_unique(conn: Connection) -> list[str]:
    # One triage row per failure, so two `triage run`s at once cannot both insert one.
    if "uq_triage_failure" in _indexes(conn):
        return []
    duplicates = conn.exec_driver_sql(
        "SELECT count(*) FROM (SELECT test_failure_id FROM error_triage "
        "GROUP BY test_failure_id HAVING count(*) > 1)"
    ).scalar()
    if duplicates:
        return [f"kept error_triage as it is: {duplicates} failures have several rows"]
    conn.exec_driver_sql("CREATE UNIQUE INDEX uq_triage_failure ON error_triage (test_failure_id)")
    return ["created index uq_triage_failure"]


@migration("hook_receipts")
def _hook_receipts(conn: Connection) -> list[str]:
    return _create_missing(conn, [schema.hook_receipts])


def _later_columns(conn: Connection, name: str) -> list[str]:
    return _add_columns(
        conn, [(t, c) for t, c in schema.ADDED_COLUMNS if LATER_COLUMNS.get((t, c.name)) == name]
    )


@migration("reports_run_attempt")
def _reports_run_attempt(conn: Connection) -> list[str]:
    return _later_columns(conn, "reports_run_attempt")


@migration("work_items_name_failures")
def _work_items_name_failures(conn: Connection) -> list[str]:
    # `error:<n>` named a triage row until this migration and names the failure since (the id
    # in the failure's own URL). Only items written the old way are renamed: a session put on
    # triage row n was assigned to it, which tells them apart from an item already in the new
    # form (a hook recorded before `migrate` ran).
    renamed = conn.exec_driver_sql(
        "UPDATE sessions SET work_item = 'error:' || ("
        " SELECT t.test_failure_id FROM error_triage t"
        " WHERE t.id = CAST(substr(sessions.work_item, 7) AS INTEGER))"
        " WHERE work_item GLOB 'error:[0-9]*' AND EXISTS ("
        " SELECT 1 FROM error_triage t WHERE t.id = CAST(substr(sessions.work_item, 7) AS INTEGER)"
        " AND t.assigned_session_id = sessions.id)"
    ).rowcount
    return [f"renamed {renamed} error work items to their failure ids"] if renamed else []


@migration("failure_facts")
def _failure_facts(conn: Connection) -> list[str]:
    return _later_columns(conn, "failure_facts")


@migration("test_mutes")
def _test_mutes(conn: Connection) -> list[str]:
    return _create_missing(conn, [schema.test_mutes])


@migration("agent_usage")
def _agent_usage(conn: Connection) -> list[str]:
    return _create_missing(conn, [schema.agent_usage])


# Pairing a PostToolUse with its PreToolUse looks among the session's open calls: without an
# index it reads every event of the session, which grows with it (and with eight agents at once
# on the server). Partial: it holds only open calls, a handful of rows.
OPEN_CALLS_INDEX = "pmdash_idx_hooks_open_calls"


@migration("hooks_open_calls_index")
def _hooks_open_calls(conn: Connection) -> list[str]:
    if OPEN_CALLS_INDEX in _indexes(conn):
        return []
    conn.exec_driver_sql(
        f"CREATE INDEX {OPEN_CALLS_INDEX} ON hooks (session_id, tool_use_id, tool_name)"
        " WHERE hook_type = 'pre_tool_use' AND success IS NULL"
    )
    return [f"created index {OPEN_CALLS_INDEX}"]


def _ensure_record_table(conn: Connection) -> None:
    conn.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {RECORD_TABLE} "
        "(name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)"
    )


def applied(path: Path | str) -> list[str]:
    """Names of the migrations recorded as applied to the database."""
    with Store(path).reading() as conn:
        if RECORD_TABLE not in _tables(conn):
            return []
        rows = conn.execute(text(f"SELECT name FROM {RECORD_TABLE} ORDER BY rowid"))
        return [name for (name,) in rows]


def status(path: Path | str) -> list[tuple[str, int | None]]:
    """Every migration in order, with when it was applied to the database (None: pending)."""
    with Store(path).reading() as conn:
        recorded = _recorded(conn)
    return [(m.name, recorded.get(m.name)) for m in MIGRATIONS]


def status_lines(path: Path | str) -> list[str]:
    """`pmdata migrate --list`: a line per migration, when it was applied or that it waits."""
    from datetime import UTC, datetime

    return [
        f"{name:28} "
        + (f"applied {datetime.fromtimestamp(at, UTC):%Y-%m-%d %H:%M} UTC" if at else "pending")
        for name, at in status(path)
    ]


def _recorded(conn: Connection) -> dict[str, int]:
    if RECORD_TABLE not in _tables(conn):
        return {}
    rows = conn.exec_driver_sql(f"SELECT name, applied_at FROM {RECORD_TABLE}")
    return {name: applied_at for name, applied_at in rows}


def migrate(path: Path | str) -> list[str]:
    """Apply the pending migrations in one transaction; returns what changed.

    Only migrations not yet recorded run (the sqlite-utils model), and each still checks what
    exists before it acts, so a database that another process keeps writing to, or one that
    already has some of our tables, loses nothing.
    """
    done: list[str] = []
    new = not Path(path).exists() or Path(path).stat().st_size == 0
    with _transaction(path, "migrate") as conn:
        _ensure_record_table(conn)
        recorded = _recorded(conn)
        for m in MIGRATIONS:
            if m.name in recorded:
                continue
            done.extend(m.apply(conn))
            conn.exec_driver_sql(
                f"INSERT INTO {RECORD_TABLE} (name, applied_at) VALUES (?, ?)",
                (m.name, int(time.time())),
            )
    if new:
        use_wal(path)
        done.append("set journal mode WAL on the new database")
    return done


def revert(path: Path | str) -> list[str]:
    """Remove exactly what our migrations added — our tables (with their indexes) and our columns
    on the homelab's tables — in one transaction. Their tables and rows stay as they were;
    `migrate` brings ours back."""
    done: list[str] = []
    with _transaction(path, "revert") as conn:
        existing = _tables(conn)
        if OPEN_CALLS_INDEX in _indexes(conn):  # on their table, over a column of ours
            conn.exec_driver_sql(f'DROP INDEX "{OPEN_CALLS_INDEX}"')
            done.append(f"dropped index {OPEN_CALLS_INDEX}")
        for table in (*schema.OUR_TABLES, RECORD_TABLE):
            if table in existing:
                conn.exec_driver_sql(f'DROP TABLE "{table}"')
                done.append(f"dropped table {table}")
        for table, column in schema.ADDED_COLUMNS:
            if table in existing and column.name in _columns(conn, table):
                conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column.name}"')
                done.append(f"dropped column {table}.{column.name}")
    return done


@contextmanager
def _transaction(path: Path | str, verb: str) -> Iterator[Connection]:
    """One write transaction for a schema change; SQLite's errors become one-line StoreErrors."""
    try:
        with Store(path).transaction() as conn:
            yield conn
    except OperationalError as exc:
        raise StoreError(f"cannot {verb} {path}: {exc.orig}") from exc
    except DatabaseError as exc:
        raise StoreError(f"cannot {verb} {path} (is it a SQLite database?): {exc.orig}") from exc
