"""The read API: every named query of queries/ and the All Work list, as JSON or CSV.

GET /api/queries/NAME?param=value: the query's parameters typed and checked as `pmdata query`
does (an unknown name or a wrong value: 400 with the same one-line message).
GET /api/work?project=&status=&status=&dates=&dates=&q=: the All Work page's list with the
page's own filters, written in the URL as the page writes them, so a shared link's query string
works here unchanged. `format=csv` (or Accept: text/csv) answers CSV.
"""

from __future__ import annotations

import time
from datetime import date

import pandas as pd
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api import context
from dashboard import readers
from pmdata.analytics import load_query
from pmdata.errors import PmdashError, QueryError, StoreError
from pmdata.work import Filters, work_items

FORMAT = "format"  # not a parameter of any query (a test checks)


def _answer(request: Request, frame: pd.DataFrame, name: str) -> Response:
    wants_csv = request.query_params.get(FORMAT) == "csv" or (
        "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return Response(
            frame.to_csv(index=False),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="{name}.csv"'},
        )
    body = frame.to_json(orient="records", date_format="iso", force_ascii=False)
    return Response(body, media_type="application/json")


def _problem(exc: PmdashError) -> JSONResponse:
    status = 503 if isinstance(exc, StoreError) else 400
    return JSONResponse({"error": str(exc)}, status)


def _run_query(name: str, given: dict[str, str]) -> pd.DataFrame:
    query = load_query(name)
    query.bind(given)  # the parameters are checked before the database is touched
    db = context.db()
    if not db:
        raise StoreError("no database is configured (PMDASH_DB)")
    return readers.analytics(str(db)).run(name, **given)


async def get_query(request: Request) -> Response:
    name = request.path_params["name"]
    given = {k: v for k, v in request.query_params.items() if k != FORMAT}
    try:
        frame = await run_in_threadpool(_run_query, name, given)
    except PmdashError as exc:
        return _problem(exc)
    return _answer(request, frame, name)


def filters_from(params) -> Filters:
    """The All Work filters from a query string as the page writes it."""
    try:
        dates = [date.fromisoformat(d) for d in params.getlist("dates")][:2]
    except ValueError as exc:
        raise QueryError(f"dates must be YYYY-MM-DD ({exc})") from None
    return Filters(
        project=params.get("project") or None,
        status=tuple(params.getlist("status")),
        since=dates[0] if dates else None,
        until=dates[-1] if dates else None,
        q=params.get("q") or "",
    )


_FAILURE_COLUMNS = [
    "failure_id", "project", "test_name", "decision", "priority", "classification",
    "occurrences", "last_seen",
]  # fmt: skip


def _work(f: Filters) -> pd.DataFrame:
    changes = readers.changes_frame(f)
    failures = pd.DataFrame(columns=_FAILURE_COLUMNS)
    db = context.db()
    if db:
        since, until = f.epoch_range()
        found = readers.analytics(str(db)).run(
            "failing_tests",
            now=int(time.time()) // 60 * 60,  # as the page asks: mutes expire by the minute
            project=f.project,
            since=since,
            until=until,
        )
        failures = found if len(found) else failures
    return work_items(changes, failures, f)


async def get_work(request: Request) -> Response:
    try:
        f = filters_from(request.query_params)
        items = await run_in_threadpool(_work, f)
    except PmdashError as exc:
        return _problem(exc)
    return _answer(request, items, "work")
