"""No report can break a page: every field we read is checked before anything is written, a bad
one is one line naming the file and the problem (exit 2), and the same run is recorded once."""

import copy
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmdata.analytics import Analytics
from pmdata.cli import main
from pmdata.ingest.playwright_ingest import ingest_report
from pmdata.ingest.playwright_report import ReportError, parse_report_bytes
from pmdata.store import migrate
from tests.conftest import SHARED, dump, rows

NAN, INF = float("nan"), float("inf")  # json.dumps writes them as NaN and Infinity
GOOD = json.loads((SHARED / "fixtures" / "playwright" / "run-4.json").read_text())


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "claude.db"
    migrate(path)
    return path


def first_spec(data: dict) -> dict:
    return data["suites"][0]["suites"][0]["specs"][0]


def first_failed_result(data: dict) -> dict:
    for suite in data["suites"]:
        for child in [suite, *suite.get("suites", [])]:
            for spec in child.get("specs", []):
                for test in spec["tests"]:
                    for result in test["results"]:
                        if result.get("error"):
                            return result
    raise AssertionError("the fixture has a failed result")


def mutated(change) -> str:
    data = copy.deepcopy(GOOD)
    change(data)
    return json.dumps(data)


def _set(path_fn, key, value):
    return lambda d: path_fn(d).__setitem__(key, value)


def nested(depth: int) -> str:
    """Suites inside suites, `depth` of them (twice as deep in JSON: an object and a list)."""
    opening = '{"title": "deep", "specs": [], "suites": ['
    return '{"suites": [' + opening * depth + "]}" * depth + "]}"


BAD = {
    "line ten": (mutated(_set(first_spec, "line", "ten")), "line"),
    "line 10.5": (mutated(_set(first_spec, "line", 10.5)), "line"),
    "line 1e30": (mutated(_set(first_spec, "line", 1e30)), "line"),
    "line an object": (mutated(_set(first_spec, "line", {"n": 1})), "line"),
    "error location line": (
        mutated(lambda d: first_failed_result(d)["error"]["location"].__setitem__("line", "x")),
        "error.location.line",
    ),
    "errors[] location line": (
        mutated(lambda d: first_failed_result(d)["errors"][0]["location"].__setitem__("line", 2.5)),
        "errors[0].location.line",
    ),
    "duration abc": (mutated(_set(first_failed_result, "duration", "abc")), "duration"),
    "duration 1e300": (mutated(_set(first_failed_result, "duration", 1e300)), "duration"),
    "duration NaN": (mutated(_set(first_failed_result, "duration", NAN)), "duration"),
    "duration Infinity": (mutated(_set(first_failed_result, "duration", INF)), "duration"),
    "error a string": (mutated(_set(first_failed_result, "error", "boom")), "error"),
    "message a number": (
        mutated(lambda d: first_failed_result(d)["error"].__setitem__("message", 42)),
        "message",
    ),
    "projectName a list": (
        mutated(lambda d: first_spec(d)["tests"][0].__setitem__("projectName", ["chromium"])),
        "projectName",
    ),
    "stats.duration a string": (
        mutated(lambda d: d["stats"].__setitem__("duration", "long")),
        "stats.duration",
    ),
    "startTime not a date": (
        mutated(lambda d: d["stats"].__setitem__("startTime", "yesterday")),
        "startTime",
    ),
    "suites 450 deep (JSON 900)": (nested(450), "deep"),
    "suites 900 deep": (nested(900), "deep"),
    "JSON nested 100000 deep": ("[" * 100_000 + "]" * 100_000, "deep"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_report_is_one_line_exit_2_and_nothing_written(case, db, tmp_path, capsys):
    text, where = BAD[case]
    path = tmp_path / "bad.json"
    path.write_text(text)
    before = dump(db)
    code = main(["ingest", "playwright", str(path), "--project", "shop", "--db", str(db)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and str(path) in err and where in err, err
    assert "Traceback" not in err
    assert dump(db) == before


def test_a_good_report_still_reads_whole():
    report = parse_report_bytes(Path("run-4.json"), json.dumps(GOOD).encode())
    assert len(report.tests) == 7 and report.count("failed") == 3


def test_the_same_run_reported_twice_is_recorded_once(db, tmp_path, capsys):
    again = copy.deepcopy(GOOD)
    first_failed_result(again)["duration"] += 1  # the same run, written again
    path = tmp_path / "again.json"
    path.write_text(json.dumps(again))
    src = SHARED / "fixtures" / "playwright" / "run-4.json"
    args = ["--project", "shop", "--workflow", "e2e", "--run", "41", "--db", str(db)]
    assert main(["ingest", "playwright", str(src), *args]) == 0
    capsys.readouterr()
    assert main(["ingest", "playwright", str(path), *args]) == 0
    out = capsys.readouterr().out
    assert "e2e run 41 is already recorded" in out and "nothing added" in out
    assert rows(db, "SELECT count(*) FROM reports")[0][0] == 1
    # A CI retry of the job is another attempt at that run: it counts.
    assert main(["ingest", "playwright", str(path), *args, "--attempt", "2"]) == 0
    assert "e2e run 41 attempt 2 recorded" in capsys.readouterr().out
    assert rows(db, "SELECT run_number, run_attempt FROM reports ORDER BY id") == [
        (41, None),
        (41, 2),
    ]


def test_a_long_name_is_one_line_not_a_traceback(db, tmp_path, capsys):
    report = str(tmp_path / ("r" * 300 + ".json"))
    code = main(["ingest", "playwright", report, "--project", "x", "--db", str(db)])
    assert code == 2 and "File name too long" in capsys.readouterr().err


def test_the_dashboard_copy_survives_values_another_producer_wrote(db):
    src = SHARED / "fixtures" / "playwright" / "run-4.json"
    ingest_report(db, src, "shop", "e2e")
    con = sqlite3.connect(db)
    with con:  # SQLite keeps whatever it is given; the homelab's services are not ours
        con.execute("UPDATE test_failures SET line_number = 'ten' WHERE id = 1")
        con.execute("UPDATE test_results SET duration = 1e30 WHERE id = 1")
        con.execute("UPDATE reports SET duration_ms = 'abc'")
    analytics = Analytics(db, snapshot=True)  # a whole copy
    # Three failed tests and one that passed on retry.
    assert len(analytics.run("failing_tests")) == 4
    with con:  # then a new row, copied on its own
        con.execute(
            "INSERT INTO test_failures (report_id, test_name, line_number, error, created_at)"
            " SELECT report_id, test_name, 'x' || 10.5, error, created_at FROM test_failures"
            " WHERE id = 2"
        )
    con.close()
    assert len(analytics.run("failing_tests")) == 5
    copied = analytics._con.execute("SELECT line_number FROM snap.test_failures ORDER BY id")
    lines = [line for (line,) in copied.fetchall()]
    assert lines[0] is None and lines[-1] is None and all(isinstance(n, int) for n in lines[1:3])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec="utf-8")),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
FIELDS = ["line", "title", "file", "tests", "status", "projectName", "results"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=json_values, anywhere=json_values)
def test_any_json_is_read_whole_or_refused_in_one_line(field, value, anywhere):
    data = copy.deepcopy(GOOD)
    spec = first_spec(data)
    if field in ("status", "projectName", "results"):
        spec["tests"][0][field] = value
    else:
        spec[field] = value
    data["suites"].append(anywhere)
    raw = json.dumps(data).encode()
    try:
        report = parse_report_bytes(Path("r.json"), raw)
    except ReportError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("r.json: ")
        return
    for test in report.tests:  # what is accepted fits the columns it goes to
        assert test.line is None or (isinstance(test.line, int) and 0 <= test.line < 2**31)
        assert isinstance(test.duration, int) and 0 <= test.duration < 2**63
        assert isinstance(test.name, str) and isinstance(test.file, str)
