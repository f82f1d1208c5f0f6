"""`pmdata hook --url URL`: the command hook on a machine without the database sends each event
to the server, and keeps it in the local spool when the server cannot take it (down, slow,
refusing the token). Nothing is lost and the agent never waits longer than the hook's budget;
the next event, or `pmdata hook --drain --url URL`, sends what waits, oldest first.

Every event gets an id and the time it happened here before it leaves, and the server records an
id once (pmdata.ingest.hook_receive): an answer lost on the way back costs a resend, never a
duplicate. Standard library only: this runs inside every agent tool call.
"""

from __future__ import annotations

import http.client
import os
import time
from urllib.parse import urlsplit

from pmdata.ingest.hook_recorder import Drained, HookRecorder

PATH = "/api/hooks"
TOKEN_ENV = "PMDASH_TOKEN"
DRAIN_TIMEOUT_S = 5.0


class Refused(Exception):
    """The server answered, and will not take this event as it is (400): set it aside."""


class Forwarder:
    def __init__(self, recorder: HookRecorder, url: str, token_env: str = TOKEN_ENV):
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--url {url!r}: give http://host:port")
        self.recorder = recorder
        self.parts = parts
        self.path = parts.path.rstrip("/") + PATH
        self.token = recorder.environ.get(token_env) or ""

    def handle(self, raw: str) -> str:
        """'sent', 'spooled' or 'refused'; never raises, never waits past the budget."""
        deadline = time.monotonic() + self.recorder.budget_s
        received = int(time.time() * 1000)
        event_id = os.urandom(16).hex()
        item = self.recorder.environ.get("PMDASH_WORK_ITEM")
        spool = self.recorder.spool
        if spool.has_waiting():
            self.drain(deadline)
        if spool.has_waiting():  # still waiting: this one goes behind them, in order
            spool.keep(event_id, received, item, raw)
            return "spooled"
        try:
            self._send(raw, item, received, event_id, deadline - time.monotonic())
            return "sent"
        except Refused as exc:
            self.recorder.log(f"the server refused an event: {exc}", raw)
            return "refused"
        except (OSError, http.client.HTTPException) as exc:
            spool.keep(event_id, received, item, raw)
            self.recorder.log(f"spooled: {self._where()} did not take it ({exc})", raw)
            return "spooled"

    def drain(self, deadline: float | None = None) -> Drained:
        """Send the spool, oldest first, until it is empty, the server fails, or time runs out."""
        report = Drained()
        spool = self.recorder.spool
        with spool.draining(wait=deadline is None) as mine:
            if not mine:
                return report
            for name in spool.waiting():
                left = DRAIN_TIMEOUT_S if deadline is None else deadline - time.monotonic()
                if left <= 0.05:
                    report.stopped = "time ran out"
                    break
                try:
                    entry = spool.read(name)
                except FileNotFoundError:
                    continue
                except (ValueError, OSError) as exc:
                    spool.set_aside(name, f"{type(exc).__name__}: {exc}")
                    report.set_aside += 1
                    continue
                try:
                    self._send(
                        entry["raw"],
                        entry.get("work_item"),
                        int(entry["received_at_ms"]),
                        str(entry["id"]),
                        left,
                    )
                except Refused as exc:
                    spool.set_aside(name, f"the server refused it: {exc}")
                    report.set_aside += 1
                    continue
                except (OSError, http.client.HTTPException) as exc:
                    report.stopped = f"{self._where()} did not take it ({exc})"
                    break
                spool.done(name)
                report.recorded += 1
            report.waiting = len(spool.waiting())
        return report

    def _where(self) -> str:
        return f"{self.parts.scheme}://{self.parts.netloc}"

    def _send(self, raw: str, item, received_ms: int, event_id: str, timeout: float) -> None:
        kind = (
            http.client.HTTPSConnection
            if self.parts.scheme == "https"
            else http.client.HTTPConnection
        )
        con = kind(self.parts.hostname, self.parts.port, timeout=max(timeout, 0.05))
        headers = {
            "Content-Type": "application/json",
            "X-Pmdash-Event-Id": event_id,
            "X-Pmdash-Received-At": str(received_ms),
        }
        if item:
            headers["X-Pmdash-Work-Item"] = item
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            con.request("POST", self.path, raw.encode("utf-8", "surrogateescape"), headers)
            answer = con.getresponse()
            body = answer.read(2000).decode("utf-8", "replace")
        finally:
            con.close()
        if answer.status == 400:
            raise Refused(body.strip() or "400")
        if not 200 <= answer.status < 300:
            # 401 (a wrong or revoked token), 5xx: kept, and sent again once it is fixed.
            raise OSError(f"HTTP {answer.status}: {body.strip()[:200]}")
