"""`pmdata hook`: records one Claude Code hook event in the database, never in the agent's way.

Standard library only, nothing on stdout, exit 0 always. When the database is locked or missing
the payload goes to a spool file that the next successful call (or `pmdata hook --drain`) ingests.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import sys
import time
from contextlib import contextmanager

from pmdata.ingest.hook_events import (
    WAITING_AGENT_PREFIX,
    BadPayload,
    HookEvent,
    parse_payload,
    parse_work_item,
)

BUSY_TIMEOUT_S = 1.5  # how long one attempt waits for the write lock
ATTEMPTS = 2
LOG_LIMIT_BYTES = 5_000_000


def state_dir(environ: dict[str, str]) -> str:
    home = environ.get("HOME", "/tmp")
    base = environ.get("XDG_STATE_HOME") or os.path.join(home, ".local", "state")
    return environ.get("PMDASH_STATE_DIR") or os.path.join(base, "pmdash")


class HookRecorder:
    """Records hook payloads into one database; spool and log live in the state folder."""

    # Paths are strings: pathlib costs ~6 ms of import on the hook path.
    def __init__(self, db: str | None, environ: dict[str, str] | None = None):
        self.environ = dict(os.environ if environ is None else environ)
        self.db = db
        self.folder = state_dir(self.environ)
        self.spool = os.path.join(self.folder, "hook-spool.jsonl")
        self.log_path = os.path.join(self.folder, "hook.log")

    # -- the entry point ----------------------------------------------------------------------
    def handle(self, raw: str) -> str:
        """Record `raw`; returns 'recorded', 'spooled' or 'rejected' (never raises)."""
        received = int(time.time() * 1000)
        try:
            event = parse_payload(raw, received)
        except BadPayload as exc:
            self.log(f"rejected: {exc}", raw)
            return "rejected"
        try:
            work_item = parse_work_item(self.environ.get("PMDASH_WORK_ITEM"))
        except BadPayload as exc:  # the event still counts; only the link is refused
            self.log(f"ignored work item: {exc}", raw)
            work_item = None
        try:
            with self._connect() as con:
                self._drain_into(con)
                self._record(con, event, work_item)
            return "recorded"
        except (sqlite3.Error, OSError) as exc:
            self._to_spool(raw, received, self.environ.get("PMDASH_WORK_ITEM"))
            self.log(f"spooled ({exc})", raw)
            return "spooled"

    def drain(self) -> int:
        """Ingest what the spool holds; returns how many events were recorded."""
        with self._connect() as con:
            return self._drain_into(con)

    # -- storage ------------------------------------------------------------------------------
    @contextmanager
    def _connect(self):
        if self.db is None:
            raise sqlite3.OperationalError("no database configured (PMDASH_DB or --db)")
        if not os.path.isfile(self.db):
            raise sqlite3.OperationalError(f"database not found: {self.db}")
        # Opening never waits on locks; BEGIN IMMEDIATE in _record does, with the busy timeout.
        con = sqlite3.connect(self.db, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            con.execute("PRAGMA foreign_keys = ON")
            yield con
        finally:
            con.close()

    def _record(self, con: sqlite3.Connection, event: HookEvent, work_item) -> None:
        for attempt in range(ATTEMPTS):
            try:
                con.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError:
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(0.05)
        try:
            write_event(con, event, work_item, self.log)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    # -- spool --------------------------------------------------------------------------------
    @contextmanager
    def _spool_lock(self):
        os.makedirs(self.folder, exist_ok=True)
        with open(os.path.join(self.folder, "hook-spool.lock"), "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _to_spool(self, raw: str, received_ms: int, work_item: str | None) -> None:
        line = json.dumps({"received_at_ms": received_ms, "work_item": work_item, "raw": raw})
        with self._spool_lock(), open(self.spool, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    def _drain_into(self, con: sqlite3.Connection) -> int:
        if not os.path.exists(self.spool):
            return 0
        recorded = 0
        with self._spool_lock():
            if not os.path.exists(self.spool):
                return 0
            with open(self.spool, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
            keep = []
            for line in lines:
                try:
                    entry = json.loads(line)
                    event = parse_payload(entry["raw"], int(entry["received_at_ms"]))
                    item = parse_work_item(entry.get("work_item"))
                except (BadPayload, ValueError, KeyError, TypeError) as exc:
                    self.log(f"dropped from spool: {exc}", line)
                    continue
                try:
                    self._record(con, event, item)
                    recorded += 1
                except sqlite3.Error:
                    keep.append(line)
            # Rewrite atomically: a crash here leaves either the old or the new spool.
            if keep:
                tmp = self.spool + ".tmp"
                with open(tmp, "w", encoding="utf-8") as fh:
                    fh.write("\n".join(keep) + "\n")
                os.replace(tmp, self.spool)
            else:
                os.unlink(self.spool)
        return recorded

    # -- log ----------------------------------------------------------------------------------
    def log(self, reason: str, raw: str = "") -> None:
        try:
            os.makedirs(self.folder, exist_ok=True)
            if os.path.exists(self.log_path) and os.path.getsize(self.log_path) > LOG_LIMIT_BYTES:
                os.replace(self.log_path, self.log_path + ".1")
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            with open(self.log_path, "a", encoding="utf-8") as fh:
                fh.write(f"{stamp} {reason} | {raw.strip()[:500]!r}\n")
        except OSError:
            print(f"pmdata hook: {reason}", file=sys.stderr)


def write_event(con: sqlite3.Connection, event: HookEvent, work_item, log) -> None:
    """Inside an open transaction: the session row, the hook row, and Pre/Post pairing."""
    now_ms = event.metadata["received_at_ms"]
    now = now_ms // 1000
    session_id = _session(con, event, now, work_item)
    if work_item:
        _link_work_item(con, session_id, event.session_id, work_item, log)
    duration = None
    if event.is_tool_end:
        duration = _complete_start(con, session_id, event, now_ms)
    con.execute(
        "INSERT INTO hooks (session_id, hook_type, timestamp, tool_name, tool_input, tool_output,"
        " duration_ms, success, error_message, metadata, tool_use_id, raw_payload)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            session_id,
            event.hook_type,
            now,
            event.tool_name,
            event.tool_input,
            event.tool_output,
            duration,
            event.success,
            event.error_message,
            json.dumps(event.metadata),
            event.tool_use_id,
            event.raw,
        ),
    )
    if event.event == "SessionEnd":
        con.execute(
            "UPDATE sessions SET status = 'stopped', stopped_at = ?, last_activity_at = ?"
            " WHERE id = ?",
            (now, now, session_id),
        )
    else:
        # Any event after an end (e.g. a resumed session) means it runs again.
        con.execute(
            "UPDATE sessions SET last_activity_at = max(coalesce(last_activity_at, 0), ?),"
            " status = CASE WHEN ? = 'SessionStart' THEN 'running' ELSE status END,"
            " stopped_at = CASE WHEN ? = 'SessionStart' THEN NULL ELSE stopped_at END"
            " WHERE id = ?",
            (now, event.event, event.event, session_id),
        )


def _session(con: sqlite3.Connection, event: HookEvent, now: int, work_item) -> int:
    row = con.execute("SELECT id FROM sessions WHERE agent_id = ?", (event.session_id,)).fetchone()
    if row:
        return row[0]
    if work_item:
        claimed = _claim_waiting_session(con, event.session_id, work_item[1], now)
        if claimed:
            return claimed
    project_id = _project(con, event.cwd, now)
    return con.execute(
        "INSERT INTO sessions (project_id, agent_id, status, started_at, last_activity_at,"
        " session_type) VALUES (?, ?, 'running', ?, ?, 'manual')",
        (project_id, event.session_id, now, now),
    ).lastrowid


def _claim_waiting_session(con, agent_id: str, item: str, now: int) -> int | None:
    """A remediation started from the dashboard made this session's record ahead of time: the
    agent takes it over, and its attempt (pending until now) is in progress."""
    row = con.execute(
        "SELECT id, agent_id FROM sessions WHERE work_item = ? AND agent_id LIKE ?"
        " ORDER BY id LIMIT 1",
        (item, WAITING_AGENT_PREFIX + "%"),
    ).fetchone()
    if not row:
        return None
    session_id, placeholder = row
    con.execute(
        "UPDATE sessions SET agent_id = ?, status = 'running', started_at = ?,"
        " last_activity_at = ? WHERE id = ?",
        (agent_id, now, now, session_id),
    )
    con.execute(
        "UPDATE remediation_attempts SET claude_session_id = ?,"
        " status = CASE WHEN status = 'pending' THEN 'in_progress' ELSE status END"
        " WHERE claude_session_id = ?",
        (agent_id, placeholder),
    )
    return session_id


def _project(con: sqlite3.Connection, cwd: str | None, now: int) -> int:
    """The known project whose path holds `cwd` (deepest first), or a new one named after it."""
    path = os.path.normpath(cwd) if cwd else "(unknown)"
    best = None
    for pid, ppath in con.execute("SELECT id, path FROM projects"):
        p = os.path.normpath(ppath or "")
        if (path == p or path.startswith(p.rstrip("/") + "/")) and (
            best is None or len(p) > best[1]
        ):
            best = (pid, len(p))
    if best:
        return best[0]
    name = os.path.basename(path) or path
    rows = con.execute("SELECT name FROM projects WHERE name LIKE ?", (name + "%",))
    taken = {n for (n,) in rows}
    unique, n = name, 2
    while unique in taken:
        unique, n = f"{name}-{n}", n + 1
    return con.execute(
        "INSERT INTO projects (name, path, description, created_at, updated_at)"
        " VALUES (?, ?, 'Created from a Claude Code session', ?, ?)",
        (unique, path, now, now),
    ).lastrowid


def _link_work_item(con, session_id: int, agent_id: str, work_item, log) -> None:
    kind, item = work_item
    current = con.execute("SELECT work_item FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if current[0] == item:
        return
    if current[0]:
        # One session, one work item: the first one stays.
        log(f"refused work item {item} for session {agent_id}: already on {current[0]}")
        return
    con.execute(
        "UPDATE sessions SET work_item = ?, session_type = ? WHERE id = ?",
        (item, kind, session_id),
    )
    if kind == "error_remediation":
        triage_id = int(item.split(":", 1)[1])
        con.execute(
            "UPDATE error_triage SET assigned_session_id = ?, updated_at = strftime('%s','now')"
            " WHERE id = ? AND assigned_session_id IS NULL",
            (session_id, triage_id),
        )


def _complete_start(con, session_id: int, event: HookEvent, now_ms: int) -> int | None:
    """Marks the matching PreToolUse done and returns the call's duration in ms."""
    if event.tool_use_id:
        row = con.execute(
            "SELECT id, metadata FROM hooks WHERE session_id = ? AND tool_use_id = ?"
            " AND hook_type = 'pre_tool_use' AND success IS NULL ORDER BY id LIMIT 1",
            (session_id, event.tool_use_id),
        ).fetchone()
    else:
        # Older Claude Code sends no tool_use_id: first open call of the same tool, in order.
        row = con.execute(
            "SELECT id, metadata FROM hooks WHERE session_id = ? AND tool_name IS ?"
            " AND hook_type = 'pre_tool_use' AND success IS NULL AND tool_use_id IS NULL"
            " ORDER BY id LIMIT 1",
            (session_id, event.tool_name),
        ).fetchone()
    if not row:
        return None
    try:
        started = int(json.loads(row[1] or "{}").get("received_at_ms"))
        duration = max(0, now_ms - started)
    except (TypeError, ValueError):
        duration = None
    con.execute(
        "UPDATE hooks SET success = ?, duration_ms = ?, error_message = ? WHERE id = ?",
        (event.success, duration, event.error_message, row[0]),
    )
    return duration


def main(argv: list[str]) -> int:
    """`pmdata hook [--db PATH] [--drain]`: reads stdin, records, always exits 0."""
    environ = dict(os.environ)
    db = environ.get("PMDASH_DB") or None
    drain_only = False
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--db" and args:
            db = args.pop(0)
        elif arg.startswith("--db="):
            db = arg[5:]
        elif arg == "--drain":
            drain_only = True
    recorder = HookRecorder(os.path.expanduser(db) if db else None, environ)
    try:
        if drain_only:
            count = recorder.drain()
            print(f"drained {count} event(s) from {recorder.spool}", file=sys.stderr)
            return 0
        raw = sys.stdin.read() if not sys.stdin.isatty() else ""
        recorder.handle(raw)
    except Exception as exc:  # never in the agent's way, whatever happens
        recorder.log(f"error: {type(exc).__name__}: {exc}")
    return 0
