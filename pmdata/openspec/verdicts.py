"""`validate --all` verdicts computed in a helper process.

Validating a big project is seconds of pure Python (every change's archive is dry-run). In the
dashboard's process that would hold the interpreter lock against every page being served, so
one long-lived helper (`python -m pmdata.openspec.verdicts`) does it: a tree path in on stdin,
one JSON line of items out. A plain subprocess rather than multiprocessing: spawning through
multiprocessing re-imports the parent's main module, which under a benchmark script or a
notebook is not ours to guard.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import subprocess
import sys
import threading
from pathlib import Path


class VerdictError(RuntimeError):
    """The helper could not validate a tree (it said why, or it died)."""


def verdicts_here(openspec_dir: Path) -> dict[tuple[str, str], dict]:
    """The verdicts computed in this process: {(type, id): item}."""
    from pmdata.openspec.tree import OpenSpecTree
    from pmdata.openspec.validate import validate_tree

    items = validate_tree(OpenSpecTree(Path(openspec_dir)))["items"]
    return {(i["type"], i["id"]): i for i in items}


ANSWER_WAIT_S = 300  # a tree of thousands of changes takes seconds; a hung helper is killed


class ValidationWorker:
    """The client side: one helper process, started on first use and again if it dies or
    hangs. It holds no state between questions, so one per dashboard process serves every
    index."""

    _shared: ValidationWorker | None = None
    _shared_lock = threading.Lock()

    def __init__(self):
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()  # one question at a time on the pipe

    @classmethod
    def shared(cls) -> ValidationWorker:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
                atexit.register(cls._shared.close)  # end the helper with the dashboard
            return cls._shared

    def verdicts(self, openspec_dir: Path) -> dict[tuple[str, str], dict]:
        with self._lock:
            process = self._running()
            try:
                process.stdin.write(str(Path(openspec_dir).resolve()) + "\n")
                process.stdin.flush()
                # One question, one line: nothing waits in the pipe's buffer before it, so the
                # descriptor being readable means the answer (or the helper's end) is there.
                ready, _, _ = select.select([process.stdout], [], [], ANSWER_WAIT_S)
                if not ready:
                    self._stop()
                    raise VerdictError(f"the validation helper gave no answer in {ANSWER_WAIT_S} s")
                line = process.stdout.readline()
            except (BrokenPipeError, OSError) as exc:
                self._stop()
                raise VerdictError(f"the validation helper died: {exc}") from exc
            if not line:
                self._stop()
                raise VerdictError("the validation helper died without an answer")
        answer = json.loads(line)
        if "error" in answer:
            raise VerdictError(answer["error"])
        return {(i["type"], i["id"]): i for i in answer["items"]}

    def _running(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "pmdata.openspec.verdicts"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.stdin.close()  # the helper ends at end of input
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._stop()
                self._process = None


def main() -> None:
    with contextlib.suppress(OSError):
        os.nice(10)  # background work: the dashboard's own threads come first for the CPU
    for line in sys.stdin:
        path = line.rstrip("\n")
        try:
            answer = {"items": list(verdicts_here(Path(path)).values())}
        except Exception as exc:  # said to the dashboard, which logs it; the helper goes on
            answer = {"error": f"validating {path}: {type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
