"""The shape of Playwright's JSON reporter output, as far as pmdash reads it (pydantic).

Every field we use is checked for its type and range before anything is written, so a value
the store accepts can never break a page later ("ten" as a line number, NaN as a duration).
Fields we do not use are ignored (and dropped), so newer Playwright versions keep working.
"""

from __future__ import annotations

from typing import Annotated, Literal, Required

from pydantic import Field, StrictInt, StrictStr, TypeAdapter, ValidationError
from typing_extensions import TypedDict

# A line or column in a source file; a duration in ms up to about four months. Anything past
# these is not a real report (1e30, 1e300) and would overflow a 64-bit column.
LineNumber = Annotated[StrictInt, Field(ge=0, le=10_000_000)]
Milliseconds = Annotated[float, Field(strict=True, ge=0, le=1e10, allow_inf_nan=False)]
TestStatus = Literal["expected", "unexpected", "flaky", "skipped"]
ResultStatus = Literal["passed", "failed", "timedOut", "skipped", "interrupted"]

# TypedDicts rather than models: the validated report stays plain dicts, and checking a
# 10,000-test report costs 0.4 s instead of 1.1 s. Names are Playwright's own.


class Location(TypedDict, total=False):
    file: StrictStr | None
    line: LineNumber | None
    column: LineNumber | None


class TestError(TypedDict, total=False):
    message: StrictStr | None
    stack: StrictStr | None
    location: Location | None
    snippet: StrictStr | None  # the source lines around `location`


class Attachment(TypedDict, total=False):
    name: StrictStr | None
    contentType: StrictStr | None
    path: StrictStr | None  # on the machine that ran the suite; inline bodies are not kept


class Annotation(TypedDict, total=False):
    type: StrictStr | None
    description: StrictStr | None


class Result(TypedDict, total=False):
    status: Required[ResultStatus]
    duration: Milliseconds
    error: TestError | None
    errors: list[TestError] | None
    errorLocation: Location | None
    attachments: list[Attachment] | None


class Test(TypedDict, total=False):
    projectName: StrictStr | None
    status: Required[TestStatus]
    results: list[Result] | None
    annotations: list[Annotation] | None  # {"type": "fail"}: test.fail(), expected to fail


class Spec(TypedDict, total=False):
    title: StrictStr
    file: StrictStr | None
    line: LineNumber | None
    tests: Required[list[Test]]


class Suite(TypedDict, total=False):
    title: StrictStr
    specs: list[Spec] | None
    suites: list[Suite] | None


class Stats(TypedDict, total=False):
    startTime: StrictStr | None
    duration: Milliseconds | None


class Config(TypedDict, total=False):
    rootDir: StrictStr | None


class PlaywrightReport(TypedDict, total=False):
    config: Config | None
    suites: Required[list[Suite]]
    errors: list[TestError] | None
    stats: Stats | None


REPORT = TypeAdapter(PlaywrightReport)


def first_problem(exc: ValidationError) -> str:
    """One line for the first thing wrong: where in the report, what, and the value found."""
    error = exc.errors(include_url=False)[0]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
    value = repr(error.get("input"))
    value = value if len(value) <= 60 else value[:57] + "..."
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where or 'top level'}: {error['msg']}, got {value}{more}"
