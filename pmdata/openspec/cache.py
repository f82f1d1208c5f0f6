"""Parsed OpenSpec trees kept in memory per project, dropped when a watched file changes."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pmdata.openspec.tree import OpenSpecTree


class _Flight:
    """One answer being computed: others asking for it wait on `done`."""

    def __init__(self, generation: int):
        self.generation, self.done, self.value, self.ok = generation, threading.Event(), None, False


class TreeCache:
    """An LRU with a time-to-live, one entry per (project, question), shared by every caller.

    `generation(project)` grows each time the project's tree changes, so a caller (the
    dashboard) can key its own caches on it and skip work when nothing moved.
    """

    def __init__(
        self,
        ttl_seconds: float = 300,
        max_entries: int = 512,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ttl, self.max_entries, self.clock = ttl_seconds, max_entries, clock
        self._entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self._generations: dict[Path, int] = {}
        self._flights: dict[tuple, _Flight] = {}  # answers being computed right now
        self._lock = threading.RLock()
        self.hits = self.misses = 0

    def get(self, openspec_dir: Path, question: str, compute: Callable[[OpenSpecTree], Any]):
        """The answer to `question` about the tree, computed at most once per TTL or change.

        Asked while another thread computes the same answer for the same tree (the background
        warm-up and a page, say), it waits for that answer instead of parsing a second time."""
        key = (Path(openspec_dir).resolve(), question)
        now = self.clock()
        with self._lock:
            found = self._entries.get(key)
            if found and now - found[0] < self.ttl:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[1]
            self.misses += 1
            generation = self._generations.get(key[0], 0)
            flight = self._flights.get(key)
            leader = flight is None or flight.generation != generation
            if leader:
                flight = self._flights[key] = _Flight(generation)
        if not leader:
            flight.done.wait()
            if flight.ok:
                return flight.value
        try:
            value = compute(OpenSpecTree(key[0]))  # outside the lock: parsing may take a while
        except BaseException:
            if leader:
                self._land(key, flight)  # its followers compute for themselves
            raise
        if leader:
            flight.value, flight.ok = value, True
            self._land(key, flight)
        with self._lock:
            # A change that landed while we parsed makes this answer stale: don't keep it.
            if self._generations.get(key[0], 0) == generation:
                self._entries[key] = (now, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    def _land(self, key: tuple, flight: _Flight) -> None:
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
        flight.done.set()

    def peek(self, openspec_dir: Path, question: str, default: Any = None) -> Any:
        """The cached answer if there is a fresh one, else `default`; never computes."""
        key = (Path(openspec_dir).resolve(), question)
        with self._lock:
            found = self._entries.get(key)
            if found and self.clock() - found[0] < self.ttl:
                return found[1]
        return default

    def invalidate(self, openspec_dir: Path) -> None:
        root = Path(openspec_dir).resolve()
        with self._lock:
            self._generations[root] = self._generations.get(root, 0) + 1
            for key in [k for k in self._entries if k[0] == root]:
                del self._entries[key]

    def generation(self, openspec_dir: Path) -> int:
        with self._lock:
            return self._generations.get(Path(openspec_dir).resolve(), 0)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class TreeWatcher:
    """A watchdog observer per openspec/ tree; any file event there invalidates its entries."""

    def __init__(self, cache: TreeCache, on_change: Callable[[Path], None] | None = None):
        from watchdog.observers import Observer

        self.cache, self.on_change = cache, on_change
        self._observer = Observer()
        self._watched: dict[Path, Any] = {}
        self._observer.daemon = True
        self._observer.start()

    def watch(self, openspec_dir: Path) -> None:
        from watchdog.events import FileSystemEventHandler

        root = Path(openspec_dir).resolve()
        if root in self._watched or not root.is_dir():
            return
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.event_type in ("opened", "closed_no_write", "attrib"):
                    # Reads are not changes, nor is the access time our own reading sets on a
                    # folder created since its last read (relatime): that made each new change
                    # parse twice, and a crashed validation retry.
                    return
                watcher.cache.invalidate(root)
                if watcher.on_change:
                    watcher.on_change(root)

        self._watched[root] = self._observer.schedule(Handler(), str(root), recursive=True)

    def watch_folder(self, folder: Path, handler, recursive: bool = False) -> None:
        """Any other folder to watch on the same observer thread (e.g. project roots)."""
        self._observer.schedule(handler, str(folder), recursive=recursive)

    def unwatch(self, openspec_dir: Path) -> None:
        watch = self._watched.pop(Path(openspec_dir).resolve(), None)
        if watch is not None:
            self._observer.unschedule(watch)

    @property
    def watched(self) -> list[Path]:
        return sorted(self._watched)

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)
