"""The rule classifier: explainable, deterministic suggestions from a test's history and state.

A test's current state comes first, as Trunk and Harness keep it:
- RECOVERED: it passed the last N runs since it last failed (N = recovered_after, default 5,
  Harness's un-flake count) → ignore: nothing is broken any more;
- FLAKY: it passed on retry, or failed on and off (flipped ≥ flaky_flips times), or failed and
  passed since without N passes yet;
- BROKEN: it failed its latest run (a streak of persistent_after or more is broken whatever
  came before: broken beats flaky);
- HEALTHY: no failure at all (a test that never reaches triage).

Then what the failure itself says (pmdata.triage.facts), which a person reads before any count:
1. NOT_IMPLEMENTED — the error says the feature is missing            → needs_spec
2. ENVIRONMENT     — the machine's error (ECONNREFUSED, ENOTFOUND ...)  → one_off_fix
3. TEST_BUG        — strict mode, drifted snapshot, fixed sleep, test.fail() passing → one_off_fix
4. HARNESS         — it failed in a hook, a fixture or global setup     → one_off_fix
5. VARIED          — a different error nearly every time                → pending (someone looks)
Then the history:
6. FLAKY           — passed on retry, or failed on and off              → one_off_fix (the race)
7. PERSISTENT      — failed the last N runs in a row (default 5)        → needs_spec
8. RECURRING       — N+ failures (default 3)                            → needs_spec
9. NEW             — first failure                                      → one_off_fix
   (none)          — seen twice, steady                                 → pending
E2E_PATH (a path saying e2e/integration) raises the priority by one and settles "(none)" as
needs_spec. A person's earlier decision on the same root cause (PRIOR_DECISION) wins over all.
pmdata.triage.standings works out the state and the history's rules (for many tests at once),
pmdata.triage.suggestions makes one suggestion of the rules that fired.

Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple

from pmdata.triage.facts import Facts
from pmdata.vocabulary import NEEDS_SPEC, ONE_OFF_FIX

# History classes, strongest first (queries/_macros.sql history_class keeps the same order).
CLASSES = ("RECOVERED", "PERSISTENT", "RECURRING", "FLAKY", "NEW")
BROKEN, FLAKY, RECOVERED, HEALTHY = "Broken", "Flaky", "Recovered", "Healthy"
STATES = (BROKEN, FLAKY, RECOVERED, HEALTHY)

_E2E = re.compile(r"(^|[/\\._-])(e2e|integration)([/\\._-]|$)", re.I)


@lru_cache(maxsize=65536)  # few distinct files and titles, many failures
def _is_e2e(path: str | None) -> bool:
    return bool(path and _E2E.search(path))


def is_e2e_test(test_file: str | None, test_name: str | None) -> bool:
    """Whether the test's path or title says integration or end-to-end."""
    return _is_e2e(test_file) or _is_e2e(test_name)


@dataclass(frozen=True, slots=True)
class Thresholds:
    persistent_after: int = 5
    recurring_after: int = 3
    # Pass/fail edges in the run history: 4 is three separate spells of failing. Two spells
    # are a regression that came back, not a race.
    flaky_flips: int = 4
    recovered_after: int = 5
    # Or: passing since, and no failure for this many days (Trunk clears pass-on-retry after a
    # quiet week; a suite run weekly never makes five runs in a month).
    quiet_days: int = 14
    varied_after: int = 3  # this many different errors, nearly one per failure


DEFAULT = Thresholds()


class History(NamedTuple):
    """What the runs say about one test (queries/test_history.sql). A tuple: a batch makes
    one per test, and a frozen dataclass takes four times as long to build."""

    occurrences: int  # failed runs (not first attempts that a retry fixed)
    runs: int
    consecutive_failures: int
    flaky_runs: int = 0  # runs where it failed and then passed on retry
    flips: int = 0
    source: str = "results"  # results: per-run outcomes; reports: derived from the workflow
    passes_since: int = 0  # runs since its last failed or flaky run (0: that is the latest)
    distinct_errors: int = 1  # different error fingerprints among its failures
    quiet_days: int = 0  # days from its last failure to its workflow's latest run

    @property
    def failing_spells(self) -> int:
        return self.occurrences + self.flaky_runs


@dataclass(frozen=True, slots=True)
class Failure:
    test_name: str
    test_file: str = ""
    error: str = ""
    stack: str = ""
    snippet: str = ""
    failed_in: str = ""  # test, hook, fixture, setup (pmdata.ingest.failure_place), or ""
    final_status: str = ""


@dataclass(frozen=True, slots=True)
class Precedent:
    """A person's decision on the same root cause (fingerprint) in the same project."""

    decision: str
    who: str = ""
    when: int | None = None  # epoch seconds
    rationale: str = ""

    def cite(self) -> str:
        """'as decided by alice on 2026-11-30: the database container starts late'"""
        words = ["as decided"]
        if self.who:
            words.append(f"by {self.who}")
        if self.when:
            words.append("on " + datetime.fromtimestamp(self.when, UTC).strftime("%Y-%m-%d"))
        why = self.rationale.strip().rstrip(".")
        return " ".join(words) + (f": {why}" if why else "")


class Rule(NamedTuple):
    """A rule that fired: what it suggests, and why in words naming the facts."""

    name: str
    decision: str
    priority: int
    confidence: float
    why: str


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


_WHERE = {
    "hook": "a hook or fixture declared above the test",
    "fixture": "a fixture or helper outside the test's file",
    "setup": "global setup",
}


@lru_cache(maxsize=1024)  # a batch's failures have a handful of distinct facts
def failure_rules(facts: Facts) -> tuple[Rule, ...]:
    """Each rule that fires on what the failure itself says. A missing feature comes before
    the machine: the harness may fail because nothing is there yet."""
    fired = []
    if facts.not_implemented:
        why = "the error says the feature is missing, so it needs a spec"
        fired.append(Rule("NOT_IMPLEMENTED", NEEDS_SPEC, 4, 0.90, why))
    if facts.environment:
        why = (
            f"the error is {facts.environment}, the machine's or the harness's and not the "
            "product's; fix it once"
        )
        fired.append(Rule("ENVIRONMENT", ONE_OFF_FIX, 3, 0.85, why))
    if facts.test_bug:
        fired.append(Rule("TEST_BUG", ONE_OFF_FIX, 3, 0.85, f"{facts.test_bug}; fix the test"))
    if facts.harness:
        where = _WHERE.get(facts.harness, facts.harness)
        why = f"it failed in {where}, not in the test's body; fix the harness"
        fired.append(Rule("HARNESS", ONE_OFF_FIX, 3, 0.75, why))
    return tuple(fired)
