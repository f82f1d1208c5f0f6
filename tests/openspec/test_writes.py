import threading

import pytest
from filelock import FileLock

from pmdata.openspec.transaction import lock_path
from pmdata.openspec.tree import OpenSpecError, OpenSpecTree
from pmdata.openspec.writes import (
    FirstDelta,
    Proposal,
    change_id_from_title,
    create_proposal,
)

PROPOSAL = Proposal(
    title="Add discount codes at checkout",
    why="Customers ask for promo codes and the checkout e2e test for them fails every run.",
    what_changes=["Accept a discount code on the cart page", "Show the reduced total"],
    tasks=["Add the code field", "Apply the discount in the API", "Cover it with an e2e test"],
    first_delta=FirstDelta(
        capability="checkout",
        requirement="Discount codes",
        text="The system SHALL apply a valid discount code to the order total.",
        scenario="Valid code",
        when="a shopper enters a valid code",
        then="the total drops",
    ),
)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "shop" / "openspec" / "changes").mkdir(parents=True)
    (tmp_path / "shop" / "openspec" / "specs").mkdir()
    return tmp_path / "shop"


def test_id_is_kebab_case_of_the_title():
    assert (
        change_id_from_title("Add Discount codes — at checkout!")
        == "add-discount-codes-at-checkout"
    )
    with pytest.raises(OpenSpecError):
        change_id_from_title("!!!")


def test_created_proposal_reads_back_with_its_delta(project):
    change_id = create_proposal(project / "openspec", PROPOSAL)
    tree = OpenSpecTree(project / "openspec")
    shown = tree.show_change(change_id)
    assert change_id == "add-discount-codes-at-checkout"
    assert shown["title"] == "Add discount codes at checkout"
    assert [d["operation"] for d in shown["deltas"]] == ["ADDED"]
    assert tree.list_changes()[0]["totalTasks"] == 3
    assert not (project / "openspec" / ".pmdash-staging").exists()


def test_the_official_cli_accepts_what_we_write(project, openspec_cli):
    change_id = create_proposal(project / "openspec", PROPOSAL)
    report = openspec_cli(project, "validate", change_id, "--json")
    item = report["items"][0]
    assert item["valid"], item["issues"]
    assert [i for i in item["issues"] if i["level"] != "INFO"] == []
    shown = openspec_cli(project, "show", change_id, "--json")
    shown.pop("root")
    assert shown == OpenSpecTree(project / "openspec").show_change(change_id)


def test_existing_id_is_refused_and_untouched(project):
    create_proposal(project / "openspec", PROPOSAL)
    proposal = project / "openspec" / "changes" / "add-discount-codes-at-checkout" / "proposal.md"
    before = proposal.read_text()
    with pytest.raises(OpenSpecError, match="already exists"):
        create_proposal(project / "openspec", PROPOSAL)
    assert proposal.read_text() == before


@pytest.mark.parametrize(
    "bad_id", ["../../etc", "a/b", "/abs", "..", "archive", "Caps", "a..b", "-lead", ""]
)
def test_unsafe_ids_are_refused(project, bad_id):
    with pytest.raises(OpenSpecError, match="refused"):
        create_proposal(project / "openspec", PROPOSAL, change_id=bad_id)
    assert list((project / "openspec" / "changes").iterdir()) == []


@pytest.mark.parametrize("capability", ["../escape", "/etc", "a/../../b", "Caps"])
def test_unsafe_capabilities_are_refused(project, capability):
    proposal = PROPOSAL.model_copy(
        update={"first_delta": PROPOSAL.first_delta.model_copy(update={"capability": capability})}
    )
    with pytest.raises(OpenSpecError, match="refused"):
        create_proposal(project / "openspec", proposal)


def test_changes_link_leading_out_is_refused(tmp_path):
    (tmp_path / "shop" / "openspec").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "shop" / "openspec" / "changes").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OpenSpecError, match="leads outside"):
        create_proposal(tmp_path / "shop" / "openspec", PROPOSAL)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_failure_mid_write_leaves_the_tree_as_it_was(project, monkeypatch):
    from pathlib import Path

    real = Path.write_text
    calls = []

    def failing(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing)
    with pytest.raises(OpenSpecError, match="No space left on device"):  # one line, not OSError
        create_proposal(project / "openspec", PROPOSAL)
    monkeypatch.undo()
    assert list((project / "openspec" / "changes").iterdir()) == []
    assert not (project / "openspec" / ".pmdash-staging").exists()


def test_a_held_lock_makes_the_second_writer_wait_then_give_up(project):
    lock = FileLock(str(lock_path(project / "openspec")))
    with lock, pytest.raises(OpenSpecError, match="being written by another process"):
        create_proposal(project / "openspec", PROPOSAL, lock_timeout=0.2)
    assert list((project / "openspec" / "changes").iterdir()) == []


def test_two_writers_of_the_same_title_one_wins(project):
    results = []

    def write():
        try:
            results.append(create_proposal(project / "openspec", PROPOSAL))
        except OpenSpecError as exc:
            results.append(exc)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(r).__name__ for r in results) == ["OpenSpecError", "str"]


def test_a_proposal_that_would_not_validate_is_not_written(project):
    bare = PROPOSAL.model_copy(update={"first_delta": None})
    with pytest.raises(OpenSpecError, match="would fail `openspec validate`"):
        create_proposal(project / "openspec", bare)
    assert list((project / "openspec" / "changes").iterdir()) == []
