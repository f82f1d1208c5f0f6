"""Reads a Playwright JSON report into plain records: one outcome per test, failures with errors."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from pmdata.errors import PmdashError
from pmdata.ingest.failure_place import SETUP, place, where
from pmdata.ingest.playwright_schema import REPORT, Result, Spec, Suite, Test, first_problem

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
TITLE_SEPARATOR = " › "  # how Playwright itself prints a title path
# test.status → the outcome we record per run
OUTCOMES = {"expected": "passed", "unexpected": "failed", "flaky": "flaky", "skipped": "skipped"}
# What a test.fail() that passed says: the bug it marks is fixed, the marker is now the bug.
EXPECTED_TO_FAIL = "Expected to fail, but passed: the test.fail() marker outlived its bug"


class ReportError(PmdashError):
    """The file is not a Playwright JSON report we can read; says which file and what is wrong."""


@dataclass(frozen=True)
class TestRun:
    name: str  # the title path, e.g. "cart › buying › adds an item"
    file: str
    line: int | None
    project_name: str
    outcome: str  # passed / failed / flaky / skipped
    final_status: str  # the last attempt's status (a failing test's: its error's attempt's)
    duration: int  # ms, all attempts together
    retries: int
    error: str | None = None  # failed: the last attempt's; flaky: the first failed attempt's
    stack: str | None = None
    error_location: str | None = None  # file:line:column, the file relative to the root
    failed_in: str = ""  # test, hook, fixture, setup, or "" (see failure_place)
    snippet: str | None = None  # the source lines around the error
    attachments: tuple[dict, ...] = ()  # the attempt's trace, screenshots, video: name, type, path

    @property
    def failing(self) -> bool:
        """Failed, or failed before a retry passed: either way a row for triage."""
        return self.outcome in ("failed", "flaky")


@dataclass
class Report:
    path: Path
    digest: str
    started_at: int  # unix seconds
    duration_ms: int
    tests: list[TestRun] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for t in self.tests if t.outcome == outcome)

    @property
    def status(self) -> str:
        failed = self.count("failed")
        passed = self.count("passed") + self.count("flaky")
        return "passed" if not failed else ("failed" if not passed else "mixed")


def strip_ansi(text: str | None) -> str | None:
    return None if text is None else ANSI.sub("", text)


def read_report(path: Path | str) -> Report:
    """Parse and check the whole report; ReportError names the file and the first problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"{path}: cannot read ({exc.strerror})") from exc
    return parse_report_bytes(path, raw)


def parse_report_bytes(path: Path, raw: bytes) -> Report:
    """A report from its bytes (a file, or an upload named `path`). Pydantic parses and checks
    the JSON in one pass and keeps only the fields we read: 0.7 s for a 10,000-test report,
    where json.loads alone takes as long and checking its result 0.4 s more."""
    try:
        checked = REPORT.validate_json(raw)
    except ValidationError as exc:
        raise ReportError(f"{path}: {_problem(exc, raw)}") from None
    except RecursionError:
        raise ReportError(f"{path}: not a Playwright report: nested too deep") from None
    return _report(path, checked, hashlib.sha256(raw).hexdigest())


def _problem(exc: ValidationError, raw: bytes) -> str:
    error = exc.errors(include_url=False)[0]
    if error["type"] == "json_invalid":
        reason = str(error.get("ctx", {}).get("error", error["msg"]))
        if "recursion" in reason.lower():
            return "not a Playwright report: JSON nested too deep"
        hint = " (truncated?)" if raw.rstrip()[-1:] not in (b"}", b"]") else ""
        return f"not JSON{hint}: {reason}"
    if not error["loc"] or error["loc"] == ("suites",) and error["type"] == "missing":
        return (
            "top level: expected an object with a suites list — is this Playwright's "
            "--reporter=json output?"
        )
    return first_problem(exc)


def _report(path: Path, checked: dict, digest: str) -> Report:
    stats = checked.get("stats") or {}
    report = Report(
        path, digest, _start_time(stats.get("startTime"), path), int(stats.get("duration") or 0)
    )
    root = (checked.get("config") or {}).get("rootDir")
    for suite in checked["suites"]:
        _walk(suite, [], report, top=True, root=root)
    for err in checked.get("errors") or []:
        # Errors outside any test (global setup, a file that fails to load) count as failures.
        loc = err.get("location") or {}
        message = strip_ansi(err.get("message"))
        first_line = ((message or "error").splitlines() or ["error"])[0]
        report.tests.append(
            TestRun(
                name=f"global setup › {first_line[:120]}",
                file=_relative(loc.get("file"), root),
                line=loc.get("line"),
                project_name="",
                outcome="failed",
                final_status="failed",
                duration=0,
                retries=0,
                error=message,
                stack=strip_ansi(err.get("stack")),
                error_location=where(loc, root),
                failed_in=SETUP,
                snippet=strip_ansi(err.get("snippet")),
            )
        )
    projects = {t.project_name for t in report.tests if t.project_name}
    if len(projects) > 1:
        # One test runs once per Playwright project: keep the runs apart, as Playwright prints them.
        report.tests = [
            t if not t.project_name else replace(t, name=f"[{t.project_name}] {t.name}")
            for t in report.tests
        ]
    return report


def _relative(file: str | None, root: str | None) -> str | None:
    if file and root and file.startswith(root.rstrip("/") + "/"):
        return file[len(root.rstrip("/")) + 1 :]
    return file


def _start_time(value: str | None, path: Path) -> int:
    if not value:
        return int(path.stat().st_mtime) if path.exists() else int(time.time())
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except (ValueError, OverflowError, OSError) as exc:
        raise ReportError(f"{path}: stats.startTime: not a date: {value!r}") from exc


def _walk(suite: Suite, titles: list[str], report: Report, top: bool, root: str | None) -> None:
    # The top-level suite is the file; its title is the file name, not a describe block.
    inner = titles if top else [*titles, suite.get("title", "")]
    for spec in suite.get("specs") or []:
        name = TITLE_SEPARATOR.join([t for t in inner if t] + [spec.get("title", "")])
        for test in spec["tests"]:
            report.tests.append(_test_run(test, spec, name, root))
    for child in suite.get("suites") or []:
        _walk(child, inner, report, top=False, root=root)


def _test_run(test: Test, spec: Spec, name: str, root: str | None) -> TestRun:
    results = test.get("results") or []
    last = results[-1] if results else None
    outcome = OUTCOMES[test["status"]]
    run = TestRun(
        name=name,
        file=spec.get("file") or "",
        line=spec.get("line"),
        project_name=test.get("projectName") or "",
        outcome=outcome,
        final_status=last["status"] if last else "skipped",
        duration=int(sum(r.get("duration", 0) for r in results)),
        retries=max(0, len(results) - 1),
    )
    if not run.failing:
        return run
    # A flaky test's story is its first failed attempt: what raced before the retry passed.
    attempt = last
    if outcome == "flaky":
        attempt = next((r for r in results if r["status"] != "passed"), last)
    return _with_error(run, test, spec, attempt, root)


def _with_error(
    run: TestRun, test: Test, spec: Spec, attempt: Result | None, root: str | None
) -> TestRun:
    attempt = attempt or {"status": "failed"}
    err = attempt.get("error") or next(iter(attempt.get("errors") or []), None) or {}
    status = attempt["status"]
    message = strip_ansi(err.get("message"))
    if status == "passed" and any(a.get("type") == "fail" for a in test.get("annotations") or []):
        message = EXPECTED_TO_FAIL
    stack = strip_ansi(err.get("stack"))
    location = err.get("location") or attempt.get("errorLocation")
    return replace(
        run,
        error=message or f"Test {status}",
        stack=stack,
        final_status=status,
        error_location=where(location, root),
        failed_in=place(spec.get("file") or "", spec.get("line"), location, stack),
        snippet=strip_ansi(err.get("snippet")),
        attachments=tuple(
            {"name": a.get("name"), "contentType": a.get("contentType"), "path": a["path"]}
            for a in attempt.get("attachments") or []
            if a.get("path")
        ),
    )
