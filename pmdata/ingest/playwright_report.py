"""Reads a Playwright JSON report into plain records: one outcome per test, failures with errors."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pmdata.errors import PmdashError

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
TITLE_SEPARATOR = " › "  # how Playwright itself prints a title path
# test.status → the outcome we record per run
OUTCOMES = {"expected": "passed", "unexpected": "failed", "flaky": "flaky", "skipped": "skipped"}
RESULT_STATUSES = {"passed", "failed", "timedOut", "skipped", "interrupted"}


class ReportError(PmdashError):
    """The file is not a Playwright JSON report we can read; says which file and what is wrong."""


@dataclass(frozen=True)
class TestRun:
    name: str  # the title path, e.g. "cart › buying › adds an item"
    file: str
    line: int | None
    project_name: str
    outcome: str  # passed / failed / flaky / skipped
    final_status: str  # the last attempt's status: failed, timedOut, ...
    duration: int  # ms, all attempts together
    retries: int
    error: str | None = None
    stack: str | None = None


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
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else ""
        hint = " (truncated?)" if raw.rstrip()[-1:] not in (b"}", b"]") else ""
        raise ReportError(f"{path}: not JSON{where}{hint}: {exc}") from exc
    return parse_report(path, data, hashlib.sha256(raw).hexdigest())


def _need(cond: bool, path: Path, where: str, what: str) -> None:
    if not cond:
        raise ReportError(f"{path}: {where}: {what} — is this Playwright's --reporter=json output?")


def parse_report(path: Path, data: object, digest: str) -> Report:
    _need(isinstance(data, dict), path, "top level", "expected an object")
    assert isinstance(data, dict)
    _need(isinstance(data.get("suites"), list), path, "suites", "missing or not a list")
    stats = data.get("stats") or {}
    _need(isinstance(stats, dict), path, "stats", "not an object")
    report = Report(
        path,
        digest,
        _start_time(stats.get("startTime"), path),
        int(float(stats.get("duration") or 0)),
    )
    for i, suite in enumerate(data["suites"]):
        _walk(suite, [], f"suites[{i}]", report, top=True)
    for i, err in enumerate(data.get("errors") or []):
        # Errors outside any test (global setup, a file that fails to load) count as failures.
        _need(isinstance(err, dict), path, f"errors[{i}]", "expected an object")
        loc = err.get("location") or {}
        first_line = ((strip_ansi(err.get("message")) or "error").splitlines() or ["error"])[0]
        report.tests.append(
            TestRun(
                name=f"global setup › {first_line[:120]}",
                file=_relative(loc.get("file"), data),
                line=loc.get("line"),
                project_name="",
                outcome="failed",
                final_status="failed",
                duration=0,
                retries=0,
                error=strip_ansi(err.get("message")),
                stack=strip_ansi(err.get("stack")),
            )
        )
    projects = {t.project_name for t in report.tests if t.project_name}
    if len(projects) > 1:
        # One test runs once per Playwright project: keep the runs apart, as Playwright prints them.
        report.tests = [
            t if not t.project_name else _renamed(t, f"[{t.project_name}] {t.name}")
            for t in report.tests
        ]
    return report


def _renamed(t: TestRun, name: str) -> TestRun:
    return TestRun(
        name,
        t.file,
        t.line,
        t.project_name,
        t.outcome,
        t.final_status,
        t.duration,
        t.retries,
        t.error,
        t.stack,
    )


def _relative(file: str | None, data: dict) -> str | None:
    root = (data.get("config") or {}).get("rootDir")
    if file and root and file.startswith(root.rstrip("/") + "/"):
        return file[len(root.rstrip("/")) + 1 :]
    return file


def _start_time(value: object, path: Path) -> int:
    if not value:
        return int(path.stat().st_mtime)
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError as exc:
        raise ReportError(f"{path}: stats.startTime: not a date: {value!r}") from exc


def _walk(suite: object, titles: list[str], where: str, report: Report, top: bool) -> None:
    path = report.path
    _need(isinstance(suite, dict), path, where, "expected a suite object")
    assert isinstance(suite, dict)
    # The top-level suite is the file; its title is the file name, not a describe block.
    inner = titles if top else [*titles, str(suite.get("title", ""))]
    for j, spec in enumerate(suite.get("specs") or []):
        swhere = f"{where}.specs[{j}]"
        _need(
            isinstance(spec, dict) and isinstance(spec.get("tests"), list),
            path,
            swhere,
            "a spec needs a tests list",
        )
        name = TITLE_SEPARATOR.join([t for t in inner if t] + [str(spec.get("title", ""))])
        for k, test in enumerate(spec["tests"]):
            report.tests.append(_test_run(test, spec, name, f"{swhere}.tests[{k}]", path))
    for j, child in enumerate(suite.get("suites") or []):
        _walk(child, inner, f"{where}.suites[{j}]", report, top=False)


def _test_run(test: object, spec: dict, name: str, where: str, path: Path) -> TestRun:
    _need(isinstance(test, dict), path, where, "expected a test object")
    assert isinstance(test, dict)
    status = test.get("status")
    if status not in OUTCOMES:
        raise ReportError(
            f"{path}: {where}: unknown test status {status!r} "
            f"(expected one of {', '.join(OUTCOMES)})"
        )
    results = test.get("results") or []
    _need(isinstance(results, list), path, where, "results is not a list")
    for r, result in enumerate(results):
        _need(isinstance(result, dict), path, f"{where}.results[{r}]", "expected an object")
        if result.get("status") not in RESULT_STATUSES:
            raise ReportError(
                f"{path}: {where}.results[{r}]: unknown result status {result.get('status')!r}"
            )
    last = results[-1] if results else {}
    outcome = OUTCOMES[status]
    error = stack = None
    if outcome == "failed":
        err = last.get("error") or next(iter(last.get("errors") or []), None) or {}
        error = strip_ansi(err.get("message")) or f"Test {last.get('status', 'failed')}"
        stack = strip_ansi(err.get("stack"))
    return TestRun(
        name=name,
        file=spec.get("file") or "",
        line=spec.get("line"),
        project_name=test.get("projectName") or "",
        outcome=outcome,
        final_status=last.get("status", "skipped"),
        duration=int(sum(float(r.get("duration") or 0) for r in results)),
        retries=max(0, len(results) - 1),
        error=error,
        stack=stack,
    )
