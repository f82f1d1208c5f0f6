"""Writes to an openspec/ tree: locked, atomic, never outside the project they were asked for."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import BaseModel, Field

from pmdata.ingest.hook_recorder import state_dir
from pmdata.openspec.tree import OpenSpecError

CHANGE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
CAPABILITY = re.compile(r"^[a-z0-9][a-z0-9-]*(?:/[a-z0-9][a-z0-9-]*)*$")
STAGING = (
    ".pmdash-staging"  # inside openspec/, beside changes/: same filesystem, ignored by the CLI
)
LOCK_TIMEOUT_S = 10


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
    return capability


def within(root: Path, path: Path) -> Path:
    """`path`, after checking that it (links followed) stays inside `root`."""
    resolved_root = root.resolve()
    resolved = path.resolve()
    if resolved != resolved_root and not resolved.is_relative_to(resolved_root):
        raise OpenSpecError(f"refused: {path} leads outside {root}")
    return path


def lock_path(openspec_dir: Path) -> Path:
    """The lock file for one openspec/ tree. It lives in our state folder, keyed by the tree's
    real path, so the project's repository never gains a stray file of ours."""
    key = hashlib.sha1(str(Path(openspec_dir).resolve()).encode()).hexdigest()[:16]
    folder = Path(state_dir(os.environ)) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"openspec-{key}.lock"


@contextmanager
def tree_lock(openspec_dir: Path, timeout: float = LOCK_TIMEOUT_S):
    """One writer at a time per openspec/ (other app instances, other pmdata runs)."""
    lock = FileLock(str(lock_path(openspec_dir)), timeout=timeout)
    try:
        with lock:
            yield
    except Timeout as exc:
        raise OpenSpecError(
            f"{openspec_dir} is being written by another process; try again in a moment"
        ) from exc


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


def create_proposal(
    openspec_dir: Path | str,
    proposal: Proposal,
    change_id: str | None = None,
    lock_timeout: float = LOCK_TIMEOUT_S,
) -> str:
    """Write changes/<id>/ atomically; refuses an id that exists. Returns the id."""
    root = Path(openspec_dir)
    if not root.is_dir():
        raise OpenSpecError(f"no openspec/ folder at {root}")
    if change_id is None:
        change_id = change_id_from_title(proposal.title)
    check_change_id(change_id)
    if proposal.first_delta:
        check_capability(proposal.first_delta.capability)
    changes = within(root, root / "changes")
    target = within(root, changes / change_id)
    files = render_proposal(proposal)
    with tree_lock(root, lock_timeout):
        from pmdata.openspec.archive import recover  # archive builds on this module

        recover(root)
        if target.exists():
            raise OpenSpecError(f"a change named {change_id!r} already exists: pick another title")
        staging = within(root, root / STAGING / f"{change_id}-{uuid.uuid4().hex[:8]}")
        try:
            for rel, content in files.items():
                path = staging / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
            changes.mkdir(exist_ok=True)
            within(root, changes)
            # One rename makes the whole change appear at once; a kill before it leaves only
            # the staging folder, which the next write clears.
            os.rename(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            with suppress(OSError):
                (root / STAGING).rmdir()
    return change_id
