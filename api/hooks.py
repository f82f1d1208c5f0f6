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
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api import context
from pmdata.ingest.hook_writer import HookWriter

WORK_ITEM_HEADER = "x-pmdash-work-item"
MAX_EVENT_BYTES = 5_000_000  # a tool's whole output can ride in PostToolUse


@functools.lru_cache(maxsize=4)
def writer(db: str | None, folder: str) -> HookWriter:
    # One writer thread per database, for the life of the server.
    return HookWriter(db, folder)


async def post_hook(request: Request) -> Response:
    started = time.perf_counter()
    raw = await request.body()
    if len(raw) > MAX_EVENT_BYTES:
        return JSONResponse({"error": f"an event is at most {MAX_EVENT_BYTES} bytes"}, 413)
    db = context.db()
    headers = request.headers
    event_id, sent_at = headers.get("x-pmdash-event-id"), headers.get("x-pmdash-received-at")
    forwarded = bool(event_id and sent_at and sent_at.isdigit() and len(event_id) <= 64)
    # Bytes decoded leniently, as the command hook does: an invalid byte must not cost the event.
    answer = writer(str(db) if db else None, context.folder()).submit(
        raw.decode("utf-8", "surrogateescape"),
        headers.get(WORK_ITEM_HEADER) or None,
        int(sent_at) if forwarded else None,
        event_id if forwarded else None,
    )
    outcome = await asyncio.wrap_future(answer)  # the event loop serves others meanwhile
    took = f"record;dur={(time.perf_counter() - started) * 1000:.2f}"
    if outcome == "rejected":
        return JSONResponse(
            {"error": "not a Claude Code hook event (the server's hook.log has it)"},
            400,
            headers={"Server-Timing": took},
        )
    return Response(status_code=204, headers={"Server-Timing": took, "X-Pmdash-Hook": outcome})
