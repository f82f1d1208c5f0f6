"""The rule classifier: explainable, deterministic suggestions from a test's history.

Rules in the seed design's order — the first that fires sets the decision, the others that fire
are named in the rationale and lower the confidence:

1. PERSISTENT  — failed the last N runs in a row (default 5)   → needs_spec,  priority 5, 0.95
2. RECURRING   — N+ failures (default 3)                        → needs_spec,  priority 4, 0.80
3. FLAKY       — passed on retry, or pass/fail flips             → pending,     priority 3, 0.70
4. NEW         — first failure                                   → one_off_fix, priority 2, 0.60
   (none)      — seen twice, steady                              → pending,     priority 3, 0.50

Heuristics on top:
- NOT_IMPLEMENTED: the message says "not implemented" / "not supported" → needs_spec (a missing
  feature is planned work whatever the history says).
- SETUP_TEARDOWN: the failure is in beforeEach/afterAll/global setup/fixtures → one_off_fix (the
  harness, not the product), except for PERSISTENT or NOT_IMPLEMENTED, whose confidence drops.
- ENVIRONMENT: the error is the machine's, not the product's (ECONNREFUSED, ENOTFOUND,
  EADDRINUSE, a closed connection, a missing file, net::ERR_...) → one_off_fix whatever the
  history (fix the environment or the harness once), unless the feature is missing.
- E2E_PATH: the test path holds `e2e` or `integration` → priority +1; it settles the "(none)"
  case as needs_spec, and only nudges confidence elsewhere (most Playwright tests are e2e).
- PRIOR_DECISION: a person already decided this test with this error fingerprint → that decision
  (a human decision wins next time).

Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from pmdata.triage.fingerprint import zero_digits
from pmdata.vocabulary import DECISIONS, NEEDS_SPEC, ONE_OFF_FIX, PENDING

CLASSES = ("PERSISTENT", "RECURRING", "FLAKY", "NEW")

_NOT_IMPLEMENTED = re.compile(r"\bnot (yet )?(implemented|supported)\b", re.I)
_SETUP = re.compile(
    r"\b(beforeEach|beforeAll|afterEach|afterAll|global[ -]?setup|global[ -]?teardown|"
    r"globalSetup|globalTeardown|fixtures?)\b|\bfixture\b",
    re.I,
)
_SETUP_WORDS = ("before", "after", "global", "fixture", "setup", "teardown")
# Node's and Chromium's words for a machine that is not ready: a database not listening, a
# name that does not resolve, a port taken, a file the runner lacks.
_ENVIRONMENT = re.compile(
    r"\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EADDRINUSE|EHOSTUNREACH|ENOENT)\b"
    r"|net::ERR_[A-Z_]+|Connection is closed|getaddrinfo"
)
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
    flaky_flips: int = 2


DEFAULT = Thresholds()


@dataclass(frozen=True, slots=True)
class History:
    """What the runs say about one test (queries/test_history.sql)."""

    occurrences: int
    runs: int
    consecutive_failures: int
    flaky_runs: int = 0
    flips: int = 0
    source: str = "results"  # results: per-run outcomes; reports: derived from the workflow


@dataclass(frozen=True, slots=True)
class Failure:
    test_name: str
    test_file: str = ""
    error: str = ""
    stack: str = ""


@dataclass(frozen=True, slots=True)
class Suggestion:
    decision: str
    priority: int
    confidence: float
    rationale: str
    rules: tuple[str, ...] = field(default_factory=tuple)

    @property
    def classification(self) -> str | None:
        return next((r for r in self.rules if r in CLASSES), None)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def classify(
    history: History,
    failure: Failure,
    thresholds: Thresholds = DEFAULT,
    prior_decision: str | None = None,
    zeroed_error: str | None = None,
) -> Suggestion:
    """`zeroed_error`: the failure's error through `zero_digits`, when the caller has it."""
    # Neither fact depends on digits, and messages of one cause differ mostly in their digits
    # (ids, timings): with those zeroed, most failures hit the cache (a stack trace repeats
    # as it is, run after run).
    error = zeroed_error if zeroed_error is not None else zero_digits(failure.error or "")
    not_implemented, setup, environment = message_facts(error, failure.stack or "")
    e2e = is_e2e_test(failure.test_file, failure.test_name)
    return decide(history, not_implemented, setup, e2e, thresholds, prior_decision, environment)


@lru_cache(maxsize=65536)
def message_facts(error: str, stack: str) -> tuple[bool, bool, str]:
    """Whether the message says the feature is missing, whether the failure is in setup or
    teardown code, and the machine's error it names if any ("ECONNREFUSED"; `error` may have
    its digits zeroed: none of these reads them). Cheap substring tests first: the regexes run
    only where they could match."""
    text = f"{error}\n{stack}".lower()
    not_implemented = "not " in text[: len(error)] and bool(_NOT_IMPLEMENTED.search(error))
    setup = any(k in text for k in _SETUP_WORDS) and bool(_SETUP.search(text))
    found = _ENVIRONMENT.search(error) if ("E" in error or "onnect" in error) else None
    return not_implemented, setup, found[0] if found else ""


@lru_cache(maxsize=65536)  # the facts above take few distinct values across many failures
def decide(
    history: History,
    not_implemented: bool,
    setup: bool,
    e2e: bool,
    thresholds: Thresholds,
    prior_decision: str | None,
    environment: str = "",
) -> Suggestion:
    """The rules in the seed design's order over a test's history, then the heuristics over its
    failure's facts (`message_facts`, `is_e2e_test`), then what a person decided before."""
    t = thresholds
    fired: list[tuple[str, str, int, float, str]] = []  # rule, decision, priority, conf, why
    if history.consecutive_failures >= t.persistent_after:
        fired.append(
            (
                "PERSISTENT",
                NEEDS_SPEC,
                5,
                0.95,
                f"failed the last {history.consecutive_failures} runs in a row",
            )
        )
    if history.occurrences >= t.recurring_after:
        fired.append(
            (
                "RECURRING",
                NEEDS_SPEC,
                4,
                0.80,
                f"failed {history.occurrences} times in {_plural(history.runs, 'run')}",
            )
        )
    if history.flaky_runs >= 1 or history.flips >= t.flaky_flips:
        evidence = []
        if history.flaky_runs:
            evidence.append(f"passed on retry in {_plural(history.flaky_runs, 'run')}")
        if history.flips >= t.flaky_flips:
            evidence.append(f"flipped between pass and fail {history.flips} times")
        fired.append(("FLAKY", PENDING, 3, 0.70, " and ".join(evidence)))
    if history.occurrences <= 1:
        fired.append(("NEW", ONE_OFF_FIX, 2, 0.60, "first failure, which may be environmental"))

    if fired:
        rule, decision, priority, confidence, why = fired[0]
        rules = [rule]
        parts = [f"{rule}: {why}"]
        others = [f for f in fired[1:] if f[0] != "NEW"]
        for other in others:
            rules.append(other[0])
            parts.append(f"also {other[0]} ({other[4]})")
            if other[1] != decision:
                confidence -= 0.10
    else:
        rule, decision, priority, confidence = "", PENDING, 3, 0.50
        rules = []
        parts = [f"failed {_plural(history.occurrences, 'time')} with no clear pattern yet"]
    if history.source == "reports":
        parts.append("runs derived from the workflow's reports (no per-test outcomes)")

    strong = rule == "PERSISTENT"
    if not_implemented:
        rules.append("NOT_IMPLEMENTED")
        parts.append("NOT_IMPLEMENTED: the error says the feature is missing, so it needs a spec")
        decision, priority, confidence = NEEDS_SPEC, max(priority, 4), max(confidence, 0.90)
        strong = True
    if setup:
        rules.append("SETUP_TEARDOWN")
        if strong:
            parts.append("SETUP_TEARDOWN: it fails in setup/teardown code, usually the harness")
            confidence -= 0.15
        else:
            parts.append("SETUP_TEARDOWN: it fails in setup/teardown code; fix the harness")
            decision, priority = ONE_OFF_FIX, min(priority, 3)
            confidence = max(confidence, 0.65)
    if environment and not not_implemented:
        rules.append("ENVIRONMENT")
        parts.append(
            f"ENVIRONMENT: the error is {environment}, the machine's or the harness's and not "
            "the product's; fix it once"
        )
        decision, priority = ONE_OFF_FIX, min(priority, 3)
        confidence = max(confidence, 0.75)
    if e2e:
        rules.append("E2E_PATH")
        priority = min(priority + 1, 5)
        if not rule and decision == PENDING:
            decision, confidence = NEEDS_SPEC, 0.55
            parts.append("E2E_PATH: an end-to-end test leans towards a spec (priority +1)")
        else:
            parts.append("E2E_PATH: an end-to-end test (priority +1)")
            confidence += 0.05 if decision == NEEDS_SPEC else -0.05
    if prior_decision in DECISIONS:
        rules.insert(0, "PRIOR_DECISION")
        parts.insert(0, f"PRIOR_DECISION: a person chose {prior_decision} for this test and error")
        decision, confidence = prior_decision, max(confidence, 0.90)
    confidence = round(min(max(confidence, 0.05), 0.99), 2)
    rationale = "; ".join(parts) + "."
    return Suggestion(decision, priority, confidence, rationale, tuple(rules))
