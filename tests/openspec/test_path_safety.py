"""Nothing pmdash writes, moves or deletes resolves outside the openspec/ tree it was asked for,
whatever links someone put in it; and a killed archive is named until it is finished."""

import json
import shutil
from pathlib import Path

import pytest

from pmdata.cli import main
from pmdata.openspec.archive import archive_change
from pmdata.openspec.transaction import STAGING, recover, tree_lock, unfinished_archives
from pmdata.openspec.tree import OpenSpecError
from pmdata.openspec.writes import create_proposal
from tests.openspec.test_archive import kill_archive_after_the_specs, make_project, snapshot
from tests.openspec.test_writes import PROPOSAL


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A folder outside the project with files someone cares about."""
    folder = tmp_path / "precious"
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "thesis.md").write_text("years of work\n")
    (folder / "keep.txt").write_text("keep me\n")
    return folder


def _project_with_src(tmp_path: Path) -> Path:
    root = make_project(tmp_path)
    (root.parent / "src").mkdir()
    (root.parent / "src" / "main.py").write_text("print('hello')\n")
    return root


def test_a_staging_link_to_another_folder_deletes_nothing_there(tmp_path, victim):
    root = _project_with_src(tmp_path)
    (root / STAGING).symlink_to(victim)
    before = snapshot(victim)
    with pytest.raises(OpenSpecError, match="symbolic link"):
        create_proposal(root, PROPOSAL)
    with pytest.raises(OpenSpecError, match="symbolic link"):
        archive_change(root, "add-logout", accept_open_tasks=True)
    assert snapshot(victim) == before
    assert not (root / "changes" / "add-discount-codes-at-checkout").exists()


def test_a_staging_link_to_the_project_itself_deletes_nothing(tmp_path):
    root = _project_with_src(tmp_path)
    (root / STAGING).symlink_to("..")
    before = snapshot(tmp_path / "proj")
    code = main(["openspec", "archive", "add-logout", "--yes", "--root", str(root.parent)])
    assert code == 2
    assert snapshot(tmp_path / "proj") == before
    assert (root.parent / "src" / "main.py").read_text() == "print('hello')\n"


def test_specs_linked_outside_receive_no_merged_spec(tmp_path, victim):
    root = make_project(tmp_path)
    shutil.move(root / "specs", victim / "specs")
    (root / "specs").symlink_to(victim / "specs")
    before, tree_before = snapshot(victim), snapshot(root)
    with pytest.raises(OpenSpecError, match="leads outside"):
        archive_change(root, "add-logout", accept_open_tasks=True)
    assert snapshot(victim) == before
    assert snapshot(root) == tree_before


def test_an_archive_folder_linked_outside_receives_no_change(tmp_path, victim):
    root = make_project(tmp_path)
    (root / "changes" / "archive").symlink_to(victim)
    before, tree_before = snapshot(victim), snapshot(root)
    with pytest.raises(OpenSpecError, match="leads outside"):
        archive_change(root, "add-logout", accept_open_tasks=True)
    assert snapshot(victim) == before and snapshot(root) == tree_before


def test_a_capability_folder_linked_outside_is_refused(tmp_path, victim):
    root = make_project(tmp_path)
    (root / "specs" / "sessions").symlink_to(victim / "notes")
    before = snapshot(victim)
    with pytest.raises(OpenSpecError, match="outside"):
        archive_change(root, "add-logout", accept_open_tasks=True)
    assert snapshot(victim) == before
    assert (root / "changes" / "add-logout").is_dir()


def test_a_link_inside_the_staging_folder_is_removed_not_followed(tmp_path, victim):
    root = make_project(tmp_path)
    (root / STAGING).mkdir()
    (root / STAGING / "left-over").symlink_to(victim)
    (root / STAGING / "archive-x").symlink_to(victim / "notes")
    with tree_lock(root):
        recover(root)
    assert (victim / "notes" / "thesis.md").read_text() == "years of work\n"
    assert not (root / STAGING).exists()


def test_a_journal_that_names_paths_outside_changes_nothing(tmp_path, victim):
    root = make_project(tmp_path)
    staging = root / STAGING / "archive-add-logout"
    staging.mkdir(parents=True)
    journal = {
        "change": "add-logout",
        "archive": "2026-01-01-add-logout",
        "specs": [{"target": str(victim / "keep.txt"), "new": "new-0.md", "had_old": False}],
        "made_dirs": [str(victim / "notes")],
    }
    (staging / "archive-journal.json").write_text(json.dumps(journal))
    before = snapshot(victim)
    with pytest.raises(OpenSpecError, match="leads outside"), tree_lock(root):
        recover(root)
    assert snapshot(victim) == before


def test_a_killed_archive_is_named_until_recovered(tmp_path, monkeypatch, capsys):
    root = make_project(tmp_path)
    before = snapshot(root)
    kill_archive_after_the_specs(root, "add-logout", monkeypatch)
    [left] = unfinished_archives(root)
    assert left.change_id == "add-logout" and not left.moved
    assert sorted(left.specs_written) == ["specs/auth/spec.md", "specs/sessions/spec.md"]
    # validate says so, and how to finish it
    code = main(["openspec", "validate", "--root", str(root.parent)])
    out = capsys.readouterr()
    assert "interrupted" in out.out + out.err and "pmdata openspec recover" in out.out + out.err
    assert code == 1
    code = main(["openspec", "recover", "--root", str(root.parent)])
    assert code == 0 and "rolled back" in capsys.readouterr().out
    assert snapshot(root) == before and unfinished_archives(root) == []
