import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pmdata.openspec.projects import discover_projects
from pmdata.openspec.tasks import task_progress
from pmdata.openspec.tree import OpenSpecError, OpenSpecTree, iso_millis, last_modified

SPEC = """# Auth Specification

## Purpose
How people sign in, and what the system guarantees about sessions.

## Requirements
### Requirement: Sign in
The system SHALL sign a user in with email and password.

#### Scenario: Good password
- **WHEN** the password matches
- **THEN** a session starts
"""


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path):
    write(tmp_path / "openspec" / "specs" / "auth" / "spec.md", SPEC)
    return OpenSpecTree(tmp_path / "openspec")


def test_task_rule_of_cli_1_13_1():
    text = (
        "- [ ] a\n- [x] b\n  * [X] c\n1. [ ] d\n- [WIP] e\n- [A](url)\n- [] f\n- [~] g\n"
        "\ufeff- [ ] h\n```\n- [x] fenced counts\n```\n+ [ x ] i\r\n"
    )
    assert task_progress(text) == (4, 9)  # [WIP] and the link are not tasks


def test_last_modified_is_newest_file_or_the_folder(tmp_path):
    folder = tmp_path / "change"
    write(folder / "a.md", "a")
    write(folder / "specs" / "x" / "spec.md", "b")
    os.utime(folder / "a.md", (1_700_000_000, 1_700_000_000))
    os.utime(folder / "specs" / "x" / "spec.md", (1_700_000_500.25, 1_700_000_500.25))
    assert last_modified(folder) == pytest.approx(1_700_000_500.25)
    assert iso_millis(1_700_000_500.25) == "2023-11-14T22:21:40.250Z"
    empty = tmp_path / "empty"
    empty.mkdir()
    os.utime(empty, (1_600_000_000, 1_600_000_000))
    assert last_modified(empty) == 1_600_000_000
    assert datetime.fromtimestamp(last_modified(empty), UTC).year == 2020


def test_crlf_and_bom_read_like_lf(tree, tmp_path):
    crlf = ("\ufeff" + SPEC).replace("\n", "\r\n")
    write(tmp_path / "openspec" / "specs" / "auth2" / "spec.md", crlf)
    assert tree.show_spec("auth2")["requirements"] == tree.show_spec("auth")["requirements"]


@pytest.mark.parametrize(
    "content",
    [
        "",
        "no headers at all",
        "## Purpose\n\n## Requirements\n",
        b"\xff\xfe\x00\x01binary\x00",
        b"# T\n\n## Purpose\nCaf\xe9 latin-1\n\n## Requirements\n### Requirement: R\nSHALL x\n",
        "## Requirements\n### Requirement: R\nThe system SHALL.\n",
    ],
)
def test_bad_spec_files_get_an_error_and_the_rest_still_lists(tree, tmp_path, content):
    write(tmp_path / "openspec" / "specs" / "broken" / "spec.md", content)
    listed = {s["id"]: s["requirementCount"] for s in tree.list_specs()}
    assert listed["auth"] == 1 and "broken" in listed
    try:
        shown = tree.show_spec("broken")
        assert shown["id"] == "broken"
    except OpenSpecError as exc:
        assert str(exc)


def test_huge_spec_is_read_in_part_without_crashing(tree, tmp_path):
    body = "### Requirement: R{n}\nThe system SHALL do {n}.\n\n#### Scenario: s\n- ok\n\n"
    big = SPEC + "".join(body.format(n=n) for n in range(70_000))
    assert len(big.encode()) > 5_000_000
    write(tmp_path / "openspec" / "specs" / "huge" / "spec.md", big)
    count = {s["id"]: s["requirementCount"] for s in tree.list_specs()}["huge"]
    assert 1 < count < 70_001
    assert "only its start was read" in tree.problems[str(tmp_path / "openspec/specs/huge/spec.md")]


def test_non_utf8_bytes_are_replaced_and_noted(tree, tmp_path):
    path = write(
        tmp_path / "openspec" / "specs" / "latin" / "spec.md",
        SPEC.replace("sessions", "s\xe9ssions").encode("latin-1"),
    )
    assert "s\ufffdssions" in tree.show_spec("latin")["overview"]
    assert "not valid UTF-8" in tree.problems[str(path)]


def test_change_without_proposal_or_tasks_still_lists(tree, tmp_path):
    write(tmp_path / "openspec" / "changes" / "bare" / "design.md", "# d\n")
    write(tmp_path / "openspec" / "changes" / "no-why" / "proposal.md", "# T\n\n## Context\nx\n")
    listed = {c["name"]: c["status"] for c in tree.list_changes()}
    assert listed == {"bare": "no-tasks", "no-why": "no-tasks"}
    with pytest.raises(OpenSpecError, match="no proposal.md"):
        tree.show_change("bare")
    with pytest.raises(OpenSpecError, match="Why section"):
        tree.show_change("no-why")


def test_spec_link_leading_out_of_the_tree_is_not_read(tree, tmp_path):
    outside = write(tmp_path / "elsewhere" / "spec.md", SPEC)
    (tmp_path / "openspec" / "specs" / "escape").mkdir()
    (tmp_path / "openspec" / "specs" / "escape" / "spec.md").symlink_to(outside)
    (tmp_path / "openspec" / "specs" / "dirlink").symlink_to(tmp_path / "elsewhere")
    assert tree.spec_ids() == ["auth"]


def test_projects_are_found_under_each_root(tmp_path):
    write(tmp_path / "a" / "shop" / "openspec" / "specs" / "auth" / "spec.md", SPEC)
    write(tmp_path / "a" / "shop" / "openspec" / "changes" / "x" / "proposal.md", "# x\n")
    write(tmp_path / "a" / "plain" / "README.md", "no openspec here")
    write(tmp_path / "b" / "openspec" / "project.md", "# the root is a project itself\n")
    found = discover_projects([tmp_path / "a", tmp_path / "b", tmp_path / "missing"])
    assert [(p.name, p.active_changes, p.specs) for p in found] == [("b", 0, 0), ("shop", 1, 1)]
    assert found[1].has_active_changes and not found[0].has_active_changes
