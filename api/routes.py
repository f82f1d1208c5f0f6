"""Every route the server adds beside the pages, in one table."""

from __future__ import annotations

from starlette.routing import Route

from api import door, hooks, otlp, reads, reports

ROUTES = [
    *door.ROUTES,
    Route("/api/hooks", hooks.post_hook, methods=["POST"]),
    Route("/api/reports/playwright", reports.post_playwright, methods=["POST"]),
    Route("/api/queries/{name}", reads.get_query, methods=["GET"]),
    Route("/api/work", reads.get_work, methods=["GET"]),
    Route("/v1/logs", otlp.post_logs, methods=["POST"]),
    Route("/v1/metrics", otlp.post_metrics, methods=["POST"]),
]
