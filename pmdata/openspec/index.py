"""All projects under the roots, with their trees cached, watched and kept warm."""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pmdata.openspec.cache import TreeCache, TreeWatcher
from pmdata.openspec.projects import Project, discover_projects
from pmdata.openspec.verdicts import ValidationWorker

logger = logging.getLogger(__name__)


def _list_changes(tree):
    return tree.list_changes()


def _list_specs(tree):
    return tree.list_specs()


MTIME_SLACK_S = 2  # file systems that keep coarse modification times


def _modified_since(folder: Path, since: float) -> bool:
    """Whether anything under `folder` (a file's content, a folder's entries) changed since."""
    stack = [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    try:
                        if entry.stat(follow_symlinks=False).st_mtime >= since:
                            return True
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                    except OSError:
                        continue
        except OSError:
            return True  # vanished or unreadable while we looked: assume it changed
    return False


class ProjectIndex:
    """What the dashboard holds once per process: projects, and a cache every session shares.

    Projects are rescanned every `rescan_seconds` and whenever a folder appears or vanishes
    directly under a root; each project's openspec/ is watched so edits invalidate at once.
    `settle()` waits for the background work (tests and benchmarks need a quiet index).
    """

    def __init__(
        self,
        roots: list[Path],
        cache: TreeCache | None = None,
        rescan_seconds: float = 300,
        watch: bool = True,
        startup_grace: float = 0.0,
    ):
        self.roots = [Path(r) for r in roots]
        self.cache = cache or TreeCache()
        self.rescan_seconds = rescan_seconds
        self._projects: list[Project] = []
        self._scanned_at = 0.0
        self._lock = threading.Lock()
        self.watcher = TreeWatcher(self.cache, on_change=self._tree_changed) if watch else None
        self._roots_changed = False
        # What no page view should wait on runs on one background thread: setting up the
        # recursive watches, the start-up parse, and validation (which dry-runs every archive,
        # seconds for a big project, in a helper process), so a page shows the changes at once
        # and their verdicts when they are ready.
        self._worker: ThreadPoolExecutor | None = None
        self._background_lock = threading.Lock()
        # The background work holds the interpreter lock in turns with the page threads: it
        # starts only this long after the index, so a server's first page has the process.
        self._quiet_until = time.monotonic() + startup_grace
        self._grace_over = threading.Event()  # set early by end_grace()
        self.in_grace = threading.Event()  # the worker is waiting out the grace (for tests)
        self._validating: set[Path] = set()
        self._validation_failed: dict[Path, int] = {}  # tree -> the generation that failed
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
        found_at = time.time()  # no answer about these projects was parsed before this
        projects = discover_projects(self.roots)
        with self._lock:
            self._projects, self._scanned_at, self._roots_changed = (
                projects,
                time.monotonic(),
                False,
            )
        if self.watcher:
            watched = set(self.watcher.watched)
            if any(p.openspec_path.resolve() not in watched for p in projects):
                # A recursive watch of a big tree takes a while to set up: the worker does it.
                self._background().submit(self._watch, projects, found_at)
        return projects

    def _watch(self, projects: list[Project], found_at: float) -> None:
        """Parse, then watch, each new project; a page asking meanwhile waits for this parse
        rather than racing it. An edit between the first parse and the watch would go unseen,
        so the tree is searched for anything modified since the project was found."""
        self._after_startup()
        watched = set(self.watcher.watched)
        new = [p for p in projects if p.openspec_path.resolve() not in watched]
        for project in new:  # every list first: that is what the first page waits for
            self.summaries(project)
            self.specs(project)
        for project in new:
            self.watcher.watch(project.openspec_path)
        for project in new:
            if _modified_since(project.openspec_path, found_at - MTIME_SLACK_S):
                self.cache.invalidate(project.openspec_path)

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
        """`validate --all` per item id ({valid, issues}), cached until the tree changes.

        Computed in a helper process (see openspec.verdicts): thousands of changes take
        seconds of pure Python, which here would hold the interpreter lock against every page."""
        return self.cache.get(project.openspec_path, "validation", self._verdicts_elsewhere)

    def _verdicts_elsewhere(self, tree) -> dict:
        return ValidationWorker.shared().verdicts(tree.root)

    def change_verdict(self, project: Project, change_id: str) -> dict | None:
        """`validate <change>` for one change ({valid, issues}); the whole project's verdicts
        when they are in already, else just this change (a change page must not wait for a
        thousand others)."""
        from pmdata.openspec.validate import validate_change

        verdicts = self.cache.peek(project.openspec_path, "validation")
        if verdicts is not None:
            return verdicts.get(("change", change_id))

        def run(tree):
            if change_id not in tree.change_ids(include_dot=False):
                return None
            return validate_change(tree.changes_dir / change_id, tree.specs_dir)

        return self.cache.get(project.openspec_path, f"validation:{change_id}", run)

    def validation_if_ready(self, project: Project) -> dict[str, dict] | None:
        """The verdicts for the tree as it is now, or None while the background validator works
        on them (this call asks it to, if nobody has yet)."""
        verdicts = self.cache.peek(project.openspec_path, "validation")
        if verdicts is None:
            self._validate_later(project)
        return verdicts

    def verdicts_ready(self) -> tuple[bool, ...]:
        """Per project, whether its verdicts are in: with `generation()`, a key for views."""
        return tuple(
            self.cache.peek(p.openspec_path, "validation") is not None for p in self.projects()
        )

    def validating(self) -> int:
        """How many projects' verdicts are being computed in the background right now."""
        with self._lock:
            return len(self._validating)

    def _validate_later(self, project: Project) -> None:
        path = project.openspec_path
        with self._lock:
            failed = self._validation_failed.get(path)
            if path in self._validating or failed == self.cache.generation(path):
                return  # on its way, or failed on this very tree: an edit retries it
            self._validating.add(path)
            self._background().submit(self._validate, project)

    def _after_startup(self) -> None:
        left = self._quiet_until - time.monotonic()
        if left > 0 and not self._grace_over.is_set():
            self.in_grace.set()
            self._grace_over.wait(left)

    def end_grace(self) -> None:
        """Start the background work now rather than when the start-up grace runs out."""
        self._grace_over.set()

    def _background(self) -> ThreadPoolExecutor:
        """One worker thread for what no page view should wait on (watching, warming,
        validating)."""
        with self._background_lock:
            if self._worker is None:
                self._worker = ThreadPoolExecutor(1, thread_name_prefix="pmdash-openspec")
            return self._worker

    def _validate(self, project: Project) -> None:
        path = project.openspec_path
        generation = self.cache.generation(path)
        try:
            self.validation(project)
        except Exception:  # a validator bug must not take the page down: verdicts stay unknown
            logger.exception("validating %s failed", project.name)
            with self._lock:
                self._validation_failed[path] = generation
        finally:
            with self._lock:
                self._validating.discard(path)

    def invalidate(self, project: Project) -> None:
        """After one of our own writes: don't wait for the watcher to notice."""
        self.cache.invalidate(project.openspec_path)
        self._roots_changed = True

    def warm(self) -> None:
        """Parse every project once, so the first page view does not wait on it, and start
        validating them in the background."""
        self._after_startup()
        for project in self.projects():
            self.summaries(project)  # what the pages list
            self.specs(project)
        for project in self.projects():
            self.validation_if_ready(project)

    def warm_later(self) -> None:
        """`warm` on the background thread: a server's first page (say, Errors, which needs no
        change) is not held up by parsing every project; a page that does need one parses it
        itself if the worker has not got there yet."""
        self._background().submit(self.warm)

    def generation(self) -> tuple:
        """Changes whenever any project's tree or the set of projects changes."""
        return tuple((p.name, self.cache.generation(p.openspec_path)) for p in self.projects())

    def close(self) -> None:
        self._grace_over.set()  # a worker waiting out the grace ends now
        if self.watcher:
            self.watcher.stop()
        if self._worker:
            self._worker.shutdown(wait=False, cancel_futures=True)

    def settle(self, timeout: float = 60) -> bool:
        """Wait until the background work asked for so far (watching, warming, validating) is
        done; for tests and benchmarks. True when it is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            barrier = self._background().submit(lambda: None)  # after everything queued
            try:
                barrier.result(max(deadline - time.monotonic(), 0))
            except TimeoutError:
                return False
            if not self.validating():
                return True
            time.sleep(0.01)
        return False
