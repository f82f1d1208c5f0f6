import random
import sqlite3

import pytest

from pmdata.cli import main
from pmdata.errors import StoreError
from pmdata.ingest.playwright_ingest import ingest_report
from pmdata.store import migrate, open_engine
from pmdata.store import migrations as m
from pmdata.store.database import journal_mode
from pmdata.store.schema import ADDED_COLUMNS, HOMELAB_TABLES, OUR_TABLES
from tests.conftest import SHARED, dump, rows


def fill_like_the_homelab(path, runs=300, failures_per_run=20, hook_events=3000):
    """Rows written as the Playwright server and agent service write them: their columns only."""
    rng = random.Random(1)
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys = ON")
    with con:
        pid = con.execute(
            "INSERT INTO projects (name, path, description) VALUES ('shop', '/srv/shop', NULL)"
        ).lastrowid
        for run in range(runs):
            rid = con.execute(
                "INSERT INTO reports (workflow_name, run_number, hash, file_path, total_tests,"
                " passed, failed, skipped, status, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    "shop-e2e",
                    run,
                    f"h{run}",
                    f"/r/{run}.json",
                    100,
                    80,
                    20,
                    0,
                    "mixed",
                    1_760_000_000 + run * 3600,
                ),
            ).lastrowid
            con.executemany(
                "INSERT INTO test_failures (report_id, test_name, test_file, line_number, error,"
                " stack_trace, duration, retries, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        rid,
                        f"t{rng.randint(0, 200)}",
                        "a.spec.ts",
                        3,
                        "\x1b[31mboom\x1b[0m",
                        "at x",
                        12,
                        1,
                        1_760_000_000 + run * 3600,
                    )
                    for _ in range(failures_per_run)
                ],
            )
        con.execute(
            "INSERT INTO failure_history (test_name, occurrences, classification_type)"
            " VALUES ('t1', 4, 'RECURRING')"
        )
        con.execute(
            "INSERT INTO remediation_attempts (report_id, test_name, status)"
            " VALUES (1, 't1', 'pending')"
        )
        sid = con.execute(
            "INSERT INTO sessions (project_id, agent_id, status) VALUES (?, 'agent-1', 'running')",
            (pid,),
        ).lastrowid
        con.executemany(
            "INSERT INTO hooks (session_id, hook_type, timestamp, tool_name, metadata)"
            " VALUES (?,?,?,?,?)",
            [(sid, "pre_tool_use", 1_760_000_000 + i, "Read", "{}") for i in range(hook_events)],
        )
    con.close()


def columns(path, table):
    con = sqlite3.connect(path)
    try:
        return con.execute(f'PRAGMA table_info("{table}")').fetchall()
    finally:
        con.close()


def their_tables(path):
    con = sqlite3.connect(path)
    try:
        return [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    finally:
        con.close()


def test_migrating_populated_fixture_twice_loses_nothing(fixture_db):
    fill_like_the_homelab(fixture_db)
    tables = their_tables(fixture_db)
    before = dump(fixture_db, tables)
    schema_before = {t: columns(fixture_db, t) for t in tables}
    assert sum(len(rows) for rows in before.values()) > 9000

    first = migrate(fixture_db)
    second = migrate(fixture_db)

    assert "created table error_triage" in first
    assert second == []
    after = dump(fixture_db, tables)
    for table in tables:
        width = len(schema_before[table])
        # Added columns come last, so the original columns are a prefix of each row.
        assert [row[:width] for row in after[table]] == before[table], table
        assert columns(fixture_db, table)[:width] == schema_before[table], table


def test_migrate_adds_exactly_our_columns_and_tables(fixture_db):
    migrate(fixture_db)
    for table, column in ADDED_COLUMNS:
        assert column.name in {c[1] for c in columns(fixture_db, table)}
    names = set(their_tables(fixture_db))
    assert set(OUR_TABLES) <= names
    con = sqlite3.connect(fixture_db)
    indexes = {n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    default = con.execute(
        "SELECT dflt_value FROM pragma_table_info('sessions') WHERE name='session_type'"
    ).fetchone()[0]
    existing_type = con.execute("SELECT session_type FROM sessions").fetchone()[0]
    con.close()
    assert {"idx_triage_decision", "idx_triage_failure"} <= indexes
    assert default == "'manual'"
    assert existing_type == "manual"


def test_missing_file_gets_full_schema(tmp_path):
    db = tmp_path / "new.db"
    migrate(db)
    assert set(HOMELAB_TABLES) | set(OUR_TABLES) <= set(their_tables(db))
    assert migrate(db) == []
    assert m.applied(db) == [mig.name for mig in m.MIGRATIONS]


def test_empty_file_gets_full_schema(tmp_path):
    db = tmp_path / "empty.db"
    db.touch()
    migrate(db)
    assert "error_triage" in their_tables(db)


def test_triage_constraints_hold(tmp_path):
    db = tmp_path / "new.db"
    migrate(db)
    con = sqlite3.connect(db)
    con.execute("PRAGMA foreign_keys = ON")
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO error_triage (test_failure_id, decision) VALUES (1, 'maybe')")
    with pytest.raises(sqlite3.IntegrityError):  # no such test failure
        con.execute("INSERT INTO error_triage (test_failure_id) VALUES (999)")
    con.close()


def test_failed_migration_leaves_database_as_it_was(fixture_db, monkeypatch):
    before = dump(fixture_db)

    def explode(conn):
        raise sqlite3.OperationalError("disk went away")

    monkeypatch.setattr(m, "MIGRATIONS", [*m.MIGRATIONS, m.Migration("explode", explode)])
    with pytest.raises(sqlite3.OperationalError):
        migrate(fixture_db)
    assert dump(fixture_db) == before
    assert "error_triage" not in their_tables(fixture_db)


def test_corrupt_file_is_refused_untouched(tmp_path):
    db = tmp_path / "bad.db"
    db.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a SQLite database"):
        migrate(db)
    assert db.read_bytes() == b"this is not sqlite at all" * 100


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        migrate(tmp_path / "nope" / "x.db")


def test_writing_connections_use_foreign_keys_and_busy_timeout(tmp_path):
    migrate(tmp_path / "w.db")
    assert journal_mode(tmp_path / "w.db") == "wal", "a database we create is ours: WAL"
    engine = open_engine(tmp_path / "w.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    engine.dispose()


def test_revert_removes_exactly_ours_and_migrate_brings_it_back(fixture_db, tmp_path):
    """On a populated copy: the homelab's tables, columns and rows after a revert are the
    pristine copy's, even after our tables were filled and our columns written."""
    from pmdata.cli import main
    from pmdata.store import revert

    fill_like_the_homelab(fixture_db, runs=40, hook_events=400)
    tables = their_tables(fixture_db)
    pristine = dump(fixture_db, tables)
    pristine_schema = {t: columns(fixture_db, t) for t in tables}
    pristine_sql = (
        sqlite3.connect(fixture_db)
        .execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        .fetchall()
    )
    migrate(fixture_db)
    con = sqlite3.connect(fixture_db)
    con.execute("UPDATE sessions SET session_type = 'manual', work_item = 'error:1'")
    con.commit()
    con.close()
    from pmdata.triage.service import run_triage

    assert run_triage(fixture_db)["classified"] > 0
    assert main(["migrate", "--revert", "--db", str(fixture_db)]) == 0
    assert their_tables(fixture_db) == tables
    assert {t: columns(fixture_db, t) for t in tables} == pristine_schema
    assert dump(fixture_db, tables) == pristine
    assert (
        sqlite3.connect(fixture_db)
        .execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        .fetchall()
        == pristine_sql
    )
    assert revert(fixture_db) == []  # nothing of ours is left to remove
    assert "created table error_triage" in migrate(fixture_db)


def test_a_rollback_journal_database_keeps_its_journal_mode(fixture_db, capsys):
    con = sqlite3.connect(fixture_db)
    assert con.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    con.close()
    assert main(["migrate", "--db", str(fixture_db)]) == 0
    out = capsys.readouterr().out
    assert "journal mode: delete, left as found" in out
    assert journal_mode(fixture_db) == "delete"
    ingest_report(fixture_db, SHARED / "fixtures" / "playwright" / "run-1.json", "shop")
    assert journal_mode(fixture_db) == "delete", "a write keeps it too"
    assert main(["migrate", "--db", str(fixture_db), "--revert"]) == 0
    assert journal_mode(fixture_db) == "delete"


def test_only_pending_migrations_run_and_list_says_which(tmp_path, monkeypatch, capsys):
    db = tmp_path / "gated.db"
    migrate(db)
    assert main(["migrate", "--db", str(db), "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == len(m.MIGRATIONS) and all(" applied " in line for line in listed)
    ran = []
    for name in ("later_one", "error_triage"):  # a new one, and one applied long ago
        monkeypatch.setattr(
            m,
            "MIGRATIONS",
            [*m.MIGRATIONS, m.Migration(name, lambda c, n=name: ran.append(n) or [])],
        )
    main(["migrate", "--db", str(db), "--list"])
    assert "later_one" in capsys.readouterr().out.split("pending")[0].splitlines()[-1]
    migrate(db)
    assert ran == ["later_one"], "an applied migration does not run again"
    assert "later_one" in {name for name, when in m.status(db) if when}


def test_a_database_migrated_by_an_older_pmdash_gets_what_came_since(tmp_path):
    db = tmp_path / "older.db"
    migrate(db)
    con = sqlite3.connect(db)
    with con:  # as the last landed version left it: no receipts table, no run_attempt column
        con.execute("DROP TABLE pmdash_hook_receipts")
        con.execute("ALTER TABLE reports DROP COLUMN run_attempt")
        con.execute(
            "DELETE FROM pmdash_migrations WHERE name IN ('hook_receipts', 'reports_run_attempt')"
        )
    con.close()
    done = migrate(db)
    assert "created table pmdash_hook_receipts" in done
    assert "added column reports.run_attempt" in done


def test_error_work_items_of_older_versions_come_to_name_their_failure(tmp_path):
    """`error:<n>` named a triage row before; now the failure (the id in its page's URL)."""
    db = tmp_path / "older-items.db"
    migrate(db)
    con = sqlite3.connect(db)
    with con:
        con.execute("INSERT INTO projects (id, name, path) VALUES (1, 'shop', '/shop')")
        con.execute("INSERT INTO reports (workflow_name, hash, file_path) VALUES ('w', 'h', 'f')")
        con.executemany(
            "INSERT INTO test_failures (id, report_id, test_name) VALUES (?, 1, ?)",
            [(90, "a"), (91, "b")],
        )
        con.executemany(
            "INSERT INTO sessions (id, project_id, agent_id, work_item) VALUES (?, 1, ?, ?)",
            [(1, "old", "error:5"), (2, "new", "error:91"), (3, "spec", "spec:shop/x")],
        )
        # Triage row 5 (failure 91) had session 1 on it, the old way; session 2 was recorded
        # the new way (failure 91) before migrate ran, and is not on triage row 91.
        con.execute(
            "INSERT INTO error_triage (id, test_failure_id, assigned_session_id) VALUES (5, 91, 1)"
        )
        con.execute("DELETE FROM pmdash_migrations WHERE name = 'work_items_name_failures'")
    con.close()
    assert "renamed 1 error work items to their failure ids" in migrate(db)
    assert rows(db, "SELECT id, work_item FROM sessions ORDER BY id") == [
        (1, "error:91"),
        (2, "error:91"),
        (3, "spec:shop/x"),
    ]
    assert not any("renamed" in line for line in migrate(db))  # once
