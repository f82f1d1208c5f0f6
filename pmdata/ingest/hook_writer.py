"""The server's hook recorder: events from every machine, recorded by one writer thread in shared
transactions (group commit), each answered once its transaction has committed.

Recording one event per transaction, a connection each, costs ~3.5 ms here, and eight agents
posting at once would queue on SQLite's single write lock; one writer taking whatever has
arrived since its last commit pays the commit once per batch. Nothing is answered before it is
in the database (or in the spool, when the database is busy: as `pmdata hook` does, and behind
what already waits there, so a Post never lands before its Pre). An event forwarded by
`pmdata hook --url` carries an id (recorded once, pmdash_hook_receipts) and the time it happened
on its machine.

While its connection is open the writer holds ONE_SQLITE_AT_A_TIME: the pages' DuckDB reads run
in this process too, with a SQLite of their own that cannot see this one's locks
(pmdata.store.database says what happens when the two overlap). It lets go as soon as a reader
waits, and whenever the queue is empty.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from concurrent.futures import Future
from queue import Empty, SimpleQueue
from typing import NamedTuple

from pmdata.ingest.hook_events import BadPayload, parse_payload, parse_work_item
from pmdata.ingest.hook_recorder import (
    RECEIPTS,
    RECORD_WAIT_S,
    HookRecorder,
    first_receipt,
    has_table,
    write_event,
)
from pmdata.store.database import ONE_SQLITE_AT_A_TIME

MAX_BATCH = 500  # events in one transaction: a few ms of work at most
DRAIN_S = 0.2  # of the writer's time spent on the spool before the next batch
WATCH_S = 0.005  # how often an open, idle writer looks for a reader waiting for the file
KEEP_OPEN_S = 1.0  # an idle writer closes the file after this long


class _Pending(NamedTuple):
    event: object
    item_text: str | None
    raw: str
    received_ms: int
    event_id: str | None
    answer: Future


class HookWriter:
    def __init__(self, db: str | None, state_folder: str):
        self.recorder = HookRecorder(db, {"PMDASH_STATE_DIR": state_folder})
        self._queue: SimpleQueue[_Pending] = SimpleQueue()
        self._con: sqlite3.Connection | None = None
        self._receipts: bool | None = None  # has the file a receipts table? (once a connection)
        self._thread = threading.Thread(target=self._run, name="pmdash-hook-writer", daemon=True)
        self._thread.start()

    def submit(
        self,
        raw: str,
        item_text: str | None = None,
        received_ms: int | None = None,
        event_id: str | None = None,
    ) -> Future:
        """A future of 'recorded', 'duplicate', 'spooled' or 'rejected'."""
        answer: Future = Future()
        received = received_ms if received_ms is not None else int(time.time() * 1000)
        try:
            event = parse_payload(raw, received)
        except BadPayload as exc:
            self.recorder.log(f"rejected: {exc}", raw)
            answer.set_result("rejected")
            return answer
        self._queue.put(_Pending(event, item_text, raw, received, event_id, answer))
        return answer

    # -- the writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            batch = [self._next()]
            while len(batch) < MAX_BATCH:  # whatever arrived meanwhile: one commit for all
                try:
                    batch.append(self._queue.get_nowait())
                except Empty:
                    break
            try:
                outcomes = self._record(batch)
            except Exception as exc:  # the thread outlives anything: the events are spooled
                outcomes = self._spool(batch, f"{type(exc).__name__}: {exc}")
            for pending, outcome in zip(batch, outcomes, strict=True):
                pending.answer.set_result(outcome)
            if ONE_SQLITE_AT_A_TIME.wanted():
                self._let_go()

    def _next(self) -> _Pending:
        """The next event. With the file open, it is watched meanwhile: a reader that waits for
        it gets it within a few ms, and a quiet second closes it."""
        quiet_since = time.monotonic()
        while self._con is not None:
            try:
                return self._queue.get(timeout=WATCH_S)
            except Empty:
                if ONE_SQLITE_AT_A_TIME.wanted() or time.monotonic() - quiet_since > KEEP_OPEN_S:
                    self._let_go()
        return self._queue.get()

    def _record(self, batch: list[_Pending]) -> list[str]:
        spool = self.recorder.spool
        if spool.has_waiting():
            with ONE_SQLITE_AT_A_TIME:  # the drain opens the file too
                self.recorder.drain(deadline=time.monotonic() + DRAIN_S)
            if spool.has_waiting():  # behind what waits, in order
                return self._spool(batch, "events are waiting in the spool")
        try:
            return self._write(batch)
        except (sqlite3.Error, OSError) as exc:
            self._close()
            return self._spool(batch, str(exc))

    def _write(self, batch: list[_Pending]) -> list[str]:
        con = self._connection()
        if self._receipts is None:
            self._receipts = has_table(con, RECEIPTS)
        receipts = self._receipts
        outcomes = []
        con.execute("BEGIN IMMEDIATE")
        try:
            for pending in batch:
                outcomes.append(self._one(con, pending, receipts))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return outcomes

    def _one(self, con: sqlite3.Connection, pending: _Pending, receipts: bool) -> str:
        try:
            work_item = parse_work_item(pending.item_text)
        except BadPayload as exc:  # the event still counts; only the link is refused
            self.recorder.log(f"ignored work item: {exc}", pending.raw)
            work_item = None
        con.execute("SAVEPOINT one_event")
        try:
            if pending.event_id and receipts and not first_receipt(con, pending.event_id):
                outcome = "duplicate"
            else:
                write_event(con, pending.event, work_item, self.recorder.log)
                outcome = "recorded"
            con.execute("RELEASE one_event")
        except (sqlite3.IntegrityError, sqlite3.InterfaceError, ValueError) as exc:
            # This event alone cannot go in; the others of the batch still do.
            con.execute("ROLLBACK TO one_event")
            con.execute("RELEASE one_event")
            self.recorder.log(f"rejected: {type(exc).__name__}: {exc}", pending.raw)
            outcome = "rejected"
        return outcome

    def _spool(self, batch: list[_Pending], why: str) -> list[str]:
        spool = self.recorder.spool
        for pending in batch:
            if pending.event_id:
                spool.keep(pending.event_id, pending.received_ms, pending.item_text, pending.raw)
            else:
                spool.add(pending.received_ms, pending.item_text, pending.raw)
        self.recorder.log(f"spooled {len(batch)} event(s): {why}")
        return ["spooled"] * len(batch)

    def _connection(self) -> sqlite3.Connection:
        """The open connection, holding ONE_SQLITE_AT_A_TIME while it is open. Kept between
        batches while events keep coming and no reader waits: a fresh connection reads the
        schema, prepares every statement again, and its close checkpoints the WAL (3.5 ms a
        batch of five here, against 0.4 ms on a kept one)."""
        if self._con is not None:
            return self._con
        db = self.recorder.db
        if db is None:
            raise sqlite3.OperationalError("no database configured (PMDASH_DB)")
        if not os.path.isfile(db):  # connect() would make an empty one
            raise sqlite3.OperationalError(f"database not found: {db}")
        ONE_SQLITE_AT_A_TIME.acquire()
        try:
            con = sqlite3.connect(db, timeout=RECORD_WAIT_S, isolation_level=None)
            con.execute("PRAGMA foreign_keys = ON")
            if con.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                # NORMAL syncs the log at checkpoints instead of at every commit: a committed
                # event survives a crash of the server, not a power cut in the moments before
                # the next checkpoint. That fsync was a third of an event's wait for its answer
                # (7.1 -> 4.7 ms median, bench/server_load.py). In rollback-journal mode NORMAL
                # could leave the file damaged by a power cut: FULL stays there.
                con.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            ONE_SQLITE_AT_A_TIME.release()
            raise
        self._con = con
        return con

    def _close(self) -> None:
        if self._con is None:
            return
        try:
            self._con.close()
        finally:
            self._con = self._receipts = None
            ONE_SQLITE_AT_A_TIME.release()

    def _let_go(self) -> None:
        """Close, and stand aside until a waiting reader has taken the file (the lock is not
        fair on its own: this thread could take it straight back)."""
        asked = ONE_SQLITE_AT_A_TIME.wanted()
        self._close()
        deadline = time.monotonic() + 0.05
        while asked and ONE_SQLITE_AT_A_TIME.wanted() and time.monotonic() < deadline:
            time.sleep(0.0005)
