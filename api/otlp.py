"""POST /v1/logs and /v1/metrics: Claude Code's OpenTelemetry export (OTLP over HTTP, protobuf or
JSON), so that what each session cost lands beside its hook events. Point Claude Code at the
server: OTEL_EXPORTER_OTLP_ENDPOINT=http://server:8501 (the exporter adds /v1/logs and
/v1/metrics), and OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer <token>"."""

from __future__ import annotations

import time

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api import context
from pmdata.errors import PmdashError, StoreError
from pmdata.ingest.otlp_usage import (
    MAX_BODY_BYTES,
    decode,
    record_usage,
    usage_from_logs,
    usage_from_metrics,
)
from pmdata.store.database import check_database

SIGNALS = {
    "logs": (ExportLogsServiceRequest, ExportLogsServiceResponse, usage_from_logs),
    "metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse, usage_from_metrics),
}


def _ingest(signal: str, raw: bytes, content_type: str, encoding: str) -> tuple[int, int, int]:
    request_class, _, read = SIGNALS[signal]
    received = read(decode(raw, content_type, encoding, request_class))
    db = check_database(context.db(), require_tables=("sessions",))
    added, again = record_usage(db, received.rows)
    return added, again, received.skipped


async def _export(request: Request, signal: str) -> Response:
    started = time.perf_counter()
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return JSONResponse({"error": f"an export is at most {MAX_BODY_BYTES} bytes"}, 413)
    content_type = request.headers.get("content-type", "")
    try:
        added, again, skipped = await run_in_threadpool(
            _ingest, signal, raw, content_type, request.headers.get("content-encoding", "")
        )
    except StoreError as exc:
        return JSONResponse({"error": str(exc)}, 503)
    except PmdashError as exc:
        return JSONResponse({"error": str(exc)}, 400)
    took = f"record;dur={(time.perf_counter() - started) * 1000:.2f}"
    headers = {
        "Server-Timing": took,
        "X-Pmdash-Usage": f"added={added} again={again} skipped={skipped}",
    }
    # The answer OTLP asks for: an empty Export…ServiceResponse, in the encoding that came.
    if content_type.startswith("application/json"):
        return Response("{}", media_type="application/json", headers=headers)
    body = SIGNALS[signal][1]().SerializeToString()
    return Response(body, media_type="application/x-protobuf", headers=headers)


async def post_logs(request: Request) -> Response:
    return await _export(request, "logs")


async def post_metrics(request: Request) -> Response:
    return await _export(request, "metrics")
