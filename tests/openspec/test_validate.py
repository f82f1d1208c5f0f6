"""`pmdata openspec validate` agrees with the CLI 1.13.2's `validate --all --json` (and
`--strict`, `--archived`) on every fixture repo: the same items, each valid or not, and the same
issues — level, path, message and line — in the same order.

Normalisations: `durationMs` (a timing) and `root` (an absolute path) are dropped from the
oracle; nothing else.
"""

import json

import pytest

from pmdata.cli import main
from pmdata.openspec.tree import OpenSpecTree
from pmdata.openspec.validate import validate_change, validate_spec_text
from tests.openspec.test_cli_parity import FIXTURES, REPOS

ORACLES = [
    (repo, f.name) for repo in REPOS for f in sorted((FIXTURES / repo / "oracle").glob("validate*"))
]
FLAGS = {
    "validate.json": [],
    "validate-strict.json": ["--strict"],
    "validate-archived.json": ["--archived"],
}
# What the comparison stands on, checked as it is collected: every tree has the CLI's verdicts,
# and they hold many kinds of finding (so matching them is not matching "all valid").
assert {repo for repo, _ in ORACLES} == set(REPOS) and len(ORACLES) >= 10, "oracles missing"
_KINDS = {
    (i["level"], i["message"][:25])
    for repo, name in ORACLES
    for item in json.loads((FIXTURES / repo / "oracle" / name).read_text())["items"]
    for i in item["issues"]
}
assert len(_KINDS) >= 12, f"the validate oracles hold only {len(_KINDS)} kinds of finding"


@pytest.mark.parametrize(("repo", "oracle_file"), ORACLES)
def test_validate_matches_cli(repo, oracle_file, capsys):
    want = json.loads((FIXTURES / repo / "oracle" / oracle_file).read_text())
    code = main(
        ["openspec", "validate", "--json", *FLAGS[oracle_file], "--root", str(FIXTURES / repo)]
    )
    ours = json.loads(capsys.readouterr().out)
    for item in want["items"]:
        item.pop("durationMs")
    assert [(i["type"], i["id"]) for i in ours["items"]] == [
        (i["type"], i["id"]) for i in want["items"]
    ]
    for mine, theirs in zip(ours["items"], want["items"], strict=True):
        assert mine == theirs, mine["id"]
    assert ours["summary"] == want["summary"]
    assert code == (0 if want["summary"]["totals"]["failed"] == 0 else 1)


SPEC = """# auth Specification

## Purpose
TBD - created by archiving change add-auth. Update Purpose after archive.

## Requirements
### Requirement: Login
The system SHALL let a person sign in.

#### Scenario: Good password
- **WHEN** the password is right
- **THEN** a session starts

### Requirement: Logout
People can sign out.

### Requirement: Login
The system SHALL also do this.

#### Scenario: Twice
- **WHEN** x
- **THEN** y
"""


def test_spec_rules_each_fire_with_their_line():
    issues = validate_spec_text("auth", SPEC)["issues"]
    by_message = {i["message"][:40]: i for i in issues}
    assert issues[0] == {
        "level": "ERROR",
        "path": "requirements.1.scenarios",
        "message": "Requirement must have at least one scenario",
    }
    dup = next(i for i in issues if "duplicates the requirement" in i["message"])
    assert dup["line"] == 17 and "line 7" in dup["message"]
    placeholder = next(i for i in issues if i["path"] == "overview")
    assert placeholder["level"] == "WARNING" and placeholder["line"] == 4
    assert any(
        i["level"] == "WARNING" and 'Requirement "Logout" should contain SHALL' in i["message"]
        for i in issues
    )
    assert len(by_message) >= 4


def test_a_spec_without_purpose_is_one_error_naming_the_fix():
    result = validate_spec_text("x", "# x\n\n## Requirements\n")
    assert result["valid"] is False
    [only] = result["issues"]
    assert only["path"] == "file" and only["message"].startswith(
        "Spec must have a Purpose section. Missing required sections."
    )


def test_change_rules_conflicts_and_task_numbering(tmp_path):
    change = tmp_path / "openspec" / "changes" / "c"
    (change / "specs" / "auth").mkdir(parents=True)
    (tmp_path / "openspec" / "specs").mkdir()
    (change / "specs" / "auth" / "spec.md").write_text(
        "## ADDED Requirements\n### Requirement: A\nIt SHALL.\n\n#### Scenario: s\n- ok\n\n"
        "### Documentation notes\n\n"
        "## REMOVED Requirements\n### Requirement: A\n\n"
        "## RENAMED Requirements\n- FROM: `### Requirement: B`\n"
    )
    (change / "tasks.md").write_text("## 1. One\n- [ ] 2.1 misplaced\n- [ ] 2.1 twice\n")
    result = validate_change(change, tmp_path / "openspec" / "specs")
    messages = [(i["level"], i["message"].split(".")[0]) for i in result["issues"]]
    assert (
        "INFO",
        'Header "### Documentation notes" in ADDED Requirements is not a "### Requirement:" '
        "header and is ignored by validation",
    ) in messages
    assert any(m.startswith('RENAMED FROM: "B" has no matching TO') for _, m in messages)
    assert ("ERROR", 'Requirement present in both ADDED and REMOVED: "A"') in messages
    assert sum(1 for i in result["issues"] if i["path"] == "tasks.md") == 3
    assert result["valid"] is False


def test_validate_never_reads_outside_the_tree(tmp_path):
    """A capability folder that is a link out of the project is not followed."""
    outside = tmp_path / "outside"
    (outside / "auth").mkdir(parents=True)
    (outside / "auth" / "spec.md").write_text("## ADDED Requirements\n### Requirement: X\n")
    change = tmp_path / "p" / "openspec" / "changes" / "c"
    (change / "specs").mkdir(parents=True)
    (change / "specs" / "auth").symlink_to(outside / "auth")
    tree = OpenSpecTree(tmp_path / "p" / "openspec")
    result = validate_change(tree.changes_dir / "c", tree.specs_dir)
    assert [i["path"] for i in result["issues"]] == ["file"]  # no deltas: the link was refused
