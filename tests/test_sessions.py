"""Sessions as people see them, from real hook payloads recorded by the real recorder: states,
what a finished session did, and when to announce that it finished."""

import pytest

from pmdata.analytics import Analytics
from pmdata.ingest.hook_recorder import HookRecorder
from pmdata.sessions import (
    activity_summary,
    completion_notice,
    finished_summaries,
    newly_finished,
    with_states,
)
from pmdata.store import migrate
from tests.test_hooks import FULL, SESSION


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    """A database holding the fixture session, recorded event by event as Claude Code sends
    them, on a work item."""
    db = tmp_path / "claude.db"
    migrate(db)
    environ = {"PMDASH_STATE_DIR": str(tmp_path / "state"), "PMDASH_WORK_ITEM": "spec:shop/fix"}
    recorder = HookRecorder(str(db), environ)
    return db, recorder


def send_all(recorder, lines):
    for line in lines:
        recorder.handle(line)


def sessions_and_calls(db, now, query="session_tool_calls"):
    with Analytics(db) as analytics:
        sessions = with_states(analytics.run("session_activity"), now)
        calls = analytics.run(query)
    return sessions, calls


def test_a_finished_session_says_what_it_did(recorded):
    db, recorder = recorded
    send_all(recorder, FULL)
    sessions, summaries = sessions_and_calls(db, 2_000_000_000, "session_summaries")
    [row] = finished_summaries(sessions, summaries).to_dict("records")
    assert row["work_item"] == "spec:shop/fix"
    assert row["calls"] == 5 and row["succeeded"] == 4 and row["failed"] == 1  # the Bash failed
    assert "Bash×1" in row["tools"] and "Read×1" in row["tools"]
    # Files come from the tool inputs: the Read and the Edit, not the Bash command.
    assert row["files"] == 2
    assert "cart.spec.ts" in row["files_touched"] and "index.html" in row["files_touched"]


def test_a_running_session_is_not_in_the_finished_table(recorded):
    db, recorder = recorded
    send_all(recorder, FULL[:5])
    sessions, summaries = sessions_and_calls(db, 0, "session_summaries")
    assert list(sessions["state"]) == ["running"]
    assert finished_summaries(sessions, summaries).empty


def test_the_notice_names_the_session_its_work_and_its_numbers(recorded):
    db, recorder = recorded
    send_all(recorder, FULL)
    sessions, calls = sessions_and_calls(db, now=2_000_000_000)
    r = sessions.iloc[0]
    summary = activity_summary(calls, r["started_at"], r["stopped_at"])
    text = completion_notice(int(r["id"]), r["project"], r["work_item"], summary)
    assert text.startswith(f"Session {int(r['id'])} (shop) finished on spec:shop/fix: 5 tool")
    assert "1 failed" in text and "2 files touched" in text
    assert SESSION not in text  # people read ids they can click, not UUIDs
    nameless = completion_notice(3, "shop", float("nan"), summary)  # as pandas hands it back
    assert "finished with no work item" in nameless


def test_only_sessions_that_finish_after_the_first_look_are_announced():
    new, seen = newly_finished([1, 2], None)
    assert new == [] and seen == {1, 2}  # opening the dashboard announces nothing
    new, seen = newly_finished([1, 2, 5], seen)
    assert new == [5]
    new, _ = newly_finished([1, 2, 5], seen)
    assert new == []


def test_idle_after_the_configured_quiet_time(recorded):
    db, recorder = recorded
    send_all(recorder, FULL[:5])
    with Analytics(db) as analytics:
        frame = analytics.run("session_activity")
    last = int(frame.iloc[0]["last_event_at"])
    assert with_states(frame, last + 4 * 60, idle_minutes=5).iloc[0]["state"] == "running"
    idle = with_states(frame, last + 14 * 60, idle_minutes=5).iloc[0]
    assert (idle["state"], idle["state_text"]) == ("idle", "idle for 14 min")
    overnight = with_states(frame, last + (9 * 60 + 5) * 60).iloc[0]["state_text"]
    left_for_the_week = with_states(frame, last + (6 * 24 + 3) * 3600).iloc[0]["state_text"]
    assert (overnight, left_for_the_week) == ("idle for 9 h 5 min", "idle for 6 d 3 h")


def test_a_finished_session_that_touched_no_file_is_summed_up(recorded):
    """Its files list is NULL in SQL and NA in pandas: no crash, no file."""
    db, recorder = recorded
    import json

    session = "7b1e4c2a-9d3f-4e8a-b6c5-0f1e2d3c4b5a"
    for event, extra in (
        ("SessionStart", {"source": "startup"}),
        ("PreToolUse", {"tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "a"}),
        ("PostToolUse", {"tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "a"}),
        ("SessionEnd", {"reason": "exit"}),
    ):
        payload = {"session_id": session, "hook_event_name": event, "cwd": "/srv/x", **extra}
        assert recorder.handle(json.dumps(payload)) == "recorded"
    sessions, summaries = sessions_and_calls(db, now=2_000_000_000, query="session_summaries")
    finished = finished_summaries(sessions, summaries)
    mine = finished[finished["id"] == int(sessions[sessions["agent_id"] == session]["id"].iloc[0])]
    assert (mine["calls"].iloc[0], mine["files"].iloc[0], mine["files_touched"].iloc[0]) == (
        1,
        0,
        "",
    )
    assert mine["tools"].iloc[0] == "Bash×1"


def test_a_sessions_calls_read_in_order_with_outcome_duration_and_error(recorded):
    db, recorder = recorded
    send_all(recorder, FULL)
    sessions, calls = sessions_and_calls(db, now=2_000_000_000)
    mine = calls[calls["session_id"] == int(sessions["id"].iloc[0])]
    from pmdata.sessions import calls_in_order

    ordered = calls_in_order(mine)
    assert list(ordered["number"]) == list(range(1, len(mine) + 1))
    assert ordered["at"].is_monotonic_increasing
    failed = ordered[ordered["outcome"] == "failed"]
    assert len(failed) == 1 and failed["error"].iloc[0].startswith("Bash failed: ")
    assert (ordered.loc[ordered["outcome"] == "ok", "error"] == "").all()
    assert ordered["about"].str.len().gt(0).any()  # a file path or a command, not a dict
    assert not ordered.isna().any().any()
