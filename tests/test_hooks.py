import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from pmdata.analytics import Analytics
from pmdata.ingest.hook_recorder import HookRecorder
from pmdata.ingest.hook_settings import install, merge_hooks
from pmdata.store import migrate
from tests.conftest import ROOT, SHARED, rows

HOOKS = SHARED / "fixtures" / "hooks"
FULL = (HOOKS / "session-full.jsonl").read_text().splitlines()
OLD = (HOOKS / "session-old-no-tool-use-id.jsonl").read_text().splitlines()
BAD = (HOOKS / "bad-inputs.txt").read_text().split("\n")[:6]
SESSION = json.loads(FULL[0])["session_id"]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "claude.db"
    migrate(path)
    return path


@pytest.fixture
def env(tmp_path, db):
    return {**os.environ, "PMDASH_DB": str(db), "PMDASH_STATE_DIR": str(tmp_path / "state")}


def send(line: str, env: dict) -> subprocess.CompletedProcess:
    """One real `pmdata hook` process, as Claude Code runs it."""
    return subprocess.run(
        [sys.executable, "-m", "pmdata.cli", "hook"],
        input=line,
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
    )


def test_full_session_is_recorded_as_a_person_expects(db, env):
    env = {**env, "PMDASH_WORK_ITEM": "spec:shop/fix-cart-total"}
    for line in FULL:
        done = send(line, env)
        assert done.returncode == 0 and done.stdout == ""
    hooks = rows(
        db,
        "SELECT hook_type, tool_name, success, duration_ms, error_message,"
        " tool_use_id FROM hooks ORDER BY id",
    )
    assert len(hooks) == len(FULL) == 17
    assert [h[0] for h in hooks].count("pre_tool_use") == 5
    assert [h[0] for h in hooks].count("post_tool_use") == 5
    assert {h[0] for h in hooks} >= {
        "session_start",
        "user_prompt_submit",
        "notification",
        "subagent_stop",
        "session_stop",
        "pre_compact",
        "session_end",
    }
    for hook_type, tool, success, duration, _error, use_id in hooks:
        if hook_type in ("pre_tool_use", "post_tool_use"):
            assert use_id and duration is not None and duration >= 0, (tool, hook_type)
            assert success == (0 if tool == "Bash" else 1)
    bash = [h for h in hooks if h[1] == "Bash"]
    assert all("non-zero status" in h[4] for h in bash)
    ((status, started, stopped, last, kind, item, project),) = rows(
        db,
        "SELECT s.status, s.started_at, s.stopped_at, s.last_activity_at, s.session_type,"
        " s.work_item, p.name FROM sessions s JOIN projects p ON p.id = s.project_id"
        " WHERE agent_id = ?",
        SESSION,
    )
    assert status == "stopped" and stopped >= started and last == stopped
    assert (kind, item, project) == ("spec_implementation", "spec:shop/fix-cart-total", "shop")
    raw = rows(db, "SELECT raw_payload FROM hooks WHERE hook_type = 'session_start'")[0][0]
    assert json.loads(raw)["model"] == "claude-sonnet-4-5"


def test_stop_only_finishes_a_turn(db, env):
    for line in FULL[:15]:  # up to and including Stop
        send(line, env)
    assert rows(db, "SELECT status FROM sessions")[0][0] == "running"


def test_old_payloads_pair_by_order_within_tool(db, env):
    for line in OLD:
        assert send(line, env).returncode == 0
    pre = rows(
        db,
        "SELECT tool_input, success, duration_ms FROM hooks"
        " WHERE hook_type = 'pre_tool_use' ORDER BY id",
    )
    post = rows(
        db, "SELECT tool_input, success FROM hooks WHERE hook_type = 'post_tool_use' ORDER BY id"
    )
    assert [p[0] for p in pre] == [p[0] for p in post]  # TODO then FIXME, in order
    assert all(p[1] == 1 and p[2] is not None for p in pre)


def test_bad_inputs_are_logged_and_nothing_is_written(db, env, tmp_path):
    for line in BAD:
        done = send(line, env)
        assert done.returncode == 0 and done.stdout == ""
    assert rows(db, "SELECT count(*) FROM hooks")[0][0] == 0
    log = (tmp_path / "state" / "hook.log").read_text().splitlines()
    assert len(log) == len(BAD) == 6
    for reason in (
        "not JSON",
        "empty input",
        "got NoneType",
        "got list",
        "no session_id",
        "unknown event 'SomethingNew'",
    ):
        assert any(reason in entry for entry in log), reason


def test_hook_path_imports_only_the_standard_library(db, env):
    probe = (
        "import sys, io; sys.stdin = io.StringIO(sys.argv[1]);"
        "from pmdata.cli import main; main(['hook']);"
        "heavy = {'pandas', 'sqlalchemy', 'pydantic', 'duckdb', 'streamlit', 'numpy', 'pathlib'};"
        "sys.stderr.write(repr(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, FULL[0]], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0
    # pathlib may arrive with site's editable-install finder, never with us
    assert set(eval(done.stderr)) <= {"pathlib"}, done.stderr
    assert rows(db, "SELECT count(*) FROM hooks")[0][0] == 1


def test_second_work_item_is_refused_and_logged(db, env, tmp_path):
    send(FULL[0], {**env, "PMDASH_WORK_ITEM": "spec:shop/first"})
    send(FULL[1], {**env, "PMDASH_WORK_ITEM": "spec:shop/second"})
    assert rows(db, "SELECT work_item FROM sessions")[0][0] == "spec:shop/first"
    assert rows(db, "SELECT count(*) FROM hooks")[0][0] == 2
    assert "refused work item spec:shop/second" in (tmp_path / "state" / "hook.log").read_text()


def test_error_work_item_names_the_failure_and_links_its_triage_row(db, env):
    con = sqlite3.connect(db)
    with con:
        con.execute("INSERT INTO reports (workflow_name, hash, file_path) VALUES ('w', 'h', 'f')")
        con.execute("INSERT INTO test_failures (report_id, test_name) VALUES (1, 't'), (1, 'u')")
        con.execute("INSERT INTO error_triage (test_failure_id) VALUES (2)")  # triage row 1
    con.close()
    send(FULL[0], {**env, "PMDASH_WORK_ITEM": "error:2"})
    session_id, kind, item = rows(db, "SELECT id, session_type, work_item FROM sessions")[0]
    assert (kind, item) == ("error_remediation", "error:2")
    assert rows(db, "SELECT test_failure_id, assigned_session_id FROM error_triage") == [
        (2, session_id)
    ]


def test_session_joins_the_deepest_known_project(db, env):
    con = sqlite3.connect(db)
    with con:
        con.execute("INSERT INTO projects (name, path) VALUES ('dev', '/home/dev/dev')")
        con.execute(
            "INSERT INTO projects (name, path) VALUES ('shop', '/home/dev/dev/projects/shop')"
        )
    con.close()
    send(FULL[0], env)
    assert rows(db, "SELECT p.name FROM sessions s JOIN projects p ON p.id = s.project_id") == [
        ("shop",)
    ]
    assert rows(db, "SELECT count(*) FROM projects")[0][0] == 2


def test_locked_database_spools_then_next_call_drains(db, env, tmp_path):
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    started = time.monotonic()
    done = send(FULL[0], env)
    took = time.monotonic() - started
    holder.execute("ROLLBACK")
    holder.close()
    assert done.returncode == 0 and took < 5, "stays within Claude Code's 5 s hook timeout"
    assert len(list((tmp_path / "state" / "hook-spool").glob("*.json"))) == 1
    assert rows(db, "SELECT count(*) FROM hooks")[0][0] == 0
    send(FULL[1], env)
    assert [r[0] for r in rows(db, "SELECT hook_type FROM hooks ORDER BY id")] == [
        "session_start",
        "user_prompt_submit",
    ]
    assert not list((tmp_path / "state" / "hook-spool").glob("*.json"))


def test_missing_database_spools_until_drain(tmp_path):
    db = tmp_path / "later.db"
    env = {**os.environ, "PMDASH_DB": str(db), "PMDASH_STATE_DIR": str(tmp_path / "state")}
    for line in FULL[:3]:
        assert send(line, env).returncode == 0
    assert not db.exists(), "the hook never creates a database by accident"
    migrate(db)
    done = subprocess.run(
        [sys.executable, "-m", "pmdata.cli", "hook", "--drain"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0 and "drained 3" in done.stderr
    assert rows(db, "SELECT count(*) FROM hooks")[0][0] == 3


WORKER = """
import json, sys
from pmdata.ingest.hook_recorder import HookRecorder
db, state, worker = sys.argv[1], sys.argv[2], int(sys.argv[3])
rec = HookRecorder(db, {"PMDASH_STATE_DIR": state})
session = f"00000000-0000-4000-8000-{worker:012d}"
for i in range(500):
    event = "PreToolUse" if i % 2 == 0 else "PostToolUse"
    payload = {"session_id": session, "hook_event_name": event, "cwd": "/srv/w",
               "tool_name": "Read", "tool_input": {"i": i}, "tool_use_id": f"w{worker}-{i // 2}"}
    assert rec.handle(json.dumps(payload)) in ("recorded", "spooled")
rec.drain()
"""


def test_four_writers_and_a_reader_lose_nothing_and_double_nothing(db, tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    state = tmp_path / "state"
    procs = [
        subprocess.Popen([sys.executable, str(script), str(db), str(state), str(w)], cwd=ROOT)
        for w in range(4)
    ]
    analytics, reads, stop = Analytics(db), [], threading.Event()

    def read():
        while not stop.is_set():
            reads.append(analytics.run("sessions_overview"))

    reader = threading.Thread(target=read)
    reader.start()
    codes = [p.wait(timeout=300) for p in procs]
    stop.set()
    reader.join()
    HookRecorder(str(db), {"PMDASH_STATE_DIR": str(state)}).drain()  # anything still spooled
    assert codes == [0, 0, 0, 0]
    assert rows(db, "SELECT count(*) FROM hooks")[0][0] == 2000
    assert (
        rows(
            db,
            "SELECT count(*) FROM (SELECT DISTINCT session_id, tool_use_id, hook_type FROM hooks)",
        )[0][0]
        == 2000
    )
    assert (
        rows(
            db,
            "SELECT count(*) FROM hooks WHERE hook_type = 'pre_tool_use' AND duration_ms IS NULL",
        )[0][0]
        == 0
    )
    assert len(reads) > 0


def test_install_merges_keeps_existing_hooks_and_is_idempotent(tmp_path):
    path = tmp_path / ".claude" / "settings.json"
    path.parent.mkdir()
    mine = {"type": "command", "command": "notify-send done"}
    path.write_text(json.dumps({"model": "opus", "hooks": {"Stop": [{"hooks": [mine]}]}}))
    added = install(path, "/opt/pmdash/bin/pmdata hook")
    settings = json.loads(path.read_text())
    assert "PreToolUse" in added and "Stop" in added
    assert settings["model"] == "opus"
    assert settings["hooks"]["Stop"][0]["hooks"] == [mine]
    assert settings["hooks"]["PreToolUse"][0]["matcher"] == ""
    assert (
        settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"] == "/opt/pmdash/bin/pmdata hook"
    )
    before = path.read_bytes()
    assert install(path, "/opt/pmdash/bin/pmdata hook") == []
    assert path.read_bytes() == before


def test_install_refuses_broken_settings_and_changes_nothing(tmp_path):
    from pmdata.errors import PmdashError

    path = tmp_path / "settings.json"
    path.write_text("{not json")
    with pytest.raises(PmdashError, match="not valid JSON"):
        install(path, "pmdata hook")
    assert path.read_text() == "{not json"
    with pytest.raises(PmdashError):
        merge_hooks({"hooks": []}, "pmdata hook")


def test_install_command_line(tmp_path, capsys):
    from pmdata.cli import main

    assert main(["hook", "install", "--project", str(tmp_path)]) == 0
    assert "added pmdash" in capsys.readouterr().out
    assert main(["hook", "install", "--project", str(tmp_path)]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert (tmp_path / ".claude" / "settings.json").exists()


def test_a_session_joins_the_project_a_report_named(db, env):
    """A report ingested from a folder outside the checkout, then a session in the checkout:
    one project, "shop", not "shop" and "shop-2"."""
    from pmdata.ingest.playwright_ingest import ingest_report

    ingest_report(db, SHARED / "fixtures" / "playwright" / "run-1.json", "shop")
    payload = json.loads(FULL[0])
    payload["cwd"] = "/home/dev/checkouts/shop"
    assert send(json.dumps(payload), env).returncode == 0
    assert rows(db, "SELECT name FROM projects") == [("shop",)]
    assert rows(db, "SELECT p.name FROM sessions s JOIN projects p ON p.id = s.project_id") == [
        ("shop",)
    ]


def test_a_typo_in_the_hook_command_is_said_and_loses_nothing(db, env):
    """`pmdata hook --dbb PATH` in settings.json: the event is recorded all the same, and the
    hook exits 1 with one line (Claude Code shows it; 2 would block the tool call)."""
    out = subprocess.run(
        [sys.executable, "-m", "pmdata.cli", "hook", "--drian"],
        input=FULL[0],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
    )
    assert out.returncode == 1 and "unknown argument(s) --drian" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert rows(db, "SELECT count(*) FROM hooks")[0][0] == 1
