"""Shared by the 1M-failure benchmarks: the demo at scale, built once and kept.

Not a benchmark itself (run.py skips files starting with `big_`). PMDASH_BENCH_DB points at an
existing database instead; otherwise bench/.cache/demo-1m is built (about 3 minutes).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pmdata.demo import DemoPlan, build_demo  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache" / "demo-1m"


def big_db(failures: int = 1_000_000) -> Path:
    given = os.environ.get("PMDASH_BENCH_DB")
    if given:
        return Path(given)
    db = CACHE / "pmdash.db"
    if not db.exists():
        print(f"building the {failures:,}-failure demo in {CACHE} (once)...", flush=True)
        start = time.perf_counter()
        build_demo(CACHE, DemoPlan.scaled(failures), progress=True)
        print(f"built in {time.perf_counter() - start:.0f} s", flush=True)
    return db
