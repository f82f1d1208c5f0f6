"""An OpenSpec proposal drafted from a failure: the reactive side feeding the planned side."""

from __future__ import annotations

import re
from pathlib import Path

from pmdata.openspec.writes import FirstDelta, Proposal, change_id_from_title, create_proposal
from pmdata.triage.fingerprint import signature, strip_ansi
from pmdata.triage.service import link_spec_change


def _capability(test_file: str) -> str:
    """A capability name from the test file: tests/e2e/checkout/cart.spec.ts → cart."""
    stem = Path(test_file or "tests").name.split(".")[0]
    words = re.findall(r"[a-z0-9]+", stem.lower())
    return "-".join(words) or "behaviour"


def draft_from_failure(failure: dict, history: dict | None = None) -> Proposal:
    """Title, Why and What Changes pre-filled from the test, its error and its history.

    `failure` holds test_name, test_file, error, workflow_name (and optionally fingerprint);
    `history` a row of queries/test_history.sql. The person edits the draft before it is written.
    """
    test = failure["test_name"].split(" › ")[-1]
    first_line = strip_ansi(failure.get("error") or "").strip().splitlines()[:1]
    seen = ""
    if history:
        seen = (
            f" It failed {int(history['occurrences'])} times in {int(history['runs'])} runs"
            f" of {failure['workflow_name']}, the last {int(history['consecutive_failures'])}"
            " in a row."
        )
    why = (
        f'The end-to-end test "{failure["test_name"]}"'
        f" ({failure.get('test_file') or 'unknown file'})"
        f" keeps failing with: {first_line[0] if first_line else 'no error message'}.{seen}"
        " The behaviour it checks is not specified, so agents and people cannot tell whether the"
        " code or the test is wrong."
    )
    capability = _capability(failure.get("test_file", ""))
    return Proposal(
        title=f"Fix {test}",
        why=why,
        what_changes=[
            f'Specify the behaviour checked by "{failure["test_name"]}"',
            "Make the implementation meet it, and keep the test as its scenario",
            f"Error fingerprint `{failure.get('fingerprint') or signature(failure.get('error'))}`",
        ],
        impact=f"- Affected specs: `{capability}`\n- Affected tests: `{failure.get('test_file')}`",
        tasks=[
            "Reproduce the failure locally",
            "Write the requirement and its scenario",
            "Fix the implementation",
            "Confirm the test passes in the next run",
        ],
        first_delta=FirstDelta(
            capability=capability,
            requirement=test[:1].upper() + test[1:],
            text=f'The system SHALL pass the check "{failure["test_name"]}".',
            scenario=test,
            when=f'the test "{failure["test_name"]}" runs',
            then="it passes on the first attempt",
        ),
    )


def create_proposal_from_failure(
    db: Path | str, openspec_dir: Path | str, failure_id: int, proposal: Proposal
) -> str:
    """Write the (edited) draft into the project's openspec/, then link it to the failure."""
    change_id = create_proposal(openspec_dir, proposal, change_id_from_title(proposal.title))
    link_spec_change(db, failure_id, change_id)
    return change_id
