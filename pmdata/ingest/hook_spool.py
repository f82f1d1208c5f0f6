"""The hook spool: events that could not be recorded at once, kept on disk until a drain records
them. Standard library only (it runs inside every agent tool call).

One file per event, written whole and then renamed into place, so an append never waits on a
lock and a killed writer leaves no half line. Each event carries an id that the database
remembers once it is recorded (`pmdash_hook_receipts`), so a drain killed part way, or two drains
at once, record nothing twice. An entry that cannot be recorded at all is moved to a dead-letter
file with its reason, and never stops the ones behind it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from contextlib import contextmanager

SUFFIX = ".json"


class Spool:
    def __init__(self, folder: str):
        self.folder = os.path.join(folder, "hook-spool")
        self.dead_letters = os.path.join(folder, "hook-dead-letters.jsonl")
        self.legacy = os.path.join(folder, "hook-spool.jsonl")  # one file, before per-event
        self._lock = os.path.join(folder, "hook-drain.lock")
        self._sequence = 0

    # -- writing ------------------------------------------------------------------------------
    def add(self, received_at_ms: int, work_item: str | None, raw: str) -> str:
        """Keep one event; returns its id. JSON's ASCII escapes keep any text, bad unicode too."""
        event_id = os.urandom(16).hex()  # not uuid: its import costs ~7 ms of every hook call
        self._write(event_id, received_at_ms, work_item, raw)
        return event_id

    def keep(self, event_id: str, received_at_ms: int, work_item: str | None, raw: str) -> None:
        """Keep an event that already has an id (sent from another machine's spool)."""
        self._write(event_id, received_at_ms, work_item, raw)

    def _write(self, event_id: str, received_at_ms: int, work_item: str | None, raw: str) -> None:
        os.makedirs(self.folder, exist_ok=True)
        self._sequence += 1
        # Names sort in the order events arrived: a drain keeps a session's Pre before its Post.
        name = f"{received_at_ms:013d}-{os.getpid():07d}-{self._sequence:05d}-{event_id}"
        entry = {"id": event_id, "received_at_ms": received_at_ms, "work_item": work_item}
        text = json.dumps({**entry, "raw": raw})
        tmp = os.path.join(self.folder, f".{name}.tmp")
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(text)
        os.replace(tmp, os.path.join(self.folder, name + SUFFIX))

    # -- reading ------------------------------------------------------------------------------
    def waiting(self) -> list[str]:
        """Names of the spooled events, oldest first."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n.endswith(SUFFIX) and not n.startswith("."))

    def has_waiting(self) -> bool:
        return bool(self.waiting()) or os.path.exists(self.legacy)

    def read(self, name: str) -> dict:
        """One spooled entry; ValueError says why it cannot be recorded."""
        with open(os.path.join(self.folder, name), encoding="ascii", errors="strict") as fh:
            entry = json.loads(fh.read())
        if not isinstance(entry, dict) or not isinstance(entry.get("raw"), str):
            raise ValueError("not a spooled hook event")
        if not isinstance(entry.get("id"), str) or not isinstance(entry.get("received_at_ms"), int):
            raise ValueError("a spooled event needs an id and a received_at_ms")
        return entry

    def done(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # another drain got there first
            os.unlink(os.path.join(self.folder, name))

    def set_aside(self, name: str, reason: str) -> None:
        """Move one entry to the dead-letter file, with why; the spool goes on without it."""
        path = os.path.join(self.folder, name)
        try:
            with open(path, "rb") as fh:
                content = fh.read().decode("utf-8", "backslashreplace")
        except FileNotFoundError:
            return
        self._dead_letter(reason, content)
        self.done(name)

    def _dead_letter(self, reason: str, content: str) -> None:
        line = json.dumps({"set_aside_at": int(time.time()), "reason": reason, "entry": content})
        with open(self.dead_letters, "a", encoding="ascii") as fh:
            fh.write(line + "\n")

    # -- draining -----------------------------------------------------------------------------
    @contextmanager
    def draining(self, wait: bool):
        """One drain at a time. Without `wait`, yields False when another process drains."""
        os.makedirs(os.path.dirname(self._lock), exist_ok=True)
        with open(self._lock, "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                self._split_legacy()
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _split_legacy(self) -> None:
        """An older pmdash spooled into one JSON-lines file: one spool file per line, named by
        the line's hash so that a split killed half way and done again adds nothing twice."""
        if not os.path.exists(self.legacy):
            return
        import hashlib  # here, not at the top: the hook path never needs it otherwise

        with open(self.legacy, "rb") as fh:
            lines = fh.read().splitlines()
        for line in lines:
            text = line.decode("utf-8", "surrogateescape")
            try:
                entry = json.loads(text)
                raw, at = entry["raw"], int(entry["received_at_ms"])
                work_item = entry.get("work_item")
                if not isinstance(raw, str):
                    raise ValueError("raw is not text")
            except (ValueError, KeyError, TypeError) as exc:
                self._dead_letter(f"unreadable spool line: {exc}", text)
                continue
            event_id = hashlib.sha1(line).hexdigest()
            self._write(event_id, at, work_item, raw)
        os.unlink(self.legacy)
