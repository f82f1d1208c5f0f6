"""The dashboard's models of a tree agree with the CLI-shaped readers, on the fixture repos."""

import json

import pytest

from pmdata.openspec.models import change_detail, change_state, change_summaries, spec_detail
from pmdata.openspec.tree import OpenSpecError, OpenSpecTree
from tests.openspec.test_cli_parity import FIXTURES, REPOS


@pytest.mark.parametrize("repo", REPOS)
def test_summaries_agree_with_list(repo):
    tree = OpenSpecTree(FIXTURES / repo / "openspec")
    listed = {
        c["name"]: c
        for c in json.loads((FIXTURES / repo / "oracle" / "list.json").read_text())["changes"]
    }
    summaries = change_summaries(tree)
    active = {s.id: s for s in summaries if s.state != "archived"}
    assert set(active) == set(listed)
    for cid, s in active.items():
        assert (s.completed_tasks, s.total_tasks) == (
            listed[cid]["completedTasks"],
            listed[cid]["totalTasks"],
        )
    archived = [s for s in summaries if s.state == "archived"]
    assert len(archived) == len(tree.archived_ids())


@pytest.mark.parametrize("repo", REPOS)
def test_change_details_carry_the_cli_deltas(repo):
    tree = OpenSpecTree(FIXTURES / repo / "openspec")
    for f in sorted((FIXTURES / repo / "oracle").glob("show-change-*.json")):
        want = json.loads(f.read_text())
        detail = change_detail(tree, want["id"])
        ours = [(cap.capability, d.operation) for cap in detail.capabilities for d in cap.deltas]
        theirs = [
            (d["spec"], d["operation"])
            for d in want["deltas"]
            if "requirement" in d or "rename" in d
        ]
        assert sorted(ours) == sorted(theirs), want["id"]
        assert detail.why and detail.title == want["title"]


def test_spec_detail_and_states():
    repo = FIXTURES / "CeeLav+Astrum"
    tree = OpenSpecTree(repo / "openspec")
    spec_id = tree.spec_ids()[0]
    want = json.loads((repo / "oracle" / f"show-spec-{spec_id}.json").read_text())
    detail = spec_detail(tree, spec_id)
    assert len(detail.requirements) == want["requirementCount"]
    assert detail.purpose.strip() == want["overview"].strip()
    with pytest.raises(OpenSpecError):
        spec_detail(tree, "../../etc")
    # The CLI's words: a change with tasks and none done is in progress, as `openspec list` says.
    assert [change_state(0, 0), change_state(0, 3), change_state(1, 3), change_state(3, 3)] == [
        "no-tasks",
        "in-progress",
        "in-progress",
        "complete",
    ]


def test_an_archived_change_opens_by_its_folder_name():
    tree = OpenSpecTree(FIXTURES / "CeeLav+Astrum" / "openspec")
    folder = tree.archived_ids()[0]
    detail = change_detail(tree, folder)
    assert detail.state == "archived" and detail.folder == folder


@pytest.mark.parametrize(
    "repo", sorted(p.name for p in FIXTURES.iterdir() if (p / "oracle").is_dir())
)
def test_a_change_page_shows_the_deltas_openspec_show_prints(repo):
    """One parse serves the CLI and the pages: every delta's text and scenarios on the page are
    the official CLI's (oracle), with the names its JSON leaves out."""
    tree = OpenSpecTree(FIXTURES / repo / "openspec")
    compared = 0
    for oracle in sorted((FIXTURES / repo / "oracle").glob("show-change-*.json")):
        want = json.loads(oracle.read_text())
        if "deltas" not in want:
            continue
        detail = change_detail(tree, want["id"])
        shown = [
            (
                c.capability,
                d.operation,
                d.requirement.text,
                [s.text for s in d.requirement.scenarios],
            )
            for c in detail.capabilities
            for d in c.deltas
        ]
        expected = [
            (
                x["spec"],
                x["operation"],
                (x.get("requirement") or {}).get("text", ""),
                [s["rawText"] for s in (x.get("requirement") or {}).get("scenarios", [])],
            )
            for x in want["deltas"]
        ]
        assert sorted(shown) == sorted(expected), want["id"]
        assert all(d.requirement.name for c in detail.capabilities for d in c.deltas), want["id"]
        compared += 1
    assert compared
