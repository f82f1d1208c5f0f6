"""What one failure says about itself, read where each fact lives (not wherever a word occurs).

- the feature is missing: the error's headline says "not implemented" / "not supported" (not a
  value the test received, not an HTTP reason phrase such as a stub's "501 Not Implemented");
- the machine failed: Node's and Chromium's own error codes in the headline (ECONNREFUSED ...);
- the test is wrong: a strict-mode violation, a drifted snapshot, a fixed sleep just before the
  failing line, a test.fail() that passed;
- the harness failed: the report placed the error in a hook, a fixture or global setup
  (pmdata.ingest.failure_place); for rows without that fact, a hook's name in the headline.

Pure functions, cached: a suite breaks the same few ways run after run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_NOT_IMPLEMENTED = re.compile(
    r"\bnot (yet )?(implemented|supported)\b|\bNotImplemented(Error|Exception)?\b", re.I
)
# An HTTP status with its reason ("501 Not Implemented", `501: "not implemented"`) is what a
# server answered, often the test's own stub; digits may be zeroed ("501" arrives as "000").
_HTTP_PHRASE = re.compile(r"\b\d{3}\b\W{0,4}not implemented\b", re.I)
# Quoted text in a headline is a value (expected, received, a title), not the error's words.
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|`[^`]*`")
# Node's and Chromium's words for a machine that is not ready: a database not listening, a
# name that does not resolve, a port taken, a file the runner lacks, a client used after close.
_ENVIRONMENT = re.compile(
    r"\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EADDRINUSE|EHOSTUNREACH|ENOENT|ETIMEDOUT)\b"
    r"|net::ERR_[A-Z_]+|Connection is closed|getaddrinfo"
)
_STRICT = re.compile(r"strict mode violation", re.I)
_SNAPSHOT = re.compile(
    r"toMatchSnapshot|toHaveScreenshot|toMatchAriaSnapshot|(snapshot|screenshot) comparison failed"
    r"|snapshot doesn't match|screenshots? (do not|don't) match",
    re.I,
)
_EXPECTED_TO_FAIL = re.compile(r"expected to fail,? but passed", re.I)
# A fixed wait in the lines leading to the failing one: the test races the app.
_SLEEP = re.compile(r"\bwaitForTimeout\s*\(|\bsleep\s*\(|\bsetTimeout\s*\(")
_HOOK_WORDS = re.compile(
    r"\b(beforeEach|beforeAll|afterEach|afterAll|globalSetup|globalTeardown)\b"
    r"|\bglobal[ -](setup|teardown)\b|\"(before|after) (all|each)\" hook",
    re.I,
)
# A code frame's line: "  12 |   code" or "> 12 |   code" (the failing one).
_FRAME_LINE = re.compile(r"^\s*(>?)\s*\d+\s*\|(.*)$")
_MARKED_LINE = re.compile(r"^\s*>\s*\d+\s*\|(.*)$", re.M)

HARNESS_PLACES = ("hook", "fixture", "setup")


@dataclass(frozen=True, slots=True)
class Facts:
    not_implemented: bool = False
    environment: str = ""  # the machine's error named, e.g. "ECONNREFUSED"
    test_bug: str = ""  # what is wrong with the test, in words
    harness: str = ""  # hook, fixture or setup: where outside the test's body it failed


NONE = Facts()


def headline(error: str) -> str:
    """The error's first non-empty line, where a thrown error says what it is."""
    text = error.lstrip()
    return text[: text.find("\n")].strip() if "\n" in text else text.strip()


def failing_code(frame: str | None) -> tuple[str, str]:
    """From a code frame, the failing line's code and the lines before it (stripped)."""
    marked = _MARKED_LINE.search(frame or "") if frame and ">" in frame else None
    if marked is None:
        return "", ""
    before = [
        match[2].strip()
        for match in map(_FRAME_LINE.match, frame[: marked.start()].splitlines())
        if match
    ]
    return marked[1].strip(), "\n".join(before)


@lru_cache(maxsize=65536)
def facts_of(
    error: str,
    stack: str = "",
    snippet: str = "",
    failed_in: str = "",
    final_status: str = "",
) -> Facts:
    """`error` may have its digits zeroed (pmdata.triage.fingerprint.zero_digits): nothing here
    reads them. `failed_in` is the report's word for where it failed, "" when unknown."""
    return facts_from(
        headline_says(headline(error)),
        stack_environment(stack),
        fixed_sleep(snippet or error),
        failed_in,
        final_status,
    )


def facts_from(
    said: tuple[bool, str, str, str], stack_env: str, sleep: str, failed_in: str, status: str
) -> Facts:
    """The facts from what each place tells: the headline (headline_says), the stack's
    headline (stack_environment), the code frame (fixed_sleep), and the report's words for
    where it failed and how it ended. A batch works each out once per distinct value."""
    not_implemented, environment, test_bug, hook_place = said
    if not test_bug:
        test_bug = _PASSES_NOW if status == "passed" else sleep
    # The report's word for where it failed wins over a hook's name in the headline.
    harness = (failed_in if failed_in in HARNESS_PLACES else "") if failed_in else hook_place
    return _facts(not_implemented, environment or stack_env, test_bug, harness)


# One object per distinct set of facts: a batch of 100,000 failures has a handful, and the
# rules key their cached work on them.
_facts = lru_cache(maxsize=1024)(Facts)

_PASSES_NOW = "a test.fail() that now passes: the bug it marked is fixed"


@lru_cache(maxsize=65536)  # a suite fails with a few headlines, run after run
def headline_says(head: str) -> tuple[bool, str, str, str]:
    """What the headline alone tells: the feature is missing, the machine's error, what is
    wrong with the test, and the hook it names."""
    words = _QUOTED.sub("", head)
    not_implemented = bool(_NOT_IMPLEMENTED.search(words)) and not _HTTP_PHRASE.search(head)
    if _STRICT.search(head):
        test_bug = "a strict-mode violation: the test's locator matches more than one element"
    elif _SNAPSHOT.search(head):
        test_bug = "a snapshot that drifted from the page: update or fix the snapshot"
    elif _EXPECTED_TO_FAIL.search(head):
        test_bug = _PASSES_NOW
    else:
        test_bug = ""
    found = _HOOK_WORDS.search(head)
    hook_place = "" if not found else "setup" if "global" in found[0].lower() else "hook"
    return not_implemented, _environment_in(head), test_bug, hook_place


def stack_environment(stack: str) -> str:
    """The machine's error the stack's first line names, if any."""
    return _environment_in(headline(stack)) if stack else ""


@lru_cache(maxsize=4096)
def _environment_in(line: str) -> str:
    found = _ENVIRONMENT.search(line)
    return found[0] if found else ""


def fixed_sleep(frame: str) -> str:
    """What is wrong with a test whose code frame waits a fixed time just before the failing
    line; "" if nothing."""
    # The cheap test first: most frames hold no sleep at all.
    if "waitForTimeout" not in frame and "sleep" not in frame and "setTimeout" not in frame:
        return ""
    line, before = failing_code(frame)
    if line and _SLEEP.search("\n".join(before.splitlines()[-2:])):
        return "a fixed sleep just before the failing line: the test races the app"
    return ""
