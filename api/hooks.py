"""POST /api/hooks: a Claude Code hook event over HTTP, recorded as `pmdata hook` records it.

Claude Code adds the text of a 2xx answer to the agent's context, so the answer is empty (204).
A body that is not a hook event gets 400 (Claude Code shows a non-2xx answer as a non-blocking
error; the agent goes on). The work item comes in a header, since the agent's environment does
not travel: `X-Pmdash-Work-Item: $PMDASH_WORK_ITEM` (pmdata hook install --url writes it).
"""

from __future__ import annotations

import functools
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api import context
from pmdata.ingest.hook_receive import record_forwarded
from pmdata.ingest.hook_recorder import HookRecorder

WORK_ITEM_HEADER = "x-pmdash-work-item"
MAX_EVENT_BYTES = 5_000_000  # a tool's whole output can ride in PostToolUse


@functools.lru_cache(maxsize=4)
def recorder(db: str | None, folder: str) -> HookRecorder:
    # One per database: it holds no connection, only where the spool and the log live.
    return HookRecorder(db, {"PMDASH_STATE_DIR": folder})


def record(raw: bytes, headers) -> str:
    db = context.db()
    hooks = recorder(str(db) if db else None, context.folder())
    # Bytes decoded leniently, as the command hook does: an invalid byte must not cost the event.
    text = raw.decode("utf-8", "surrogateescape")
    item_text = headers.get(WORK_ITEM_HEADER) or None
    event_id, sent_at = headers.get("x-pmdash-event-id"), headers.get("x-pmdash-received-at")
    if event_id and sent_at and sent_at.isdigit() and len(event_id) <= 64:
        # From `pmdata hook --url`: recorded once per id, at the time it happened there.
        return record_forwarded(hooks, text, item_text, int(sent_at), event_id)
    return hooks.handle(text, item_text)


async def post_hook(request: Request) -> Response:
    started = time.perf_counter()
    raw = await request.body()
    if len(raw) > MAX_EVENT_BYTES:
        return JSONResponse({"error": f"an event is at most {MAX_EVENT_BYTES} bytes"}, 413)
    # Recording waits on SQLite's lock: off the event loop, so pages and other clients go on.
    outcome = await run_in_threadpool(record, raw, request.headers)
    took = f"record;dur={(time.perf_counter() - started) * 1000:.2f}"
    if outcome == "rejected":
        return JSONResponse(
            {"error": "not a Claude Code hook event (the server's hook.log has it)"},
            400,
            headers={"Server-Timing": took},
        )
    return Response(status_code=204, headers={"Server-Timing": took, "X-Pmdash-Hook": outcome})
