"""Triage against the database: classify in batches, and the writes a person makes.

Reads go through DuckDB (queries/*.sql); writes through SQLAlchemy to SQLite, one transaction
each. A person's decision is never overwritten: rows they decided carry `decided_by`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from sqlalchemy import and_, func, insert, select, update

from pmdata.analytics import Analytics
from pmdata.errors import PmdashError
from pmdata.store import schema
from pmdata.store.database import Store
from pmdata.triage.batch import (
    ClassifiedFailure,
    classify_rows,
    histories,
    precedents,
    triaged_failures_sql,
)
from pmdata.triage.rules import Thresholds
from pmdata.vocabulary import DECISIONS, ERROR_REMEDIATION
from pmdata.work_item import WorkItem

DEFAULT_THRESHOLDS = Thresholds()


class TriageError(PmdashError):
    """A triage write was refused; the message says why."""


def suggest(
    analytics: Analytics,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    failure_id: int | None = None,
) -> list[ClassifiedFailure]:
    """Suggestions for every untriaged failure (or one failure), without writing anything."""
    failures = analytics.run("untriaged_failures", failure_id=failure_id)
    if failure_id is not None and failures.empty:
        raise TriageError(f"no failure with id {failure_id}")
    if failures.empty:
        return []
    workflow = failures["workflow_name"].iloc[0] if failure_id is not None else None
    return classify_rows(
        failures, histories(analytics, workflow), precedents(analytics), thresholds
    )


def _suggestion_values(item: ClassifiedFailure) -> dict:
    s = item.suggestion
    return {
        "suggested_decision": s.decision,
        "suggested_priority": s.priority,
        "suggested_confidence": s.confidence,
        "suggested_rationale": s.rationale,
        "suggested_rules": ",".join(s.rules),
        "fingerprint": item.fingerprint,
    }


def thresholds_from(settings) -> Thresholds:
    """The rule thresholds a person set (PMDASH_PERSISTENT_AFTER and the others)."""
    return Thresholds(
        settings.persistent_after,
        settings.recurring_after,
        settings.flaky_flips,
        settings.recovered_after,
    )


def classify_on_arrival(
    db: Path | str, thresholds: Thresholds = DEFAULT_THRESHOLDS, workflow: str | None = None
) -> dict[str, int]:
    """After a report lands: its failures get suggestions, and every undecided failure of its
    workflow a fresh one, since a new run can change a test's state (a test that passed again
    recovers; one that failed again recurs)."""
    return run_triage(db, thresholds, refresh=True, workflow=workflow)


def run_triage(
    db: Path | str,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    refresh: bool = False,
    now: int | None = None,
    workflow: str | None = None,
) -> dict[str, int]:
    """Classify every failure without a triage row, in one transaction; idempotent.

    With `refresh`, suggestions on rows no person has decided are recomputed from today's
    history too (only `workflow`'s, when given). A person's decision is never touched.

    Everything is read before the write begins, and our own DuckDB connection is closed by then:
    DuckDB's sqlite scanner carries its own copy of SQLite, which cannot see this process's locks
    on the file, takes itself for the only reader and truncates the WAL index under the writer's
    memory map (a bus error once the WAL outgrows one index page, as at 1M failures).
    """
    with Analytics(db) as analytics:
        items = suggest(analytics, thresholds)
        refreshed = _refreshed(analytics, thresholds, everything=refresh, workflow=workflow)
    now = int(time.time()) if now is None else now
    t = schema.error_triage
    with Store(db).transaction() as conn:
        if items:
            conn.execute(
                insert(t).prefix_with("OR IGNORE"),
                [
                    {
                        "test_failure_id": item.failure_id,
                        "decision": item.suggestion.decision,
                        "priority": item.suggestion.priority,
                        "rationale": item.suggestion.rationale,
                        "created_at": now,
                        "updated_at": now,
                        **_suggestion_values(item),
                    }
                    for item in items
                ],
            )
        for item, decided in refreshed:
            values = _suggestion_values(item)
            if not decided:
                values.update(
                    decision=item.suggestion.decision,
                    priority=item.suggestion.priority,
                    rationale=item.suggestion.rationale,
                )
            conn.execute(
                update(t)
                .where(t.c.test_failure_id == item.failure_id)
                .values(updated_at=now, **values)
            )
    return {"classified": len(items), "refreshed": len(refreshed)}


_WORKFLOW = "r.workflow_name = $workflow"


def _refreshed(
    analytics: Analytics, thresholds: Thresholds, everything: bool, workflow: str | None = None
) -> list[tuple[ClassifiedFailure, bool]]:
    """Suggestions for triage rows that lack one (a person decided before pmdash classified
    them), and with `everything`, fresh ones for every undecided row (of `workflow`); each with
    whether a person decided it (then only the suggestion columns change)."""
    wanted = "t.suggested_decision IS NULL"
    if everything:
        wanted = "t.decided_by IS NULL OR t.suggested_decision IS NULL"
        if workflow is not None:
            wanted = f"t.suggested_decision IS NULL OR (t.decided_by IS NULL AND {_WORKFLOW})"
    rows = analytics.run_sql(
        triaged_failures_sql("t.decided_by IS NOT NULL AS decided", wanted),
        {"workflow": workflow} if everything and workflow is not None else {},
        "triage refresh",
    )
    if rows.empty:
        return []
    known = histories(analytics)
    # A person's own decision is no precedent for the suggestion beside it: that would make
    # every such row agree with itself.
    decided = rows[rows["decided"].astype(bool)]
    undecided = rows[~rows["decided"].astype(bool)]
    items = [(item, True) for item in classify_rows(decided, known, {}, thresholds)]
    items += [
        (item, False) for item in classify_rows(undecided, known, precedents(analytics), thresholds)
    ]
    return items


# -- what a person does -----------------------------------------------------------------------
def _triage_row(conn, failure_id: int):
    t = schema.error_triage
    row = conn.execute(select(t).where(t.c.test_failure_id == failure_id)).mappings().first()
    if row is None:
        failure = conn.execute(
            select(schema.test_failures.c.id).where(schema.test_failures.c.id == failure_id)
        ).first()
        if failure is None:
            raise TriageError(f"no failure with id {failure_id}")
        raise TriageError(
            f"failure {failure_id} has not been classified yet: run `pmdata triage run` first"
        )
    return row


def _decision(
    decision: str, rationale: str, priority: int | None, who: str, when: int | None = None
) -> dict:
    """The columns a person's decision sets, after checking it."""
    if decision not in DECISIONS:
        raise TriageError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if priority is not None and not 1 <= int(priority) <= 5:
        raise TriageError(f"priority must be 1 to 5, not {priority}")
    if not (rationale or "").strip():
        raise TriageError("say why: a decision needs a rationale")
    now = int(time.time())
    values = {
        "decision": decision,
        "rationale": rationale.strip(),
        "decided_by": who,
        "decided_at": when or now,
        "updated_at": now,
    }
    if priority is not None:
        values["priority"] = int(priority)
    return values


def override(
    db: Path | str,
    failure_id: int,
    decision: str,
    rationale: str,
    priority: int | None = None,
    who: str = "someone",
    when: int | None = None,
) -> dict:
    """A person's decision on one failure (confirming the suggestion counts as a decision)."""
    values = _decision(decision, rationale, priority, who, when)
    t = schema.error_triage
    with Store(db).transaction() as conn:
        row = _triage_row(conn, failure_id)
        values.setdefault("priority", row["priority"])
        conn.execute(update(t).where(t.c.id == row["id"]).values(**values))
        return {**dict(row), **values}


def triage_group(
    db: Path | str,
    fingerprint_value: str,
    decision: str,
    rationale: str,
    priority: int | None = None,
    who: str = "someone",
    failure_ids: Iterable[int] | None = None,
    project: str | None = None,
) -> int:
    """One decision for every failure sharing an error fingerprint (only `project`'s, when
    given: a group decision stays in its project unless asked); returns how many changed."""
    values = _decision(decision, rationale, priority, who)
    t, f, r = schema.error_triage, schema.test_failures, schema.reports
    with Store(db).transaction() as conn:
        where = t.c.fingerprint == fingerprint_value
        if failure_ids is not None:
            where = and_(where, t.c.test_failure_id.in_(list(failure_ids)))
        if project is not None:
            in_project = (
                select(f.c.id)
                .join(r, r.c.id == f.c.report_id)
                .where(func.coalesce(r.c.project, r.c.workflow_name) == project)
            )
            where = and_(where, t.c.test_failure_id.in_(in_project))
        return conn.execute(update(t).where(where).values(**values)).rowcount


def assign_session(db: Path | str, failure_id: int, session_id: int) -> None:
    """Put a session on a failure. A session works on one item: refuse one linked elsewhere."""
    t, s = schema.error_triage, schema.sessions
    with Store(db).transaction() as conn:
        row = _triage_row(conn, failure_id)
        session = conn.execute(select(s).where(s.c.id == session_id)).mappings().first()
        if session is None:
            raise TriageError(f"no session with id {session_id}")
        item = str(WorkItem.error(failure_id))
        if session["work_item"] and session["work_item"] != item:
            raise TriageError(
                f"session {session_id} is already on {session['work_item']}: one session, "
                "one work item"
            )
        elsewhere = conn.execute(
            select(t.c.test_failure_id).where(
                and_(t.c.assigned_session_id == session_id, t.c.id != row["id"])
            )
        ).first()
        if elsewhere:
            raise TriageError(f"session {session_id} is already assigned to failure {elsewhere[0]}")
        conn.execute(
            update(t)
            .where(t.c.id == row["id"])
            .values(assigned_session_id=session_id, updated_at=int(time.time()))
        )
        conn.execute(
            update(s)
            .where(s.c.id == session_id)
            .values(work_item=item, session_type=ERROR_REMEDIATION)
        )


def link_spec_change(db: Path | str, failure_id: int, change_id: str) -> None:
    t = schema.error_triage
    with Store(db).transaction() as conn:
        row = _triage_row(conn, failure_id)
        conn.execute(
            update(t)
            .where(t.c.id == row["id"])
            .values(spec_change_id=change_id, updated_at=int(time.time()))
        )


def agreement(analytics: Analytics) -> pd.DataFrame:
    """Share of person-reviewed failures where the person kept the classifier's decision."""
    return analytics.run("triage_agreement")
