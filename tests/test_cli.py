import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from pmdata.cli import main
from pmdata.store import migrate


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_query_list_names_every_query(capsys):
    code, out, _ = run(capsys, "query", "--list")
    assert code == 0
    for name in ("recent_runs", "failures_by_test", "sessions_overview"):
        assert name in out


def test_query_prints_csv_and_json(capsys, demo_dir):
    db = str(demo_dir / "pmdash.db")
    code, out, _ = run(
        capsys, "query", "recent_runs", "--db", db, "--param", "limit=2", "--format", "csv"
    )
    assert code == 0
    assert out.splitlines()[0].startswith("id,workflow_name,run_number")
    assert len(out.strip().splitlines()) == 3
    code, out, _ = run(
        capsys, "query", "recent_runs", "--db", db, "--param", "limit=2", "--format", "json"
    )
    assert len(json.loads(out)) == 2


def test_db_falls_back_to_environment(capsys, demo_dir, monkeypatch):
    monkeypatch.setenv("PMDASH_DB", str(demo_dir / "pmdash.db"))
    code, out, _ = run(capsys, "query", "database_summary", "--format", "json")
    assert code == 0
    assert json.loads(out)[0]["projects"] == 4


def test_migrate_reports_then_is_idempotent(capsys, fixture_db):
    code, out, _ = run(capsys, "migrate", "--db", str(fixture_db))
    assert code == 0 and "created table error_triage" in out
    code, out, _ = run(capsys, "migrate", "--db", str(fixture_db))
    assert code == 0 and "up to date (0 changes)" in out


def test_config_says_where_values_come_from(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PMDASH_READONLY", "true")
    code, out, _ = run(capsys, "config", "--db", str(tmp_path / "x.db"), "--json")
    data = json.loads(out)
    assert code == 0
    assert data["settings"]["readonly"] is True
    assert data["sources"]["readonly"] == "environment (PMDASH_READONLY)"
    assert data["sources"]["db"] == "command line"


@pytest.mark.parametrize(
    "make_db, argv, message",
    [
        (lambda p: None, ["query", "recent_runs"], "database not found"),
        (
            lambda p: p.write_bytes(b"\x00garbage" * 512),
            ["query", "recent_runs"],
            "not a SQLite database",
        ),
        (lambda p: p.write_bytes(b"\x00garbage" * 512), ["migrate"], "not a SQLite database"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.close(),
            ["query", "recent_runs"],
            "pmdata migrate",
        ),
        (lambda p: migrate(p), ["query", "recent_runs", "--param", "limit"], "key=value"),
        (lambda p: migrate(p), ["query", "recent_runs", "--param", "limit=ten"], "must be int"),
        (lambda p: migrate(p), ["query", "recent_runs", "--param", "nope=1"], "no parameter"),
        (lambda p: migrate(p), ["query", "no_such"], "no query named"),
    ],
)
def test_bad_input_is_one_clear_line_and_modifies_nothing(capsys, tmp_path, make_db, argv, message):
    db = tmp_path / "db.sqlite"
    make_db(db)
    before = digest(db) if db.exists() else None
    code, out, err = run(capsys, *argv, "--db", str(db))
    assert code != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert (digest(db) if db.exists() else None) == before


def test_unreadable_database(tmp_path):
    db = tmp_path / "x.db"
    migrate(db)
    db.chmod(0)
    # Root reads any file whatever its mode (which is how `make test` runs): drop the two
    # capabilities that let it, so the CLI meets the file as any other user would.
    as_user = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv (util-linux) to drop root's file access")
        as_user = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    pmdata = os.path.join(os.path.dirname(sys.executable), "pmdata")
    out = subprocess.run(
        [*as_user, pmdata, "query", "recent_runs", "--db", str(db)], capture_output=True, text=True
    )
    assert out.returncode != 0 and "not readable" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_unwritable_folder(capsys, tmp_path):
    code, _, err = run(capsys, "migrate", "--db", str(tmp_path / "missing" / "x.db"))
    assert code != 0 and "does not exist" in err


def test_console_script_is_installed():
    out = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "pmdata"), "--help"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0
    for command in ("config", "migrate", "query", "demo"):
        assert command in out.stdout


def _every_subcommand(parser, path=()):
    import argparse

    for action in parser._actions:  # noqa: SLF001 - argparse keeps its subparsers here only
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, child in action.choices.items():
                yield (*path, name), child
                yield from _every_subcommand(child, (*path, name))


def test_every_subcommand_has_its_own_options_and_an_example():
    from pmdata.cli_args import build_parser

    leaves = [
        (path, p)
        for path, p in _every_subcommand(build_parser())
        if not any(type(a).__name__ == "_SubParsersAction" for a in p._actions)  # noqa: SLF001
    ]
    assert len(leaves) >= 15
    for path, p in leaves:
        assert "example: pmdata " + " ".join(path) in p.format_help(), path


def test_an_option_of_another_action_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["openspec", "list", "--strict"])  # --strict belongs to validate
    assert stop.value.code == 2 and "unrecognized arguments: --strict" in capsys.readouterr().err


def test_validate_takes_an_id_or_all_not_both(capsys, tmp_path):
    (tmp_path / "openspec" / "changes" / "a").mkdir(parents=True)
    code = main(["openspec", "validate", "a", "--all", "--root", str(tmp_path)])
    assert code == 2 and "give one ID or --all, not both" in capsys.readouterr().err
