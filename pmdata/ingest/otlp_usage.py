"""What agent sessions cost, from Claude Code's OpenTelemetry export (OTLP over HTTP).

Claude Code (CLAUDE_CODE_ENABLE_TELEMETRY=1) sends events to /v1/logs — `claude_code.api_request`
with cost_usd, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, model and
duration_ms; `claude_code.api_error` — and metrics to /v1/metrics — `claude_code.cost.usage`
(USD, per model) and `claude_code.token.usage` (per model and type: input, output, cacheRead,
cacheCreation) — each carrying `session.id`. Both OTLP encodings arrive: protobuf, decoded with
the OpenTelemetry project's own classes, and JSON, read into the same classes.

Events are exact (one per request, with its time); metrics are kept too, for exporters that send
only metrics, and read as series (a cumulative series repeats its running total: its last value
counts, not the sum). queries/usage_*.sql prefer a session's events over its metrics.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
import zlib
from dataclasses import dataclass, field

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from sqlalchemy.exc import OperationalError

from pmdata.errors import PmdashError, StoreError
from pmdata.store import schema
from pmdata.store.database import Store

PREFIX = "claude_code."
EVENTS = ("api_request", "api_error")  # what the pages need; tool results are in the hooks
TOKEN_TYPES = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cacheRead": "cache_read_tokens",
    "cacheCreation": "cache_creation_tokens",
}
MAX_BODY_BYTES = 20_000_000


class OtlpError(PmdashError):
    """The body is not an OTLP export this server can read."""


@dataclass
class Received:
    rows: list[dict] = field(default_factory=list)
    skipped: int = 0  # records that are not Claude Code's cost events, or lack a session id

    def describe(self) -> str:
        return f"{len(self.rows)} usage record(s), {self.skipped} other record(s) skipped"


# -- decoding ------------------------------------------------------------------------------------
def _body(raw: bytes, encoding: str) -> bytes:
    encoding = (encoding or "").strip().lower()
    try:
        if encoding == "gzip":
            raw = gzip.decompress(raw)
        elif encoding == "deflate":
            raw = zlib.decompress(raw)
        elif encoding not in ("", "identity"):
            raise OtlpError(f"Content-Encoding {encoding!r} is not supported (gzip or none)")
    except (OSError, zlib.error, EOFError) as exc:
        raise OtlpError(f"the body is not valid {encoding} ({exc})") from None
    if len(raw) > MAX_BODY_BYTES:
        raise OtlpError(f"an export is at most {MAX_BODY_BYTES} bytes uncompressed")
    return raw


def _without_ids(value):
    """OTLP/JSON writes trace and span ids in hex, where protobuf's JSON reader expects
    base64: they are not needed here, so they are left out before reading."""
    if isinstance(value, dict):
        return {
            k: _without_ids(v)
            for k, v in value.items()
            if k not in ("traceId", "spanId", "trace_id", "span_id", "parentSpanId")
        }
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def decode(raw: bytes, content_type: str, encoding: str, message_class):
    """An Export…ServiceRequest from an OTLP/HTTP body, protobuf or JSON."""
    raw = _body(raw, encoding)
    message = message_class()
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            parsed = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise OtlpError(f"the body is not JSON ({exc})") from None
        try:
            json_format.ParseDict(_without_ids(parsed), message, ignore_unknown_fields=True)
        except (json_format.ParseError, TypeError, ValueError) as exc:
            raise OtlpError(f"not an OTLP JSON export: {str(exc)[:200]}") from None
        return message
    if kind in ("application/x-protobuf", "application/protobuf", ""):
        try:
            message.ParseFromString(raw)
        except (DecodeError, ValueError) as exc:
            raise OtlpError(f"not an OTLP protobuf export ({exc})") from None
        return message
    raise OtlpError(
        f"Content-Type {content_type!r}: send application/x-protobuf or application/json"
    )


def _value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind in ("string_value", "int_value", "double_value",
                                                 "bool_value") else None  # fmt: skip


def _attributes(key_values) -> dict:
    return {kv.key: _value(kv.value) for kv in key_values}


def _number(value, cast=float):
    """A number however it was sent (Claude Code sends some as strings); None when it is not."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = cast(float(value)) if cast is int else cast(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number == number and abs(number) < 1e15 else None  # no NaN, no inf


def _seconds(nanos: int) -> int:
    return int(nanos // 1_000_000_000) if nanos else int(time.time())


def _key(*parts) -> str:
    return hashlib.sha1(json.dumps(parts, default=str).encode()).hexdigest()


# -- logs ----------------------------------------------------------------------------------------
def usage_from_logs(request: ExportLogsServiceRequest) -> Received:
    out = Received()
    for resource_logs in request.resource_logs:
        shared = _attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                row = _event_row(record, shared)
                if row is None:
                    out.skipped += 1
                else:
                    out.rows.append(row)
    return out


def _event_row(record, shared: dict) -> dict | None:
    attrs = {**shared, **_attributes(record.attributes)}
    body = _value(record.body) if record.HasField("body") else None
    name = str(
        getattr(record, "event_name", "") or attrs.get("event.name") or body or ""
    ).removeprefix(PREFIX)
    agent = attrs.get("session.id")
    if name not in EVENTS or not isinstance(agent, str) or not agent:
        return None
    nanos = record.time_unix_nano or record.observed_time_unix_nano
    row = {
        "agent_id": agent[:200],
        "source": "event",
        "kind": name,
        "model": str(attrs["model"])[:200] if attrs.get("model") is not None else None,
        "at": _seconds(nanos),
        "series_start": None,
        "cost_usd": _number(attrs.get("cost_usd")),
        "input_tokens": _number(attrs.get("input_tokens"), int),
        "output_tokens": _number(attrs.get("output_tokens"), int),
        "cache_read_tokens": _number(attrs.get("cache_read_tokens"), int),
        "cache_creation_tokens": _number(attrs.get("cache_creation_tokens"), int),
        "duration_ms": _number(attrs.get("duration_ms"), int),
        "detail": str(attrs.get("error"))[:500] if name == "api_error" else None,
    }
    sequence = attrs.get("event.sequence")
    row["record_key"] = _key("event", agent, name, nanos, sequence, row["model"], row["cost_usd"],
                             row["input_tokens"], row["output_tokens"])  # fmt: skip
    return row


# -- metrics -------------------------------------------------------------------------------------
def usage_from_metrics(request: ExportMetricsServiceRequest) -> Received:
    out = Received()
    for resource_metrics in request.resource_metrics:
        shared = _attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                name = metric.name.removeprefix(PREFIX)
                kind = metric.WhichOneof("data")
                if name not in ("cost.usage", "token.usage") or kind not in ("sum", "gauge"):
                    out.skipped += 1
                    continue
                for point in getattr(metric, kind).data_points:
                    row = _metric_row(name, point, shared)
                    if row is None:
                        out.skipped += 1
                    else:
                        out.rows.append(row)
    return out


def _metric_row(name: str, point, shared: dict) -> dict | None:
    attrs = {**shared, **_attributes(point.attributes)}
    agent = attrs.get("session.id")
    value = point.as_double if point.WhichOneof("value") == "as_double" else point.as_int
    if not isinstance(agent, str) or not agent:
        return None
    row = dict.fromkeys(
        ("cost_usd", "input_tokens", "output_tokens", "cache_read_tokens",
         "cache_creation_tokens", "duration_ms", "detail"),
    )  # fmt: skip
    kind = name
    if name == "cost.usage":
        row["cost_usd"] = _number(value)
    else:
        column = TOKEN_TYPES.get(str(attrs.get("type")))
        if column is None:
            return None
        kind = f"token.usage:{attrs.get('type')}"
        row[column] = _number(value, int)
    model = str(attrs["model"])[:200] if attrs.get("model") is not None else None
    row.update(
        agent_id=agent[:200],
        source="metric",
        kind=kind,
        model=model,
        at=_seconds(point.time_unix_nano),
        series_start=int(point.start_time_unix_nano) or None,
    )
    row["record_key"] = _key("metric", agent, kind, model, point.start_time_unix_nano,
                             point.time_unix_nano)  # fmt: skip
    return row


# -- storage -------------------------------------------------------------------------------------
def record_usage(db, rows: list[dict]) -> tuple[int, int]:
    """Insert what is new, in one transaction; returns (added, already there)."""
    if not rows:
        return 0, 0
    # The driver's own executemany: SQLAlchemy's compiled insert builds every row's parameters
    # in Python (33 -> 27 ms for an export of 1,000 records here).
    columns = [c.name for c in schema.agent_usage.columns if c.name != "id"]
    named = ", ".join(f'"{c}"' for c in columns)
    statement = (
        f"INSERT INTO agent_usage ({named}) VALUES ({', '.join('?' * len(columns))})"
        " ON CONFLICT (record_key) DO NOTHING"
    )
    try:
        with Store(db).transaction() as conn:
            added = conn.exec_driver_sql(
                statement, [tuple(row.get(c) for c in columns) for row in rows]
            ).rowcount
    except OperationalError as exc:
        raise StoreError(
            f"cannot record usage in {db}: {exc.orig} (run `pmdata migrate --db {db}`)"
        ) from None
    return added, len(rows) - added
