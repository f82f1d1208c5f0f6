"""A change's page on the real fixture trees, for a change of 500 tasks against one of 5 in the
same run: the page must cost the same whatever the number of tasks (targets: ≤ 1.5 s on a
server's first request, ≤ 0.3 s warm). Each tab is timed as a person opens it.

`python bench/change_page.py`
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from page_run import APP, as_a_running_server  # noqa: E402

TREES = ROOT.parent / "shared" / "fixtures" / "openspec"
PROJECT = "Fission-AI+OpenSpec"


def add_change(roots: Path, name: str, tasks: int) -> None:
    folder = roots / PROJECT / "openspec" / "changes" / name
    (folder / "specs" / "bench").mkdir(parents=True)
    (folder / "proposal.md").write_text(f"# {name}\n\n## Why\nTo time the page.\n")
    lines = [
        f"- [{'x' if i % 3 == 0 else ' '}] {i // 10 + 1}.{i % 10 + 1} Task {i}"
        for i in range(tasks)
    ]
    (folder / "tasks.md").write_text("## 1. Work\n" + "\n".join(lines) + "\n")
    (folder / "specs" / "bench" / "spec.md").write_text(
        "## ADDED Requirements\n### Requirement: Timed\nThe page SHALL be quick.\n\n"
        "#### Scenario: ok\n- **WHEN** opened\n- **THEN** quick\n"
    )


def time_change(change: str) -> None:
    from streamlit.testing.v1 import AppTest

    from dashboard import readers

    times = {}
    at = AppTest.from_file(APP, default_timeout=600)
    at.query_params.update(project=PROJECT, change=change)
    start = time.perf_counter()
    at.switch_page("pages/specs.py").run()
    times["cold"] = time.perf_counter() - start
    readers.index().settle()
    at.run()
    for tab in ("Proposal", "Deltas", "Tasks", "Design"):
        at.query_params["change_tab"] = tab
        at.run()
        start = time.perf_counter()
        at.run()
        times[f"warm {tab}"] = time.perf_counter() - start
    assert not at.exception, [e.value for e in at.exception]
    print(f"{change:16} " + "  ".join(f"{k} {v:5.3f} s" for k, v in times.items()))


def main():
    if len(sys.argv) > 1:  # one change, in a fresh process: a server's first request
        as_a_running_server()
        from streamlit.logger import set_log_level

        set_log_level("error")
        time_change(sys.argv[1])
        return
    with tempfile.TemporaryDirectory() as tmp:
        roots = Path(tmp) / "roots"
        shutil.copytree(TREES, roots, symlinks=True)
        add_change(roots, "bench-5-tasks", 5)
        add_change(roots, "bench-500-tasks", 500)
        env = {**os.environ, "PMDASH_PROJECT_ROOTS": str(roots), "PMDASH_STATE_DIR": tmp}
        env.pop("PMDASH_DB", None)
        for change in ("bench-5-tasks", "bench-500-tasks"):
            subprocess.run([sys.executable, __file__, change], check=True, env=env)
    print("targets: cold <= 1.5 s, warm <= 0.3 s, and 500 tasks within noise of 5")


if __name__ == "__main__":
    main()
