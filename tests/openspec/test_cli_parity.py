"""Our reading agrees with the official CLI 1.13.2 on every fixture repo (its JSON is the oracle).

Normalisations, each for a stated reason:
- `root.path` is dropped: the oracle has `<ROOT>`, we print the absolute path.
- `list` changes are compared as a mapping by name, without `lastModified`: git does not keep
  mtimes, so the checkout's times are not the ones the oracle saw, and equal times leave the
  order to readdir. The lastModified rule itself is pinned in test_tree.py.
"""

import json
import os
import time
from pathlib import Path

import pytest

from pmdata.cli import main
from tests.conftest import SHARED

FIXTURES = SHARED / "fixtures" / "openspec"
REPOS = sorted(p.name for p in FIXTURES.iterdir() if (p / "oracle").is_dir())
SHOWS = [
    (repo, f.name) for repo in REPOS for f in sorted((FIXTURES / repo / "oracle").glob("show-*"))
]
# What the comparisons stand on, checked as they are collected (a missing fixture is a broken
# checkout, not a finding about the code).
assert len(REPOS) >= 6 and len(SHOWS) >= 60, f"fixture trees missing under {FIXTURES}"


def run_json(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr().out
    data = json.loads(out)
    data.pop("root", None)
    return code, data


def oracle(repo, name):
    data = json.loads((FIXTURES / repo / "oracle" / name).read_text())
    data.pop("root", None)
    return data


@pytest.mark.parametrize("repo", REPOS)
def test_list_changes_matches_cli(repo, capsys):
    code, ours = run_json(capsys, "openspec", "list", "--json", "--root", str(FIXTURES / repo))
    want = oracle(repo, "list.json")

    def by_name(items):
        return {c["name"]: {k: v for k, v in c.items() if k != "lastModified"} for c in items}

    assert code == 0
    assert by_name(ours["changes"]) == by_name(want["changes"])
    assert set(ours) == set(want)


@pytest.mark.parametrize("repo", REPOS)
def test_list_specs_matches_cli(repo, capsys):
    code, ours = run_json(
        capsys, "openspec", "list", "--specs", "--json", "--root", str(FIXTURES / repo)
    )
    assert code == 0
    assert ours == oracle(repo, "specs.json")


@pytest.mark.parametrize("repo, name", SHOWS)
def test_show_matches_cli(repo, name, capsys):
    kind, _, item = Path(name).stem.removeprefix("show-").partition("-")
    item = item.replace("__", "/")  # nested spec ids are stored with __ in oracle names
    want = oracle(repo, name)
    code, ours = run_json(
        capsys, "openspec", "show", item, "--type", kind, "--json", "--root", str(FIXTURES / repo)
    )
    assert ours == want
    assert code == (1 if "status" in want else 0)


def test_list_orders_by_last_modified_newest_first(tmp_path, capsys):
    for name in ["old", "new", "mid"]:
        folder = tmp_path / "openspec" / "changes" / name
        folder.mkdir(parents=True)
        (folder / "proposal.md").write_text("# x\n")
        stamp = time.time() - {"old": 300, "new": 10, "mid": 100}[name]
        os.utime(folder / "proposal.md", (stamp, stamp))
    _, ours = run_json(capsys, "openspec", "list", "--json", "--root", str(tmp_path))
    assert [c["name"] for c in ours["changes"]] == ["new", "mid", "old"]


def _small_tree(root: Path) -> Path:
    """Ids that tell code-point, case-insensitive and ICU punctuation orders apart, all with
    one modification time, and a change without proposal.md."""
    for name in ("b-thing", "A-thing", "a_thing", "Zeta", "alpha"):
        folder = root / "openspec" / "changes" / name
        folder.mkdir(parents=True)
        (folder / "tasks.md").write_text("- [ ] 1.1 x\n")
        for path in (folder / "tasks.md", folder):
            os.utime(path, (1_767_225_600, 1_767_225_600))
    (root / "openspec" / "specs").mkdir()
    return root


def test_orders_and_a_missing_proposal_read_as_the_cli_says(tmp_path, capsys, openspec_cli):
    root = _small_tree(tmp_path / "p")
    for argv in (
        ("validate", "--all", "--json"),
        ("list", "--json"),
        ("show", "b-thing", "--json"),
    ):
        theirs = openspec_cli(root, *argv)
        theirs.pop("root", None)
        ours_argv = [a for a in argv if a != "--all"]
        _, ours = run_json(capsys, "openspec", *ours_argv, "--root", str(root))
        if argv[0] == "validate":
            theirs, ours = ([i["id"] for i in d["items"]] for d in (theirs, ours))
        assert ours == theirs, argv
