"""Sign-in attempts per client: the shared password cannot be guessed at speed.

A client's first wrong passwords cost nothing (a typo is not an attack); from the
`FREE_FAILURES`-th on, the next attempt is not even checked until a wait that doubles with every
failure has passed, up to `MAX_WAIT_S`. Eight browser tabs share one client address and one wait,
so opening more connections does not help a guesser. A right password clears the client's
count. Every failure is logged with the client's address.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from dataclasses import dataclass

from pmdata.paths import state_dir

FREE_FAILURES = 3
MAX_WAIT_S = 300.0
FORGET_AFTER_S = 3600.0  # a client quiet this long starts afresh
MAX_CLIENTS = 10_000  # memory bound: the oldest are forgotten first

log = logging.getLogger("pmdash.sign_in")


@dataclass
class _Client:
    failures: int = 0
    last_failure: float = 0.0
    refusal_logged: bool = False  # one log line per wait, however hard it is hammered


@dataclass(frozen=True)
class Verdict:
    signed_in: bool
    wait_s: float = 0.0  # > 0: the attempt was not checked; try again after this long

    def message(self) -> str:
        if self.signed_in:
            return ""
        if self.wait_s > 0:
            return f"Too many wrong passwords from here: try again in {int(self.wait_s) + 1} s."
        return "Wrong password."


class SignInGuard:
    """Process-wide (one per server), thread-safe: every browser session asks the same one."""

    def __init__(self, clock=time.monotonic, log_file: str | None = None):
        self._clock = clock
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()
        self._log_file = log_file or os.path.join(state_dir(), "sign-in.log")

    def wait_for(self, client: str) -> float:
        """Seconds before `client` may try again (0: now)."""
        with self._lock:
            entry = self._clients.get(client)
            return self._wait(entry) if entry else 0.0

    def _wait(self, entry: _Client) -> float:
        if entry.failures < FREE_FAILURES:
            return 0.0
        delay = min(MAX_WAIT_S, 2.0 ** (entry.failures - FREE_FAILURES))
        return max(0.0, entry.last_failure + delay - self._clock())

    def attempt(self, client: str, given: str, expected: str) -> Verdict:
        now = self._clock()
        with self._lock:
            self._forget_old(now)
            entry = self._clients.setdefault(client, _Client())
            wait = self._wait(entry)
            if wait > 0:
                first_refusal = not entry.refusal_logged
                entry.refusal_logged = True
                if first_refusal:
                    self._record(f"refused sign-in from {client} (waiting {wait:.0f} s more)")
                return Verdict(False, wait)
            if hmac.compare_digest(given.encode(), expected.encode()):
                self._clients.pop(client, None)
                return Verdict(True)
            entry.failures += 1
            entry.last_failure = now
            entry.refusal_logged = False
            failures, next_wait = entry.failures, self._wait(entry)
        line = f"failed sign-in from {client} ({failures} in a row"
        self._record(line + (f"; the next is checked in {next_wait:.0f} s)" if next_wait else ")"))
        return Verdict(False)

    def _forget_old(self, now: float) -> None:
        stale = [c for c, e in self._clients.items() if now - e.last_failure > FORGET_AFTER_S]
        for client in stale:
            del self._clients[client]
        while len(self._clients) >= MAX_CLIENTS:
            del self._clients[next(iter(self._clients))]

    def _record(self, line: str) -> None:
        log.warning(line)
        try:
            os.makedirs(os.path.dirname(self._log_file), exist_ok=True)
            with open(self._log_file, "a", encoding="utf-8") as fh:
                fh.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")
        except OSError:
            pass  # the server's own log has it
