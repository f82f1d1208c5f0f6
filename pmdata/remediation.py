"""Remediation: the one-off-fix path, from "start a session on this failure" to "the rerun passed".

An attempt lives in the homelab's `remediation_attempts` table (pending → in_progress → fixed /
failed / skipped). Starting one creates the session record it will run in, typed
`error_remediation` and waiting under a placeholder agent id until Claude Code starts with
`PMDASH_WORK_ITEM=error:<failure id>`: the hook recorder then claims that record and moves the
attempt to in_progress. Each ingested report settles the rerun of open and fixed attempts.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import and_, insert, or_, select, update

from pmdata.errors import PmdashError
from pmdata.ingest.hook_events import WAITING_AGENT_PREFIX
from pmdata.project_rows import driver, project_id
from pmdata.store import schema
from pmdata.store.database import Store
from pmdata.triage.rules import CLASSES
from pmdata.work_item import WorkItem

STATUSES = ("pending", "in_progress", "fixed", "failed", "skipped")
OPEN = ("pending", "in_progress")
FINISHED = ("fixed", "failed", "skipped")
# A failing test's remediation, as queries/failing_tests.sql names it from its latest attempt.
TEST_REMEDIATION_STATES = (
    "none",
    "pending",
    "in progress",
    "fixed",
    "rerun passed",
    "rerun failed",
    "failed",
    "skipped",
)


class RemediationError(PmdashError):
    """A remediation write was refused; the message says why."""


class Remediation(BaseModel):
    attempt_id: int
    session_id: int
    triage_id: int
    work_item: str

    failure_id: int

    @property
    def command(self) -> str:
        return self.command_for(self.failure_id)

    @staticmethod
    def command_for(failure_id: int) -> str:
        """What a person runs, in the project's folder, to put Claude Code on a failure."""
        return f"PMDASH_WORK_ITEM={WorkItem.error(failure_id)} claude"


def start_remediation(db: Path | str, failure_id: int, now: int | None = None) -> Remediation:
    """Open an attempt on a failure and the session record it will run in, in one transaction.

    Refused when the failure has no triage row yet, already has a session on it, or its test
    already has an open attempt."""
    now = int(time.time()) if now is None else now
    t, f, r, s, a = (
        schema.error_triage,
        schema.test_failures,
        schema.reports,
        schema.sessions,
        schema.remediation_attempts,
    )
    with Store(db).transaction() as conn:
        row = (
            conn.execute(
                select(
                    t.c.id.label("triage_id"),
                    t.c.assigned_session_id,
                    t.c.suggested_rules,
                    f.c.report_id,
                    f.c.test_name,
                    r.c.workflow_name,
                    r.c.project,
                    r.c.file_path,
                )
                .select_from(t.join(f, f.c.id == t.c.test_failure_id))
                .join(r, r.c.id == f.c.report_id)
                .where(t.c.test_failure_id == failure_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            raise RemediationError(
                f"failure {failure_id} is unknown or not triaged yet: run `pmdata triage run`"
            )
        if row["assigned_session_id"] is not None:
            raise RemediationError(
                f"failure {failure_id} already has session {row['assigned_session_id']} on "
                "it: one work item, one session"
            )
        open_attempt = conn.execute(
            select(a.c.id)
            .select_from(a.join(r, r.c.id == a.c.report_id))
            .where(
                and_(
                    a.c.test_name == row["test_name"],
                    r.c.workflow_name == row["workflow_name"],
                    a.c.status.in_(OPEN),
                )
            )
        ).first()
        if open_attempt:
            raise RemediationError(
                f"attempt {open_attempt[0]} on this test is still open: finish or skip it first"
            )
        project_id = _project_id(
            conn, row["project"] or row["workflow_name"], row["file_path"], now
        )
        item = str(WorkItem.error(failure_id))
        agent_id = f"{WAITING_AGENT_PREFIX}{uuid.uuid4()}"
        session_id = conn.execute(
            insert(s).values(
                project_id=project_id,
                agent_id=agent_id,
                status="stopped",  # their enum has no "waiting": a NULL started_at says it
                started_at=None,
                session_type="error_remediation",
                work_item=item,
            )
        ).inserted_primary_key[0]
        attempt_id = conn.execute(
            insert(a).values(
                report_id=row["report_id"],
                test_name=row["test_name"],
                claude_session_id=agent_id,  # the recorder swaps in Claude's UUID
                triggered_at=now,
                status="pending",
                classification_type=_classification(row["suggested_rules"]),
            )
        ).inserted_primary_key[0]
        conn.execute(
            update(t)
            .where(t.c.id == row["triage_id"])
            .values(assigned_session_id=session_id, updated_at=now)
        )
    return Remediation(
        attempt_id=attempt_id,
        session_id=session_id,
        triage_id=row["triage_id"],
        failure_id=failure_id,
        work_item=item,
    )


def update_attempt(
    db: Path | str,
    attempt_id: int,
    status: str,
    fix_description: str | None = None,
    pr_url: str | None = None,
    error_message: str | None = None,
    now: int | None = None,
) -> None:
    """Move an attempt along. A finished attempt (fixed, failed, skipped) may only be reopened
    (in_progress); going back to pending is refused. Finishing one frees its failure for a new
    attempt, and ends its session record if no agent ever claimed it (else it would wait
    forever)."""
    now = int(time.time()) if now is None else now
    if status not in STATUSES:
        raise RemediationError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if pr_url and not pr_url.startswith(("http://", "https://")):
        raise RemediationError(f"a PR link starts with http:// or https://, not {pr_url!r}")
    a = schema.remediation_attempts
    with Store(db).transaction() as conn:
        current = conn.execute(select(a.c.status).where(a.c.id == attempt_id)).scalar()
        if current is None:
            raise RemediationError(f"no remediation attempt with id {attempt_id}")
        if status == "pending" and current != "pending":
            raise RemediationError(f"attempt {attempt_id} is {current}: it cannot go back")
        values: dict = {"status": status}
        values["completed_at"] = now if status in FINISHED else None
        for column, value in (
            ("fix_description", fix_description),
            ("pr_url", pr_url),
            ("error_message", error_message),
        ):
            if value is not None:
                values[column] = value.strip() or None
        conn.execute(update(a).where(a.c.id == attempt_id).values(**values))
        if status in FINISHED:
            _release(conn, attempt_id, status, now)


def _release(conn, attempt_id: int, status: str, now: int) -> None:
    """The failure an attempt was on takes a new attempt; a session that never started ends."""
    a, s, t = schema.remediation_attempts, schema.sessions, schema.error_triage
    session = conn.execute(
        select(s.c.id, s.c.agent_id, s.c.stopped_at)
        .select_from(a.join(s, s.c.agent_id == a.c.claude_session_id))
        .where(a.c.id == attempt_id)
    ).first()
    if session is None:
        return
    conn.execute(
        update(t)
        .where(t.c.assigned_session_id == session.id)
        .values(assigned_session_id=None, updated_at=now)
    )
    if session.agent_id.startswith(WAITING_AGENT_PREFIX) and session.stopped_at is None:
        conn.execute(
            update(s)
            .where(s.c.id == session.id)
            .values(
                stopped_at=now,
                error_message=f"attempt {attempt_id} was marked {status} before an agent started",
            )
        )


def record_reruns(conn, report_id: int) -> int:
    """Inside an open transaction, after a report's test_results are written: settle the rerun
    of every attempt on a test this report ran, triggered before it.

    A pass marks the rerun passed (for pending, in-progress and fixed attempts); a failure marks
    it failed only for an attempt someone called fixed, since before that a failing run is the
    problem still being worked on, not a verdict on the fix."""
    a, r, res = schema.remediation_attempts, schema.reports, schema.test_results
    report = conn.execute(
        select(r.c.workflow_name, r.c.created_at).where(r.c.id == report_id)
    ).first()
    if report is None:
        return 0
    workflow, ran_at = report
    outcomes = dict(
        conn.execute(
            select(res.c.test_name, res.c.outcome).where(
                and_(res.c.report_id == report_id, res.c.outcome != "skipped")
            )
        ).all()
    )
    if not outcomes:
        return 0
    candidates = conn.execute(
        select(a.c.id, a.c.test_name, a.c.status, a.c.rerun_passed)
        .select_from(a.join(r, r.c.id == a.c.report_id))
        .where(
            and_(
                r.c.workflow_name == workflow,
                a.c.test_name.in_(list(outcomes)),
                a.c.triggered_at <= ran_at,
                a.c.report_id != report_id,
                or_(a.c.rerun_passed.is_(None), a.c.rerun_passed == 0),
                a.c.status.in_(("pending", "in_progress", "fixed")),
            )
        )
    ).all()
    settled = 0
    for attempt_id, test_name, status, _ in candidates:
        passed = outcomes[test_name] in ("passed", "flaky")
        if not passed and status != "fixed":
            continue
        conn.execute(
            update(a)
            .where(a.c.id == attempt_id)
            .values(rerun_report_id=report_id, rerun_passed=int(passed))
        )
        settled += 1
    return settled


def _project_id(conn, name: str, report_path: str | None, now: int) -> int:
    """The sessions table needs a project: the report's, made the way ingest makes it."""
    folder = str(Path(report_path).parent) if report_path else f"(unknown: {name})"
    return project_id(driver(conn), name, folder, "Created for a remediation", now)


def _classification(rules: str | None) -> str | None:
    """The history rule (PERSISTENT, RECURRING, FLAKY, NEW) the classifier saw, if any."""
    for rule in (rules or "").replace(",", " ").split():
        if rule.upper() in CLASSES:
            return rule.upper()
    return None
