"""SQLAlchemy Core tables: the homelab's as they are (data-contract.md), and ours beside them."""

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)

from pmdata.vocabulary import DECISIONS

NOW = text("(strftime('%s', 'now'))")

# --- theirs: created only when missing, never altered except by our additive columns ---------
# One MetaData for both, so our foreign keys resolve to their tables.
metadata = MetaData()

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("description", Text),
    Column("created_at", Integer, server_default=NOW),
    Column("updated_at", Integer, server_default=NOW),
    Index("projects_name_unique", "name", unique=True),
    sqlite_autoincrement=True,
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("agent_id", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="stopped"),
    Column("started_at", Integer, server_default=NOW),
    Column("stopped_at", Integer),
    Column("error_message", Text),
    Column("current_work_item_id", Integer),
    Column("last_activity_at", Integer),
    Index("sessions_agent_id_unique", "agent_id", unique=True),
    sqlite_autoincrement=True,
)

hooks = Table(
    "hooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("hook_type", Text, nullable=False),
    Column("timestamp", Integer, server_default=NOW),
    Column("tool_name", Text),
    Column("tool_input", Text),
    Column("tool_output", Text),
    Column("duration_ms", Integer),
    Column("success", Integer),
    Column("error_message", Text),
    Column("metadata", Text),
    Index("idx_hooks_session", "session_id", "timestamp"),
    Index("idx_hooks_type", "hook_type", "timestamp"),
    Index("idx_hooks_tool", "tool_name", "timestamp"),
    sqlite_autoincrement=True,
)

reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workflow_name", Text, nullable=False),
    Column("run_number", Integer),
    Column("hash", Text, nullable=False),
    Column("file_path", Text, nullable=False),
    Column("total_tests", Integer, nullable=False, server_default="0"),
    Column("passed", Integer, nullable=False, server_default="0"),
    Column("failed", Integer, nullable=False, server_default="0"),
    Column("skipped", Integer, nullable=False, server_default="0"),
    Column("status", Text, nullable=False, server_default="passed"),
    Column("created_at", Integer, server_default=NOW),
    Index("reports_hash_unique", "hash", unique=True),
    Index("idx_reports_workflow", "workflow_name", "created_at"),
    Index("idx_reports_status", "status", "created_at"),
    Index("idx_reports_hash", "hash"),
    sqlite_autoincrement=True,
)

failure_history = Table(
    "failure_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("test_name", Text, nullable=False),
    Column("test_file", Text),
    Column("line_number", Integer),
    Column("first_seen", Integer, server_default=NOW),
    Column("last_seen", Integer, server_default=NOW),
    Column("occurrences", Integer, nullable=False, server_default="1"),
    Column("consecutive_failures", Integer, nullable=False, server_default="1"),
    Column("total_runs", Integer, nullable=False, server_default="1"),
    Column("classification_type", Text),
    Index("failure_history_test_name_unique", "test_name", unique=True),
    Index("idx_failure_test_name", "test_name"),
    Index("idx_failure_classification", "classification_type"),
    Index("idx_failure_last_seen", "last_seen"),
    sqlite_autoincrement=True,
)

test_failures = Table(
    "test_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    Column("test_name", Text, nullable=False),
    Column("test_file", Text),
    Column("line_number", Integer),
    Column("error", Text),
    Column("stack_trace", Text),
    Column("duration", Integer),
    Column("retries", Integer, server_default="0"),
    Column("created_at", Integer, server_default=NOW),
    Index("idx_test_failures_report", "report_id"),
    Index("idx_test_failures_test_name", "test_name"),
    sqlite_autoincrement=True,
)

remediation_attempts = Table(
    "remediation_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    Column("test_name", Text, nullable=False),
    Column("claude_session_id", Text),
    Column("triggered_at", Integer, server_default=NOW),
    Column("completed_at", Integer),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("fix_description", Text),
    Column("pr_url", Text),
    Column("rerun_report_id", Integer, ForeignKey("reports.id", ondelete="SET NULL")),
    Column("rerun_passed", Integer),
    Column("error_message", Text),
    Column("classification_type", Text),
    Index("idx_remediation_report", "report_id", "triggered_at"),
    Index("idx_remediation_test_name", "test_name"),
    Index("idx_remediation_status", "status", "triggered_at"),
    Index("idx_remediation_session", "claude_session_id"),
    sqlite_autoincrement=True,
)

HOMELAB_TABLES = tuple(metadata.tables)

# --- ours: every table, column and index below is created by pmdata.store.migrations ---------
error_triage = Table(
    "error_triage",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "test_failure_id",
        Integer,
        ForeignKey("test_failures.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("decision", Text, nullable=False, server_default="pending"),
    Column("rationale", Text),
    Column("priority", Integer, server_default="3"),
    Column("assigned_session_id", Integer, ForeignKey("sessions.id", ondelete="SET NULL")),
    Column("spec_change_id", Text),
    Column("created_at", Integer),
    Column("updated_at", Integer),
    # Ours beyond the contract: the classifier's own suggestion kept beside the final decision
    # (so agreement can be measured), and who decided.
    Column("suggested_decision", Text),
    Column("suggested_priority", Integer),
    Column("suggested_confidence", Float),
    Column("suggested_rationale", Text),
    Column("suggested_rules", Text),
    Column("fingerprint", Text),
    Column("decided_by", Text),
    Column("decided_at", Integer),
    CheckConstraint(
        "decision IN (" + ",".join(f"'{d}'" for d in DECISIONS) + ")", name="ck_triage_decision"
    ),
    CheckConstraint("priority BETWEEN 1 AND 5", name="ck_triage_priority"),
    Index("idx_triage_decision", "decision", "priority"),
    Index("idx_triage_failure", "test_failure_id"),
    # The dashboard's DuckDB copy reads the rows changed since its last read by this stamp.
    Index("idx_triage_updated_at", "updated_at"),
    sqlite_autoincrement=True,
)

test_results = Table(
    "test_results",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    Column("test_name", Text, nullable=False),
    Column("test_file", Text),
    Column("line_number", Integer),
    Column("project_name", Text),
    Column("outcome", Text, nullable=False),
    Column("duration", Integer),
    Column("retries", Integer, server_default="0"),
    Column("created_at", Integer),
    CheckConstraint(
        "outcome IN ('passed','failed','flaky','skipped')", name="ck_test_results_outcome"
    ),
    Index("idx_test_results_report", "report_id"),
    Index("idx_test_results_test", "test_name", "report_id"),
    sqlite_autoincrement=True,
)

# One row per spooled hook event once it is recorded: a drain killed between its commit and the
# removal of its spool files, or two drains at once, find the id here and record nothing twice.
hook_receipts = Table(
    "pmdash_hook_receipts",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("recorded_at", Integer, server_default=NOW),
)

# A person's "known, leave it" on a test, for a while (pmdata.triage.mutes). Never deleted: an
# ended mute keeps when and why it ended.
test_mutes = Table(
    "test_mutes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workflow_name", Text, nullable=False),
    Column("test_name", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("muted_by", Text, nullable=False),
    Column("muted_at", Integer, nullable=False),
    Column("expires_at", Integer, nullable=False),
    Column("ended_at", Integer),
    Column("ended_why", Text),
    Index("idx_test_mutes_test", "workflow_name", "test_name"),
    sqlite_autoincrement=True,
)

# What agent sessions cost, from Claude Code's OpenTelemetry export (pmdata.ingest.otlp_usage):
# one row per api_request / api_error event, or per data point of the cost and token metrics.
# Joined to sessions by Claude's session id. `record_key` makes a batch sent twice count once.
agent_usage = Table(
    "agent_usage",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_key", Text, nullable=False, unique=True),
    Column("agent_id", Text, nullable=False),  # Claude Code's session.id = sessions.agent_id
    Column("source", Text, nullable=False),  # event | metric
    Column("kind", Text, nullable=False),  # api_request, api_error; cost.usage, token.usage:input
    Column("model", Text),
    Column("at", Integer, nullable=False),  # epoch seconds
    Column("series_start", Integer),  # a metric point's start (ns): a cumulative series' key
    Column("cost_usd", Float),
    Column("input_tokens", Integer),
    Column("output_tokens", Integer),
    Column("cache_read_tokens", Integer),
    Column("cache_creation_tokens", Integer),
    Column("duration_ms", Integer),
    Column("detail", Text),  # an API error's message
    Index("idx_agent_usage_agent", "agent_id", "at"),
    sqlite_autoincrement=True,
)

OUR_TABLES = tuple(t for t in metadata.tables if t not in HOMELAB_TABLES)

# Nullable columns we add to their tables (by ALTER TABLE in pmdata.store.migrations). They are
# also appended to the Table objects above so that inserts and selects can name them.
ADDED_COLUMNS: tuple[tuple[str, Column], ...] = (
    ("sessions", Column("session_type", Text, server_default="manual")),
    ("sessions", Column("work_item", Text)),  # see pmdata.work_item
    ("hooks", Column("tool_use_id", Text)),
    ("hooks", Column("raw_payload", Text)),
    ("reports", Column("flaky", Integer)),
    ("reports", Column("duration_ms", Integer)),
    ("reports", Column("project", Text)),
    # The CI's attempt at one workflow run (a re-run job): with workflow and run number, what
    # identifies a run, so the same run reported twice is recorded once.
    ("reports", Column("run_attempt", Integer)),
    # What the triage rules read about a failure beyond its message (pmdata.ingest.failure_place).
    # `outcome` is NULL or "failed" for a failed test, "flaky" for a first attempt that failed
    # before a retry passed: work too (fix the race), but not a failed run.
    ("test_failures", Column("outcome", Text)),
    ("test_failures", Column("final_status", Text)),
    ("test_failures", Column("error_location", Text)),
    ("test_failures", Column("failed_in", Text)),
    ("test_failures", Column("error_snippet", Text)),
    ("test_failures", Column("attachments", Text)),  # JSON: [{name, contentType, path}]
)
for _table, _column in ADDED_COLUMNS:
    metadata.tables[_table].append_column(_column)
