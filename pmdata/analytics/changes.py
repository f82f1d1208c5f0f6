"""What changed in the database file since the kept copy was last topped up, read by SQLite
itself (the DuckDB scanner would walk whole tables to find a few rows).

Four kinds of table, cheapest first:
- append-only homelab tables (runs, failures, outcomes): the rows past the copy's last id;
- our stamped tables (triage): the rows stamped since the last read;
- tables with open rows (hooks: a tool call stays open until its PostToolUse closes it): the
  rows past the last id and the copy's open rows again;
- any other small table: its fingerprint (a hash of every row) says whether to copy it at all.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

import duckdb
import pandas as pd

SNAPSHOT = "snap"
# Tables whose rows are written once and never changed (new rows get higher ids): the homelab's
# runs, failures and outcomes, and our record of what each model call cost.
APPEND_ONLY = ("reports", "test_failures", "test_results", "agent_usage")
# Read by no query, and grows with every event a forwarder sends: the recorder's own receipts.
NOT_COPIED = ("pmdash_hook_receipts",)
# Our tables whose every write sets a timestamp column: changed rows are found by it.
STAMPED = {"error_triage": "updated_at"}
STAMP_MARGIN_S = 5  # how long before a read a write may take its stamp and still commit after
# Tables appended to whose rows matching the condition may still change: a PreToolUse is closed
# (success, duration) by its PostToolUse, the only change pmdash's recorder makes to a recorded
# event. Between full checks only these are read again; a full check copies the table whole, so
# a change of another kind (another writer's) shows by then.
OPEN_ROWS = {"hooks": "hook_type = 'pre_tool_use' AND success IS NULL"}
# A table up to this many rows is hashed to learn whether it changed (a few ms at most); a
# bigger one is copied whole on every change of the file.
FINGERPRINT_ROWS = 20_000


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def same_columns(cursor, con: sqlite3.Connection, table: str) -> bool:
    """A copy exists and has the file's columns (a migrate or revert changes them)."""
    try:
        copied = [r[0] for r in cursor.execute(f"DESCRIBE {SNAPSHOT}.{_q(table)}").fetchall()]
    except duckdb.Error:
        return False  # no copy yet
    return copied == [r[1] for r in con.execute(f"PRAGMA table_info({_q(table)})")]


def _copied_ids(cursor, table: str) -> tuple[int, int | None, int | None] | None:
    try:
        return cursor.execute(
            f"SELECT count(*), max(id), min(id) FROM {SNAPSHOT}.{_q(table)}"
        ).fetchone()
    except duckdb.Error:
        return None  # no copy yet


def appendable(cursor, con, tables: list[str], full: bool) -> dict[str, pd.DataFrame]:
    """Append-only tables whose copy is a prefix of the file's: table -> its new rows.

    A table qualifies when the file holds exactly the copied rows plus newer ids (nothing
    deleted or renumbered) under the same columns. A `full` check counts the file's rows up
    to the copy's last id; in between, the oldest id must match (a purge of old rows, or a
    table emptied and refilled, shows there at once)."""
    out = {}
    for table in APPEND_ONLY:
        copied = _copied_ids(cursor, table) if table in tables else None
        if not copied or not copied[0] or not same_columns(cursor, con, table):
            continue  # no copy yet, or a migrate or revert changed its columns: copy it whole
        count, last, first = copied
        if full:
            sql = f"SELECT count(*) FROM {_q(table)} WHERE id <= ?"
            kept = con.execute(sql, (last,)).fetchone()[0] == count
        else:
            kept = con.execute(f"SELECT min(id) FROM {_q(table)}").fetchone()[0] == first
        if kept:
            sql = f"SELECT * FROM {_q(table)} WHERE id > ?"
            out[table] = pd.read_sql_query(sql, con, params=(last,))
    return out


def open_rows(cursor, con, tables: list[str]) -> dict[str, pd.DataFrame]:
    """Tables with open rows: table -> the rows past the copy's last id and the rows open in
    the copy, as the file has them now (to replace the copy's). Not for a full check."""
    out = {}
    for table, still_open in OPEN_ROWS.items():
        copied = _copied_ids(cursor, table) if table in tables else None
        if not copied or not copied[0] or not same_columns(cursor, con, table):
            continue
        _, last, first = copied
        if con.execute(f"SELECT min(id) FROM {_q(table)}").fetchone()[0] != first:
            continue  # old rows purged, or the table refilled: copy it whole
        ids = cursor.execute(f"SELECT id FROM {SNAPSHOT}.{_q(table)} WHERE {still_open}")
        out[table] = pd.read_sql_query(
            f"SELECT * FROM {_q(table)} WHERE id > ? OR id IN (SELECT value FROM json_each(?))",
            con,
            params=(last, json.dumps([row[0] for row in ids.fetchall()])),
        )
    return out


def changed_in_place(cursor, con, tables: list[str], full: bool) -> dict[str, pd.DataFrame]:
    """Stamped tables whose changes since the copy can be read by their stamp: table -> the
    new and changed rows. Changed means stamped since the last read (kept in the copy, less
    a margin for a write that took its stamp before that read and committed after it).
    On a `full` check they are checked before use: the copy with them applied must have the
    file's row count and stamp total (a deletion, or a write that kept an old stamp, means
    a whole copy instead); in between, every writer of ours stamps what it changes."""
    out = {}
    for table, stamp in STAMPED.items():
        if table not in tables or not same_columns(cursor, con, table):
            continue
        count, last_id, total = cursor.execute(
            f"SELECT count(*), max(id), sum({_q(stamp)}) FROM {SNAPSHOT}.{_q(table)}"
        ).fetchone()
        read_at = read_time(cursor, table)
        if not count or read_at is None:
            continue
        rows = pd.read_sql_query(
            f"SELECT * FROM {_q(table)} WHERE id > ? OR {_q(stamp)} >= ?",
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
                f"SELECT coalesce(sum({_q(stamp)}), 0) FROM {SNAPSHOT}.{_q(table)} "
                "WHERE id IN (SELECT id FROM old_ids)"
            ).fetchone()[0]
            cursor.unregister("old_ids")
        want_count, want_total = con.execute(
            f"SELECT count(*), coalesce(sum({_q(stamp)}), 0) FROM {_q(table)}"
        ).fetchone()
        new_total = (total or 0) - replaced + int(rows[stamp].fillna(0).sum())
        if want_count == count + int((rows["id"] > last_id).sum()) and want_total == new_total:
            out[table] = rows
    return out


def read_time(cursor, table: str) -> int | None:
    """When the stamped table was last read into the copy (unix seconds)."""
    try:
        row = cursor.execute(
            f"SELECT read_at FROM {SNAPSHOT}.pmdash_read_at WHERE name = $name", {"name": table}
        ).fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def fingerprint(con: sqlite3.Connection, table: str) -> str | None:
    """A hash of the table's columns and rows; None when it has more than FINGERPRINT_ROWS or
    cannot be read here (text that is not UTF-8: the copy reads it as it can)."""
    try:
        cur = con.execute(f"SELECT * FROM {_q(table)} LIMIT {FINGERPRINT_ROWS + 1}")
        rows = cur.fetchall()
    except sqlite3.Error:
        return None
    if len(rows) > FINGERPRINT_ROWS:
        return None
    columns = [d[0] for d in cur.description]
    return hashlib.sha1(repr((columns, rows)).encode("utf-8", "surrogatepass")).hexdigest()
