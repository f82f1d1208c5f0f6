"""Classifying a batch of failures: each against its test's history, its own facts, and what
people decided before about the same root cause. Reads through DuckDB; writes nothing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import pandas as pd

from pmdata.analytics import Analytics
from pmdata.triage.facts import facts_of
from pmdata.triage.fingerprint import (
    code_place,
    fingerprint_of_zeroed,
    machine_target,
    zero_digits,
)
from pmdata.triage.rules import History, Precedent, Suggestion, Thresholds, decide, is_e2e_test

Key = tuple[str, str, str]  # workflow, test file, test title


class ClassifiedFailure(NamedTuple):
    """A failure with the suggestion the rules made for it (a tuple: a batch makes 100,000)."""

    failure_id: int
    key: Key
    fingerprint: str
    suggestion: Suggestion


@dataclass(frozen=True)
class TestHistory:
    """A test's history, and the error fingerprints its failures were triaged with so far."""

    history: History
    fingerprints: frozenset[str] = frozenset()


def history_of(row) -> TestHistory:
    """A row of queries/test_history.sql as the rules read it."""
    prints = row.fingerprints if isinstance(row.fingerprints, str) else ""
    return TestHistory(
        History(
            occurrences=int(row.occurrences),
            runs=int(row.runs),
            consecutive_failures=int(row.consecutive_failures or 0),
            flaky_runs=int(row.flaky_runs or 0),
            flips=int(row.flips or 0),
            source=row.source,
            passes_since=max(int(row.passes_since or 0), 0),
            quiet_days=max(int(row.quiet_days or 0), 0),
        ),
        frozenset(p for p in prints.split(",") if p),
    )


def histories(analytics: Analytics, workflow: str | None = None) -> dict[Key, TestHistory]:
    frame = analytics.run("test_history", workflow=workflow)
    return {
        (row.workflow_name, row.test_file, row.test_name): history_of(row)
        for row in frame.itertuples(index=False)
    }


def precedents(analytics: Analytics) -> dict[tuple[str, str], Precedent]:
    """The latest decision a person made per (project, fingerprint)."""
    return {
        (r.project, r.fingerprint): Precedent(
            r.decision,
            r.decided_by or "",
            None if pd.isna(r.decided_at) else int(r.decided_at),
            r.rationale if isinstance(r.rationale, str) else "",
        )
        for r in analytics.run("person_decisions").itertuples(index=False)
    }


_FACT_COLUMNS = ("error_snippet", "error_location", "failed_in", "final_status")


def triaged_failures_sql(extra: str, where: str) -> str:
    """Failures that have a triage row, with the columns classify_rows reads, `extra` columns of
    the row (`t.decision AS person`) and a `where` over t, f and r."""
    return (
        "SELECT t.test_failure_id AS failure_id, r.workflow_name,"
        " COALESCE(r.project, r.workflow_name) AS project,"
        " COALESCE(f.test_file, '') AS test_file, f.test_name,"
        " COALESCE(f.error, '') AS error, COALESCE(f.stack_trace, '') AS stack_trace,"
        " COALESCE(f.error_snippet, '') AS error_snippet, f.error_location,"
        " COALESCE(f.failed_in, '') AS failed_in, COALESCE(f.final_status, '') AS final_status,"
        f" {extra}"
        " FROM error_triage t JOIN test_failures f ON f.id = t.test_failure_id"
        f" JOIN reports r ON r.id = f.report_id WHERE {where}"
    )


def classify_rows(
    failures: pd.DataFrame,
    known: dict[Key, TestHistory],
    prior: dict[tuple[str, str], Precedent],
    thresholds: Thresholds,
) -> list[ClassifiedFailure]:
    """`failures` has the columns of queries/untriaged_failures.sql (those beyond the message
    may be missing: rows from before ingest kept them)."""
    first_failure = TestHistory(History(occurrences=1, runs=1, consecutive_failures=1))
    key_columns = ["workflow_name", "test_file", "test_name"]
    n = len(failures)
    # NULLs arrive as None or NaN, depending on the column's type: "" for both.
    column = {
        c: [v if isinstance(v, str) else "" for v in failures[c].tolist()]
        if c in failures
        else [""] * n
        for c in _FACT_COLUMNS
    }
    projects = (
        failures["project"].tolist()
        if "project" in failures
        else failures["workflow_name"].tolist()
    )
    # What belongs to the test (its history, whether its path says e2e) is worked out once per
    # test, not once per failure: a batch holds a few failures of each test.
    test_of_row = failures.groupby(key_columns, sort=False, dropna=False).ngroup().tolist()
    rows = []
    prints_of_test: dict[int, set[str]] = {}
    # Plain lists: iterating pandas' Arrow-backed strings row by row costs more than classifying.
    for i, (test, error, stack) in enumerate(
        zip(test_of_row, failures["error"].tolist(), failures["stack_trace"].tolist(), strict=True)
    ):
        error = error if isinstance(error, str) else ""
        stack = stack if isinstance(stack, str) else ""
        zeroed = zero_digits(error)  # once: the fingerprint and the rules both key on it
        snippet = column["error_snippet"][i]
        location = column["error_location"][i] or None
        # Only an error with no place in the code is told apart by the address it names.
        target = machine_target(error) if not location and "E" in error else ""
        place = code_place(location, snippet or None, stack or None, target)
        print_ = fingerprint_of_zeroed(zeroed, place)
        prints_of_test.setdefault(test, set()).add(print_)
        rows.append((test, zeroed, stack, snippet, print_))
    tests: dict[int, tuple[Key, History, bool]] = {}
    out = []
    for i, (failure_id, workflow, test_file, test_name) in enumerate(
        zip(*(failures[c].tolist() for c in ("failure_id", *key_columns)), strict=True)
    ):
        test, zeroed, stack, snippet, print_ = rows[i]
        facts_of_test = tests.get(test)
        if facts_of_test is None:
            key = (workflow, test_file, test_name)
            record = known.get(key, first_failure)
            seen = record.fingerprints | prints_of_test[test]
            history = replace(record.history, distinct_errors=max(len(seen), 1))
            facts_of_test = tests[test] = (key, history, is_e2e_test(test_file, test_name))
        key, history, e2e = facts_of_test
        facts = facts_of(
            zeroed,
            stack,
            snippet,
            column["failed_in"][i],
            column["final_status"][i],
        )
        precedent = prior.get((projects[i], print_)) if prior else None
        suggestion = decide(history, facts, e2e, thresholds, precedent)
        out.append(ClassifiedFailure(int(failure_id), key, print_, suggestion))
    return out
