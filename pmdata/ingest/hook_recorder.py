"""`pmdata hook`: records one Claude Code hook event in the database, never in the agent's way.

Standard library only, nothing on stdout, exit 0 always, and about a second at most whatever the
database is doing (Claude Code kills a hook at its timeout, and the event with it). The event is
recorded at once, or kept in the spool (`hook_spool`) behind events already waiting there; what
is left of the second goes to draining the spool in order. `pmdata hook --drain` drains the rest.
"""

from __future__ import annotations

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
from pmdata.ingest.hook_spool import Spool
from pmdata.paths import state_dir
from pmdata.project_rows import project_id
from pmdata.work_item import WorkItem

BUDGET_S = 1.0  # one hook call, start to end: well inside the installed 5 s timeout
RECORD_WAIT_S = 0.5  # of which recording the event itself may wait this long for the lock
DRAIN_WAIT_S = 5.0  # `pmdata hook --drain` waits this long for the lock, per chunk
CHUNK = 200  # spooled events recorded per transaction
LOG_LIMIT_BYTES = 5_000_000
RECEIPTS = "pmdash_hook_receipts"


class Drained:
    """What one drain did: recorded, already there (a drain killed after its commit), set aside
    in the dead-letter file, and still waiting (the database stayed busy, or time ran out)."""

    def __init__(self) -> None:
        self.recorded = self.duplicates = self.set_aside = self.waiting = 0
        self.stopped: str | None = None

    def describe(self, spool: Spool) -> str:
        parts = [f"drained {self.recorded} event(s)"]
        if self.duplicates:
            parts.append(f"{self.duplicates} already recorded")
        if self.set_aside:
            parts.append(f"set aside {self.set_aside} in {spool.dead_letters} (reasons there)")
        if self.waiting:
            parts.append(f"{self.waiting} still waiting in {spool.folder}: {self.stopped}")
        return "; ".join(parts)


class HookRecorder:
    """Records hook payloads into one database; spool and log live in the state folder."""

    # Paths are strings: pathlib costs ~6 ms of import on the hook path.
    def __init__(
        self, db: str | None, environ: dict[str, str] | None = None, budget_s: float = BUDGET_S
    ):
        self.environ = dict(os.environ if environ is None else environ)
        self.db = db
        self.budget_s = budget_s
        self.folder = state_dir(self.environ)
        self.spool = Spool(self.folder)
        self.log_path = os.path.join(self.folder, "hook.log")

    # -- the entry point ----------------------------------------------------------------------
    def handle(self, raw: str, item_text: str | None = None) -> str:
        """Record `raw`; returns 'recorded', 'spooled' or 'rejected' (never raises). The work
        item is `item_text` when given (the server reads it from a header), else the agent's
        PMDASH_WORK_ITEM."""
        deadline = time.monotonic() + self.budget_s
        received = int(time.time() * 1000)
        try:
            event = parse_payload(raw, received)
        except BadPayload as exc:
            self.log(f"rejected: {exc}", raw)
            return "rejected"
        if item_text is None:
            item_text = self.environ.get("PMDASH_WORK_ITEM")
        try:
            work_item = parse_work_item(item_text)
        except BadPayload as exc:  # the event still counts; only the link is refused
            self.log(f"ignored work item: {exc}", raw)
            work_item = item_text = None
        outcome = "spooled"
        if self.spool.has_waiting():
            # Events are waiting: this one goes behind them, so a Post never lands before its Pre.
            self.spool.add(received, item_text, raw)
        else:
            try:
                with self.connect(min(RECORD_WAIT_S, self.budget_s / 2)) as con:
                    self._record(con, event, work_item)
                return "recorded"
            except (sqlite3.Error, OSError) as exc:
                self.spool.add(received, item_text, raw)
                self.log(f"spooled ({exc})", raw)
        self.drain(deadline=deadline)
        return outcome

    def drain(self, deadline: float | None = None) -> Drained:
        """Record what the spool holds, oldest first, in committed chunks. With a deadline (a
        hook call) it gives way to a drain already running and stops in time."""
        report = Drained()
        with self.spool.draining(wait=deadline is None) as mine:
            if not mine:
                return report
            names = self.spool.waiting()
            try:
                self._drain_names(names, deadline, report)
            except (sqlite3.Error, OSError) as exc:
                report.stopped = f"database unavailable ({exc})"
            report.waiting = len(self.spool.waiting())
            if report.waiting and not report.stopped:
                report.stopped = "time ran out"
        if report.set_aside:
            self.log(f"set aside {report.set_aside} spooled event(s) in {self.spool.dead_letters}")
        return report

    # -- storage ------------------------------------------------------------------------------
    @contextmanager
    def connect(self, wait_s: float):
        if self.db is None:
            raise sqlite3.OperationalError("no database configured (PMDASH_DB or --db)")
        if not os.path.isfile(self.db):
            raise sqlite3.OperationalError(f"database not found: {self.db}")
        con = sqlite3.connect(self.db, timeout=max(wait_s, 0.01), isolation_level=None)
        try:
            con.execute("PRAGMA foreign_keys = ON")
            yield con
        finally:
            con.close()

    def _record(self, con: sqlite3.Connection, event: HookEvent, work_item) -> None:
        con.execute("BEGIN IMMEDIATE")  # waits up to the connection's busy timeout
        try:
            write_event(con, event, work_item, self.log)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _drain_names(self, names: list[str], deadline: float | None, report: Drained) -> None:
        if not names:
            return
        wait = DRAIN_WAIT_S if deadline is None else deadline - time.monotonic()
        if wait <= 0.02:
            return
        with self.connect(wait) as con:
            receipts = has_table(con, RECEIPTS)
            for start in range(0, len(names), CHUNK):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0.02:
                    return
                if left is not None:
                    con.execute(f"PRAGMA busy_timeout = {int(left * 1000)}")
                self._drain_chunk(con, names[start : start + CHUNK], receipts, report)

    def _drain_chunk(self, con, names: list[str], receipts: bool, report: Drained) -> None:
        finished, poisoned = [], []
        con.execute("BEGIN IMMEDIATE")
        try:
            for name in names:
                try:
                    entry = self.spool.read(name)
                    event = parse_payload(entry["raw"], entry["received_at_ms"])
                    item = parse_work_item(entry.get("work_item"))
                except FileNotFoundError:
                    continue  # recorded by a drain that ran before this one
                except (BadPayload, ValueError, UnicodeError, OSError) as exc:
                    poisoned.append((name, f"{type(exc).__name__}: {exc}"))
                    continue
                con.execute("SAVEPOINT one_event")
                try:
                    if receipts and not first_receipt(con, entry["id"]):
                        report.duplicates += 1
                    else:
                        write_event(con, event, item, self.log)
                        report.recorded += 1
                    con.execute("RELEASE one_event")
                except (sqlite3.IntegrityError, sqlite3.InterfaceError, ValueError) as exc:
                    # This event alone cannot go in; the others in the chunk still do.
                    con.execute("ROLLBACK TO one_event")
                    con.execute("RELEASE one_event")
                    poisoned.append((name, f"{type(exc).__name__}: {exc}"))
                    continue
                finished.append(name)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        # After the commit: a kill before these unlinks leaves files whose receipts are stored.
        for name in finished:
            self.spool.done(name)
        for name, reason in poisoned:
            self.spool.set_aside(name, reason)
            report.set_aside += 1

    # -- log ----------------------------------------------------------------------------------
    def log(self, reason: str, raw: str = "") -> None:
        try:
            os.makedirs(self.folder, exist_ok=True)
            if os.path.exists(self.log_path) and os.path.getsize(self.log_path) > LOG_LIMIT_BYTES:
                os.replace(self.log_path, self.log_path + ".1")
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            line = f"{stamp} {reason} | {raw.strip()[:500]!r}\n"
            with open(self.log_path, "a", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(line)
        except OSError:
            print(f"pmdata hook: {reason}", file=sys.stderr)


def has_table(con: sqlite3.Connection, name: str) -> bool:
    found = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.fetchone() is not None


def first_receipt(con: sqlite3.Connection, event_id: str) -> bool:
    """Remember `event_id` as recorded; False when it already was."""
    cur = con.execute(f"INSERT OR IGNORE INTO {RECEIPTS} (event_id) VALUES (?)", (event_id,))
    return cur.rowcount == 1


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
        claimed = _claim_waiting_session(con, event.session_id, str(work_item), now)
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
    """The known project whose path holds `cwd` (deepest first), else the one named like its
    folder, else a new one named after it."""
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
    # One project, one name, whichever door its data came in by: a report ingested as "shop"
    # and a session in a checkout named shop are the same project.
    name = os.path.basename(path) or path
    return project_id(con, name, path, "Created from a Claude Code session", now)


def _link_work_item(con, session_id: int, agent_id: str, work_item: WorkItem, log) -> None:
    item = str(work_item)
    current = con.execute("SELECT work_item FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if current[0] == item:
        return
    if current[0]:
        # One session, one work item: the first one stays.
        log(f"refused work item {item} for session {agent_id}: already on {current[0]}")
        return
    con.execute(
        "UPDATE sessions SET work_item = ?, session_type = ? WHERE id = ?",
        (item, work_item.session_type, session_id),
    )
    if work_item.is_error:
        con.execute(
            "UPDATE error_triage SET assigned_session_id = ?, updated_at = strftime('%s','now')"
            " WHERE test_failure_id = ? AND assigned_session_id IS NULL",
            (session_id, work_item.failure_id),
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
