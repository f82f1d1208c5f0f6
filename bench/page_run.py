"""A page's script run at 1,000,000 failures: cold (a deep link as the first request to a
fresh server process, which opens the DuckDB copy kept on disk) and warm (a rerun with nothing
changed). Targets: ≤ 1.5 s cold, ≤ 0.3 s warm. Also printed: the one-time cost of making or
topping up the copy, and an Errors rerun after a triage decision was written (the copy topped
up, every query of the page re-run).

`python bench/page_run.py` runs every page, each in its own process, then the Errors page's Runs
tab and a test's own page; `... pages/errors.py [chart=Runs]` one view.
`python bench/page_run.py --real` runs every page and a deep link to each kind of item on data
nobody made up: the fixture OpenSpec trees plus a change of 500 tasks (against one of 5, the
baseline), and the fixture homelab database filled as tests/real_site.py fills it.
"""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from big_demo import big_db  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = ("pages/errors.py", "pages/all_work.py", "pages/specs.py", "pages/sessions.py")


def as_a_running_server() -> None:
    """AppTest resets Streamlit's legacy pages/ discovery before every run, so each run would
    also pay for the shell guard's rerun, which a server pays once in its life (see
    dashboard/shell.py): time what the server does on every request after its first."""
    from streamlit.runtime.pages_manager import PagesManager

    init = PagesManager.__init__

    def after_first_request(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = after_first_request


def timed_runs(page: str, **params) -> tuple[float, float]:
    """The page opened by its URL (a deep link), then rerun with nothing changed."""
    from streamlit.testing.v1 import AppTest

    from dashboard import readers

    at = AppTest.from_file(APP, default_timeout=600)
    at.query_params.update(params)
    start = time.perf_counter()
    at.switch_page(page).run()
    cold = time.perf_counter() - start
    # Warm means nothing changed: let the background parse and validation land first (their
    # verdicts are a change, which the page shows within 5 s).
    readers.index().settle()
    at.run()
    warm = []
    for _ in range(3):
        start = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - start)
    assert not at.exception, [e.value for e in at.exception]
    return cold, min(warm)


def make_the_kept_copy(db: Path) -> None:
    """What the first server ever on this database pays once (and a restart never again)."""
    from pmdata.analytics import Analytics, snapshot_file_for

    kept = snapshot_file_for(db)
    fresh = not kept.exists()
    start = time.perf_counter()
    with Analytics(db, snapshot=True, snapshot_file=kept) as analytics:
        analytics.refresh()
    what = "made" if fresh else "topped up"
    print(f"kept copy {what} in {time.perf_counter() - start:.1f} s ({kept})")


def write_while_down(db: Path) -> None:
    """A new run with 500 failures (copied from the latest run) and 20 hook events."""
    con = sqlite3.connect(db)
    now = int(time.time())
    with con:
        con.execute(
            "INSERT INTO reports (workflow_name, run_number, hash, file_path, total_tests, passed,"
            " failed, skipped, status, created_at, project) SELECT workflow_name, run_number + 1,"
            " hash || '-' || ?, file_path, total_tests, passed, failed, skipped, status, ?, project"
            " FROM reports ORDER BY id DESC LIMIT 1",
            (now, now),
        )
        report = con.execute("SELECT max(id) FROM reports").fetchone()[0]
        con.execute(
            "INSERT INTO test_failures (report_id, test_name, test_file, line_number, error,"
            " stack_trace, duration, retries, created_at) SELECT ?, test_name, test_file,"
            " line_number, error, stack_trace, duration, retries, ? FROM test_failures"
            " ORDER BY id DESC LIMIT 500",
            (report, now),
        )
        for _ in range(20):
            con.execute(
                "INSERT INTO hooks (session_id, hook_type, timestamp, tool_name)"
                " SELECT id, 'pre_tool_use', ?, 'Bash' FROM sessions LIMIT 1",
                (now,),
            )
    con.close()


def after_a_decision(db: Path) -> float:
    """A rerun of the Errors page after one triage decision was written."""
    from streamlit.testing.v1 import AppTest

    from pmdata.triage.service import override

    at = AppTest.from_file(APP, default_timeout=600)
    at.run()
    at.switch_page("pages/errors.py").run()
    from dashboard import readers

    readers.index().settle()  # the start-up parse and validation are not what is timed here
    con = sqlite3.connect(db)
    failure = con.execute(
        "SELECT test_failure_id FROM error_triage WHERE decided_by IS NULL LIMIT 1"
    ).fetchone()[0]
    con.close()
    override(db, failure, "ignore", "benchmark", None, "bench")
    start = time.perf_counter()
    at.run()
    return time.perf_counter() - start


def real_data() -> None:
    """Every page and item on the fixture trees and database, each view in a fresh process."""
    import shutil
    import tempfile

    sys.path.insert(0, str(ROOT))
    from change_page import PROJECT, TREES, add_change

    from tests import real_site

    with tempfile.TemporaryDirectory() as tmp:
        roots = Path(tmp) / "roots"
        shutil.copytree(TREES, roots, symlinks=True)
        add_change(roots, "bench-5-tasks", 5)
        add_change(roots, "bench-500-tasks", 500)
        db = real_site.build(Path(tmp))
        con = sqlite3.connect(db)
        failure = con.execute("SELECT min(id) FROM test_failures").fetchone()[0]
        session = con.execute("SELECT max(id) FROM sessions").fetchone()[0]
        con.close()
        env = {
            **os.environ,
            "PMDASH_DB": str(db),
            "PMDASH_PROJECT_ROOTS": str(roots),
            "PMDASH_STATE_DIR": str(Path(tmp) / "state"),
        }
        views = [(page, {}) for page in PAGES] + [
            ("pages/specs.py", {"project": PROJECT, "change": "bench-5-tasks"}),
            ("pages/specs.py", {"project": PROJECT, "change": "bench-500-tasks"}),
            ("pages/errors.py", {"project": "shop", "failure": str(failure)}),
            ("pages/sessions.py", {"session": str(session)}),
        ]
        for page, params in views:
            view = [page, *(f"{k}={v}" for k, v in params.items())]
            subprocess.run([sys.executable, __file__, "--view", *view], check=True, env=env)
    print("the 500-task change against the 5-task one is the ratio to read: 1.0 is the target")


def main():
    if sys.argv[1:2] == ["--real"]:
        real_data()
        return
    if sys.argv[1:2] == ["--view"]:  # one view of the real data, in this fresh process
        as_a_running_server()
        from streamlit.logger import set_log_level

        set_log_level("error")
        page, *pairs = sys.argv[2:]
        cold, warm = timed_runs(page, **dict(p.split("=", 1) for p in pairs))
        name = " ".join([page, *pairs])
        print(f"{name[:64]:64} cold {cold:5.2f} s (<= 1.5)  warm {warm:5.3f} s (<= 0.3)")
        return
    db = big_db()
    as_a_running_server()
    os.environ["PMDASH_DB"] = str(db)
    os.environ["PMDASH_PROJECT_ROOTS"] = str(db.parent / "projects")
    # Bare-mode warnings ("No runtime found") before each page would bury the figures.
    from streamlit.logger import set_log_level

    set_log_level("error")
    page = sys.argv[1] if len(sys.argv) > 1 else None
    if page is None:  # each page's cold run in a fresh process, as a server's first request
        make_the_kept_copy(db)
        for page in PAGES:
            subprocess.run([sys.executable, __file__, page], check=True)
        con = sqlite3.connect(db)
        runs = con.execute("SELECT count(*) FROM reports").fetchone()[0]
        workflow, test = con.execute(
            "SELECT r.workflow_name, f.test_name FROM test_failures f"
            " JOIN reports r ON r.id = f.report_id ORDER BY f.id DESC LIMIT 1"
        ).fetchone()
        con.close()
        print(f"the runs view over {runs:,} runs, and the page of the latest failure's test:")
        for view in (["chart=Runs"], [f"test={test}", f"workflow={workflow}"]):
            subprocess.run([sys.executable, __file__, "pages/errors.py", *view], check=True)
        # The usual restart: agents and test runs kept writing while the server was down.
        write_while_down(db)
        print("after writes while the server was down (a run of 500 failures, 20 hook events):")
        subprocess.run([sys.executable, __file__, "pages/errors.py"], check=True)
        print(f"{'pages/errors.py':24} after a triage decision {after_a_decision(db):6.2f} s")
        return
    params = dict(p.split("=", 1) for p in sys.argv[2:])
    cold, warm = timed_runs(page, **params)
    name = " ".join([page, *sys.argv[2:]])[:40]
    print(f"{name:40} cold {cold:6.2f} s (target <= 1.5)   warm {warm:6.3f} s (target <= 0.3)")


if __name__ == "__main__":
    main()
