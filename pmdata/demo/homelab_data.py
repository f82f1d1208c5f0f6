"""Fills a migrated homelab database with 30 days of runs, failures, triage, sessions and hooks."""

from __future__ import annotations

import hashlib
import json
import math
import random
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

DAY = 86400
TOOLS = ["Read", "Edit", "Bash", "Grep", "Write", "Glob"]

# How often a test of each pattern fails in `runs` runs; each pattern is one the triage rules know.
PATTERNS = {
    "stable": "always passes",
    "skipped": "always skipped (fixme)",
    "persistent": "fails in every one of the latest runs",
    "recurring": "fails now and then",
    "flaky": "fails then passes on retry; sometimes fails outright",
    "alternating": "passes and fails in turn on the same code",
    "new": "fails for the first time in the latest run",
    "setup": "fails in beforeEach / global setup",
    "not_implemented": "fails with 'feature not implemented'",
    "chronic": "fails in about half the runs (large data sets)",
}
DEMO_MIX = [
    ("stable", 12),
    ("skipped", 1),
    ("persistent", 1),
    ("recurring", 2),
    ("flaky", 2),
    ("alternating", 1),
    ("new", 1),
    ("setup", 1),
    ("not_implemented", 1),
]
SCALE_MIX = [("stable", 4), ("chronic", 4), ("recurring", 1), ("flaky", 1), ("persistent", 1)]
AREAS = ["auth", "cart", "checkout", "search", "profile", "reports", "billing", "settings"]
ACTIONS = [
    "signs in",
    "adds an item",
    "removes an item",
    "applies a discount",
    "shows totals",
    "filters by category",
    "exports csv",
    "uploads avatar",
    "pays by card",
    "resets password",
    "keeps the session",
    "renders the empty state",
    "paginates results",
    "saves preferences",
]


@dataclass(frozen=True)
class DemoTest:
    file: str
    line: int
    name: str  # title path as Playwright shows it: "cart › buying › adds an item"
    pattern: str
    seed: int


def make_tests(rng: random.Random, count: int, mix: list[tuple[str, int]]) -> list[DemoTest]:
    patterns = [p for p, weight in mix for _ in range(weight)]
    tests, seen = [], set()
    for i in range(count):
        area = rng.choice(AREAS)
        folder = "e2e" if rng.random() < 0.3 else ("integration" if rng.random() < 0.2 else "ui")
        name = (
            f"{area} › {rng.choice(['happy path', 'edge cases', 'guest'])} › {rng.choice(ACTIONS)}"
        )
        if name in seen:
            name = f"{name} #{i}"
        seen.add(name)
        pattern = patterns[i % len(patterns)] if i < len(patterns) else rng.choice(patterns)
        tests.append(
            DemoTest(
                f"tests/{folder}/{area}.spec.ts",
                rng.randint(5, 400),
                name,
                pattern,
                rng.getrandbits(32),
            )
        )
    return tests


def outcome(test: DemoTest, run: int, runs: int) -> str:
    """passed / failed / flaky / skipped for `test` in run `run` (0-based) of `runs`."""
    r = random.Random(test.seed * 1_000_003 + run).random()
    latest = runs - 1 - run  # 0 for the newest run
    p = test.pattern
    if p == "skipped":
        return "skipped"
    if p == "persistent":
        return "failed" if latest < 8 else "passed"
    if p == "not_implemented":
        return "failed" if latest < 6 else "passed"
    if p == "new":
        return "failed" if latest == 0 else "passed"
    if p == "recurring":
        return "failed" if r < 0.15 else "passed"
    if p == "setup":
        return "failed" if r < 0.1 else "passed"
    if p == "flaky":
        return "flaky" if r < 0.25 else ("failed" if r < 0.32 else "passed")
    if p == "alternating":
        return "failed" if latest < 10 and run % 2 else "passed"
    if p == "chronic":
        return "failed" if r < 0.5 else "passed"
    return "passed"


def error_for(test: DemoTest, run: int) -> tuple[str, str]:
    """(message, stack) in the shape Playwright reports them, ANSI codes already removed."""
    line = test.line
    where = f"    at {test.file}:{line}:{7 + run % 5}"
    if test.pattern == "not_implemented":
        return (
            "Error: feature not implemented: discount codes",
            f"Error: feature not implemented\n{where}",
        )
    if test.pattern == "setup":
        return (
            "Error: page.goto: net::ERR_CONNECTION_REFUSED at http://localhost:3000/login",
            f"Error: page.goto: net::ERR_CONNECTION_REFUSED\n    at beforeEach ({test.file}:12:16)",
        )
    if test.pattern in ("flaky", "alternating"):
        return (
            f"TimeoutError: locator.click: Timeout {5000 + 1000 * (run % 3)}ms exceeded.",
            f"TimeoutError: locator.click: Timeout exceeded.\n{where}",
        )
    return (
        "Error: expect(received).toBe(expected)\n\n"
        f"Expected: {run % 7 + 2}\nReceived: {run % 7 + 1}",
        f"Error: expect(received).toBe(expected)\n{where}",
    )


def runs_schedule(now: int, days: int, runs: int) -> list[int]:
    """Run start times spread evenly over the last `days` days, oldest first."""
    step = days * DAY / runs
    return [int(now - days * DAY + step * (i + 1) - 600) for i in range(runs)]


def fill_runs(
    con: sqlite3.Connection, project: str, tests: list[DemoTest], times: list[int], tick=None
) -> int:
    """Reports, failures and per-run outcomes for one project; returns the number of failures."""
    workflow = f"{project}-e2e"
    failures = 0
    for run, started in enumerate(times):
        results = [(t, outcome(t, run, len(times))) for t in tests]
        counts = {
            k: sum(1 for _, o in results if o == k)
            for k in ("passed", "failed", "flaky", "skipped")
        }
        passed = counts["passed"] + counts["flaky"]
        status = "passed" if not counts["failed"] else ("failed" if not passed else "mixed")
        digest = hashlib.sha256(f"{project}/{run}".encode()).hexdigest()
        cur = con.execute(
            "INSERT INTO reports (workflow_name, run_number, hash, file_path, total_tests, passed,"
            " failed, skipped, status, created_at, flaky, duration_ms, project)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                workflow,
                run + 1,
                digest,
                f"reports/{workflow}/run-{run + 1}.json",
                len(tests),
                passed,
                counts["failed"],
                counts["skipped"],
                status,
                started,
                counts["flaky"],
                60_000 + 900 * len(tests),
                project,
            ),
        )
        report_id = cur.lastrowid
        con.executemany(
            "INSERT INTO test_results (report_id, test_name, test_file, line_number, project_name,"
            " outcome, duration, retries, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    report_id,
                    t.name,
                    t.file,
                    t.line,
                    "chromium",
                    o,
                    400 + t.seed % 4000,
                    0 if o in ("passed", "skipped") else 2,
                    started,
                )
                for t, o in results
            ],
        )
        failed_rows = []
        for t, o in results:
            if o != "failed":
                continue
            message, stack = error_for(t, run)
            failed_rows.append(
                (
                    report_id,
                    t.name,
                    t.file,
                    t.line,
                    message,
                    stack,
                    30_000 if "Timeout" in message else 800 + t.seed % 3000,
                    2,
                    started + 60,
                )
            )
        con.executemany(
            "INSERT INTO test_failures (report_id, test_name, test_file, line_number, error,"
            " stack_trace, duration, retries, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            failed_rows,
        )
        failures += len(failed_rows)
        if tick:
            tick(len(failed_rows))
    return failures


def fill_stale_history(con: sqlite3.Connection, as_of: int) -> None:
    """failure_history as the Playwright server would have kept it — three days behind."""
    con.execute(
        "INSERT OR IGNORE INTO failure_history (test_name, test_file, line_number, first_seen,"
        " last_seen, occurrences, consecutive_failures, total_runs, classification_type)"
        " SELECT f.test_name, min(f.test_file), min(f.line_number), min(f.created_at),"
        " max(f.created_at), count(*), 1, count(*),"
        " CASE WHEN count(*) >= 3 THEN 'RECURRING' ELSE 'NEW' END"
        " FROM test_failures f WHERE f.created_at < ? GROUP BY f.test_name",
        (as_of,),
    )


def agent_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hook_events(
    rng: random.Random, start: int, end: int, finished: bool
) -> Iterator[
    tuple[str, int, str | None, str | None, int | None, int | None, str | None, str | None]
]:
    """(hook_type, timestamp, tool, input, duration_ms, success, error, tool_use_id) in order."""
    yield ("session_start", start, None, None, None, 1, None, None)
    yield ("user_prompt_submit", start + 2, None, "Fix the failing tests", None, 1, None, None)
    calls = max(3, (end - start) // 45)
    t = start + 5
    for _ in range(min(calls, 60)):
        tool = rng.choice(TOOLS)
        use_id = f"toolu_{rng.getrandbits(64):016x}"
        arg = (
            {"file_path": f"src/{rng.choice(AREAS)}.ts"}
            if tool != "Bash"
            else {"command": "npm test"}
        )
        duration = rng.randint(40, 9000 if tool == "Bash" else 900)
        ok = rng.random() > (0.25 if tool == "Bash" else 0.05)
        yield ("pre_tool_use", t, tool, json.dumps(arg), None, None, None, use_id)
        t_post = t + max(1, math.ceil(duration / 1000))
        yield (
            "post_tool_use",
            t_post,
            tool,
            json.dumps(arg),
            duration,
            int(ok),
            None if ok else "Command failed with exit code 1",
            use_id,
        )
        t = t_post + rng.randint(3, 40)
        if t >= end:
            break
    if finished:
        yield ("session_stop", end - 1, None, None, None, 1, None, None)
        yield ("session_end", end, None, None, None, 1, None, None)


MODELS = ("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5")


def api_requests(agent: str, start: int, end: int) -> Iterator[tuple]:
    """What a session's model calls cost, as Claude Code's telemetry reports them (agent_usage):
    (record_key, agent_id, source, kind, model, at, cost_usd, input, output, cache_read,
    cache_creation, duration_ms). Seeded by the session, so adding it changes no other draw."""
    rng = random.Random(agent)
    model = rng.choice(MODELS)
    per_million = {"claude-opus-4-1": 15.0, "claude-sonnet-4-5": 3.0, "claude-haiku-4-5": 1.0}[
        model
    ]
    t, n = start + 3, 0
    while t < end:
        inputs, outputs = rng.randint(200, 4000), rng.randint(50, 1500)
        cached = rng.randint(5_000, 60_000)
        cost = (inputs + outputs * 5 + cached * 0.1) * per_million / 1_000_000
        yield (f"demo-{agent}-{n}", agent, "event", "api_request", model, t, round(cost, 6),
               inputs, outputs, cached, rng.randint(0, 3000), rng.randint(800, 12_000))  # fmt: skip
        t += rng.randint(20, 120)
        n += 1
