"""DuckDB over the homelab SQLite file (attached read-only): the query catalog (catalog), the
runner (runner) and the copy it keeps of the homelab tables (kept_copy)."""

from pmdata.analytics.attach import ALIAS, connect_duckdb
from pmdata.analytics.catalog import (
    QUERIES_DIR,
    Param,
    Query,
    list_queries,
    load_query,
    parse_query,
)
from pmdata.analytics.kept_copy import SNAPSHOT, file_version, snapshot_file_for
from pmdata.analytics.runner import Analytics

__all__ = [
    "ALIAS",
    "QUERIES_DIR",
    "SNAPSHOT",
    "Analytics",
    "Param",
    "Query",
    "connect_duckdb",
    "file_version",
    "list_queries",
    "load_query",
    "parse_query",
    "snapshot_file_for",
]
