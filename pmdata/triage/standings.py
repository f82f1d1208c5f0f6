"""A test's side of a suggestion, for many tests at once: its state, the history rules that fire
and their words (the rules themselves are described in pmdata.triage.rules).

Column-wise: a History field is one numpy array with a row per test. A batch of 100,000
failures holds some 20,000 tests, each with counts of its own and so with words of its own;
worked out test by test, their Python calls were half of a batch's time. One test is the
one-row case of the same code (`state`, suggestions.decide), so there is one implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from pmdata.triage.columns import combine, first_rows
from pmdata.triage.rules import (
    BROKEN,
    DEFAULT,
    FLAKY,
    HEALTHY,
    RECOVERED,
    STATES,
    History,
    Thresholds,
    plural,
)
from pmdata.vocabulary import DECISIONS, IGNORE, NEEDS_SPEC, ONE_OFF_FIX, PENDING

# The order rules are named in after the one that decides: a failure's own (the order of
# rules.failure_rules), then the history's, then the mark. NEW is never named after another,
# RECOVERED always decides when it fires.
NAMED_AFTER_FIRST = (
    "NOT_IMPLEMENTED",
    "ENVIRONMENT",
    "TEST_BUG",
    "HARNESS",
    "VARIED",
    "PERSISTENT",
    "FLAKY",
    "RECURRING",
    "E2E_PATH",
)
NAME_BIT = {name: 1 << i for i, name in enumerate(NAMED_AFTER_FIRST)}
DECISION_CODE = {decision: i for i, decision in enumerate(DECISIONS)}

_STATES = np.array(STATES, dtype=object)
_PASSES_WORDS = "; it passed the last {} (recovered after {} in a row)"
_REPORTS_WORDS = "; runs derived from the workflow's reports (no per-test outcomes)"
_E2E_WORDS = "; E2E_PATH: an end-to-end test (priority +1)"


class Histories(NamedTuple):
    """History as columns, a row per test (fields as in rules.History)."""

    occurrences: np.ndarray
    runs: np.ndarray
    consecutive_failures: np.ndarray
    flaky_runs: np.ndarray
    flips: np.ndarray
    source: np.ndarray  # object: "results" or "reports"
    passes_since: np.ndarray
    distinct_errors: np.ndarray
    quiet_days: np.ndarray

    @classmethod
    def of(cls, histories: Sequence[History]) -> Histories:
        fields = list(zip(*histories, strict=True)) or [()] * len(cls._fields)
        return cls(
            *(
                _texts(values) if name == "source" else np.array(values, dtype=np.int64)
                for name, values in zip(cls._fields, fields, strict=True)
            )
        )

    @property
    def failing_spells(self) -> np.ndarray:
        return self.occurrences + self.flaky_runs


def states(h: Histories, t: Thresholds = DEFAULT) -> np.ndarray:
    """Each test's state, as rules.py defines them: Healthy without a failure; else Recovered
    after N passes, or a pass and a quiet spell; else Broken on a long streak, or failing now
    with no sign of a race; else Flaky."""
    since = h.passes_since
    recovered = (since >= t.recovered_after) | ((since >= 1) & (h.quiet_days >= t.quiet_days))
    flaky = (h.flaky_runs > 0) | (h.flips >= t.flaky_flips)
    streak = h.consecutive_failures
    broken = (streak >= t.persistent_after) | ((streak >= 1) & ~flaky)
    state = np.select(
        [h.failing_spells == 0, recovered, broken],
        [STATES.index(HEALTHY), STATES.index(RECOVERED), STATES.index(BROKEN)],
        STATES.index(FLAKY),
    )
    return _STATES[state]


def state(history: History, t: Thresholds = DEFAULT) -> str:
    """One test's state now."""
    return states(Histories.of([history]), t)[0]


class RuleColumn(NamedTuple):
    """A rule over many tests: where it fires, and its words there ("" elsewhere)."""

    name: str
    decision: str
    priority: int
    confidence: float
    fires: np.ndarray
    why: np.ndarray


def history_rules(h: Histories, t: Thresholds, now: np.ndarray) -> list[RuleColumn]:
    """Each history rule over the tests whose states are `now`, strongest first."""
    since, streak, retried, flips = h.passes_since, h.consecutive_failures, h.flaky_runs, h.flips
    recovered = now == RECOVERED
    why = _words(
        recovered, lambda n: f"passed the last {plural(n, 'run')} since it last failed", since
    )
    why += _words(recovered & (since < t.recovered_after), ", {} days ago".format, h.quiet_days)
    fired = [RuleColumn("RECOVERED", IGNORE, 1, 0.85, recovered, why)]

    persistent = streak >= t.persistent_after
    why = _words(persistent, "failed the last {} runs in a row".format, streak)
    fired.append(RuleColumn("PERSISTENT", NEEDS_SPEC, 5, 0.95, persistent, why))

    # Broken beats flaky (Trunk's order): a long streak is decided by PERSISTENT, and FLAKY
    # comes before RECURRING (a test failing on and off recurs too).
    flipping = h.flips >= t.flaky_flips
    flaky = (now == FLAKY) & ((retried > 0) | flipping)
    on_retry, flipped = flaky & (retried != 0), flaky & flipping
    why = _words(on_retry, lambda n: f"passed on retry in {plural(n, 'run')}", retried)
    why += _words(on_retry & flipped, " and ".format)
    why += _words(flipped, "flipped between pass and fail {} times".format, flips)
    why += _words(flaky, ": a race or an order dependence to fix".format)
    fired.append(RuleColumn("FLAKY", ONE_OFF_FIX, 3, 0.70, flaky, why))

    recurring = h.occurrences >= t.recurring_after
    why = _words(
        recurring,
        lambda n, runs: f"failed {n} times in {plural(runs, 'run')}",
        h.occurrences,
        h.runs,
    )
    fired.append(RuleColumn("RECURRING", NEEDS_SPEC, 4, 0.80, recurring, why))

    new = (h.occurrences <= 1) & (retried == 0)
    why = _words(new, "first failure: look at it once".format)
    fired.append(RuleColumn("NEW", ONE_OFF_FIX, 2, 0.60, new, why))
    return fired


def varied_rule(h: Histories, t: Thresholds) -> RuleColumn:
    """VARIED where a test failed a different way nearly every time."""
    spells, errors = h.failing_spells, h.distinct_errors
    varied = (errors >= t.varied_after) & (errors * 4 >= spells * 3)
    why = _words(
        varied,
        lambda n, spells: (
            f"{n} different errors in {plural(spells, 'failure')}: no single cause yet, "
            "someone must look"
        ),
        errors,
        spells,
    )
    return RuleColumn("VARIED", PENDING, 3, 0.60, varied, why)


class Said(NamedTuple):
    """Rules named after the deciding one, per row: "; also VARIED (...); also RECURRING
    (...)", their names as bits of NAME_BIT, and how many of them say each decision."""

    words: np.ndarray  # object
    names: np.ndarray  # int64
    decisions: np.ndarray  # int64, a row per row and a column per DECISIONS

    @classmethod
    def nothing(cls, n: int) -> Said:
        return cls(_blank(n), np.zeros(n, np.int64), np.zeros((n, len(DECISIONS)), np.int64))

    def where(self, rows: np.ndarray, other: Said) -> Said:
        """These, with `other`'s in `rows` (a mask)."""
        return Said(
            np.where(rows, other.words, self.words),
            np.where(rows, other.names, self.names),
            np.where(rows[:, None], other.decisions, self.decisions),
        )


def said(rules: Sequence[RuleColumn], n: int) -> Said:
    """What `rules` (fired where their `fires` say) add after the deciding rule."""
    out = Said.nothing(n)
    for rule in rules:
        # NEW only ever decides: a test with more to say than "first failure" says that.
        if rule.name == "NEW":
            continue
        out.words[rule.fires] += f"; also {rule.name} (" + rule.why[rule.fires] + ")"
        out.names[rule.fires] |= NAME_BIT[rule.name]
        out.decisions[rule.fires, DECISION_CODE[rule.decision]] += 1
    return out


class Firsts(NamedTuple):
    """The deciding rule, per row ("" where none)."""

    name: np.ndarray  # object
    words: np.ndarray  # object: "NAME: why", how the rationale starts
    decision: np.ndarray  # int64, a place in DECISIONS
    priority: np.ndarray  # int64
    confidence: np.ndarray  # float64

    @classmethod
    def none(cls, n: int) -> Firsts:
        return cls(_blank(n), _blank(n), *np.zeros((2, n), np.int64), np.zeros(n))

    @classmethod
    def of(cls, rule: RuleColumn) -> Firsts:
        """`rule` deciding in every row."""
        return cls.none(len(rule.fires)).decided_by(rule, np.ones(len(rule.fires), dtype=bool))

    def decided_by(self, rule: RuleColumn, rows: np.ndarray) -> Firsts:
        """These, with `rule` deciding in `rows` (a mask). Changes these."""
        self.name[rows] = rule.name
        self.words[rows] = f"{rule.name}: " + rule.why[rows]
        self.decision[rows] = DECISION_CODE[rule.decision]
        self.priority[rows] = rule.priority
        self.confidence[rows] = rule.confidence
        return self

    def where(self, rows: np.ndarray, other: Firsts) -> Firsts:
        """These, with `other`'s in `rows` (a mask)."""
        return Firsts(*(np.where(rows, b, a) for a, b in zip(self, other, strict=True)))


def deciding(rules: Sequence[RuleColumn], n: int) -> tuple[Firsts, np.ndarray, Said]:
    """Per row: the first of `rules` that fires (it decides), whether any fired, and what the
    others that fired add after it."""
    first = Firsts.none(n)
    earlier = np.zeros(n, dtype=bool)  # a rule before this one fired
    others = []
    for rule in rules:
        first.decided_by(rule, rule.fires & ~earlier)
        others.append(rule._replace(fires=rule.fires & earlier))
        earlier = earlier | rule.fires
    return first, earlier, said(others, n)


class Standings(NamedTuple):
    """What each test's history says, whatever its failure says."""

    now: np.ndarray  # object: its state
    lead: RuleColumn  # RECOVERED, which goes before anything a failure says
    after: Said  # VARIED and the other history rules, after what the failure says
    # The rationale's end: the passes since it last failed ("; it passed the last 2 runs
    # (...)", which lower the confidence; FLAKY says them itself when it decides), then the
    # runs' source and E2E_PATH.
    passes: np.ndarray
    tail: np.ndarray
    recovering: np.ndarray  # bool
    e2e: np.ndarray  # bool: E2E_PATH
    # Where a failure's own facts fire no rule: the history's first rule, and the others.
    first: Firsts
    fired: np.ndarray  # bool: a history rule besides RECOVERED fired
    rest: Said
    occurrences: np.ndarray
    reports: np.ndarray  # bool: runs derived from the workflow's reports


def standings(h: Histories, e2e: np.ndarray, t: Thresholds = DEFAULT) -> Standings:
    """Each test's standing: its state, its lead, its history rules and their words."""
    n = len(h.occurrences)
    e2e = np.asarray(e2e, dtype=bool)
    now = states(h, t)
    lead, *rules = history_rules(h, t, now)
    # VARIED is named first after the deciding rule, then the history's rules in their order.
    rules.insert(0, varied_rule(h, t))
    recovering = (h.passes_since > 0) & (h.passes_since < t.recovered_after)
    reports = h.source == "reports"
    passes = _words(
        recovering,
        lambda n: _PASSES_WORDS.format(plural(n, "run"), t.recovered_after),
        h.passes_since,
    )
    tail = _words(reports, _REPORTS_WORDS.format) + _words(e2e, _E2E_WORDS.format)
    first, fired, rest = deciding(rules, n)
    return Standings(
        now,
        lead,
        said(rules, n),
        passes,
        tail,
        recovering,
        e2e,
        first,
        fired,
        rest,
        h.occurrences,
        reports,
    )


def _words(fires: np.ndarray, words: Callable[..., str], *columns: np.ndarray) -> np.ndarray:
    """`words` of each firing row's values in `columns` ("" in the other rows). Made once per
    distinct combination of values: tests share their counts far more than their names."""
    out = _blank(len(fires))
    rows = np.flatnonzero(fires)
    if not columns:
        out[rows] = words()
    elif rows.size:
        values = [column[rows] for column in columns]
        combination = combine(*(pd.factorize(value)[0] for value in values))
        first = first_rows(combination)
        said = list(map(words, *(value[first].tolist() for value in values)))
        out[rows] = np.array(said, dtype=object)[combination]
    return out


def _blank(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object)


def _texts(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def take(part, rows: np.ndarray):
    """`part` (an array, or a named tuple of them) at `rows`; a constant as it is."""
    if isinstance(part, np.ndarray):
        return part[rows]
    if isinstance(part, tuple):
        return type(part)(*(take(p, rows) for p in part))
    return part
