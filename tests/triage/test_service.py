"""Triage on real data: the six fixture Playwright runs ingested into a real SQLite file."""

import json
import sqlite3

import pytest

from pmdata.analytics import Analytics
from pmdata.cli import main
from pmdata.ingest.playwright_ingest import ingest_report
from pmdata.openspec.tree import OpenSpecTree
from pmdata.store import migrate
from pmdata.triage import service
from pmdata.triage.proposals import create_proposal_from_failure, draft_from_failure
from tests.conftest import SHARED, rows

REPORTS = sorted((SHARED / "fixtures" / "playwright").glob("run-*.json"))


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "claude.db"
    migrate(path)
    for report in REPORTS:
        ingest_report(path, report, "shop")
    return path


def decisions(db):
    return {
        name: (decision, priority, rules)
        for name, decision, priority, rules in rows(
            db,
            "SELECT f.test_name, t.decision, t.priority, t.suggested_rules FROM error_triage t"
            " JOIN test_failures f ON f.id = t.test_failure_id",
        )
    }


def test_each_failing_fixture_test_gets_the_decision_a_careful_person_would(db):
    assert service.run_triage(db) == {"classified": 18, "refreshed": 0}
    got = decisions(db)
    # Failed all six runs: a real, steady bug in checked behaviour.
    assert got["cart › buying › shows price total"] == (
        "needs_spec",
        5,
        "PERSISTENT,RECURRING,E2E_PATH",
    )
    # Says so itself: the feature is missing.
    assert got["payment provider not implemented yet"][0] == "needs_spec"
    assert "NOT_IMPLEMENTED" in got["payment provider not implemented yet"][2]
    # Passed three runs, then timed out three in a row: recurring, not yet persistent.
    assert got["cart › slow checkout"][:2] == ("needs_spec", 5)
    assert got["cart › slow checkout"][2].startswith("RECURRING")
    # Passed on retry in three runs: a race to fix, triaged like any failure (issue 15).
    assert got["cart › search box focus"][:2] == ("one_off_fix", 4)
    assert got["cart › search box focus"][2] == "FLAKY,E2E_PATH"
    rationale = rows(db, "SELECT rationale FROM error_triage LIMIT 1")[0][0]
    assert rationale.endswith(".") and "PERSISTENT" in rationale


def test_a_batch_suggests_what_each_failure_gets_on_its_own(db):
    """`classify_rows` works out each test's facts once per batch; that must not change a
    suggestion. Two failures added by hand: an unfiled test with digits in a non-ASCII
    message, and one whose error says the feature is missing."""
    from pmdata.triage.fingerprint import code_place, fingerprint, machine_target
    from pmdata.triage.rules import Failure, History
    from pmdata.triage.suggestions import classify

    con = sqlite3.connect(db)
    report_id = con.execute("SELECT max(id) FROM reports").fetchone()[0]
    con.executemany(
        "INSERT INTO test_failures (report_id, test_name, test_file, error, stack_trace,"
        " created_at) VALUES (?, ?, ?, ?, ?, 1700000000)",
        [
            (report_id, "panier › total", None, "Échec : 3 articles ≠ 4 € (essai 12)", None),
            (report_id, "cart › pays", "e2e/pay.spec.ts", "Error: not implemented", "at it"),
        ],
    )
    con.commit()
    con.close()
    with Analytics(db) as analytics:
        failures = analytics.run("untriaged_failures", failure_id=None)
        known = service.histories(analytics)
    batch = service.classify_rows(failures, known, {}, service.DEFAULT_THRESHOLDS)
    assert len(batch) == len(failures) == 20
    first = History(occurrences=1, runs=1, consecutive_failures=1)
    for row, got in zip(failures.itertuples(index=False), batch, strict=True):
        key = (row.workflow_name, row.test_file, row.test_name)
        failure = Failure(
            row.test_name,
            row.test_file,
            row.error,
            row.stack_trace,
            row.error_snippet,
            row.failed_in,
            row.final_status,
        )
        location = row.error_location if isinstance(row.error_location, str) else None
        target = "" if location else machine_target(row.error)
        place = code_place(location, row.error_snippet, row.stack_trace, target)
        assert got.failure_id == row.failure_id and got.key == key
        assert got.fingerprint == fingerprint(row.error, place)
        record = known.get(key)
        history = record.history if record else first
        # The batch counts the test's different errors, its own included.
        prints = (record.fingerprints if record else frozenset()) | {got.fingerprint}
        history = history._replace(distinct_errors=len(prints))
        assert got.suggestion == classify(history, failure)
    by_test = {item.key[2]: item.suggestion for item in batch}
    assert "NOT_IMPLEMENTED" in by_test["cart › pays"].rules
    assert by_test["panier › total"].rules[0] == "NEW"


def test_triage_run_is_idempotent_and_never_overwrites_a_person(db):
    service.run_triage(db)
    failure_id = rows(db, "SELECT min(test_failure_id) FROM error_triage")[0][0]
    service.override(db, failure_id, "ignore", "known upstream outage", 1, who="ana")
    before = rows(db, "SELECT * FROM error_triage ORDER BY id")
    assert service.run_triage(db) == {"classified": 0, "refreshed": 0}
    assert service.run_triage(db, refresh=True)["refreshed"] == 17
    after = rows(db, "SELECT * FROM error_triage ORDER BY id")
    person = [r for r in after if r[1] == failure_id][0]
    assert person == [r for r in before if r[1] == failure_id][0]
    assert person[2] == "ignore"  # decision
    assert (
        rows(
            db, "SELECT suggested_decision FROM error_triage WHERE test_failure_id = ?", failure_id
        )[0][0]
        == "needs_spec"
    )  # kept beside it


def test_agreement_overall_per_rule_and_week(db):
    service.run_triage(db)
    ids = [r[0] for r in rows(db, "SELECT test_failure_id FROM error_triage ORDER BY id")]
    for failure_id in ids[:3]:
        service.override(
            db, failure_id, "needs_spec", "agreed: real bug", who="ana", when=1795000000
        )
    service.override(db, ids[3], "one_off_fix", "just bump the timeout", who="ana", when=1795000000)
    with Analytics(db) as analytics:
        frame = service.agreement(analytics)
    overall = frame[frame.scope == "overall"].iloc[0]
    # Failures 1 and 2 were suggested needs_spec, 3 (flaky) one_off_fix, 4 needs_spec.
    assert (overall.reviewed, overall.kept, overall.agreement) == (4, 2, 0.5)
    assert set(frame[frame.scope == "rule"].bucket) == {"PERSISTENT", "NOT_IMPLEMENTED", "FLAKY"}
    assert list(frame[frame.scope == "week"].bucket) == ["2026-W47"]


def test_a_later_failure_repeats_what_a_person_decided(db, tmp_path):
    service.run_triage(db)
    failure_id = rows(
        db,
        "SELECT test_failure_id FROM error_triage t JOIN test_failures f"
        " ON f.id = t.test_failure_id WHERE f.test_name = 'cart › slow checkout'"
        " LIMIT 1",
    )[0][0]
    service.override(db, failure_id, "one_off_fix", "raise the timeout", who="ana")
    con = sqlite3.connect(db)
    con.execute("DELETE FROM error_triage WHERE test_failure_id != ?", (failure_id,))
    con.commit()
    con.close()
    service.run_triage(db)
    again = rows(
        db,
        "SELECT t.decision, t.suggested_rules FROM error_triage t JOIN test_failures f"
        " ON f.id = t.test_failure_id WHERE f.test_name = 'cart › slow checkout'"
        " AND t.decided_by IS NULL",
    )
    assert again and all(d == "one_off_fix" and r.startswith("PRIOR_DECISION") for d, r in again)


def test_group_triage_decides_a_whole_fingerprint(db):
    service.run_triage(db)
    fp, count = rows(
        db, "SELECT fingerprint, count(*) FROM error_triage GROUP BY 1 ORDER BY 2 DESC"
    )[0]
    changed = service.triage_group(db, fp, "one_off_fix", "same root cause", 2, who="bo")
    assert changed == count == 6
    assert rows(
        db,
        "SELECT DISTINCT decision, priority, decided_by FROM error_triage WHERE fingerprint = ?",
        fp,
    ) == [("one_off_fix", 2, "bo")]
    assert rows(db, "SELECT count(*) FROM error_triage WHERE decided_by IS NULL")[0][0] == 12


def test_bad_overrides_are_refused_and_change_nothing(db):
    service.run_triage(db)
    before = rows(db, "SELECT * FROM error_triage")
    with pytest.raises(service.TriageError, match="decision must be one of"):
        service.override(db, 1, "fix_it", "x")
    with pytest.raises(service.TriageError, match="priority must be 1 to 5"):
        service.override(db, 1, "ignore", "x", 9)
    with pytest.raises(service.TriageError, match="needs a rationale"):
        service.override(db, 1, "ignore", "  ")
    with pytest.raises(service.TriageError, match="no failure with id 999"):
        service.override(db, 999, "ignore", "x")
    assert rows(db, "SELECT * FROM error_triage") == before


def test_assign_a_session_one_session_one_work_item(db):
    service.run_triage(db)
    con = sqlite3.connect(db)
    con.execute("INSERT INTO sessions (id, project_id, agent_id) VALUES (7, 1, 'agent-7')")
    con.commit()
    con.close()
    service.assign_session(db, 1, 7)
    assert rows(db, "SELECT work_item, session_type FROM sessions WHERE id = 7") == [
        ("error:1", "error_remediation")  # failure 1, the id in its page's URL
    ]
    service.assign_session(db, 1, 7)  # the same item again is fine
    with pytest.raises(service.TriageError, match="one session, one work item"):
        service.assign_session(db, 2, 7)
    with pytest.raises(service.TriageError, match="no session with id 8"):
        service.assign_session(db, 2, 8)


def test_proposal_from_a_failure_is_valid_openspec_and_linked(db, tmp_path):
    service.run_triage(db)
    with Analytics(db) as analytics:
        failure = analytics.run("untriaged_failures", failure_id=1).iloc[0].to_dict()
        history = analytics.run("test_history", test_name=failure["test_name"]).iloc[0].to_dict()
    draft = draft_from_failure(failure, history)
    assert "failed 6 times in 6 runs" in draft.why and draft.title == "Fix shows price total"
    openspec = tmp_path / "shop" / "openspec"
    (openspec / "specs").mkdir(parents=True)
    change_id = create_proposal_from_failure(db, openspec, 1, draft)
    assert rows(db, "SELECT spec_change_id FROM error_triage WHERE test_failure_id = 1") == [
        (change_id,)
    ]
    from pmdata.openspec.validate import validate_change

    tree = OpenSpecTree(openspec)
    assert validate_change(tree.changes_dir / change_id, tree.specs_dir)["valid"]


def test_history_derived_from_reports_when_outcomes_are_missing(db):
    """A database the Playwright server filled has only failures: runs come from reports."""
    con = sqlite3.connect(db)
    con.execute("DELETE FROM test_results")
    con.commit()
    con.close()
    with Analytics(db) as analytics:
        history = analytics.run("test_history").set_index("test_name")
    slow = history.loc["cart › slow checkout"]
    assert (slow.source, slow.occurrences, slow.runs, slow.consecutive_failures) == (
        "reports",
        3,
        3,
        3,
    )
    service.run_triage(db)
    rationale = rows(
        db,
        "SELECT t.rationale FROM error_triage t JOIN test_failures f"
        " ON f.id = t.test_failure_id WHERE f.test_name = 'cart › slow checkout'",
    )
    assert "derived from the workflow's reports" in rationale[0][0]


def test_history_counts_streaks_and_flips_like_a_person(tmp_path):
    """Runs F P F F: 3 occurrences, streak 2, flips 2 — checked in both DuckDB and SQLite."""
    db = tmp_path / "h.db"
    migrate(db)
    con = sqlite3.connect(db)
    for run, outcome in enumerate(["failed", "passed", "failed", "failed"], start=1):
        cur = con.execute(
            "INSERT INTO reports (workflow_name, hash, file_path, created_at)"
            " VALUES ('w', ?, 'f', ?)",
            (f"h{run}", 1000 + run),
        )
        con.execute(
            "INSERT INTO test_results (report_id, test_name, test_file, outcome, created_at)"
            " VALUES (?, 't', 'e2e/a.ts', ?, ?)",
            (cur.lastrowid, outcome, 1000 + run),
        )
        if outcome == "failed":
            con.execute(
                "INSERT INTO test_failures (report_id, test_name, test_file, error, created_at)"
                " VALUES (?, 't', 'e2e/a.ts', 'Error: no', ?)",
                (cur.lastrowid, 1000 + run),
            )
    con.commit()
    from pmdata.analytics import load_query

    sql = load_query("test_history").sql
    in_sqlite = con.execute(sql, {"workflow": None, "test_name": None}).fetchall()
    con.close()
    with Analytics(db, snapshot=True) as analytics:
        row = analytics.run("test_history").iloc[0]
    assert (row.occurrences, row.runs, row.consecutive_failures, row.flips) == (3, 4, 2, 2)
    assert in_sqlite[0][6:12] == (3, 4, 0.75, 2, 0, 2)


def test_cli_suggest_run_agreement(db, capsys):
    assert main(["triage", "suggest", "--json", "--db", str(db)]) == 0
    suggestions = json.loads(capsys.readouterr().out)["suggestions"]
    assert len(suggestions) == 18 and rows(db, "SELECT count(*) FROM error_triage")[0][0] == 0
    assert main(["triage", "suggest", "--failure", "9", "--db", str(db)]) == 0
    assert "slow checkout" in capsys.readouterr().out
    assert main(["triage", "run", "--db", str(db)]) == 0
    assert "classified 18" in capsys.readouterr().out
    assert main(["triage", "agreement", "--db", str(db)]) == 0
    assert "no person has reviewed" in capsys.readouterr().out
    assert (
        main(
            [
                "triage",
                "override",
                "--failure",
                "1",
                "--decision",
                "ignore",
                "--rationale",
                "dup",
                "--db",
                str(db),
            ]
        )
        == 0
    )
    assert main(["triage", "agreement", "--db", str(db)]) == 0
    assert "0/1" in capsys.readouterr().out
