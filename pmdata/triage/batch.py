"""Classifying a batch of failures: each against its test's history, its own facts, and what
people decided before about the same root cause. Reads through DuckDB; writes nothing."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, repeat
from typing import NamedTuple

import numpy as np
import pandas as pd

from pmdata.analytics import Analytics
from pmdata.triage.columns import (
    combine,
    distinct_texts,
    distinct_values,
    encode,
    first_rows,
    pick,
)
from pmdata.triage.facts import (
    facts_from,
    fixed_sleep,
    headline,
    headline_says,
    stack_environment,
)
from pmdata.triage.fingerprint import (
    code_place,
    fingerprint_of_signature,
    machine_target,
    signatures,
)
from pmdata.triage.rules import History, Precedent, Thresholds, failure_rules, is_e2e_test
from pmdata.triage.standings import Histories, Standings, standings
from pmdata.triage.suggestions import Suggestion, suggest_pairs

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
    may be missing: rows from before ingest kept them). Every suggestion is what `classify`
    makes of the failure alone; the work is done once per distinct message, place, test and
    set of facts, which a batch has far fewer of than failures."""
    if failures.empty:
        return []
    with _collector_paused():
        return _classified(failures, known, prior, thresholds)


@contextmanager
def _collector_paused():
    """Python's cycle collector paused while a batch builds its objects: some 300,000 tuples
    for 100,000 failures, none in a cycle, which every collection would walk again (a third
    of the batch's time when it ran)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _classified(failures, known, prior, thresholds) -> list[ClassifiedFailure]:
    # Digits zeroed: the fingerprint and the facts both key on the message without them.
    error, messages = distinct_texts(failures, "error", zeroed=True)
    stack, stacks = distinct_texts(failures, "stack_trace")
    snippet, snippets = distinct_texts(failures, "error_snippet")
    prints, print_of = _fingerprints(failures, error, messages, stack, stacks, snippet, snippets)
    facts_id, facts = _facts(failures, error, messages, stack, stacks, snippet, snippets)
    fired = [failure_rules(f) for f in facts]

    test, keys = _tests(failures)
    precedent, precedents = _precedents(failures, print_of, prints, prior)
    pair = combine(test, facts_id, precedent)
    first = first_rows(pair)
    tests = _standings(test, keys, print_of, prints, known, thresholds)
    suggestions = suggest_pairs(
        tests, fired, precedents, test[first], facts_id[first], precedent[first]
    ).rows()
    rows = zip(
        failures["failure_id"].astype("int64").tolist(),
        pick(keys, test),
        pick(prints, print_of),
        pick(suggestions, pair),
        strict=True,
    )
    # tuple.__new__ skips the named tuple's own __new__, a Python call per failure.
    return list(map(tuple.__new__, repeat(ClassifiedFailure), rows))


def _fingerprints(failures, error, messages, stack, stacks, snippet, snippets):
    """Each row's fingerprint code, and the distinct fingerprints."""
    location, locations = distinct_texts(failures, "error_location")
    # Only a failure with no location is placed by its stack's top frame, and only one with no
    # place in the code at all by the address its error names: the raw message (its digits
    # kept) is read for those rows alone.
    unplaced = np.flatnonzero(np.array([not text for text in locations])[location])
    target = np.zeros(len(failures), dtype=np.int64)
    targets = [""]
    if unplaced.size:
        raw = failures["error"].iloc[unplaced].tolist()
        found = [machine_target(e) if isinstance(e, str) and "E" in e else "" for e in raw]
        target[unplaced], targets = encode(found)
    placed = np.ones(len(failures), dtype=bool)
    placed[unplaced] = False
    # Where a location is known, the stack and the address change nothing: left out of the key.
    place_code = combine(location, snippet, np.where(placed, 0, stack + 1), target)
    places = [
        code_place(
            locations[location[r]] or None,
            snippets[snippet[r]] or None,
            stacks[stack[r]] or None,
            targets[target[r]],
        )
        for r in first_rows(place_code).tolist()
    ]
    signature_of = signatures(messages)
    combination = combine(error, place_code)
    # Two messages or places can make one fingerprint: coded by the fingerprint itself.
    first = first_rows(combination)
    per_combination, prints = encode(
        [
            fingerprint_of_signature(signature_of[e], places[p])
            for e, p in zip(error[first].tolist(), place_code[first].tolist(), strict=True)
        ]
    )
    return prints, per_combination[combination]


def _facts(failures, error, messages, stack, stacks, snippet, snippets):
    """Each row's facts code, and the distinct facts (a handful, however many failures). Each
    place a fact is read from is read once per distinct value: headlines, stacks, frames."""
    said, saids = encode([headline_says(headline(m)) for m in messages])
    stack_env, stack_envs = encode([stack_environment(s) for s in stacks])
    sleeps: dict[str, int] = {}
    sleep = np.array([sleeps.setdefault(fixed_sleep(s), len(sleeps)) for s in snippets])[snippet]
    # Without a code frame, the rules look for the sleep in the message itself.
    bare = np.flatnonzero(np.array([not s for s in snippets])[snippet])
    if bare.size:
        in_message = np.zeros(len(messages), dtype=np.int64)
        used = np.unique(error[bare])
        in_message[used] = [
            sleeps.setdefault(fixed_sleep(messages[m]), len(sleeps)) for m in used.tolist()
        ]
        sleep[bare] = in_message[error[bare]]
    failed_in, failed_ins = distinct_texts(failures, "failed_in")
    status, statuses = distinct_texts(failures, "final_status")
    code = combine(said[error], stack_env[stack], sleep, failed_in, status)
    sleep_texts = list(sleeps)
    per_code, facts = encode(
        [
            facts_from(
                saids[said[error[r]]],
                stack_envs[stack_env[stack[r]]],
                sleep_texts[sleep[r]],
                failed_ins[failed_in[r]],
                statuses[status[r]],
            )
            for r in first_rows(code).tolist()
        ]
    )
    return per_code[code], facts


def _tests(failures) -> tuple[np.ndarray, list[Key]]:
    """Each row's test code, and the tests' keys (workflow, test file, test title)."""
    columns = [distinct_values(failures, c) for c in ("workflow_name", "test_file", "test_name")]
    test = combine(*(codes for codes, _ in columns))
    first = first_rows(test)
    return test, list(zip(*(pick(values, codes[first]) for codes, values in columns), strict=True))


def _standings(test, keys, print_of, prints, known, thresholds) -> Standings:
    """What each test's history says, its different errors counted with this batch's."""
    first_failure = TestHistory(History(occurrences=1, runs=1, consecutive_failures=1))
    records = [known.get(key, first_failure) for key in keys]
    pairs = first_rows(combine(test, print_of))  # one row per (test, fingerprint)
    tests, found = test[pairs], print_of[pairs]
    stored = [record.fingerprints for record in records]
    counts = np.fromiter(map(len, stored), np.int64, len(stored))
    errors = np.bincount(tests, minlength=len(keys)) + counts
    # A fingerprint both stored and among the test's failures in the batch is one error.
    code = {p: i for i, p in enumerate(prints)}
    owner = np.repeat(np.arange(len(keys)), counts)
    also = np.fromiter(map(code.get, chain.from_iterable(stored), repeat(-1)), np.int64)
    owner, also = owner[also >= 0], also[also >= 0]
    if also.size:
        both = np.isin(owner * len(prints) + also, tests * len(prints) + found)
        errors -= np.bincount(owner[both], minlength=len(keys))
    histories = Histories.of([record.history for record in records])
    histories = histories._replace(distinct_errors=np.maximum(errors, 1))
    e2e = [
        is_e2e_test(
            test_file if isinstance(test_file, str) else "",
            test_name if isinstance(test_name, str) else "",
        )
        for _, test_file, test_name in keys
    ]
    return standings(histories, np.array(e2e, dtype=bool), thresholds)


def _precedents(failures, print_of, prints, prior) -> tuple[np.ndarray, list]:
    """Each row's precedent code (0: none), and the precedents: a person's decision on the same
    fingerprint in the same project."""
    if not prior:
        return np.zeros(len(failures), dtype=np.int64), [None]
    project, projects = distinct_values(
        failures, "project" if "project" in failures else "workflow_name"
    )
    pair = combine(project, print_of)
    found = [
        prior.get((projects[project[r]], prints[print_of[r]])) for r in first_rows(pair).tolist()
    ]
    # Equal precedents are one: a decision repeated for many fingerprints keys one suggestion.
    ids: dict[Precedent, int] = {}
    per_pair = np.array(
        [0 if p is None else ids.setdefault(p, len(ids) + 1) for p in found], dtype=np.int64
    )
    return per_pair[pair], [None, *ids]
