"""POST /api/hooks: a Claude Code hook event over HTTP, recorded as `pmdata hook` records it.

Claude Code adds the text of a 2xx answer to the agent's context, so the answer is empty (204),
sent once the event is in the database (or the spool). A body that is not a hook event gets 400
(Claude Code shows a non-2xx answer as a non-blocking error; the agent goes on). The work item
comes in a header, since the agent's environment does not travel:
`X-Pmdash-Work-Item: $PMDASH_WORK_ITEM` (pmdata hook install --url writes it). Events forwarded
by `pmdata hook --url` also carry their id and the time they happened
(pmdata.ingest.hook_forward).
"""

from __future__ import annotations

import asyncio
import functools
import json
import time

from api import context
from pmdata.ingest.hook_writer import HookWriter

PATH = "/api/hooks"
WORK_ITEM_HEADER = b"x-pmdash-work-item"
MAX_EVENT_BYTES = 5_000_000  # a tool's whole output can ride in PostToolUse


@functools.lru_cache(maxsize=4)
def writer(db: str | None, folder: str) -> HookWriter:
    # One writer thread per database, for the life of the server.
    return HookWriter(db, folder)


class HookIntake:
    """POST /api/hooks, answered here: behind the door (api/door.py), before the pages' own
    middleware (path checks, sessions, gzip, routing), which an event needs none of. Hook events
    come by the thousand a minute, one per tool call of every agent: that stack, with the
    settings read four times an event, was half the server's time per event (14.4 -> 6.8 ms
    median, bench/server_load.py)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH:
            return await self.app(scope, receive, send)
        if scope["method"] != "POST":
            return await _answer(send, 405, {"error": "POST a hook event"}, [(b"allow", b"POST")])
        started = time.perf_counter()
        raw = await _body(receive)
        if raw is None:  # the client went away, or sent too much
            return await _answer(
                send, 413, {"error": f"an event is at most {MAX_EVENT_BYTES} bytes"}
            )
        answer = _submit(scope, raw)
        outcome = await asyncio.wrap_future(answer)  # the event loop serves others meanwhile
        timing = [
            (b"server-timing", f"record;dur={(time.perf_counter() - started) * 1000:.2f}".encode())
        ]
        if outcome == "rejected":
            why = {"error": "not a Claude Code hook event (the server's hook.log has it)"}
            return await _answer(send, 400, why, timing)
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [*timing, (b"x-pmdash-hook", outcome.encode())],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return None


async def _body(receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_EVENT_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _submit(scope, raw: bytes):
    settings = context.settings(scope)
    db = context.db(settings)
    headers = dict(scope["headers"])
    text = {
        k: headers[k].decode("latin-1")
        for k in (WORK_ITEM_HEADER, b"x-pmdash-event-id", b"x-pmdash-received-at")
        if k in headers
    }
    event_id, sent_at = text.get(b"x-pmdash-event-id"), text.get(b"x-pmdash-received-at")
    forwarded = bool(event_id and sent_at and sent_at.isdigit() and len(event_id) <= 64)
    # Bytes decoded leniently, as the command hook does: an invalid byte must not cost the event.
    return writer(str(db) if db else None, context.folder(settings)).submit(
        raw.decode("utf-8", "surrogateescape"),
        text.get(WORK_ITEM_HEADER) or None,
        int(sent_at) if forwarded else None,
        event_id if forwarded else None,
    )


async def _answer(send, status: int, body: dict, headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": data})
