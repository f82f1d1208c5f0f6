"""Triage against the database: classify in batches, and the writes a person makes.

Reads go through DuckDB (queries/*.sql); writes through SQLAlchemy to SQLite, one transaction
each. A person's decision is never overwritten: rows they decided carry `decided_by`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import and_, insert, select, update

from pmdata.analytics import Analytics
from pmdata.errors import PmdashError
from pmdata.store import schema
from pmdata.store.database import Store
from pmdata.triage.fingerprint import fingerprint_of_zeroed, zero_digits
from pmdata.triage.rules import (
    History,
    Suggestion,
    Thresholds,
    decide,
    is_e2e_test,
    message_facts,
)
from pmdata.vocabulary import DECISIONS, ERROR_REMEDIATION
from pmdata.work_item import WorkItem

DEFAULT_THRESHOLDS = Thresholds()
Key = tuple[str, str, str]  # workflow, test file, test title


class TriageError(PmdashError):
    """A triage write was refused; the message says why."""


@dataclass(frozen=True)
class ClassifiedFailure:
    """A failure with the suggestion the rules made for it."""

    failure_id: int
    key: Key
    fingerprint: str
    suggestion: Suggestion


def histories(analytics: Analytics, workflow: str | None = None) -> dict[Key, History]:
    frame = analytics.run("test_history", workflow=workflow)
    out = {}
    for row in frame.itertuples(index=False):
        out[(row.workflow_name, row.test_file, row.test_name)] = History(
            occurrences=int(row.occurrences),
            runs=int(row.runs),
            consecutive_failures=int(row.consecutive_failures or 0),
            flaky_runs=int(row.flaky_runs or 0),
            flips=int(row.flips or 0),
            source=row.source,
        )
    return out


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
    known = histories(analytics, workflow)
    prior = {
        (r.workflow_name, r.test_file, r.test_name, r.fingerprint): r.decision
        for r in analytics.run("person_decisions").itertuples(index=False)
    }
    return classify_rows(failures, known, prior, thresholds)


def classify_rows(
    failures: pd.DataFrame,
    known: dict[Key, History],
    prior: dict[tuple, str],
    thresholds: Thresholds,
) -> list[ClassifiedFailure]:
    first_failure = History(occurrences=1, runs=1, consecutive_failures=1)
    key_columns = ["workflow_name", "test_file", "test_name"]
    # What belongs to the test (its history, whether its path says e2e) is worked out once per
    # test, not once per failure: a batch holds a few failures of each test.
    test_of_row = failures.groupby(key_columns, sort=False, dropna=False).ngroup().tolist()
    tests: dict[int, tuple[Key, History, bool]] = {}
    out = []
    # Plain lists: iterating pandas' Arrow-backed strings row by row costs more than classifying.
    for test, failure_id, workflow, test_file, test_name, error, stack in zip(
        test_of_row,
        *(failures[c].tolist() for c in ("failure_id", *key_columns, "error", "stack_trace")),
        strict=True,
    ):
        facts = tests.get(test)
        if facts is None:
            key = (workflow, test_file, test_name)
            facts = tests[test] = (
                key,
                known.get(key, first_failure),
                is_e2e_test(test_file, test_name),
            )
        key, history, e2e = facts
        zeroed = zero_digits(error or "")  # once: the fingerprint and the rules both key on it
        print_ = fingerprint_of_zeroed(zeroed)
        not_implemented, setup, environment = message_facts(zeroed, stack or "")
        prior_decision = prior.get((*key, print_)) if prior else None
        suggestion = decide(
            history, not_implemented, setup, e2e, thresholds, prior_decision, environment
        )
        out.append(ClassifiedFailure(int(failure_id), key, print_, suggestion))
    return out


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
    return Thresholds(settings.persistent_after, settings.recurring_after, settings.flaky_flips)


def run_triage(
    db: Path | str,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    refresh: bool = False,
    now: int | None = None,
) -> dict[str, int]:
    """Classify every failure without a triage row, in one transaction; idempotent.

    With `refresh`, suggestions on rows no person has decided are recomputed from today's
    history too. A person's decision is never touched.

    Everything is read before the write begins, and our own DuckDB connection is closed by then:
    DuckDB's sqlite scanner carries its own copy of SQLite, which cannot see this process's locks
    on the file, takes itself for the only reader and truncates the WAL index under the writer's
    memory map (a bus error once the WAL outgrows one index page, as at 1M failures).
    """
    with Analytics(db) as analytics:
        items = suggest(analytics, thresholds)
        refreshed = _refreshed(analytics, thresholds, everything=refresh)
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


def _refreshed(
    analytics: Analytics, thresholds: Thresholds, everything: bool
) -> list[tuple[ClassifiedFailure, bool]]:
    """Suggestions for triage rows that lack one (a person decided before pmdash classified
    them), and with `everything`, fresh ones for every undecided row; each with whether a
    person decided it (then only the suggestion columns change)."""
    wanted = "t.decided_by IS NULL OR t.suggested_decision IS NULL"
    if not everything:
        wanted = "t.suggested_decision IS NULL"
    rows = analytics.run_sql(
        "SELECT t.test_failure_id AS failure_id, r.workflow_name,"
        " COALESCE(f.test_file, '') AS test_file, f.test_name,"
        " COALESCE(f.error, '') AS error, COALESCE(f.stack_trace, '') AS stack_trace,"
        " t.decided_by IS NOT NULL AS decided"
        " FROM error_triage t JOIN test_failures f ON f.id = t.test_failure_id"
        f" JOIN reports r ON r.id = f.report_id WHERE {wanted}",
        {},
        "triage refresh",
    )
    if rows.empty:
        return []
    decided = dict(zip(rows["failure_id"], rows["decided"], strict=True))
    items = classify_rows(rows, histories(analytics), {}, thresholds)
    return [(item, bool(decided[item.failure_id])) for item in items]


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
) -> int:
    """One decision for every failure sharing an error fingerprint; returns how many changed."""
    values = _decision(decision, rationale, priority, who)
    t = schema.error_triage
    with Store(db).transaction() as conn:
        where = t.c.fingerprint == fingerprint_value
        if failure_ids is not None:
            where = and_(where, t.c.test_failure_id.in_(list(failure_ids)))
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
