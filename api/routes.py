"""Every route the server adds beside the pages, in one table (hook events are taken before
the routing: api.hooks.HookIntake)."""

from __future__ import annotations

from starlette.routing import Route

from api import door, otlp, reads, reports

ROUTES = [
    *door.ROUTES,
    Route("/api/reports/playwright", reports.post_playwright, methods=["POST"]),
    Route("/api/queries/{name}", reads.get_query, methods=["GET"]),
    Route("/api/work", reads.get_work, methods=["GET"]),
    Route("/v1/logs", otlp.post_logs, methods=["POST"]),
    Route("/v1/metrics", otlp.post_metrics, methods=["POST"]),
]
