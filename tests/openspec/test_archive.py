"""Archive a change exactly as `openspec archive <id> --yes` does.

Every active change of every fixture repo is archived by us on a copy of the tree and compared
with what the official CLI did to the same change (recorded in tests/openspec/oracle/). Where the
CLI archives, every file and folder must come out byte-identical; where it refuses, we refuse
too and leave the tree untouched. The archive date is the machine's local date on both sides.
"""

import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from pmdata.cli import main
from pmdata.openspec import archive as archive_mod
from pmdata.openspec.archive import ArchiveRefused, archive_change, plan_archive
from pmdata.openspec.tree import OpenSpecError, OpenSpecTree
from tests.openspec import archive_oracle
from tests.openspec.test_cli_parity import FIXTURES, REPOS


def snapshot(folder: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        out[rel + ("/" if path.is_dir() else "")] = b"" if path.is_dir() else path.read_bytes()
    return out


@pytest.mark.parametrize("repo", REPOS)
def test_archive_matches_the_cli_byte_for_byte(repo, tmp_path):
    """Against the CLI's own archives of the same changes (tests/openspec/archive_oracle.py
    recorded them): every file and folder added, changed and removed, to the byte. One copy of
    the tree serves every change: after each archive, what it touched is put back."""
    source = FIXTURES / repo / "openspec"
    oracle = json.loads(archive_oracle.oracle_file(repo).read_text())
    changes = sorted(OpenSpecTree(source).change_ids(include_dot=False))
    assert changes == sorted(oracle), "the fixture tree and its recorded archives disagree"
    ours = tmp_path / "openspec"
    shutil.copytree(source, ours, symlinks=True)
    before = archive_oracle.files(ours)
    archived = refused = 0
    for change_id in changes:
        today = date.today()
        try:
            archive_change(ours, change_id, accept_open_tasks=True)
        except ArchiveRefused as exc:
            assert oracle[change_id] is None, f"{change_id}: we refused what the CLI did: {exc}"
            assert archive_oracle.files(ours) == before, f"{change_id}: a refusal changed the tree"
            refused += 1
            continue
        assert oracle[change_id] is not None, f"{change_id}: the CLI refused it"
        after = archive_oracle.files(ours)
        assert archive_oracle.effect(before, after, today) == oracle[change_id], change_id
        put_back(ours, source, before, after)
        assert archive_oracle.files(ours) == before, f"{change_id}: the tree was not put back"
        archived += 1
    assert archived + refused >= 1
    print(f"{repo}: {archived} archived identically, {refused} refused by both")


def put_back(tree: Path, source: Path, before: dict[str, str], after: dict[str, str]) -> None:
    """Undo an archive on `tree` from the untouched `source`: what it added goes, what it
    changed or removed comes back."""
    for rel in sorted((p for p in after if p not in before), reverse=True):  # deepest first
        path = tree / rel
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink()
    for rel in sorted(p for p in before if after.get(p) != before[p]):  # parents first
        if before[rel] == "/":
            (tree / rel).mkdir(exist_ok=True)
        else:
            shutil.copy2(source / rel, tree / rel)


def make_project(tmp_path: Path) -> Path:
    root = tmp_path / "proj" / "openspec"
    (root / "specs" / "auth").mkdir(parents=True)
    (root / "specs" / "auth" / "spec.md").write_text(
        "# auth Specification\n\n## Purpose\n"
        "Sign people in and out of the app safely and simply.\n\n"
        "## Requirements\n### Requirement: Login\nThe system SHALL sign people in.\n\n"
        "#### Scenario: ok\n- **WHEN** right password\n- **THEN** signed in\n"
    )
    change = root / "changes" / "add-logout"
    (change / "specs" / "auth").mkdir(parents=True)
    (change / "specs" / "sessions").mkdir(parents=True)
    (change / "proposal.md").write_text("# Add logout\n\n## Why\nx\n\n## What Changes\n- y\n")
    (change / "tasks.md").write_text("## 1. Do\n- [x] 1.1 a\n- [ ] 1.2 b\n")
    (change / "specs" / "auth" / "spec.md").write_text(
        "## ADDED Requirements\n### Requirement: Logout\nThe system SHALL sign people out.\n\n"
        "#### Scenario: bye\n- **WHEN** logout\n- **THEN** signed out\n"
    )
    (change / "specs" / "sessions" / "spec.md").write_text(
        "## ADDED Requirements\n### Requirement: Expiry\nSessions SHALL expire.\n\n"
        "#### Scenario: old\n- **WHEN** a day passes\n- **THEN** it ends\n"
    )
    return root


def test_open_tasks_are_a_warning_the_person_must_accept(tmp_path):
    root = make_project(tmp_path)
    plan, _ = plan_archive(root, "add-logout", today=date(2026, 11, 24))
    assert (plan.open_tasks, plan.total_tasks, plan.archive_name) == (1, 2, "2026-11-24-add-logout")
    assert [u["action"] for u in plan.updates] == ["update", "create"]
    with pytest.raises(ArchiveRefused, match="1 incomplete task"):
        archive_change(root, "add-logout")
    archive_change(root, "add-logout", accept_open_tasks=True, today=date(2026, 11, 24))
    assert (root / "changes" / "archive" / "2026-11-24-add-logout" / "proposal.md").exists()
    assert "Requirement: Logout" in (root / "specs" / "auth" / "spec.md").read_text()
    assert (
        (root / "specs" / "sessions" / "spec.md")
        .read_text()
        .startswith(
            "# sessions Specification\n\n## Purpose\nTBD - created by archiving change add-logout."
        )
    )


def test_an_invalid_change_is_refused_unless_forced(tmp_path):
    root = make_project(tmp_path)
    delta = root / "changes" / "add-logout" / "specs" / "auth" / "spec.md"
    delta.write_text("## ADDED Requirements\n### Requirement: Logout\nSign out.\n")  # no scenario
    before = snapshot(root)
    with pytest.raises(ArchiveRefused) as refused:
        archive_change(root, "add-logout", accept_open_tasks=True)
    assert any("must include at least one scenario" in i["message"] for i in refused.value.issues)
    assert snapshot(root) == before
    # Forced (the CLI's --no-validate), it goes ahead: the person chose to.
    archive_change(root, "add-logout", accept_open_tasks=True, force=True)
    assert "Requirement: Logout\nSign out." in (root / "specs" / "auth" / "spec.md").read_text()


def test_a_failure_mid_way_leaves_the_tree_as_it_was(tmp_path, monkeypatch):
    root = make_project(tmp_path)
    before = snapshot(root)
    real_rename = os.rename

    def fail_on_the_final_move(src, dst):
        if "archive" in str(dst):
            raise OSError("disk full")
        return real_rename(src, dst)

    monkeypatch.setattr(archive_mod.os, "rename", fail_on_the_final_move)
    with pytest.raises(OSError, match="disk full"):
        archive_change(root, "add-logout", accept_open_tasks=True)
    assert snapshot(root) == before  # both specs restored, the new one and its folder removed


class Killed(BaseException):
    """What a SIGKILL is to the archive: nothing after it runs, no rollback in-process."""


def kill_archive_after_the_specs(root, change_id: str, monkeypatch, **options) -> None:
    """Archive `change_id`, killed right after specs/ was written and before the change moved."""

    def die(*_):
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(archive_mod, "roll_back", lambda *a: None)
        m.setattr(archive_mod.os, "rename", die)
        with pytest.raises(Killed):
            archive_change(root, change_id, accept_open_tasks=True, **options)


def test_a_killed_archive_is_rolled_back_by_the_next_write(tmp_path, monkeypatch):
    root = make_project(tmp_path)
    before = snapshot(root)
    kill_archive_after_the_specs(root, "add-logout", monkeypatch)
    assert snapshot(root) != before
    with OpenSpecError_is_fine():
        archive_change(root, "no-such-change")
    assert snapshot(root) == before


class OpenSpecError_is_fine:  # noqa: N801 - reads as a sentence at the call site
    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        return kind is not None and issubclass(kind, OpenSpecError)


@pytest.mark.parametrize("bad", ["../specs", "..", "/etc", "a/b", ".hidden", "archive"])
def test_ids_that_are_paths_are_refused(tmp_path, bad):
    root = make_project(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(OpenSpecError, match="refused change id"):
        archive_change(root, bad)
    assert snapshot(tmp_path) == before


def test_a_change_that_is_a_link_out_of_the_project_is_refused(tmp_path):
    root = make_project(tmp_path)
    outside = tmp_path / "elsewhere"
    shutil.copytree(root / "changes" / "add-logout", outside)
    (root / "changes" / "linked").symlink_to(outside)
    with pytest.raises(OpenSpecError, match="symbolic link"):
        archive_change(root, "linked", accept_open_tasks=True)
    assert (outside / "proposal.md").exists()


def test_archive_command_prints_json_and_refusals(tmp_path, capsys):
    root = make_project(tmp_path)
    code = main(["openspec", "archive", "add-logout", "--json", "--root", str(root.parent)])
    out = capsys.readouterr().out
    assert code == 1 and '"archive": null' in out and "incomplete task" in out
    code = main(
        ["openspec", "archive", "add-logout", "--yes", "--json", "--root", str(root.parent)]
    )
    assert code == 0 and '"archiveName"' in capsys.readouterr().out
    assert not (root / "changes" / "add-logout").exists()
