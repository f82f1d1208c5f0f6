"""No hook event is ever lost or recorded twice: bad unicode, poisoned spool entries, a locked
database, a drain killed part way. Real `pmdata hook` processes on real SQLite files."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmdata.ingest.hook_recorder import HookRecorder
from pmdata.ingest.hook_spool import Spool
from pmdata.store import migrate
from tests.conftest import ROOT, rows

SESSION = "5c1d7a44-0b7e-4a53-9b8e-2d1f0c3e9a77"


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "claude.db"
    migrate(path)
    return path


@pytest.fixture
def env(tmp_path, db):
    return {**os.environ, "PMDASH_DB": str(db), "PMDASH_STATE_DIR": str(tmp_path / "state")}


def send(data: bytes, env: dict, timeout: float = 30) -> subprocess.CompletedProcess:
    """One real `pmdata hook` process fed raw bytes, as Claude Code pipes them."""
    return subprocess.run(
        [sys.executable, "-m", "pmdata.cli", "hook"],
        input=data,
        env=env,
        capture_output=True,
        cwd=ROOT,
        timeout=timeout,
    )


def drain(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pmdata.cli", "hook", "--drain"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def event(i: int, session: str = SESSION, **extra) -> dict:
    return {
        "session_id": session,
        "hook_event_name": "PreToolUse" if i % 2 == 0 else "PostToolUse",
        "cwd": "/srv/shop",
        "tool_name": "Read",
        "tool_input": {"i": i},
        "tool_use_id": f"{session[:8]}-{i // 2}",
        **extra,
    }


def hooks_count(db) -> int:
    return rows(db, "SELECT count(*) FROM hooks")[0][0]


def test_a_lone_surrogate_is_stored_escaped(db, env):
    payload = json.dumps(event(0)).replace('{"i": 0}', '{"emoji": "\\ud83d half"}')
    assert send(payload.encode(), env).returncode == 0
    [(tool_input,)] = rows(db, "SELECT tool_input FROM hooks")
    assert tool_input == '{"emoji": "\\ud83d half"}'


def test_invalid_utf8_on_stdin_is_stored_escaped(db, env):
    payload = json.dumps(event(0)).encode().replace(b'{"i": 0}', b'{"path": "caf\xe9"}')
    assert send(payload, env).returncode == 0
    [(tool_input,)] = rows(db, "SELECT tool_input FROM hooks")
    assert tool_input == '{"path": "caf\\udce9"}'


def test_bad_unicode_spooled_while_locked_blocks_nothing_behind_it(db, env, tmp_path):
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    poisoned = json.dumps(event(0)).replace('{"i": 0}', '{"x": "\\ud83d"}').encode()
    bad_bytes = json.dumps(event(1)).encode().replace(b'{"i": 1}', b'{"x": "\xff\xfe"}')
    for data in (poisoned, bad_bytes):
        assert send(data, env).returncode == 0
    holder.execute("ROLLBACK")
    holder.close()
    for i in range(2, 22):
        assert send(json.dumps(event(i)).encode(), env).returncode == 0
    assert hooks_count(db) == 22
    assert not Spool(str(tmp_path / "state")).waiting()


def test_a_poisoned_spool_entry_is_set_aside_and_the_rest_recorded(db, env, tmp_path):
    state = tmp_path / "state"
    spool = Spool(str(state))
    for i in range(3):
        spool.add(1_000 + i, None, json.dumps(event(i)))
    # Three kinds of poison: broken JSON, a payload no longer valid, an older one-file spool
    # holding a good line and a broken one.
    (state / "hook-spool" / "0000000001001-0000001-00001-broken.json").write_text("{not json")
    spool.add(1_010, None, '{"session_id": "x"}')
    (state / "hook-spool.jsonl").write_text(
        json.dumps({"received_at_ms": 2_000, "work_item": None, "raw": json.dumps(event(3))})
        + "\n{truncated\n"
    )
    done = drain(env)
    assert done.returncode == 0, done.stderr
    assert "drained 4 event(s)" in done.stderr and "set aside 2" in done.stderr
    assert hooks_count(db) == 4
    letters = [json.loads(line) for line in Path(spool.dead_letters).read_text().splitlines()]
    assert len(letters) == 3  # the legacy line is set aside while the old spool is split
    assert any("JSONDecodeError" in d["reason"] for d in letters)
    assert any("no hook_event_name" in d["reason"] for d in letters)
    assert not spool.waiting() and not (state / "hook-spool.jsonl").exists()


def test_a_drain_killed_after_its_commit_records_nothing_twice(db, tmp_path, monkeypatch):
    state = str(tmp_path / "state")
    spool = Spool(state)
    for i in range(500):
        spool.add(1_000 + i, None, json.dumps(event(i)))
    recorder = HookRecorder(str(db), {"PMDASH_STATE_DIR": state})
    # The kill lands after the commit, before the spool files are removed.
    monkeypatch.setattr(recorder.spool, "done", lambda name: None)
    assert recorder.drain().recorded == 500
    monkeypatch.undo()
    again = HookRecorder(str(db), {"PMDASH_STATE_DIR": state}).drain()
    assert (again.recorded, again.duplicates, again.waiting) == (0, 500, 0)
    assert hooks_count(db) == 500


def test_a_drain_killed_mid_way_loses_nothing_and_doubles_nothing(db, env, tmp_path):
    state = str(tmp_path / "state")
    spool = Spool(state)
    for i in range(6_000):
        spool.add(1_000 + i, None, json.dumps(event(i)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pmdata.cli", "hook", "--drain"], env=env, cwd=ROOT
    )
    # Kill it as soon as its first chunks are committed.
    while proc.poll() is None and hooks_count(db) < 400:
        pass
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < hooks_count(db) < 6_000, "the kill landed part way"
    done = drain(env)
    assert done.returncode == 0, done.stderr
    assert hooks_count(db) == 6_000
    assert rows(db, "SELECT count(DISTINCT tool_use_id || hook_type) FROM hooks")[0][0] == 6_000


def test_drain_says_what_is_still_waiting(tmp_path):
    env = {
        **os.environ,
        "PMDASH_DB": str(tmp_path / "not-yet.db"),
        "PMDASH_STATE_DIR": str(tmp_path / "state"),
    }
    assert send(json.dumps(event(0)).encode(), env).returncode == 0
    done = drain(env)
    assert done.returncode == 1
    assert "1 still waiting" in done.stderr and "database not found" in done.stderr


WRITER = """
import json, subprocess, sys
worker, env_file = int(sys.argv[1]), sys.argv[2]
env = json.load(open(env_file))
session = f"00000000-0000-4000-8000-{worker:012d}"
lost = 0
for i in range(50):
    payload = {"session_id": session, "hook_event_name": "PreToolUse" if i % 2 == 0 else
               "PostToolUse", "cwd": "/srv/w", "tool_name": "Read", "tool_input": {"i": i},
               "tool_use_id": f"w{worker}-{i // 2}"}
    try:  # Claude Code's own timeout: the hook is killed at 5 s
        subprocess.run([sys.executable, "-m", "pmdata.cli", "hook"], input=json.dumps(payload),
                       text=True, env=env, timeout=5)
    except subprocess.TimeoutExpired:
        lost += 1
print(lost)
"""


def test_four_writers_against_a_database_held_for_10_s_lose_nothing(db, env, tmp_path):
    script, env_file = tmp_path / "writer.py", tmp_path / "env.json"
    script.write_text(WRITER)
    env_file.write_text(json.dumps(env))
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(10, lambda: (holder.execute("ROLLBACK"), holder.close()))
    release.start()
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(w), str(env_file)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    killed = [int(p.communicate(timeout=300)[0].strip()) for p in procs]
    release.join()
    done = drain(env)
    assert killed == [0, 0, 0, 0], "no hook call ran into Claude Code's 5 s timeout"
    assert done.returncode == 0, done.stderr
    assert hooks_count(db) == 200
    assert rows(db, "SELECT count(DISTINCT tool_use_id || hook_type) FROM hooks")[0][0] == 200
    open_calls = "SELECT count(*) FROM hooks WHERE hook_type = 'pre_tool_use' AND success IS NULL"
    assert rows(db, open_calls)[0][0] == 0, "every Pre was paired with its Post, in order"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(st.characters(codec="utf-8", exclude_categories=())),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1)


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("property")
    migrate(folder / "claude.db")
    return folder


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    session=st.text(min_size=1, max_size=40) | surrogates,
    event_name=st.sampled_from(["PreToolUse", "PostToolUse", "PostToolUseFailure", "Stop", "X"]),
    fields=st.dictionaries(
        st.sampled_from(["tool_name", "tool_input", "tool_response", "cwd", "error", "prompt"]),
        json_values | surrogates,
        max_size=6,
    ),
    junk=st.binary(max_size=20),
)
def test_any_payload_is_recorded_or_rejected_and_never_raises(
    shared_db, session, event_name, fields, junk
):
    db, state = shared_db / "claude.db", shared_db / "state"
    recorder = HookRecorder(str(db), {"PMDASH_STATE_DIR": str(state)})
    payload = {"session_id": session, "hook_event_name": event_name, **fields}
    text = json.dumps(payload)  # escapes lone surrogates as \\udXXX, as a JSON producer would
    before = hooks_count(db)
    outcome = recorder.handle(text)
    valid = session.strip() and event_name != "X"
    assert outcome == ("recorded" if valid else "rejected")
    assert hooks_count(db) == before + (1 if valid else 0)
    # Raw bytes that are not UTF-8 (or not JSON) are refused or recorded, never raised.
    raw = junk.decode("utf-8", "surrogateescape")
    assert recorder.handle(raw) in ("recorded", "rejected")
