"""Shared by the benchmarks (run.py skips files starting with `_`: this measures nothing)."""

import time


def best(fn, runs: int = 3) -> float:
    """The fastest of `runs` calls, in seconds: the least noisy figure on a shared machine."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
