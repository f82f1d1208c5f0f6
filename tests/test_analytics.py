import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from pmdata.analytics import Analytics, list_queries, load_query
from pmdata.errors import QueryError, StoreError
from pmdata.store import migrate
from tests.conftest import ROOT, rows

QUERIES = [q.name for q in list_queries()]


def test_every_query_declares_what_it_is():
    assert len(QUERIES) >= 5
    for q in list_queries():
        assert q.about, f"queries/{q.name}.sql needs an '-- about:' line"
        for p in q.params:
            assert f"${p.name}" in q.sql, f"{q.name}: ${p.name} declared but unused"


@pytest.fixture(scope="module")
def demo_columns(demo_dir) -> dict[str, list[str]]:
    with Analytics(demo_dir / "pmdash.db") as analytics:
        return {name: list(analytics.run(name).columns) for name in QUERIES}


@pytest.mark.parametrize("name", QUERIES)
def test_query_answers_the_homelab_database_as_it_answers_ours(fixture_db, demo_columns, name):
    """The real homelab file (their rows, their types) gives the columns the pages read from
    the demo: same names, same order."""
    migrate(fixture_db)
    real = Analytics(fixture_db).run(name)
    assert list(real.columns) == demo_columns[name] and len(real.columns) > 0


# A to-do list the demo has already worked through (the demo runs triage), and lookups of one
# item that answer nothing without its id (tests/test_app.py opens them with real ids).
EMPTY_ON_DEMO = {"untriaged_failures", "failure_detail", "test_runs"}
# ... or without the text, the fingerprint or the two runs they are about
# (tests/test_errors_analytics.py asks them with real ones).
EMPTY_ON_DEMO |= {"failure_search", "fingerprint_group", "run_compare"}


@pytest.mark.parametrize("name", [q for q in QUERIES if q not in EMPTY_ON_DEMO])
def test_query_answers_on_demo_data(demo_dir, name):
    frame = Analytics(demo_dir / "pmdash.db").run(
        name, **({"days": 100_000} if "days" in {p.name for p in load_query(name).params} else {})
    )
    assert len(frame) > 0, f"{name} returned no rows on the demo data"


def test_parameters_are_bound_and_typed(demo_dir):
    a = Analytics(demo_dir / "pmdash.db")
    assert len(a.run("recent_runs", limit=3)) == 3
    assert len(a.run("recent_runs", limit="2")) == 2
    one = a.run("recent_runs", workflow="storefront-e2e", limit=100)
    assert set(one.workflow_name) == {"storefront-e2e"}
    # A value is bound, never spliced into the SQL.
    assert a.run("recent_runs", workflow="x' OR '1'='1").empty


def test_unknown_or_badly_typed_parameter_is_refused(demo_dir):
    a = Analytics(demo_dir / "pmdash.db")
    with pytest.raises(QueryError, match="no parameter 'bogus'"):
        a.run("recent_runs", bogus=1)
    with pytest.raises(QueryError, match="must be int"):
        a.run("recent_runs", limit="many")
    with pytest.raises(QueryError, match="no query named"):
        a.run("no_such_question")
    with pytest.raises(QueryError):
        a.run("../etc/passwd")


def test_database_without_tables_says_to_migrate(tmp_path):
    import sqlite3

    db = tmp_path / "bare.db"
    sqlite3.connect(db).execute("CREATE TABLE other (x)").connection.close()
    with pytest.raises(StoreError, match="pmdata migrate"):
        Analytics(db).run("recent_runs")


WRITER = textwrap.dedent(
    """
    import sqlite3, sys, time
    con = sqlite3.connect(sys.argv[1], timeout=5, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    n = int(sys.argv[2])
    for i in range(n):
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            "INSERT INTO reports (workflow_name, run_number, hash, file_path, created_at)"
            " VALUES ('other-process', ?, ?, 'x.json', strftime('%s','now'))", (i, f"op-{i}"))
        time.sleep(0.002)
        con.execute("COMMIT")
    print("done", flush=True)
    """
)


def test_row_written_by_another_process_is_seen_by_next_query(demo_db, tmp_path):
    a = Analytics(demo_db)
    before = a.run("recent_runs", workflow="other-process").shape[0]
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    subprocess.run([sys.executable, str(script), str(demo_db), "1"], check=True)
    assert a.run("recent_runs", workflow="other-process").shape[0] == before + 1


def test_queries_while_another_process_writes_do_not_fail(demo_db, tmp_path):
    a = Analytics(demo_db)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(demo_db), "400"], stdout=subprocess.PIPE, text=True
    )
    seen = []
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        seen.append(len(a.run("recent_runs", workflow="other-process", limit=1000)))
    assert proc.wait(timeout=30) == 0
    assert len(seen) >= 3, "the writer finished before the reader could overlap it"
    assert seen == sorted(seen)
    assert len(a.run("recent_runs", workflow="other-process", limit=1000)) == 400


OFFLINE_SCRIPT = (
    "from pmdata.analytics import Analytics; import sys;"
    "print(len(Analytics(sys.argv[1]).run('recent_runs')))"
)


def test_sqlite_extension_comes_from_the_package_with_empty_home(demo_dir, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT, str(demo_dir / "pmdash.db")],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) > 0


def test_nothing_needs_the_network(tmp_path):
    if not shutil.which("unshare") or subprocess.run(["unshare", "-n", "true"]).returncode:
        pytest.skip("unshare -n is not permitted here (needs root or user namespaces)")
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    pmdata = [sys.executable, "-m", "pmdata.cli"]
    steps = [
        [*pmdata, "demo", str(tmp_path / "d"), "--quiet", "--now", "1795000000"],
        [*pmdata, "migrate", "--db", str(tmp_path / "d" / "pmdash.db")],
        [
            *pmdata,
            "query",
            "failures_by_test",
            "--db",
            str(tmp_path / "d" / "pmdash.db"),
            "--param",
            "days=100000",
            "--format",
            "json",
        ],
    ]
    for step in steps:
        out = subprocess.run(
            ["unshare", "-n", *step], env=env, capture_output=True, text=True, cwd=ROOT, timeout=120
        )
        assert out.returncode == 0, (step, out.stderr)
    assert '"occurrences"' in out.stdout


def test_the_snapshot_follows_a_revert_and_a_migrate(demo_db):
    """Append-only tables are normally topped up, not recopied: not when their columns change."""
    from pmdata.store import revert

    analytics = Analytics(demo_db, snapshot=True)
    count = len(analytics.run("failing_tests"))
    revert(demo_db)
    with pytest.raises(StoreError, match=r"run `pmdata migrate --db "):
        analytics.run("failing_tests")
    migrate(demo_db)
    assert len(analytics.run("failing_tests")) == count
    analytics.close()


def test_a_scan_waits_for_a_write_of_this_process_to_finish(demo_db):
    """DuckDB's own SQLite cannot see this process's locks (see store.database): while one of
    our writing connections is open, a scan from another thread waits instead of resetting the
    WAL index under it."""
    import threading

    from sqlalchemy import text

    from pmdata.store import open_engine

    done = threading.Event()

    def scan():
        with Analytics(demo_db) as analytics:
            analytics.run("failing_tests")
        done.set()

    engine = open_engine(demo_db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE error_triage SET updated_at = updated_at"))
        reader = threading.Thread(target=scan)
        reader.start()
        assert not done.wait(1.0)  # held off while the write is open
    engine.dispose()
    assert done.wait(30)
    reader.join()


# Any real write, so that the copy refreshes at all.
NEW_HOOK_EVENT = (
    "INSERT INTO hooks (session_id, hook_type, timestamp, tool_name)"
    " SELECT id, 'pre_tool_use', strftime('%s', 'now'), 'Bash' FROM sessions LIMIT 1"
)


def write(db, *statements) -> None:
    con = sqlite3.connect(db)
    con.execute("PRAGMA foreign_keys = ON")  # a deleted run takes its failures along
    for sql, *args in statements:
        con.execute(sql, *args)
    con.commit()
    con.close()


def delete_a_run(db, nth: int) -> int:
    """Removes the nth run that had failures (its failures cascade); returns how many went."""
    [(victim, gone)] = rows(
        db,
        "SELECT report_id, count(*) FROM test_failures GROUP BY report_id "
        "ORDER BY report_id LIMIT 1 OFFSET ?",
        nth,
    )
    write(
        db,
        (
            "DELETE FROM error_triage WHERE test_failure_id IN "
            "(SELECT id FROM test_failures WHERE report_id = ?)",
            (victim,),
        ),
        ("DELETE FROM reports WHERE id = ?", (victim,)),
    )
    return gone


def failures_in(analytics) -> int:
    return int(analytics.run_sql("SELECT count(*) AS n FROM test_failures", {}).iloc[0]["n"])


def test_the_snapshot_takes_triage_changes_by_their_stamp_and_misses_none(demo_db, monkeypatch):
    """Triage rows change in place (decisions): the copy takes the changed rows by updated_at,
    and a write that kept an old stamp is still seen at the next full check (at most
    FULL_CHECK_S later), by copying the table whole."""
    import pmdata.analytics.kept_copy as analytics_module
    from pmdata.triage.service import override

    analytics = Analytics(demo_db, snapshot=True)

    def decision(failure_id):
        frame = analytics.run("failure_detail", failure_id=failure_id)
        return frame.iloc[0]["decision"]

    [(first,), (second,)] = rows(
        demo_db,
        "SELECT test_failure_id FROM error_triage WHERE decided_by IS NULL"
        " AND decision != 'ignore' ORDER BY id LIMIT 2",
    )
    decision(first)  # the copy exists
    override(demo_db, first, "ignore", "lab network", None, "ana")
    assert decision(first) == "ignore"
    unstamped = (
        "UPDATE error_triage SET decision = 'ignore', updated_at = 1 WHERE test_failure_id = ?"
    )
    write(demo_db, (unstamped, (second,)))  # a writer that does not touch updated_at
    assert decision(second) != "ignore"  # unstamped: not seen between full checks
    monkeypatch.setattr(analytics_module, "FULL_CHECK_S", 0)
    write(demo_db, (NEW_HOOK_EVENT,))
    assert decision(second) == "ignore"
    analytics.close()


def test_deleted_runs_leave_the_copy_by_the_next_full_check(demo_db, monkeypatch):
    """A report removed with its failures (ON DELETE CASCADE) is a deletion from the middle of
    append-only tables: found by counting, which runs at most every FULL_CHECK_S."""
    import pmdata.analytics.kept_copy as analytics_module

    analytics = Analytics(demo_db, snapshot=True)
    before = failures_in(analytics)
    gone = delete_a_run(demo_db, 3)
    assert failures_in(analytics) == before  # between full checks
    monkeypatch.setattr(analytics_module, "FULL_CHECK_S", 0)
    write(demo_db, (NEW_HOOK_EVENT,))
    assert failures_in(analytics) == before - gone
    analytics.close()


def test_a_tool_call_closed_after_the_copy_shows_closed_there(demo_db, monkeypatch):
    """Recorded events are appended, and a PreToolUse row changes once: its PostToolUse closes
    it. Between full checks the copy reads the new rows and its open ones again (the whole
    table at every hook event made the pages wait under load); a change of any other kind shows
    by the next full check, which copies the table whole."""
    import pmdata.analytics.kept_copy as analytics_module

    analytics = Analytics(demo_db, snapshot=True)
    sql = (
        "SELECT count(*) AS n, count(success) AS closed, sum(duration_ms) AS took,"
        " sum(length(coalesce(tool_name, ''))) AS names FROM hooks"
    )

    def copied():
        return tuple(analytics.run_sql(sql, {}).iloc[0].fillna(0))

    def in_file():
        return tuple(v or 0 for v in rows(demo_db, sql)[0])

    assert copied() == in_file()
    write(demo_db, (NEW_HOOK_EVENT,))  # an open call
    assert copied() == in_file()
    closing_it = "UPDATE hooks SET success = 1, duration_ms = 1234 WHERE id = ?"
    write(demo_db, (closing_it, rows(demo_db, "SELECT max(id) FROM hooks")[0]))
    assert copied() == in_file()
    closed_earlier = rows(demo_db, "SELECT min(id) FROM hooks WHERE success IS NOT NULL")[0]
    write(demo_db, ("UPDATE hooks SET tool_name = 'Renamed' WHERE id = ?", closed_earlier))
    assert copied() != in_file()  # not an open call: left for the full check
    monkeypatch.setattr(analytics_module, "FULL_CHECK_S", 0)
    write(demo_db, (NEW_HOOK_EVENT,))
    assert copied() == in_file()
    analytics.close()


@pytest.mark.parametrize("hashed_up_to", [20_000, 0], ids=["hashed", "too-big-to-hash"])
def test_a_small_table_changed_in_place_is_copied_again(demo_db, monkeypatch, hashed_up_to):
    """Small tables are copied again only when their fingerprint changed: an edit that keeps
    the row count (a project renamed) must still reach the copy at the next read. A table too
    big to hash is copied whole at every change of the file."""
    from pmdata.analytics import changes

    monkeypatch.setattr(changes, "FINGERPRINT_ROWS", hashed_up_to)
    analytics = Analytics(demo_db, snapshot=True)
    sql = "SELECT name FROM projects ORDER BY id"
    assert list(analytics.run_sql(sql, {})["name"]) == [r[0] for r in rows(demo_db, sql)]
    [(first,)] = rows(demo_db, "SELECT min(id) FROM projects")
    write(
        demo_db,
        ("UPDATE projects SET name = name || ' (renamed)' WHERE id = ?", (first,)),
    )
    names = list(analytics.run_sql(sql, {})["name"])
    assert names == [r[0] for r in rows(demo_db, sql)] and names[0].endswith("(renamed)")
    analytics.close()


def test_the_recorders_receipts_stay_out_of_the_copy_and_usage_is_topped_up(demo_db):
    """Receipts grow with every forwarded event and no query reads them: never copied. Model
    calls' costs are only ever appended: the copy takes the new ones by id."""
    analytics = Analytics(demo_db, snapshot=True)
    usage = "SELECT count(*) AS n, round(sum(cost_usd), 6) AS cost FROM agent_usage"
    assert tuple(analytics.run_sql(usage, {}).iloc[0]) == rows(demo_db, usage)[0]
    write(
        demo_db,
        ("INSERT INTO pmdash_hook_receipts (event_id) VALUES ('evt-1')",),
        (
            "INSERT INTO agent_usage (record_key, agent_id, source, kind, at, cost_usd)"
            " VALUES ('k-new', 'agent-x', 'event', 'api_request', 1795000000, 0.5)",
        ),
    )
    assert tuple(analytics.run_sql(usage, {}).iloc[0]) == rows(demo_db, usage)[0]
    with pytest.raises(StoreError):
        analytics.run_sql("SELECT * FROM pmdash_hook_receipts", {})
    analytics.close()


def test_a_hook_event_leaves_the_failure_answers_keyed_as_they_were(demo_db):
    """Cached answers are keyed per table read: agents writing hooks every second must not make
    the Errors page re-run its million-row queries."""
    from pmdata.triage.service import override

    analytics = Analytics(demo_db, snapshot=True)
    failing, sessions = (load_query(n) for n in ("failing_tests", "session_activity"))
    before = analytics.token(failing), analytics.token(sessions)
    write(demo_db, (NEW_HOOK_EVENT,))
    assert analytics.token(failing) == before[0]
    assert analytics.token(sessions) != before[1]
    [(failure,)] = rows(demo_db, "SELECT test_failure_id FROM error_triage LIMIT 1")
    override(demo_db, failure, "ignore", "lab network", None, "ana")
    assert analytics.token(failing) != before[0]
    analytics.close()


def test_a_new_process_tops_up_the_copy_kept_on_disk(demo_db, tmp_path):
    kept = tmp_path / "state" / "snap.duckdb"
    with Analytics(demo_db, snapshot=True, snapshot_file=kept) as first:
        runs = len(first.run_sql("SELECT id FROM reports", {}))
    # Rows of append-only tables never change: the kept copy is trusted for them, which shows
    # here as an old row edited behind its back staying as it was copied.
    con = sqlite3.connect(demo_db)
    con.execute("UPDATE reports SET workflow_name = 'edited' WHERE id = 1")
    con.execute(
        "INSERT INTO reports (workflow_name, run_number, hash, file_path, total_tests, passed,"
        " failed, skipped, status, created_at, project) SELECT workflow_name, run_number + 1000,"
        " 'new-run', file_path, 0, 0, 0, 0, 'passed', created_at, project FROM reports WHERE id = 2"
    )
    con.commit()
    con.close()
    with Analytics(demo_db, snapshot=True, snapshot_file=kept) as second:
        frame = second.run_sql("SELECT id, workflow_name FROM reports ORDER BY id", {})
    assert len(frame) == runs + 1  # topped up with the new run
    assert frame.iloc[0]["workflow_name"] != "edited"  # not copied again


def test_a_replaced_database_is_copied_afresh(demo_db, tmp_path):
    kept = tmp_path / "snap.duckdb"
    with Analytics(demo_db, snapshot=True, snapshot_file=kept) as first:
        assert len(first.run("failing_tests"))
    other = tmp_path / "other.db"
    migrate(other)  # an empty database...
    other.replace(demo_db)  # ...now at the same path: a new file
    with Analytics(demo_db, snapshot=True, snapshot_file=kept) as second:
        assert second.run("failing_tests").empty


def test_two_holders_of_one_kept_copy_both_answer(demo_db, tmp_path):
    kept = tmp_path / "snap.duckdb"
    code = (
        "import sys, time; from pathlib import Path; from pmdata.analytics import Analytics;"
        f"a = Analytics(Path({str(demo_db)!r}), snapshot=True, snapshot_file=Path({str(kept)!r}));"
        "a.run('failing_tests'); print('ready', flush=True); time.sleep(30)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with Analytics(demo_db, snapshot=True, snapshot_file=kept) as second:
            assert len(second.run("failing_tests"))  # in memory: the file is taken
            assert second.snapshot_file is None
    finally:
        holder.kill()
        holder.wait()


PORTABLE = [q.name for q in list_queries() if "Portable SQL" in q.sql]


@pytest.mark.parametrize("name", PORTABLE)
def test_portable_queries_answer_the_same_in_sqlite_and_duckdb(demo_db, name):
    """The history benchmark compares these texts run by both engines: they must agree."""
    import pandas as pd

    query = load_query(name)
    params = query.bind({"days": 100_000} if "days" in [p.name for p in query.params] else {})
    duck = Analytics(demo_db, snapshot=True).run_sql(query.sql, params, name)
    with sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True) as con:
        lite = pd.read_sql_query(query.sql, con, params=params)
    assert len(duck) > 0
    assert list(duck.columns) == list(lite.columns)

    def plain(values):
        return [None if pd.isna(v) else v for v in values]

    for column in duck.columns:
        left, right = plain(duck[column].tolist()), plain(lite[column].tolist())
        if duck[column].dtype.kind == "f" or lite[column].dtype.kind == "f":
            assert [v is None for v in left] == [v is None for v in right], column
            assert [v for v in left if v is not None] == pytest.approx(
                [v for v in right if v is not None]
            ), column
        else:
            assert left == right, column


def test_times_columns_come_back_as_utc_timestamps(demo_db):
    frame = Analytics(demo_db).run("failure_trend_by_day", days=100_000)
    assert str(frame["day"].dtype) == "datetime64[us, UTC]" or "UTC" in str(frame["day"].dtype)
    assert (frame["day"].dt.hour == 0).all()


def test_a_deletion_made_while_the_server_was_down_shows_by_the_full_check(
    demo_db, tmp_path, monkeypatch
):
    """A restart tops the kept copy up at once (new rows) and counts whole tables a minute later
    (FULL_CHECK_S), rather than holding its first page on a count of millions of rows."""
    import pmdata.analytics.kept_copy as analytics_module

    kept = tmp_path / "snap.duckdb"
    with Analytics(demo_db, snapshot=True, snapshot_file=kept) as first:
        before = failures_in(first)
    gone = delete_a_run(demo_db, 2)
    write(demo_db, (NEW_HOOK_EVENT,))
    with Analytics(demo_db, snapshot=True, snapshot_file=kept) as second:
        assert failures_in(second) == before  # topped up, not counted
        hooks = int(second.run_sql("SELECT count(*) AS n FROM hooks", {}).iloc[0]["n"])
        monkeypatch.setattr(analytics_module, "FULL_CHECK_S", 0)
        write(demo_db, (NEW_HOOK_EVENT,))
        assert failures_in(second) == before - gone
        assert int(second.run_sql("SELECT count(*) AS n FROM hooks", {}).iloc[0]["n"]) == hooks + 1


def test_a_restart_with_nothing_written_uses_the_kept_copy_as_it_is(demo_db, tmp_path):
    kept = tmp_path / "snap.duckdb"
    with Analytics(demo_db, snapshot=True, snapshot_file=kept) as first:
        assert first.refresh()  # made
    with Analytics(demo_db, snapshot=True, snapshot_file=kept) as second:
        assert not second.refresh()  # nothing to copy: the file is as it was
        assert failures_in(second) > 0
        write(demo_db, (NEW_HOOK_EVENT,))
        assert second.refresh()


def test_an_empty_wal_is_not_a_change(demo_db):
    from pmdata.analytics import file_version

    before = file_version(demo_db)
    wal = demo_db.with_name(demo_db.name + "-wal")
    assert not wal.exists()
    wal.touch()  # what a reader opening the file leaves behind
    assert file_version(demo_db) == before
    wal.write_bytes(b"x" * 32)
    assert file_version(demo_db) != before
    wal.unlink()


def test_every_query_declares_the_tables_duckdb_sees_it_read():
    """A cached answer is keyed on the tables in `-- reads:`; a comma join or a subquery the
    declaration missed would leave an answer stale, so DuckDB's own parser checks it."""
    import re

    import duckdb

    from pmdata.analytics import list_queries
    from pmdata.analytics.catalog import macros

    con = duckdb.connect()
    con.execute(macros())  # the shared expressions the queries call
    for query in list_queries():
        parsed = con.get_table_names(re.sub(r"\$[A-Za-z_]+", "NULL", query.sql))
        assert query.reads == {t.lower() for t in parsed}, query.name
    con.close()


def test_the_sql_reads_history_classes_as_the_classifier_writes_them(fixture_db):
    """queries/_macros.sql's history_class, used by every query that shows a class, knows
    exactly the classifier's classes (pmdata.triage.rules.CLASSES)."""
    from pmdata.triage.rules import CLASSES

    migrate(fixture_db)
    with Analytics(fixture_db) as analytics:
        for name in CLASSES:
            rules = f"E2E_TEST,{name},MESSAGE"
            answer = analytics.run_sql("SELECT history_class($r, true) AS c", {"r": rules})
            assert answer["c"][0] == name
        untriaged = analytics.run_sql("SELECT history_class(NULL, false) AS c", {})
        assert untriaged["c"][0] == "UNTRIAGED"


def test_a_file_of_shared_expressions_is_not_a_query():
    assert "_macros" not in QUERIES
    with pytest.raises(QueryError, match="lower_snake_case"):
        load_query("_macros")
