"""What keeps a write to an openspec/ tree safe: the tree lock, path checks, the staging folder,
the archive journal, and `recover` for a write that was killed half way.

The rule every function here keeps: nothing is written, moved or deleted at a path that resolves
(links followed) outside the openspec/ folder the write was asked for, and a deletion never
follows a link.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from pmdata.openspec.tree import OpenSpecError
from pmdata.paths import state_dir

STAGING = (
    ".pmdash-staging"  # inside openspec/, beside changes/: same filesystem, ignored by the CLI
)
JOURNAL = "archive-journal.json"
LOCK_TIMEOUT_S = 10


# -- paths ------------------------------------------------------------------------------------
def within(root: Path, path: Path) -> Path:
    """`path`, after checking that it (links followed) stays inside `root`."""
    resolved_root = Path(root).resolve()
    resolved = Path(path).resolve()
    if resolved != resolved_root and not resolved.is_relative_to(resolved_root):
        raise OpenSpecError(f"refused: {path} leads outside {root} (a symbolic link?)")
    return Path(path)


def within_once_made(root: Path, path: Path) -> Path:
    """`path` for a file or folder that may not exist yet: its nearest existing ancestor, and
    the path itself, must stay inside `root`, so `mkdir(parents=True)` cannot pass a link out."""
    ancestor = Path(path)
    while not ancestor.exists() and not ancestor.is_symlink() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    within(root, ancestor)
    return within(root, path)


def not_a_link(root: Path, path: Path, what: str) -> Path:
    """Refuse a folder of ours (staging) that someone replaced with a link."""
    if Path(path).is_symlink():
        raise OpenSpecError(
            f"refused: {what} {path} is a symbolic link; pmdash never writes or deletes through "
            "one. Remove the link (the folder it points to is left alone) and try again."
        )
    return within(root, path)


def remove_tree(root: Path, path: Path) -> None:
    """Delete `path` inside `root`. A link is removed itself, never what it points to; Python's
    rmtree does not follow links inside the tree (shutil.rmtree.avoids_symlink_attacks)."""
    path = Path(path)
    if path.is_symlink():
        path.unlink()
        return
    if not path.exists():
        return
    within(root, path)
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def staging_dir(root: Path) -> Path:
    """openspec/.pmdash-staging, checked: a real folder inside the tree, or not there yet."""
    return not_a_link(root, Path(root) / STAGING, "the staging folder")


def clear_staging(root: Path) -> None:
    base = Path(root) / STAGING
    if not base.is_symlink():
        with contextlib.suppress(OSError):
            base.rmdir()


# -- the lock ---------------------------------------------------------------------------------
def lock_path(openspec_dir: Path) -> Path:
    """The lock file for one openspec/ tree. It lives in our state folder, keyed by the tree's
    real path, so the project's repository never gains a stray file of ours."""
    key = hashlib.sha1(str(Path(openspec_dir).resolve()).encode()).hexdigest()[:16]
    folder = Path(state_dir()) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"openspec-{key}.lock"


@contextmanager
def tree_lock(openspec_dir: Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """One writer at a time per openspec/ (other app instances, other pmdata runs)."""
    lock = FileLock(str(lock_path(openspec_dir)), timeout=timeout)
    try:
        with lock:
            yield
    except Timeout as exc:
        raise OpenSpecError(
            f"{openspec_dir} is being written by another process; try again in a moment"
        ) from exc


# -- the archive journal ----------------------------------------------------------------------
# Paths in a journal are relative to openspec/; one that is not (an older journal, a hand-edited
# one) must still resolve inside the tree before anything acts on it.
def write_journal(staging: Path, journal: dict) -> None:
    tmp = staging / (JOURNAL + ".tmp")
    tmp.write_text(json.dumps(journal), encoding="utf-8")
    os.replace(tmp, staging / JOURNAL)


def _inside(root: Path, entry: str) -> Path:
    path = Path(entry) if Path(entry).is_absolute() else Path(root) / entry
    return within_once_made(root, path)


def _folder_name(name: object) -> str:
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name:
        raise OpenSpecError(f"refused: the archive journal names {name!r}, not a folder name")
    return name


def roll_back(root: Path, staging: Path, journal: dict) -> None:
    """Put the tree back as it was before the archive in `journal` began."""
    changes = Path(root) / "changes"
    moved = changes / "archive" / _folder_name(journal["archive"])
    original = changes / _folder_name(journal["change"])
    # Check every path first: a journal naming anything outside the tree changes nothing.
    targets = [_inside(root, entry["target"]) for entry in journal["specs"]]
    made = [_inside(root, folder) for folder in journal["made_dirs"]]
    within_once_made(root, moved)
    within_once_made(root, original)
    if moved.exists() and not original.exists():
        os.rename(moved, original)
    for n, (entry, target) in enumerate(zip(journal["specs"], targets, strict=True)):
        old = staging / f"old-{n}.md"
        if entry["had_old"] and old.exists():
            os.replace(old, target)
        elif not entry["had_old"] and target.is_file() and not (staging / entry["new"]).exists():
            target.unlink()
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            os.rmdir(folder)
    remove_tree(root, staging)
    clear_staging(root)


@dataclass(frozen=True)
class UnfinishedArchive:
    """An archive that a killed process left half done: specs/ may hold part of its merge."""

    change_id: str
    archive_name: str
    specs_written: list[str]
    moved: bool  # the change folder already moved: only the clean-up was left

    def describe(self, project: str = "") -> str:
        where = f" --root {project}" if project else ""
        if self.moved:
            return (
                f"The archive of '{self.change_id}' finished but left its staging files; "
                f"`pmdata openspec recover{where}` clears them."
            )
        written = ", ".join(self.specs_written) or "none yet"
        return (
            f"An archive of '{self.change_id}' was interrupted: specs/ may hold part of its "
            f"merge ({written}). `pmdata openspec recover{where}` puts the tree back as it was "
            "(any pmdash write does it too); then archive again."
        )


def unfinished_archives(root: Path) -> list[UnfinishedArchive]:
    """What `recover` would undo or clear, read without changing anything."""
    base = Path(root) / STAGING
    if base.is_symlink() or not base.is_dir():
        return []
    found = []
    for staging in sorted(base.iterdir()):
        if staging.is_symlink() or not staging.name.startswith("archive-"):
            continue
        try:
            journal = json.loads((staging / JOURNAL).read_text(encoding="utf-8"))
            change = _folder_name(journal["change"])
            specs = [str(e["target"]) for e in journal["specs"]]
        except (OSError, ValueError, KeyError, TypeError, OpenSpecError):
            continue  # killed before anything moved: nothing in specs/ to finish
        moved = not (Path(root) / "changes" / change).exists()
        found.append(UnfinishedArchive(change, str(journal.get("archive", "")), specs, moved))
    return found


def recover(root: Path) -> list[str]:
    """Undo what a killed write left half done. Call with the tree lock held; returns what it
    did, one line each."""
    root = Path(root)
    base = staging_dir(root)
    if not base.is_dir():
        return []
    done = []
    for staging in sorted(base.iterdir()):
        if staging.is_symlink() or not staging.name.startswith("archive-"):
            remove_tree(root, staging)  # a proposal staged by a killed write (or a stray link)
            continue
        try:
            journal = json.loads((staging / JOURNAL).read_text(encoding="utf-8"))
            change = _folder_name(journal["change"])
        except (OSError, ValueError, KeyError, TypeError):
            remove_tree(root, staging)  # killed before anything moved
            continue
        if (root / "changes" / change).exists():
            roll_back(root, staging, journal)  # the change never moved: undo the spec writes
            done.append(f"rolled back the interrupted archive of '{change}'")
        else:
            remove_tree(root, staging)  # the final rename happened: done
            done.append(f"cleared what the finished archive of '{change}' left behind")
    clear_staging(root)
    return done
