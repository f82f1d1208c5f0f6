"""Writes to an openspec/ tree: locked, atomic, never outside the project they were asked for."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from pydantic import BaseModel, Field

from pmdata.openspec.transaction import (
    LOCK_TIMEOUT_S,
    clear_staging,
    recover,
    remove_tree,
    staging_dir,
    tree_lock,
    within,
    within_once_made,
)
from pmdata.openspec.tree import OpenSpecError

CHANGE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
MAX_NAME = 80  # characters of one folder name we create; a filesystem allows 255 bytes
CAPABILITY = re.compile(r"^[a-z0-9][a-z0-9-]*(?:/[a-z0-9][a-z0-9-]*)*$")


class FirstDelta(BaseModel):
    """One ADDED requirement for a capability, enough for the CLI's validation to accept."""

    capability: str
    requirement: str = Field(min_length=1)
    text: str = Field(min_length=1)  # should hold SHALL or MUST
    scenario: str = Field(min_length=1)
    when: str = Field(min_length=1)
    then: str = Field(min_length=1)


class Proposal(BaseModel):
    title: str = Field(min_length=1)
    why: str = Field(min_length=1)
    what_changes: list[str] = Field(min_length=1)
    impact: str = ""
    tasks: list[str] = Field(default_factory=list)
    first_delta: FirstDelta | None = None


def change_id_from_title(title: str) -> str:
    """kebab-case of the title's words, at most 80 characters."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    change_id = "-".join(words)[:80].strip("-")
    if not change_id:
        raise OpenSpecError(
            f"cannot make a change id from the title {title!r}: use letters or digits"
        )
    return change_id


def check_change_id(change_id: str) -> str:
    if not CHANGE_ID.match(change_id or ""):
        raise OpenSpecError(
            f"refused change id {change_id!r}: use lower-case letters, digits and dashes "
            "(no slashes, dots or '..')"
        )
    if change_id == "archive":
        raise OpenSpecError(
            "refused change id 'archive': the name is reserved for archived changes"
        )
    return change_id


def check_capability(capability: str) -> str:
    if not CAPABILITY.match(capability or "") or ".." in capability:
        raise OpenSpecError(
            f"refused capability {capability!r}: use lower-case words joined by dashes "
            "(a/b for nested ones), never '..' or an absolute path"
        )
    if any(len(part) > MAX_NAME for part in capability.split("/")):
        raise OpenSpecError(
            f"refused capability {capability[:40]!r}...: each name at most {MAX_NAME} characters"
        )
    return capability


def render_proposal(p: Proposal) -> dict[str, str]:
    """Relative path → content, in the shape `openspec validate` accepts."""
    what = "\n".join(f"- {line}" for line in p.what_changes)
    caps = [p.first_delta.capability] if p.first_delta else []
    impact = p.impact or (
        "- Affected specs: " + ", ".join(f"`{c}`" for c in caps)
        if caps
        else "- Affected specs: none yet"
    )
    files = {
        "proposal.md": f"# Change: {p.title}\n\n## Why\n{p.why.strip()}\n\n"
        f"## What Changes\n{what}\n\n## Impact\n{impact.strip()}\n"
    }
    tasks = p.tasks or ["Implement the change", "Add or update tests", "Update documentation"]
    files["tasks.md"] = "## 1. Implementation\n" + "".join(
        f"- [ ] 1.{i} {task}\n" for i, task in enumerate(tasks, start=1)
    )
    if p.first_delta:
        d = p.first_delta
        files[f"specs/{d.capability}/spec.md"] = (
            f"## ADDED Requirements\n### Requirement: {d.requirement}\n{d.text.strip()}\n\n"
            f"#### Scenario: {d.scenario}\n"
            f"- **WHEN** {d.when.strip()}\n- **THEN** {d.then.strip()}\n"
        )
    return files


def _refuse_unless_valid(staged: Path, main_specs: Path) -> None:
    """A change we create passes `openspec validate`, or is not created at all."""
    from pmdata.openspec.validate import validate_change  # the validator is heavy to import

    result = validate_change(staged, main_specs)
    errors = [i["message"].split(". ")[0] for i in result["issues"] if i["level"] == "ERROR"]
    if errors:
        raise OpenSpecError(
            "refused: the new change would fail `openspec validate` ("
            + "; ".join(errors)
            + "). Give it a first requirement with a scenario; nothing was written."
        )


def create_proposal(
    openspec_dir: Path | str,
    proposal: Proposal,
    change_id: str | None = None,
    lock_timeout: float = LOCK_TIMEOUT_S,
) -> str:
    """Write changes/<id>/ atomically; refuses an id that exists. Returns the id."""
    try:
        return _create(Path(openspec_dir), proposal, change_id, lock_timeout)
    except OSError as exc:  # a full disk, a read-only tree: one line, nothing left behind
        raise OpenSpecError(f"could not write the proposal in {openspec_dir}: {exc}") from exc


def _create(root: Path, proposal: Proposal, change_id: str | None, lock_timeout: float) -> str:
    if not root.is_dir():
        raise OpenSpecError(f"no openspec/ folder at {root}")
    if change_id is None:
        change_id = change_id_from_title(proposal.title)
    check_change_id(change_id)
    if proposal.first_delta:
        check_capability(proposal.first_delta.capability)
    changes = within_once_made(root, root / "changes")
    target = within_once_made(root, changes / change_id)
    files = render_proposal(proposal)
    with tree_lock(root, lock_timeout):
        recover(root)
        if target.exists() or target.is_symlink():
            raise OpenSpecError(f"a change named {change_id!r} already exists: pick another title")
        staging = staging_dir(root) / f"{change_id}-{uuid.uuid4().hex[:8]}"
        try:
            for rel, content in files.items():
                path = staging / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
            _refuse_unless_valid(staging, root / "specs")
            changes.mkdir(exist_ok=True)
            within(root, changes)
            # One rename makes the whole change appear at once; a kill before it leaves only
            # the staging folder, which the next write clears.
            os.rename(staging, target)
        finally:
            remove_tree(root, staging)
            clear_staging(root)
    return change_id
