"""History queries at 1,000,000 failures: DuckDB on its snapshot vs the same SQL in SQLite.

Targets: ≤ 0.25 s per query and ≥ 4× faster than SQLite's own engine running the same text.
Queries: one project's per-test history, one test's history (what triage and a failure's page
read), the most failing tests and the daily trend; the all-tests history (what `triage run`
reads once per batch) is printed too, as a batch figure. Each is the same text in both engines
(queries marked "Portable SQL"), with the same parameters, clock included.
"""

import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _timing import best  # noqa: E402
from big_demo import big_db  # noqa: E402

from pmdata.analytics import Analytics, load_query, snapshot_file_for  # noqa: E402


def main():
    db = big_db()
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    failures = con.execute("SELECT count(*) FROM test_failures").fetchone()[0]
    workflow = con.execute("SELECT workflow_name FROM reports LIMIT 1").fetchone()[0]
    test = con.execute("SELECT test_name FROM test_failures ORDER BY id DESC LIMIT 1").fetchone()[0]
    # The copy the dashboard keeps on disk (made once, then topped up with new rows).
    analytics = Analytics(db, snapshot=True, snapshot_file=snapshot_file_for(db))
    start = time.perf_counter()
    analytics.refresh()
    print(
        f"{failures:,} failures; DuckDB copy opened and brought up to date in "
        f"{time.perf_counter() - start:.1f} s"
    )
    cases = [
        ("project history", "test_history", {"workflow": workflow, "test_name": None}),
        ("one test's history", "test_history", {"workflow": None, "test_name": test}),
        ("most failing tests", "failures_by_test", {"workflow": None, "days": 30, "limit": 100}),
        ("failure trend by day", "failure_trend_by_day", {"workflow": None, "days": 30}),
        ("all tests (batch)", "test_history", {"workflow": None, "test_name": None}),
    ]
    for label, name, params in cases:
        query = load_query(name)
        bound = query.bind(params)  # one clock for both engines
        duck = best(lambda q=query, p=bound: analytics.run_sql(q.sql, p, q.name))
        lite = best(lambda q=query, p=bound: con.execute(q.sql, p).fetchall(), runs=1)
        print(
            f"{label:22} duckdb {duck * 1000:8.1f} ms   sqlite {lite * 1000:9.1f} ms   "
            f"{lite / duck:5.1f}x faster"
        )


if __name__ == "__main__":
    main()
