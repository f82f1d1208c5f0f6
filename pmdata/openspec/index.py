"""All projects under the roots, with their trees cached, watched and kept warm."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from pmdata.openspec.cache import TreeCache, TreeWatcher
from pmdata.openspec.projects import Project, discover_projects


def _list_changes(tree):
    return tree.list_changes()


def _list_specs(tree):
    return tree.list_specs()


class ProjectIndex:
    """What the dashboard holds once per process: projects, and a cache every session shares.

    Projects are rescanned every `rescan_seconds` and whenever a folder appears or vanishes
    directly under a root; each project's openspec/ is watched so edits invalidate at once.
    """

    def __init__(
        self,
        roots: list[Path],
        cache: TreeCache | None = None,
        rescan_seconds: float = 300,
        watch: bool = True,
    ):
        self.roots = [Path(r) for r in roots]
        self.cache = cache or TreeCache()
        self.rescan_seconds = rescan_seconds
        self._projects: list[Project] = []
        self._scanned_at = 0.0
        self._lock = threading.Lock()
        self.watcher = TreeWatcher(self.cache, on_change=self._tree_changed) if watch else None
        self._roots_changed = False
        if self.watcher:
            self._watch_roots()
        self.rescan()

    def _watch_roots(self) -> None:
        from watchdog.events import FileSystemEventHandler

        index = self

        class RootHandler(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.event_type in ("created", "deleted", "moved"):
                    index._roots_changed = True

        for root in self.roots:
            if root.is_dir():
                self.watcher.watch_folder(root, RootHandler())

    def _tree_changed(self, root: Path) -> None:
        # A tree that vanished (project deleted) shows up here too.
        if not root.exists():
            self._roots_changed = True

    def rescan(self) -> list[Project]:
        projects = discover_projects(self.roots)
        with self._lock:
            self._projects, self._scanned_at, self._roots_changed = (
                projects,
                time.monotonic(),
                False,
            )
        if self.watcher:
            for project in projects:
                self.watcher.watch(project.openspec_path)
        return projects

    def projects(self) -> list[Project]:
        stale = time.monotonic() - self._scanned_at >= self.rescan_seconds
        return self.rescan() if stale or self._roots_changed else list(self._projects)

    def project(self, name: str) -> Project | None:
        return next((p for p in self.projects() if p.name == name), None)

    def changes(self, project: Project) -> list[dict]:
        return self.cache.get(project.openspec_path, "list_changes", _list_changes)

    def specs(self, project: Project) -> list[dict]:
        return self.cache.get(project.openspec_path, "list_specs", _list_specs)

    def summaries(self, project: Project) -> list:
        """Every change of the project, archived ones too, as ChangeSummary models."""
        from pmdata.openspec.models import change_summaries

        return self.cache.get(project.openspec_path, "summaries", change_summaries)

    def change(self, project: Project, change_id: str):
        from pmdata.openspec.models import change_detail

        return self.cache.get(
            project.openspec_path, f"change:{change_id}", lambda t: change_detail(t, change_id)
        )

    def spec(self, project: Project, spec_id: str):
        from pmdata.openspec.models import spec_detail

        return self.cache.get(
            project.openspec_path, f"spec:{spec_id}", lambda t: spec_detail(t, spec_id)
        )

    def validation(self, project: Project) -> dict[str, dict]:
        """`validate --all` per item id ({valid, issues}), cached until the tree changes."""
        from pmdata.openspec.validate import validate_tree

        def run(tree):
            return {(i["type"], i["id"]): i for i in validate_tree(tree)["items"]}

        return self.cache.get(project.openspec_path, "validation", run)

    def invalidate(self, project: Project) -> None:
        """After one of our own writes: don't wait for the watcher to notice."""
        self.cache.invalidate(project.openspec_path)
        self._roots_changed = True

    def warm(self) -> None:
        """Parse every project once, so the first page view does not wait on it."""
        for project in self.projects():
            self.changes(project)
            self.specs(project)

    def generation(self) -> tuple:
        """Changes whenever any project's tree or the set of projects changes."""
        return tuple((p.name, self.cache.generation(p.openspec_path)) for p in self.projects())

    def close(self) -> None:
        if self.watcher:
            self.watcher.stop()
