"""Remediation end to end on the real fixtures: Playwright reports ingested into a migrated copy
of the homelab database, the classifier's triage, a real `pmdata hook` process claiming the
session, and later reports settling the rerun."""

import json
import os
from datetime import UTC, datetime

import pytest

from pmdata.analytics import Analytics
from pmdata.ingest.playwright_ingest import ingest_report
from pmdata.remediation import RemediationError, start_remediation, update_attempt
from pmdata.store import migrate
from pmdata.triage.service import run_triage
from tests.conftest import SHARED, rows
from tests.test_hooks import FULL, SESSION, send

RUNS = SHARED / "fixtures" / "playwright"
SLOW = "cart › slow checkout"  # passes in runs 1–3, fails in 4–6


def started_at(run: int) -> int:
    stamp = json.loads((RUNS / f"run-{run}.json").read_text())["stats"]["startTime"]
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())


def rerun_of(run: int, at: int, folder) -> object:
    """Run N's report as if the suite ran again at `at` (a new file: a new report)."""
    data = json.loads((RUNS / f"run-{run}.json").read_text())
    data["stats"]["startTime"] = datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")
    path = folder / f"rerun-of-{run}-at-{at}.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def shop(fixture_db):
    """The fixture database, migrated, with run 4 (slow checkout fails) ingested and triaged."""
    migrate(fixture_db)
    ingest_report(fixture_db, RUNS / "run-4.json", project="shop")
    run_triage(fixture_db)
    return fixture_db


def slow_failure(db) -> int:
    return rows(db, "SELECT max(id) FROM test_failures WHERE test_name = ?", SLOW)[0][0]


def attempt(db, attempt_id):
    [row] = rows(
        db,
        "SELECT status, claude_session_id, rerun_report_id, rerun_passed, completed_at,"
        " fix_description, pr_url FROM remediation_attempts WHERE id = ?",
        attempt_id,
    )
    return row


def test_starting_a_remediation_makes_a_waiting_session_and_a_pending_attempt(shop):
    failure = slow_failure(shop)
    started = start_remediation(shop, failure, now=started_at(4) + 60)
    [(agent, status, kind, item, started_col)] = rows(
        shop,
        "SELECT agent_id, status, session_type, work_item, started_at FROM sessions WHERE id = ?",
        started.session_id,
    )
    assert kind == "error_remediation" and item == f"error:{failure}"
    assert started_col is None  # no agent yet
    assert started.command == f"PMDASH_WORK_ITEM=error:{failure} claude"
    status_, claude_id, *_ = attempt(shop, started.attempt_id)
    assert status_ == "pending" and claude_id == agent
    assert rows(
        shop, "SELECT assigned_session_id FROM error_triage WHERE test_failure_id = ?", failure
    ) == [(started.session_id,)]
    with Analytics(shop) as analytics:
        states = analytics.run("failing_tests").set_index("test_name")["remediation"]
    assert states[SLOW] == "pending"


def test_a_second_start_on_the_same_failure_is_refused(shop):
    failure = slow_failure(shop)
    start_remediation(shop, failure)
    before = rows(shop, "SELECT count(*) FROM sessions")
    with pytest.raises(RemediationError, match="already has session"):
        start_remediation(shop, failure)
    assert rows(shop, "SELECT count(*) FROM sessions") == before


def test_an_unknown_failure_is_refused_clearly(shop):
    with pytest.raises(RemediationError, match="failure 999999 is unknown or not triaged"):
        start_remediation(shop, 999_999)


def test_claude_starting_on_the_work_item_claims_the_session(shop, tmp_path):
    started = start_remediation(shop, slow_failure(shop))
    env = {
        **os.environ,
        "PMDASH_DB": str(shop),
        "PMDASH_STATE_DIR": str(tmp_path / "state"),
        "PMDASH_WORK_ITEM": f"error:{started.failure_id}",
    }
    for line in FULL[:3]:
        assert send(line, env).returncode == 0
    # The same record, now the agent's: no second session for the same work.
    assert rows(shop, "SELECT id, status FROM sessions WHERE agent_id = ?", SESSION) == [
        (started.session_id, "running")
    ]
    status, claude_id, *_ = attempt(shop, started.attempt_id)
    assert (status, claude_id) == ("in_progress", SESSION)
    assert rows(shop, "SELECT count(*) FROM hooks WHERE session_id = ?", started.session_id) == [
        (3,)
    ]


def test_attempt_statuses_move_forward_and_record_the_fix(shop):
    started = start_remediation(shop, slow_failure(shop))
    update_attempt(shop, started.attempt_id, "in_progress")
    update_attempt(
        shop,
        started.attempt_id,
        "fixed",
        fix_description="Waited for the payment iframe instead of a fixed sleep",
        pr_url="https://git.home.arpa/shop/pulls/12",
        now=1_800_000_000,
    )
    status, _, _, _, completed, fix, pr = attempt(shop, started.attempt_id)
    assert (status, completed, pr) == (
        "fixed",
        1_800_000_000,
        "https://git.home.arpa/shop/pulls/12",
    )
    assert fix.startswith("Waited for the payment iframe")
    with pytest.raises(RemediationError, match="cannot go back"):
        update_attempt(shop, started.attempt_id, "pending")
    with pytest.raises(RemediationError, match="status must be one of"):
        update_attempt(shop, started.attempt_id, "done")
    with pytest.raises(RemediationError, match="PR link"):
        update_attempt(shop, started.attempt_id, "fixed", pr_url="javascript:alert(1)")
    with pytest.raises(RemediationError, match="no remediation attempt"):
        update_attempt(shop, 424242, "fixed")
    assert attempt(shop, started.attempt_id)[0] == "fixed"  # the refusals changed nothing


def test_a_later_passing_report_marks_the_rerun_passed(shop, tmp_path):
    started = start_remediation(shop, slow_failure(shop), now=started_at(4) + 60)
    # A passing run from before the attempt began says nothing about it.
    ingest_report(shop, rerun_of(3, started_at(4) + 30, tmp_path), project="shop")
    assert attempt(shop, started.attempt_id)[2:4] == (None, None)
    # Run 3's outcomes (slow checkout passes), recorded after the attempt began.
    rerun = ingest_report(shop, rerun_of(3, started_at(4) + 3600, tmp_path), project="shop")
    _, _, rerun_report, passed, *_ = attempt(shop, started.attempt_id)
    assert (rerun_report, passed) == (rerun.report_id, 1)
    with Analytics(shop) as analytics:
        states = analytics.run("failing_tests").set_index("test_name")["remediation"]
    assert states[SLOW] == "rerun passed"


def test_a_failing_run_counts_against_a_fix_only_once_it_is_called_fixed(shop, tmp_path):
    started = start_remediation(shop, slow_failure(shop), now=started_at(4) + 60)
    # Still being worked on: a failing run is the problem, not a verdict on a fix.
    ingest_report(shop, rerun_of(5, started_at(4) + 600, tmp_path), project="shop")
    assert attempt(shop, started.attempt_id)[2:4] == (None, None)
    update_attempt(shop, started.attempt_id, "fixed", now=started_at(4) + 700)
    again = ingest_report(shop, rerun_of(6, started_at(4) + 900, tmp_path), project="shop")
    assert attempt(shop, started.attempt_id)[2:4] == (again.report_id, 0)


@pytest.mark.parametrize("finished", ["fixed", "failed", "skipped"])
def test_every_finished_attempt_has_a_way_forward(shop, finished):
    """Marked fixed, failed or skipped before an agent ever started: its session ends instead of
    waiting forever, and the failure takes a new attempt."""
    from pmdata.sessions import session_state

    failure = slow_failure(shop)
    first = start_remediation(shop, failure)
    update_attempt(shop, first.attempt_id, finished, now=1_800_000_000)
    [(status, stopped, agent, why)] = rows(
        shop,
        "SELECT status, stopped_at, agent_id, error_message FROM sessions WHERE id = ?",
        first.session_id,
    )
    assert stopped == 1_800_000_000 and why.endswith(f"marked {finished} before an agent started")
    assert session_state(status, stopped, None, 1_800_000_060, 5, agent) == "finished"
    assert rows(
        shop, "SELECT assigned_session_id FROM error_triage WHERE test_failure_id = ?", failure
    ) == [(None,)]
    second = start_remediation(shop, failure)  # no longer refused
    assert second.attempt_id != first.attempt_id
    assert attempt(shop, second.attempt_id)[0] == "pending"
