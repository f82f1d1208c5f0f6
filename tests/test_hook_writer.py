"""The server's hook writer on a real SQLite file: many clients at once, a busy database, a page
reading meanwhile, an event sent twice."""

import json
import sqlite3
import threading

import pytest

from pmdata.ingest.hook_writer import HookWriter
from pmdata.store import migrate
from pmdata.store.database import ONE_SQLITE_AT_A_TIME
from tests.conftest import copy_fixture_db, rows, wait_for


@pytest.fixture
def db(tmp_path):
    path = copy_fixture_db(tmp_path / "claude.db")
    migrate(path)
    return path


def event(agent: str, n: int) -> str:
    name = "PreToolUse" if n % 2 == 0 else "PostToolUse"
    return json.dumps(
        {"session_id": agent, "hook_event_name": name, "cwd": "/home/dev/dev/projects/shop",
         "tool_name": "Read", "tool_input": {"file_path": f"f{n}.ts"},
         "tool_use_id": f"toolu_{agent}_{n // 2}"}
    )  # fmt: skip


def recorded(db, agent: str) -> list[tuple]:
    return rows(
        db,
        "SELECT h.hook_type, h.tool_use_id, h.duration_ms IS NOT NULL FROM hooks h"
        " JOIN sessions s ON s.id = h.session_id WHERE s.agent_id = ? ORDER BY h.id",
        agent,
    )


def test_eight_clients_at_once_each_event_once_and_every_call_paired(db, tmp_path):
    writer = HookWriter(str(db), str(tmp_path / "state"))
    outcomes = []

    def client(agent):
        for n in range(200):
            outcomes.append(writer.submit(event(agent, n)).result(timeout=30))

    threads = [threading.Thread(target=client, args=(f"c{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == ["recorded"] * 1600
    for i in range(8):
        got = recorded(db, f"c{i}")
        assert len(got) == 200 and len({(k, u) for k, u, _ in got}) == 200
        # Each Pre got its Post's duration: pairing held across shared transactions.
        assert sum(paired for kind, _, paired in got if kind == "pre_tool_use") == 100


def test_a_busy_database_spools_and_the_order_holds(db, tmp_path):
    writer = HookWriter(str(db), str(tmp_path / "state"))
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another service holds the write lock
    try:
        assert writer.submit(event("busy", 0)).result(timeout=30) == "spooled"
        assert writer.submit(event("busy", 1)).result(timeout=30) == "spooled"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert writer.submit(event("busy", 2)).result(timeout=30) == "recorded"
    got = recorded(db, "busy")
    assert [k for k, _, _ in got] == ["pre_tool_use", "post_tool_use", "pre_tool_use"]
    assert got[0][2] == 1  # the spooled Post still closed its Pre


def test_a_reader_of_this_process_gets_the_file_while_events_keep_coming(db, tmp_path):
    writer = HookWriter(str(db), str(tmp_path / "state"))
    stop = threading.Event()

    def busy():
        n = 0
        while not stop.is_set():
            writer.submit(event("steady", n)).result(timeout=30)
            n += 1

    feeder = threading.Thread(target=busy)
    feeder.start()
    try:
        assert wait_for(lambda: len(recorded(db, "steady")) > 20, 30)
        for _ in range(5):  # as the pages' DuckDB reads take it, again and again
            assert ONE_SQLITE_AT_A_TIME.acquire(timeout=5)
            ONE_SQLITE_AT_A_TIME.release()
    finally:
        stop.set()
        feeder.join()


def test_a_forwarded_event_sent_twice_is_recorded_once_at_its_own_time(db, tmp_path):
    writer = HookWriter(str(db), str(tmp_path / "state"))
    sent = [writer.submit(event("twice", 0), None, 1_795_000_000_000, "e" * 32) for _ in range(2)]
    assert [s.result(timeout=30) for s in sent] == ["recorded", "duplicate"]
    assert rows(
        db,
        "SELECT h.timestamp FROM hooks h JOIN sessions s ON s.id = h.session_id"
        " WHERE s.agent_id = 'twice'",
    ) == [(1_795_000_000,)]


def test_what_is_not_an_event_is_refused_at_once(db, tmp_path):
    writer = HookWriter(str(db), str(tmp_path / "state"))
    assert writer.submit("{not json").result(timeout=5) == "rejected"
    assert "rejected" in (tmp_path / "state" / "hook.log").read_text()
