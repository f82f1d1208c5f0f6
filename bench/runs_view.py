"""The Errors page's Runs tab at 10,000 runs (target: ≤ 0.3 s for its two queries together).

10,000 runs of one workflow, each with 40 tests of which 8 fail (a few tests fail on and off,
so every run has newly failing, fixed and still failing tests): 80,000 failures and 400,000
per-test outcomes, in a fresh migrated database. Timed: the runs overview (pass rate, duration,
new / fixed / still failing against the previous run, 200 runs shown) and the comparison of two
runs, through the dashboard's DuckDB copy. Baseline, same run: `recent_runs` listing the same
200 runs without comparing anything.
"""

import random
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _timing import best  # noqa: E402

from pmdata.analytics import Analytics, load_query  # noqa: E402
from pmdata.store import migrate  # noqa: E402

RUNS, TESTS, FAILING = 10_000, 40, 8


def build(db: Path) -> None:
    migrate(db)
    rng = random.Random(15)
    con = sqlite3.connect(db)
    start = 1_700_000_000
    reports, failures, results = [], [], []
    for run in range(1, RUNS + 1):
        at = start + run * 600
        failed = set(rng.sample(range(TESTS), FAILING))
        reports.append(
            (
                run,
                "shop-e2e",
                run,
                f"h{run}",
                "r.json",
                TESTS,
                TESTS - FAILING,
                FAILING,
                0,
                "mixed",
                at,
                0,
                60_000,
                "shop",
            )
        )
        for test in range(TESTS):
            outcome = "failed" if test in failed else "passed"
            results.append((run, f"test {test}", "e2e/a.spec.ts", outcome, 900, at))
            if outcome == "failed":
                failures.append((run, f"test {test}", "e2e/a.spec.ts", f"Error: {test}", at))
    with con:
        con.executemany(
            "INSERT INTO reports (id, workflow_name, run_number, hash, file_path, total_tests,"
            " passed, failed, skipped, status, created_at, flaky, duration_ms, project)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            reports,
        )
        con.executemany(
            "INSERT INTO test_results (report_id, test_name, test_file, outcome, duration,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            results,
        )
        con.executemany(
            "INSERT INTO test_failures (report_id, test_name, test_file, error, created_at,"
            " outcome) VALUES (?, ?, ?, ?, ?, 'failed')",
            failures,
        )
    con.close()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "runs.db"
        build(db)
        with Analytics(db, snapshot=True) as analytics:
            analytics.refresh()

            def run(name, **params):
                query = load_query(name)
                return lambda: analytics.run_sql(query.sql, query.bind(params), name)

            baseline = best(run("recent_runs", limit=200))
            overview = best(run("runs_overview"))
            compare = best(run("run_compare", base=RUNS - 1, head=RUNS))
        both = overview + compare
        print(
            f"{RUNS:,} runs: overview {overview * 1000:.0f} ms + comparison {compare * 1000:.0f} ms"
            f" = {both * 1000:.0f} ms (target <= 300 ms); baseline recent_runs "
            f"{baseline * 1000:.0f} ms, ratio {both / baseline:.1f}x"
        )


if __name__ == "__main__":
    main()
