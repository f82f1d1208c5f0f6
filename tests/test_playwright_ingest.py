import json
import sqlite3
import threading

import pytest

from pmdata.cli import main
from pmdata.ingest.playwright_ingest import ingest_report, watch
from pmdata.ingest.playwright_report import ReportError, read_report, strip_ansi
from pmdata.store import migrate
from tests.conftest import SHARED, rows, wait_for

REPORTS = sorted((SHARED / "fixtures" / "playwright").glob("run-*.json"))


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "claude.db"
    migrate(path)
    return path


def counts(db):
    return {
        t: rows(db, f"SELECT count(*) FROM {t}")[0][0]
        for t in ("reports", "test_failures", "test_results", "projects")
    }


def test_six_real_runs_give_the_rows_a_person_expects(db):
    for path in REPORTS:
        ingest_report(db, path, "shop", "shop-e2e")
    # 15 failed runs and 3 first attempts that failed before their retry passed.
    assert counts(db) == {"reports": 6, "test_failures": 18, "test_results": 42, "projects": 1}
    runs = rows(
        db,
        "SELECT run_number, total_tests, passed, failed, skipped, flaky, status"
        " FROM reports ORDER BY run_number",
    )
    assert runs[0] == (1, 7, 4, 2, 1, 0, "mixed")
    assert runs[3] == (4, 7, 3, 3, 1, 1, "mixed")  # a timeout and a flaky retry
    names = {
        n
        for (n,) in rows(
            db, "SELECT DISTINCT test_name FROM test_failures WHERE outcome = 'failed'"
        )
    }
    assert names == {
        "cart › buying › shows price total",
        "cart › slow checkout",
        "payment provider not implemented yet",
    }
    timeout = rows(
        db,
        "SELECT error, retries, line_number, test_file FROM test_failures"
        " WHERE test_name = 'cart › slow checkout' LIMIT 1",
    )[0]
    assert timeout[0].startswith("Test timeout of") and timeout[1] == 2
    assert timeout[2:] == (9, "e2e/checkout/cart.spec.ts")
    for error, stack in rows(db, "SELECT error, stack_trace FROM test_failures"):
        assert "\x1b" not in error and (stack is None or "\x1b" not in stack)
    flaky = rows(
        db,
        "SELECT count(*) FROM test_results WHERE outcome = 'flaky'"
        " AND test_name = 'cart › search box focus'",
    )[0][0]
    assert flaky == 3  # runs 2, 4 and 6: failed then passed on retry
    # Each keeps its first attempt's error, for triage (a race to fix), marked flaky.
    assert rows(
        db,
        "SELECT outcome, final_status, failed_in, error FROM test_failures"
        " WHERE test_name = 'cart › search box focus' LIMIT 1",
    ) == [("flaky", "failed", "test", "Error: Timed out waiting for selector #q after 1200ms")]
    assert rows(db, "SELECT count(*) FROM test_results WHERE outcome = 'skipped'")[0][0] == 6
    started = rows(db, "SELECT created_at FROM reports ORDER BY run_number")
    assert [s for (s,) in started] == sorted(s for (s,) in started)  # report time, not ingest time


def test_ingesting_the_same_report_again_adds_nothing(db):
    first = ingest_report(db, REPORTS[0], "shop")
    before = counts(db)
    again = ingest_report(db, REPORTS[0], "shop")
    assert not first.duplicate and again.duplicate
    assert counts(db) == before


def test_run_numbers_follow_per_workflow(db):
    ingest_report(db, REPORTS[0], "shop", "nightly")
    ingest_report(db, REPORTS[1], "shop", "nightly")
    ingest_report(db, REPORTS[2], "shop", "pr", run_number=41)
    assert rows(db, "SELECT workflow_name, run_number FROM reports ORDER BY id") == [
        ("nightly", 1),
        ("nightly", 2),
        ("pr", 41),
    ]


def test_fixture_database_accepts_reports_after_migrate(fixture_db):
    migrate(fixture_db)
    ingest_report(fixture_db, REPORTS[3], "Hook Test Project")
    assert rows(fixture_db, "SELECT count(*) FROM projects")[0][0] == 1  # joined, not created
    # Three failed tests and a first attempt that failed before its retry passed.
    assert rows(fixture_db, "SELECT count(*) FROM test_failures")[0][0] == 4


def test_ansi_codes_are_removed():
    assert (
        strip_ansi("Error: \x1b[2mexpect(\x1b[22m\x1b[31mlocator\x1b[39m")
        == "Error: expect(locator"
    )


def test_multiple_playwright_projects_stay_apart(tmp_path):
    data = json.loads(REPORTS[0].read_text())
    for suite in data["suites"]:
        for spec in suite.get("specs", []):
            clone = json.loads(json.dumps(spec["tests"][0]))
            clone["projectName"] = "firefox"
            spec["tests"].append(clone)
    path = tmp_path / "two.json"
    path.write_text(json.dumps(data))
    names = [t.name for t in read_report(path).tests]
    assert "[firefox] config loads" in names and "[chromium] config loads" in names


def broken_reports(tmp_path):
    good = REPORTS[3].read_text()
    data = json.loads(good)
    data["suites"][0]["suites"][0]["specs"][0]["tests"][0]["status"] = "exploded"
    cases = {
        "not-json.json": ("Hello, I am HTML <html>", "not JSON"),
        "truncated.json": (good[: len(good) // 2], "truncated"),
        "shape.json": (json.dumps({"tests": []}), "suites"),
        "list.json": ("[1, 2]", "expected an object"),
        "status.json": (json.dumps(data), "tests[0].status: Input should be 'expected'"),
        "empty.json": ("", "not JSON"),
    }
    for name, (text, _) in cases.items():
        (tmp_path / name).write_text(text)
    return {tmp_path / name: msg for name, (_, msg) in cases.items()}


def test_bad_reports_name_the_file_and_the_problem_and_write_nothing(db, tmp_path):
    ingest_report(db, REPORTS[0], "shop")
    before = counts(db)
    for path, message in broken_reports(tmp_path).items():
        with pytest.raises(ReportError) as caught:
            ingest_report(db, path, "shop")
        assert str(path) in str(caught.value) and message in str(caught.value)
    assert counts(db) == before


def test_failure_mid_write_leaves_nothing_half_written(db):
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON test_failures"
        " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    con.close()
    with pytest.raises(Exception, match="disk full"):
        ingest_report(db, REPORTS[0], "shop")
    assert counts(db) == {"reports": 0, "test_failures": 0, "test_results": 0, "projects": 0}


def test_command_line_ingests_and_reports_bad_input(db, tmp_path, capsys):
    assert (
        main(["ingest", "playwright", str(REPORTS[0]), "--project", "shop", "--db", str(db)]) == 0
    )
    assert "2 failures" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["ingest", "playwright", str(bad), "--project", "shop", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and len(err.strip().splitlines()) == 1


def test_watch_picks_up_new_reports(db, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "run-1.json").write_bytes(REPORTS[0].read_bytes())  # already there at start
    seen, stop = [], threading.Event()
    thread = threading.Thread(
        target=watch,
        args=(db, inbox, "shop", None, lambda p, r: seen.append((p.name, r))),
        kwargs={"stop": stop, "settle_seconds": 0.3},
    )
    thread.start()
    try:
        # The folder is watched before the first report is taken (watch() says so): once that
        # one is in, a new file cannot be missed.
        assert wait_for(lambda: seen, 10)
        (inbox / "run-2.json").write_bytes(REPORTS[1].read_bytes())
        (inbox / "junk.json").write_text("{")
        assert wait_for(lambda: len(seen) >= 3, 10)
    finally:
        stop.set()
        thread.join(timeout=10)
    names = {name for name, _ in seen}
    assert {"run-1.json", "run-2.json", "junk.json"} <= names
    assert rows(db, "SELECT count(*) FROM reports")[0][0] == 2
    assert any(isinstance(r, ReportError) for name, r in seen if name == "junk.json")


def test_errors_outside_tests_count_as_global_setup_failures(tmp_path):
    data = json.loads(REPORTS[0].read_text())
    data["errors"] = [
        {
            "message": "\x1b[31mError: connect ECONNREFUSED 127.0.0.1:5173\x1b[39m",
            "stack": "Error: connect ECONNREFUSED\n    at globalSetup (setup.ts:3:9)",
        }
    ]
    path = tmp_path / "global.json"
    path.write_text(json.dumps(data))
    failed = [t for t in read_report(path).tests if t.name.startswith("global setup")]
    assert len(failed) == 1 and failed[0].outcome == "failed"
    assert failed[0].name == "global setup › Error: connect ECONNREFUSED 127.0.0.1:5173"
    assert "globalSetup" in failed[0].stack


def test_a_report_ingested_from_the_command_line_is_classified_on_arrival(db, capsys):
    code = main(["ingest", "playwright", str(REPORTS[3]), "--project", "shop", "--db", str(db)])
    out = capsys.readouterr().out
    assert code == 0 and "classified 4 new failure(s)" in out and "1 flaky (passed on retry)" in out
    triaged = rows(db, "SELECT count(*) FROM error_triage WHERE suggested_decision IS NOT NULL")
    assert triaged == [(4,)] == rows(db, "SELECT count(*) FROM test_failures")
    # The same report again adds nothing and classifies nothing.
    main(["ingest", "playwright", str(REPORTS[3]), "--project", "shop", "--db", str(db)])
    assert "classified" not in capsys.readouterr().out
