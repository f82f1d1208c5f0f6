"""Claude Code's OpenTelemetry export landing on the server: the OpenTelemetry Python SDK's own
OTLP/HTTP exporters are the producer, protobuf and JSON, logs and metrics; what each session,
work item, project and day cost is read back through the API."""

from __future__ import annotations

import json

import pytest
from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter as JsonLogs
from opentelemetry.exporter.otlp.json.http.metric_exporter import (
    OTLPMetricExporter as JsonMetrics,
)
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as ProtoLogs
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as ProtoMetrics,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from tests.conftest import rows
from tests.server.conftest import FULL
from tests.server.http import bearer, call

WORK_ITEM = "spec:shop/fix-cart-total"
RESOURCE = Resource.create({"service.name": "claude-code", "service.version": "2.1.80"})


def start_session(server, agent: str) -> None:
    """The session's hook events first, as Claude Code sends them, on a work item."""
    headers = {**bearer(server["token"]), "X-Pmdash-Work-Item": WORK_ITEM}
    for line in FULL[:3]:
        event = json.dumps({**json.loads(line), "session_id": agent})
        assert call("POST", server["base"] + "/api/hooks", event, headers).status == 204


def api_requests(exporter, agent: str, costs: list[float], at_ns: int) -> None:
    """`claude_code.api_request` events as Claude Code emits them: attributes as strings."""
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("com.anthropic.claude_code.events")
    for i, cost in enumerate(costs):
        logger.emit(
            timestamp=at_ns + i * 1_000_000,
            body="claude_code.api_request",
            event_name="claude_code.api_request",
            attributes={
                "event.name": "api_request",
                "event.sequence": i,
                "session.id": agent,
                "model": "claude-sonnet-4-5",
                "cost_usd": str(cost),
                "duration_ms": "2300",
                "input_tokens": "1200",
                "output_tokens": "340",
                "cache_read_tokens": "15000",
                "cache_creation_tokens": "800",
            },
        )
    logger.emit(
        timestamp=at_ns + 99_000_000,
        body="claude_code.api_error",
        attributes={"event.name": "api_error", "session.id": agent, "error": "overloaded",
                    "status_code": "529", "model": "claude-sonnet-4-5"},
    )  # fmt: skip
    # Something that is not a cost event: read and skipped, never an error.
    logger.emit(body="claude_code.user_prompt", attributes={"session.id": agent})
    provider.shutdown()


def usage_of(server, agent: str) -> dict:
    answer = call(
        "GET", server["base"] + "/api/queries/agent_usage_daily", headers=bearer(server["token"])
    )
    assert answer.status == 200, answer.body
    mine = [r for r in answer.json() if r["agent_id"] == agent]
    assert len(mine) <= 1
    return mine[0] if mine else {}


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_api_request_events_give_each_session_and_work_item_its_cost(server, protocol):
    agent = f"otel-logs-{protocol.split('/')[1]}"
    start_session(server, agent)
    exporter_class = ProtoLogs if protocol == "http/protobuf" else JsonLogs
    exporter = exporter_class(endpoint=server["base"] + "/v1/logs", headers=bearer(server["token"]))
    at = 1_795_000_000 * 1_000_000_000
    api_requests(exporter, agent, [0.0125, 0.0250, 0.0400], at)
    got = usage_of(server, agent)
    assert got["cost_usd"] == pytest.approx(0.0775)
    assert got["input_tokens"] == 3600 and got["output_tokens"] == 1020
    assert got["cache_read_tokens"] == 45_000 and got["cache_creation_tokens"] == 2400
    assert got["api_requests"] == 3 and got["api_errors"] == 1
    assert got["work_item"] == WORK_ITEM and got["project"] and got["day"].startswith("2026-11-18")
    # The same batch again (an exporter's retry) counts once.
    api_requests(
        exporter_class(endpoint=server["base"] + "/v1/logs", headers=bearer(server["token"])),
        agent,
        [0.0125, 0.0250, 0.0400],
        at,
    )
    assert usage_of(server, agent)["cost_usd"] == pytest.approx(0.0775)


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_cumulative_cost_metrics_count_their_last_total_not_their_sum(server, protocol):
    agent = f"otel-metrics-{protocol.split('/')[1]}"
    start_session(server, agent)
    exporter_class = ProtoMetrics if protocol == "http/protobuf" else JsonMetrics
    exporter = exporter_class(
        endpoint=server["base"] + "/v1/metrics", headers=bearer(server["token"])
    )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    meter = provider.get_meter("com.anthropic.claude_code")
    cost = meter.create_counter("claude_code.cost.usage", unit="USD")
    tokens = meter.create_counter("claude_code.token.usage", unit="tokens")
    attrs = {"session.id": agent, "model": "claude-opus-4-1"}
    cost.add(0.50, attrs)
    tokens.add(1000, {**attrs, "type": "input"})
    tokens.add(200, {**attrs, "type": "output"})
    reader.force_flush()
    cost.add(0.25, attrs)
    tokens.add(500, {**attrs, "type": "input"})
    reader.force_flush()  # a cumulative exporter sends 0.75 now, after 0.50
    provider.shutdown()
    got = usage_of(server, agent)
    assert got["cost_usd"] == pytest.approx(0.75)
    assert got["input_tokens"] == 1500 and got["output_tokens"] == 200


def test_an_otlp_batch_that_is_not_one_gets_400_and_nothing_is_recorded(server):
    before = rows(server["db"], "SELECT count(*) FROM agent_usage")
    auth = bearer(server["token"])
    for body, kind in [
        (b"\xff\x00garbage", "application/x-protobuf"),
        (b"{not json", "application/json"),
        (b'{"resourceLogs": "no"}', "application/json"),
        (b"{}", "text/plain"),
    ]:
        answer = call("POST", server["base"] + "/v1/logs", body, {**auth, "Content-Type": kind})
        assert answer.status == 400 and answer.json()["error"], (body, kind)
    assert (
        call(
            "POST", server["base"] + "/v1/logs", b"{}", {"Content-Type": "application/json"}
        ).status
        == 401
    )
    assert rows(server["db"], "SELECT count(*) FROM agent_usage") == before
