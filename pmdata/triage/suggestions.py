"""One suggestion from the rules that fired (pmdata.triage.rules), with its rationale.

The rule that decides comes first in `rules`; the others that fired are named in the rationale,
and each that would decide otherwise lowers the confidence. Order: RECOVERED, then what the
failure says, then VARIED and the history; a person's decision on the same root cause wins.

A test's side (its history's rules and their words) is worked out once per test (`standing`),
a failure's side once per distinct set of facts (`failure_rules`); `suggest_pairs` only joins
them, which is all a batch does per distinct (test, facts) pair. Pure functions of their
arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

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
    history_rules,
    is_e2e_test,
    plural,
    state,
    varied_rule,
)
from pmdata.vocabulary import DECISIONS, NEEDS_SPEC, PENDING


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


class _Said(NamedTuple):
    """Rules that fired after the deciding one, as the suggestion names them."""

    names: tuple[str, ...]
    words: str  # "; also VARIED (...); also RECURRING (...)", or ""
    decisions: tuple[str, ...]
    first_words: int = 0  # the length of the first rule's words

    def without_first(self) -> _Said:
        return _Said(self.names[1:], self.words[self.first_words :], self.decisions[1:])


def _said(rules: list[Rule] | tuple[Rule, ...]) -> _Said:
    names, words, decisions = [], [], []
    for rule in rules:
        # NEW only ever decides: a test with more to say than "first failure" says that.
        if rule.name != "NEW":
            names.append(rule.name)
            words.append(f"; also {rule.name} ({rule.why})")
            decisions.append(rule.decision)
    return _Said(tuple(names), "".join(words), tuple(decisions), len(words[0]) if words else 0)


@lru_cache(maxsize=1024)
def _failure_said(failure: tuple[Rule, ...]) -> tuple[_Said, _Said]:
    return _said(failure), _said(failure[1:])


_NOTHING = _Said((), "", ())


class Standing(NamedTuple):
    """What a test's history says, whatever its failure says."""

    now: str  # the test's state
    lead: Rule | None  # RECOVERED, which goes before anything a failure says
    after: _Said  # VARIED and the other history rules, after what the failure says
    # The rationale's end: "; it passed the last 2 runs (...)" (which lowers the confidence),
    # the runs' source, E2E_PATH. FLAKY, when it decides, says the passes itself.
    tail: str
    tail_after_flaky: str
    recovering: bool
    marks: tuple[str, ...]  # ("E2E_PATH",) or ()
    alone: Suggestion | None = None  # the suggestion when the failure itself fires no rule


@lru_cache(maxsize=65536)
def standing(history: History, e2e: bool = False, thresholds: Thresholds = DEFAULT) -> Standing:
    h, t = history, thresholds
    now = state(h, t)
    fired = history_rules(h, t, now)
    lead = fired.pop(0) if fired and fired[0].name == "RECOVERED" else None
    varied = varied_rule(h, t)
    if varied:
        fired.insert(0, varied)
    recovering = 0 < h.passes_since < t.recovered_after
    tail = ""
    if h.source == "reports":
        tail += "; runs derived from the workflow's reports (no per-test outcomes)"
    if e2e:
        tail += "; E2E_PATH: an end-to-end test (priority +1)"
    passes = (
        f"; it passed the last {plural(h.passes_since, 'run')} (recovered after "
        f"{t.recovered_after} in a row)"
        if recovering
        else ""
    )
    after = _said(fired)
    marks = ("E2E_PATH",) if e2e else ()
    test = Standing(now, lead, after, passes + tail, tail, recovering, marks)
    if lead:
        alone = _joined(test, lead, _NOTHING, after)
    elif fired:
        # The rules after the first: `after` without it (NEW, the only one it leaves out, is
        # always last, so never first but alone).
        rest = after if fired[0].name == "NEW" else after.without_first()
        alone = _joined(test, fired[0], _NOTHING, rest)
    else:
        alone = _no_pattern(h, passes, e2e, now)
    return Standing(now, lead, after, passes + tail, tail, recovering, marks, alone)


def suggest(test: Standing, failure: tuple[Rule, ...], prior: Precedent | None) -> Suggestion:
    """The suggestion for a failure of `test` whose own facts fired the rules `failure`."""
    return suggest_pairs([test], [failure], [prior], [(0, 0, 0)])[0]


def suggest_pairs(
    tests: list[Standing],
    failures: list[tuple[Rule, ...]],
    priors: list[Precedent | None],
    pairs: Iterable[tuple[int, int, int]],
) -> list[Suggestion]:
    """`suggest` for each (test, failure, prior) of `pairs`, given as places in the three
    lists: what each failure's rules add is worked out once, however many tests it joins."""
    # After a RECOVERED lead, all of a failure's rules; else all but its first, which decides.
    sides = [_failure_said(failure) for failure in failures]
    out = []
    for t, f, p in pairs:
        test, failure, prior = tests[t], failures[f], priors[p]
        if test.lead is not None:
            said = _joined(test, test.lead, sides[f][0], test.after)
        elif failure:
            said = _joined(test, failure[0], sides[f][1], test.after)
        else:
            said = test.alone
        if prior is not None and prior.decision in DECISIONS:
            said = Suggestion(
                prior.decision,
                said.priority,
                max(said.confidence, 0.90),
                f"PRIOR_DECISION: {prior.decision}, {prior.cite()}; {said.rationale}",
                ("PRIOR_DECISION", *said.rules),
                said.state,
            )
        out.append(said)
    return out


def _joined(test: Standing, first: Rule, middle: _Said, after: _Said) -> Suggestion:
    """The suggestion `first` decides, naming the other rules that fired: what the failure
    said (`middle`), then what the history said (`after`). Each that would decide otherwise
    takes 0.05 off the confidence; passes since the last failure take 0.10."""
    decision = first.decision
    confidence = first.confidence
    against = len(middle.decisions) - middle.decisions.count(decision)
    against += len(after.decisions) - after.decisions.count(decision)
    for _ in range(against):
        confidence -= 0.05
    if first.name == "FLAKY":
        tail = test.tail_after_flaky
    else:
        tail = test.tail
        if test.recovering:
            confidence -= 0.10
    # A rule's own confidence is at most 0.95, and rounded; only ever lowered here.
    if confidence != first.confidence:
        confidence = round(confidence if confidence > 0.05 else 0.05, 2)
    priority = first.priority
    if test.marks and priority < 5:  # E2E_PATH
        priority += 1
    # tuple.__new__: the named tuple's own __new__ is a Python call, and this runs per failure.
    return tuple.__new__(
        Suggestion,
        (
            decision,
            priority,
            confidence,
            f"{first.name}: {first.why}{middle.words}{after.words}{tail}.",
            (first.name, *middle.names, *after.names, *test.marks),
            test.now,
        ),
    )


def _no_pattern(h: History, passes: str, e2e: bool, now: str) -> Suggestion:
    """No rule fired: someone looks, unless the test is end-to-end (then it leans to a spec)."""
    rationale = f"failed {plural(h.occurrences, 'time')} with no clear pattern yet{passes}"
    confidence = 0.40 if passes else 0.50
    if h.source == "reports":
        rationale += "; runs derived from the workflow's reports (no per-test outcomes)"
    decision, priority, rules = PENDING, 3, ()
    if e2e:
        decision, confidence, priority, rules = NEEDS_SPEC, 0.55, 4, ("E2E_PATH",)
        rationale += "; E2E_PATH: an end-to-end test leans towards a spec (priority +1)"
    return Suggestion(decision, priority, confidence, rationale + ".", rules, now)


@lru_cache(maxsize=65536)
def decide(
    history: History,
    facts: Facts = NONE,
    e2e: bool = False,
    thresholds: Thresholds = DEFAULT,
    prior: Precedent | None = None,
) -> Suggestion:
    """The state, then the failure's own facts, then the history; a precedent wins over all."""
    return suggest(standing(history, e2e, thresholds), failure_rules(facts), prior)


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
