"""Projects: folders under the configured roots that hold an openspec/ tree."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from pmdata.openspec.tree import OpenSpecTree


class Project(BaseModel, frozen=True):
    name: str
    path: Path
    openspec_path: Path
    active_changes: int
    specs: int

    @property
    def has_active_changes(self) -> bool:
        return self.active_changes > 0


def _holds_openspec(folder: Path) -> bool:
    tree = folder / "openspec"
    # The CLI's own rule for a root: openspec/ with specs/, changes/ or a config file.
    return tree.is_dir() and any(
        (tree / name).exists()
        for name in ("specs", "changes", "config.yaml", "config.yml", "project.md")
    )


def discover_projects(roots: list[Path]) -> list[Project]:
    """Each root itself, and each folder directly inside it, that holds openspec/; by name."""
    seen: dict[Path, Project] = {}
    for root in roots:
        root = Path(os.path.expanduser(str(root)))
        candidates = [root]
        try:
            candidates += sorted(
                p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
            )
        except OSError:
            continue  # a missing or unreadable root lists nothing; the others still count
        for folder in candidates:
            if folder.resolve() in seen or not _holds_openspec(folder):
                continue
            tree = OpenSpecTree(folder / "openspec")
            seen[folder.resolve()] = Project(
                name=folder.name,
                path=folder,
                openspec_path=folder / "openspec",
                active_changes=len(tree.change_ids(include_dot=False)),
                specs=len(tree.spec_ids()),
            )
    return sorted(seen.values(), key=lambda p: (p.name, str(p.path)))
