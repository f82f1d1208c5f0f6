"""The server's side of a forwarded hook event (`pmdata hook --url`): it carries the id and the
time the agent's machine gave it, so an event sent again after a lost answer, or drained from
that machine's spool hours later, is recorded once and at the time it happened.
Standard library only, like the rest of the hook path."""

from __future__ import annotations

import sqlite3

from pmdata.ingest.hook_events import BadPayload, parse_payload, parse_work_item
from pmdata.ingest.hook_recorder import (
    RECEIPTS,
    RECORD_WAIT_S,
    HookRecorder,
    first_receipt,
    has_table,
    write_event,
)


def record_forwarded(
    recorder: HookRecorder, raw: str, item_text: str | None, received_ms: int, event_id: str
) -> str:
    """'recorded', 'duplicate', 'spooled' (the database was busy: the server's own spool keeps
    it under the same id) or 'rejected'."""
    try:
        event = parse_payload(raw, received_ms)
        work_item = parse_work_item(item_text)
    except BadPayload as exc:
        recorder.log(f"rejected forwarded event {event_id}: {exc}", raw)
        return "rejected"
    try:
        with recorder.connect(RECORD_WAIT_S) as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                if has_table(con, RECEIPTS) and not first_receipt(con, event_id):
                    con.execute("COMMIT")
                    return "duplicate"
                write_event(con, event, work_item, recorder.log)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return "recorded"
    except (sqlite3.Error, OSError) as exc:
        recorder.spool.keep(event_id, received_ms, item_text, raw)
        recorder.log(f"spooled forwarded event {event_id} ({exc})", raw)
        return "spooled"
