"""One suggestion from the rules that fired (pmdata.triage.rules), with its rationale.

The rule that decides comes first in `rules`; the others that fired are named in the rationale,
and each that would decide otherwise lowers the confidence. Order: RECOVERED, then what the
failure says, then VARIED and the history; a person's decision on the same root cause wins.

A test's side is worked out for all of a batch's tests at once (pmdata.triage.standings), a
failure's side once per distinct set of facts (`rules.failure_rules`); `suggest_pairs` joins
them column-wise for each distinct (test, facts, precedent) of a batch. One failure
(`decide`, `classify`) is the one-row case. Pure functions of their arguments.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import repeat
from typing import NamedTuple

import numpy as np
import pandas as pd

from pmdata.triage.columns import combine, first_rows, pick
from pmdata.triage.facts import NONE, Facts, facts_of
from pmdata.triage.fingerprint import zero_digits
from pmdata.triage.rules import (
    CLASSES,
    DEFAULT,
    Failure,
    History,
    Precedent,
    Rule,
    Thresholds,
    failure_rules,
    is_e2e_test,
    plural,
)
from pmdata.triage.standings import (
    NAME_BIT,
    NAMED_AFTER_FIRST,
    Firsts,
    Histories,
    RuleColumn,
    Said,
    Standings,
    deciding,
    said,
    standings,
    take,
)
from pmdata.vocabulary import DECISIONS, NEEDS_SPEC, PENDING

_DECISIONS = np.array(DECISIONS, dtype=object)
_E2E_BIT = NAME_BIT["E2E_PATH"]


class Suggestion(NamedTuple):
    decision: str
    priority: int
    confidence: float
    rationale: str
    rules: tuple[str, ...] = ()
    state: str = ""

    @property
    def classification(self) -> str | None:
        return next((r for r in self.rules if r in CLASSES), None)


class Suggestions(NamedTuple):
    """Suggestions as columns, a row per suggestion."""

    decision: np.ndarray  # object
    priority: np.ndarray  # int64
    confidence: np.ndarray  # float64
    rationale: np.ndarray  # object
    first: np.ndarray  # object: the deciding rule's name, "" for none
    named: np.ndarray  # int64: the other rules, as bits of standings.NAME_BIT
    prior: np.ndarray  # bool: a person's decision won (PRIOR_DECISION)
    state: np.ndarray  # object

    @classmethod
    def blank(cls, n: int) -> Suggestions:
        """n rows to be filled (by `put`)."""
        kinds = (object, np.int64, np.float64, object, object, np.int64, bool, object)
        return cls(*(np.zeros(n, dtype=kind) for kind in kinds))

    def put(self, rows: np.ndarray, other: Suggestions) -> Suggestions:
        """These, with `other`'s rows in `rows` (places). Changes these."""
        for mine, theirs in zip(self, other, strict=True):
            mine[rows] = theirs
        return self

    def rows(self) -> list[Suggestion]:
        """A Suggestion per row; each distinct tuple of rule names is made once."""
        first, firsts = pd.factorize(self.first)
        combination = combine(first.astype(np.int64), self.named, self.prior.astype(np.int64))
        rules = [
            _rules(firsts[first[r]], int(self.named[r]), bool(self.prior[r]))
            for r in first_rows(combination).tolist()
        ]
        columns = (
            self.decision.tolist(),
            self.priority.tolist(),
            self.confidence.tolist(),
            self.rationale.tolist(),
            pick(rules, combination),
            self.state.tolist(),
        )
        # tuple.__new__ skips the named tuple's own __new__, a Python call per suggestion.
        return list(map(tuple.__new__, repeat(Suggestion), zip(*columns, strict=True)))


def _rules(first: str, named: int, prior: bool) -> tuple[str, ...]:
    rules = ("PRIOR_DECISION",) if prior else ()
    if first:
        rules += (first,)
    return rules + tuple(name for name in NAMED_AFTER_FIRST if named & NAME_BIT[name])


class _FailureSides(NamedTuple):
    """A failure's own rules, per distinct set of facts: whether any fired, the first (which
    decides unless the test's RECOVERED leads), what all of them add after RECOVERED, and
    what the others add after the first."""

    fired: np.ndarray
    first: Firsts
    all: Said
    rest: Said


def _failure_sides(failures: list[tuple[Rule, ...]]) -> _FailureSides:
    n = len(failures)
    # A column per rule name, in failure_rules' order; each rule's constants are its name's.
    named: dict[str, Rule] = {}
    for rule in (rule for failure in failures for rule in failure):
        named.setdefault(rule.name, rule)
    columns = []
    for name in sorted(named, key=NAMED_AFTER_FIRST.index):
        rule, why = named[name], np.full(n, "", dtype=object)
        fires = np.zeros(n, dtype=bool)
        for row, failure in enumerate(failures):
            for fired in failure:
                if fired.name == name:
                    fires[row], why[row] = True, fired.why
        columns.append(RuleColumn(name, rule.decision, rule.priority, rule.confidence, fires, why))
    first, fired, rest = deciding(columns, n)
    return _FailureSides(fired, first, said(columns, n), rest)


def suggest_pairs(
    tests: Standings,
    failures: list[tuple[Rule, ...]],
    priors: list[Precedent | None],
    test: np.ndarray,
    failure: np.ndarray,
    prior: np.ndarray,
) -> Suggestions:
    """The suggestion for each (test, failure, prior) of the three columns, given as places in
    `tests`, `failures` (the rules each failure's own facts fired) and `priors`."""
    sides = _failure_sides(failures)
    out = Suggestions.blank(len(test))
    alone = ~tests.lead.fires[test] & ~sides.fired[failure]
    rows = np.flatnonzero(~alone)
    out.put(rows, _joined_pairs(tests, sides, test[rows], failure[rows]))
    # A failure whose own facts fire no rule, of a test without a lead: its test speaks alone.
    rows = np.flatnonzero(alone)
    place, used = pd.factorize(test[rows])
    out.put(rows, take(_alone(take(tests, used)), place))
    return _with_priors(out, priors, prior)


def _joined_pairs(tests: Standings, sides: _FailureSides, test, failure) -> Suggestions:
    """The suggestion of each pair whose test leads (RECOVERED) or whose failure fires a
    rule."""
    lead = tests.lead.fires[test]
    # After a RECOVERED lead, all of the failure's rules; else its first decides.
    first = take(sides.first, failure).where(lead, take(Firsts.of(tests.lead), test))
    middle = take(sides.rest, failure).where(lead, take(sides.all, failure))
    # The rationale's parts are put together where they are distinct (a failure's own rules,
    # a test's history), and only joined per pair. Its end is never FLAKY's: a history rule,
    # which decides here only by leading, as RECOVERED alone does.
    words = (sides.first.words + sides.rest.words)[failure]
    led = np.flatnonzero(lead)
    words[led] = first.words[led] + sides.all.words[failure[led]]
    words += _ends(tests.after, tests, flaky=False)[test]
    return _joined(first, middle, take(tests.after, test), _Marks.of(tests, test), words)


class _Marks(NamedTuple):
    """What a suggestion takes from its test besides its rules."""

    now: np.ndarray
    recovering: np.ndarray
    e2e: np.ndarray

    @classmethod
    def of(cls, tests: Standings, rows: np.ndarray | slice = slice(None)) -> _Marks:
        return cls(tests.now[rows], tests.recovering[rows], tests.e2e[rows])


def _ends(after: Said, tests: Standings, flaky: bool | np.ndarray) -> np.ndarray:
    """How a rationale ends: what the history adds (`after`), the passes since the last
    failure (FLAKY says those itself), the runs' source, E2E_PATH."""
    return after.words + np.where(flaky, "", tests.passes) + tests.tail + "."


def _alone(tests: Standings) -> Suggestions:
    """Each test's suggestion for a failure whose own facts fire no rule."""
    n = len(tests.now)
    lead = tests.lead.fires
    first = tests.first.where(lead, Firsts.of(tests.lead))
    after = tests.rest.where(lead, tests.after)
    words = first.words + _ends(after, tests, flaky=first.name == "FLAKY")
    out = _joined(first, Said.nothing(n), after, _Marks.of(tests), words)
    rows = np.flatnonzero(~lead & ~tests.fired)
    return out.put(rows, _no_pattern(take(tests, rows)))


def _joined(first: Firsts, middle: Said, after: Said, marks: _Marks, words) -> Suggestions:
    """The suggestion `first` decides, naming the other rules that fired: what the failure
    said (`middle`), then what the history said (`after`); `words`, its rationale. Each that
    would decide otherwise takes 0.05 off the confidence; passes since the last failure take
    0.10."""
    rows = np.arange(len(first.name))
    against = middle.decisions.sum(axis=1) - middle.decisions[rows, first.decision]
    against += after.decisions.sum(axis=1) - after.decisions[rows, first.decision]
    confidence = first.confidence
    # One subtraction at a time, as a person would count them down (0.85 - 2 * 0.05 is not
    # 0.85 - 0.05 - 0.05 in floating point, and the rounding below keeps what they make).
    for k in range(int(against.max(initial=0))):
        confidence = np.where(against > k, confidence - 0.05, confidence)
    flaky = first.name == "FLAKY"
    confidence = np.where(marks.recovering & ~flaky, confidence - 0.10, confidence)
    # A rule's own confidence is at most 0.95, and rounded; only ever lowered here.
    changed = np.flatnonzero(confidence != first.confidence)
    confidence[changed] = _rounded(np.maximum(confidence[changed], 0.05))
    return Suggestions(
        _DECISIONS[first.decision],
        first.priority + (marks.e2e & (first.priority < 5)),  # E2E_PATH
        confidence,
        words,
        first.name,
        middle.names | after.names | np.where(marks.e2e, _E2E_BIT, 0),
        np.zeros(len(rows), dtype=bool),
        marks.now,
    )


def _no_pattern(test: Standings) -> Suggestions:
    """No rule fired: someone looks, unless the test is end-to-end (then it leans to a spec)."""
    n, e2e = len(test.now), test.e2e
    rationale = np.array(
        [
            f"failed {plural(k, 'time')} with no clear pattern yet"
            for k in test.occurrences.tolist()
        ],
        dtype=object,
    )
    rationale += test.passes
    rationale[test.reports] += "; runs derived from the workflow's reports (no per-test outcomes)"
    rationale[e2e] += "; E2E_PATH: an end-to-end test leans towards a spec (priority +1)"
    decision = np.full(n, PENDING, dtype=object)
    decision[e2e] = NEEDS_SPEC
    return Suggestions(
        decision,
        np.where(e2e, 4, 3),
        np.where(e2e, 0.55, np.where(test.recovering, 0.40, 0.50)),
        rationale + ".",
        np.full(n, "", dtype=object),
        np.where(e2e, _E2E_BIT, 0),
        np.zeros(n, dtype=bool),
        test.now,
    )


def _with_priors(
    out: Suggestions, priors: list[Precedent | None], prior: np.ndarray
) -> Suggestions:
    """A person's decision on the same root cause wins, citing them."""
    decided = [p is not None and p.decision in DECISIONS for p in priors]
    won = np.array(decided, dtype=bool)[prior]
    if not won.any():
        return out
    decisions = np.full(len(priors), "", dtype=object)
    cited = decisions.copy()
    for i, (p, ok) in enumerate(zip(priors, decided, strict=True)):
        if ok:
            decisions[i], cited[i] = p.decision, f"PRIOR_DECISION: {p.decision}, {p.cite()}; "
    return out._replace(
        decision=np.where(won, decisions[prior], out.decision),
        confidence=np.where(won, np.maximum(out.confidence, 0.90), out.confidence),
        rationale=np.where(won, cited[prior] + out.rationale, out.rationale),
        prior=won,
    )


def _rounded(values: np.ndarray) -> np.ndarray:
    """Python's round(v, 2) of each (numpy's gives 0.02 for 0.015, Python's 0.01): once per
    distinct value."""
    distinct, place = np.unique(values, return_inverse=True)
    return np.array([round(v, 2) for v in distinct.tolist()], dtype=np.float64)[place]


@lru_cache(maxsize=65536)
def decide(
    history: History,
    facts: Facts = NONE,
    e2e: bool = False,
    thresholds: Thresholds = DEFAULT,
    prior: Precedent | None = None,
) -> Suggestion:
    """The state, then the failure's own facts, then the history; a precedent wins over all."""
    test = standings(Histories.of([history]), np.array([e2e]), thresholds)
    one = np.zeros(1, dtype=np.int64)
    picked = one + (prior is not None)
    return suggest_pairs(test, [failure_rules(facts)], [None, prior], one, one, picked).rows()[0]


def classify(
    history: History,
    failure: Failure,
    thresholds: Thresholds = DEFAULT,
    prior: Precedent | str | None = None,
    zeroed_error: str | None = None,
) -> Suggestion:
    """`zeroed_error`: the failure's error through `zero_digits`, when the caller has it."""
    # No fact depends on digits, and messages of one cause differ mostly in their digits (ids,
    # timings): with those zeroed, most failures hit the cache.
    error = zeroed_error if zeroed_error is not None else zero_digits(failure.error or "")
    facts = facts_of(
        error, failure.stack or "", failure.snippet or "", failure.failed_in, failure.final_status
    )
    e2e = is_e2e_test(failure.test_file, failure.test_name)
    if isinstance(prior, str):
        prior = Precedent(prior)
    return decide(history, facts, e2e, thresholds, prior)
