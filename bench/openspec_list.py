"""Listing every change and spec of 20 projects / 1,000 changes, cold and warm.

Baseline: walking the same trees with os.walk (the least any reader must do), measured in the
same run; where the official CLI is installed (tests put it in ~/.cache/pmdash-tests), its time
for the same listing is printed as a ratio too.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _timing import best  # noqa: E402

from pmdata.demo import DemoPlan, build_demo  # noqa: E402
from pmdata.openspec.cache import TreeCache  # noqa: E402
from pmdata.openspec.projects import discover_projects  # noqa: E402

CLI = Path.home() / ".cache/pmdash-tests/openspec-1.13.2/node_modules/.bin/openspec"


def list_all(cache, projects):
    for p in projects:
        cache.get(p.openspec_path, "changes", lambda t: t.list_changes())
        cache.get(p.openspec_path, "specs", lambda t: t.list_specs())


def main():
    with tempfile.TemporaryDirectory() as tmp:
        build_demo(tmp, DemoPlan.scaled(2_000, projects=20, changes=1_000))
        roots = [Path(tmp) / "projects"]
        projects = discover_projects(roots)
        walk = best(lambda: [list(os.walk(p.openspec_path)) for p in projects], runs=5)
        cold = best(lambda: list_all(TreeCache(), projects), runs=5)
        warm_cache = TreeCache()
        list_all(warm_cache, projects)
        warm = best(lambda: list_all(warm_cache, projects), runs=50)
        changes = sum(len(list(p.openspec_path.glob("changes/*/proposal.md"))) for p in projects)
        print(f"{len(projects)} projects, {changes} active changes")
        print(f"os.walk baseline : {walk * 1000:8.1f} ms")
        print(
            f"cold list        : {cold * 1000:8.1f} ms ({cold / walk:5.1f}x walk) target <= 100 ms"
        )
        print(
            f"warm list        : {warm * 1000:8.3f} ms  ({warm / walk:5.3f}x walk)  target <= 2 ms"
        )
        if CLI.exists():
            env = {**os.environ, "OPENSPEC_TELEMETRY": "0", "DO_NOT_TRACK": "1"}
            start = time.perf_counter()
            for p in projects:
                for args in (["list", "--json"], ["list", "--specs", "--json"]):
                    subprocess.run([str(CLI), *args], cwd=p.path, env=env, capture_output=True)
            cli = time.perf_counter() - start
            print(
                f"official CLI     : {cli * 1000:8.1f} ms  (ours cold: {cli / cold:5.1f}x faster)"
            )
        else:
            print("official CLI     : not installed (run the test suite once to cache it)")


if __name__ == "__main__":
    main()
