"""POST /api/reports/playwright?project=&workflow=&run=&attempt=: a CI step uploads its JSON
report (`curl --data-binary @report.json`), recorded as `pmdata ingest playwright` records a
file: the whole report checked first, the same run twice adds nothing, and its failures get
their suggestions on arrival. The uploaded bytes are kept in the state folder
(reports/<workflow>/), where the report's row points: what was recorded can be read again."""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from api import context
from pmdata.errors import PmdashError, StoreError
from pmdata.ingest.playwright_ingest import record_report
from pmdata.ingest.playwright_report import parse_report_bytes
from pmdata.paths import write_private
from pmdata.store.database import check_database
from pmdata.triage.service import classify_on_arrival, thresholds_from

MAX_REPORT_BYTES = 200_000_000
_SAFE = str.maketrans({c: "_" for c in '/\\:*?"<>| \x00'})


def _int(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        raise PmdashError(f"{name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise PmdashError(f"{name} must be 1 or more, got {number}")
    return number


def ingest(raw: bytes, project: str, workflow: str, run: int | None, attempt: int | None) -> dict:
    db = check_database(
        context.db(), require_tables=("reports", "test_failures", "test_results", "projects")
    )
    digest = hashlib.sha256(raw).hexdigest()
    folder = Path(context.folder()) / "reports" / workflow.translate(_SAFE)[:100]
    path = folder / f"{digest[:16]}.json"
    try:
        report = parse_report_bytes(path, raw)  # the whole report checked before it is kept
    except PmdashError as exc:  # named as the sender knows it, not by the server's folders
        raise PmdashError(str(exc).replace(str(path), "the uploaded report")) from None
    if not path.exists():
        write_private(str(path), raw)
    result = record_report(db, report, project, workflow, run, attempt=attempt)
    answer = {
        "recorded": not result.duplicate,
        "workflow": result.workflow,
        "run": result.run_number,
        "attempt": result.attempt,
        "tests": result.tests,
        "failures": result.failures,
        "flaky": result.flaky,
        "message": result.describe().replace(str(path), f"upload {workflow}"),
    }
    if result.duplicate:
        answer["why_not"] = result.why_not
    else:
        done = classify_on_arrival(db, thresholds_from(context.settings()), workflow)
        answer["classified"] = done["classified"]
    return answer


async def post_playwright(request: Request) -> JSONResponse:
    project = (request.query_params.get("project") or "").strip()
    if not project:
        return JSONResponse({"recorded": False, "error": "give ?project=NAME"}, 400)
    workflow = (request.query_params.get("workflow") or "").strip() or project
    raw = await request.body()
    if not raw:
        return JSONResponse({"recorded": False, "error": "the body is empty: send the report"}, 400)
    if len(raw) > MAX_REPORT_BYTES:
        return JSONResponse(
            {"recorded": False, "error": f"a report is at most {MAX_REPORT_BYTES} bytes"}, 413
        )
    try:
        run, attempt = _int(request, "run"), _int(request, "attempt")
        answer = await run_in_threadpool(ingest, raw, project, workflow, run, attempt)
    except StoreError as exc:  # the server's database, not the report
        return JSONResponse({"recorded": False, "error": str(exc)}, 503)
    except PmdashError as exc:
        return JSONResponse({"recorded": False, "error": str(exc)}, 400)
    return JSONResponse(answer, 201 if answer["recorded"] else 200)
