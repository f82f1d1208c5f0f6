"""Archiving a change as `openspec archive <id> --yes` does: validate, merge its deltas into
specs/, move it to changes/archive/YYYY-MM-DD-<id>/.

All or nothing: every file is staged first; originals are kept in a journal until the last
rename, so an error rolls back at once and a killed process is rolled back by the next write
(`transaction.recover`), which runs under the same lock. Nothing is written outside openspec/.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pmdata.openspec import merge
from pmdata.openspec.tasks import task_progress
from pmdata.openspec.transaction import (
    LOCK_TIMEOUT_S,
    clear_staging,
    recover,
    remove_tree,
    roll_back,
    staging_dir,
    tree_lock,
    within,
    within_once_made,
    write_journal,
)
from pmdata.openspec.tree import OpenSpecError, discover_spec_files, read_text
from pmdata.openspec.validate import (
    skip_specs_marker,
    unread_delta_files,
    validate_change,
    validate_spec_text,
)

DATED = re.compile(r"^\d{4}-\d{2}-\d{2}-")
_DELTA_HEADER = re.compile(r"^##\s+(ADDED|MODIFIED|REMOVED|RENAMED)\s+Requirements", re.I | re.M)


class ArchiveRefused(OpenSpecError):
    """Archive would leave the specs wrong; nothing was changed. `issues` says why."""

    def __init__(self, message: str, issues: list[dict] | None = None):
        super().__init__(message)
        self.issues = issues or []


@dataclass
class ArchivePlan:
    """What archiving would do, for a form to show before the person confirms."""

    change_id: str
    archive_name: str
    validation: dict
    open_tasks: int
    total_tasks: int
    updates: list[dict] = field(default_factory=list)  # {spec, action, counts}
    warnings: list[str] = field(default_factory=list)
    refusal: str | None = None  # why it cannot go ahead (even when forced, for merge errors)

    @property
    def valid(self) -> bool:
        return self.validation["valid"]


def check_existing_change(openspec_dir: Path, change_id: str) -> Path:
    """The change folder, refusing ids that are paths and folders that are links."""
    if (
        not change_id
        or change_id in (".", "..", "archive")
        or change_id.startswith(".")
        or any(c in change_id for c in "/\\\0")
    ):
        raise OpenSpecError(f"refused change id {change_id!r}: not a change folder name")
    if len(change_id.encode("utf-8", "surrogatepass")) > 255:
        raise OpenSpecError(f"refused change id {change_id[:40]!r}...: longer than a folder name")
    folder = openspec_dir / "changes" / change_id
    if folder.is_symlink():
        raise OpenSpecError(f"change {change_id!r} is a symbolic link: replace it with a folder")
    if not folder.is_dir():
        raise OpenSpecError(f"change {change_id!r} not found in {openspec_dir / 'changes'}")
    return within(openspec_dir, folder)


def _needs_validation(change_dir: Path) -> bool:
    """As the CLI: delta validation runs when the change has something that looks like deltas."""
    specs = change_dir / "specs"
    if (specs / "spec.md").is_file() or unread_delta_files(specs):
        return True
    declared, invalid = skip_specs_marker(change_dir)
    if invalid or declared:
        return bool(invalid) or any(p.is_file() for p in specs.rglob("*"))
    for _, path in discover_spec_files(specs):
        try:
            if _DELTA_HEADER.search(read_text(path)):
                return True
        except (OSError, OpenSpecError):
            continue
    return False


def plan_archive(
    openspec_dir: Path | str, change_id: str, today: date | None = None
) -> tuple[ArchivePlan, list[tuple[merge.SpecUpdate, merge.Merged]]]:
    root = Path(openspec_dir)
    change_dir = check_existing_change(root, change_id)
    validation = (
        validate_change(change_dir)
        if _needs_validation(change_dir)
        else {"valid": True, "issues": []}
    )
    try:
        done, total = task_progress(read_text(change_dir / "tasks.md"))
    except (OSError, OpenSpecError):
        done = total = 0
    name = (
        change_id if DATED.match(change_id) else f"{(today or date.today()):%Y-%m-%d}-{change_id}"
    )
    plan = ArchivePlan(change_id, name, validation, total - done, total)
    if (root / "changes" / "archive" / name).exists():
        plan.refusal = f"Archive '{name}' already exists."
    merged = []
    try:
        for update in merge.find_spec_updates(change_dir, root / "specs"):
            built = merge.build_updated_spec(update, change_id)
            merged.append((update, built))
            plan.warnings += built.warnings
            plan.updates.append(
                {
                    "spec": update.id,
                    "action": "update" if update.exists else "create",
                    "counts": built.counts,
                }
            )
    except (merge.ApplyError, OSError) as exc:
        plan.refusal = plan.refusal or str(exc)
    return plan, merged


def archive_change(
    openspec_dir: Path | str,
    change_id: str,
    *,
    force: bool = False,
    accept_open_tasks: bool = False,
    today: date | None = None,
    lock_timeout: float = LOCK_TIMEOUT_S,
) -> ArchivePlan:
    """Archive one change. Refuses an invalid change unless `force`, open tasks unless
    `accept_open_tasks`; a delta that cannot be merged is refused even when forced."""
    root = Path(openspec_dir)
    with tree_lock(root, lock_timeout):
        recover(root)
        plan, merged = plan_archive(root, change_id, today)
        if plan.refusal:
            raise ArchiveRefused(plan.refusal)
        if not plan.valid and not force:
            raise ArchiveRefused(
                f"Validation failed for change '{change_id}': fix the errors, or force it.",
                [i for i in plan.validation["issues"] if i["level"] == "ERROR"],
            )
        if plan.open_tasks and not accept_open_tasks:
            raise ArchiveRefused(
                f"{plan.open_tasks} incomplete task(s) found for change '{change_id}': confirm to "
                "archive anyway."
            )
        writes = []
        for update, built in merged:
            if not any(built.counts.values()):
                continue
            if not force:
                checked = validate_spec_text(update.id, built.rebuilt)
                if not checked["valid"]:
                    raise ArchiveRefused(
                        f"Rebuilt spec for '{update.id}' failed validation. No files were changed.",
                        [i for i in checked["issues"] if i["level"] == "ERROR"],
                    )
            within_once_made(root, update.target)
            writes.append((update, built))
        within_once_made(root, root / "changes" / "archive")
        _apply(root, change_id, plan.archive_name, writes)
    return plan


def _apply(root: Path, change_id: str, archive_name: str, writes) -> None:
    base = staging_dir(root)
    staging = base / f"archive-{change_id}"
    remove_tree(root, staging)
    staging.mkdir(parents=True)
    within(root, staging)
    journal = {"change": change_id, "archive": archive_name, "specs": [], "made_dirs": []}
    for n, (update, built) in enumerate(writes):
        target = within_once_made(root, update.target)
        new_file = staging / f"new-{n}.md"
        previous = None
        if target.is_file():
            previous = target.read_bytes()
            (staging / f"old-{n}.md").write_bytes(previous)
        text = built.rebuilt
        if previous is not None:
            text = merge.match_line_ending(text, previous.decode("utf-8", errors="replace"))
        new_file.write_bytes(text.encode("utf-8"))
        journal["specs"].append(
            {
                "target": _relative(root, target),
                "new": new_file.name,
                "had_old": previous is not None,
            }
        )
    archive_dir = within_once_made(root, root / "changes" / "archive")
    write_journal(staging, journal)
    try:
        for entry in journal["specs"]:
            target = within_once_made(root, root / entry["target"])
            missing = []
            parent = target.parent
            while not parent.exists():
                missing.append(_relative(root, parent))
                parent = parent.parent
            journal["made_dirs"] += reversed(missing)
            write_journal(staging, journal)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / entry["new"], within(root, target))
        if not archive_dir.exists():
            journal["made_dirs"].append(_relative(root, archive_dir))
            write_journal(staging, journal)
            archive_dir.mkdir()
        # The last step: once the change folder has moved, the archive is done.
        os.rename(root / "changes" / change_id, within_once_made(root, archive_dir / archive_name))
    except BaseException:
        roll_back(root, staging, journal)
        raise
    remove_tree(root, staging)
    clear_staging(root)


def _relative(root: Path, path: Path) -> str:
    return os.path.relpath(path, root)
