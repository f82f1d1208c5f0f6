"""Classifying 100,000 failures with the rule classifier (target ≤ 1 s).

Baseline, same run: walking the same 100,000 rows and building their history records without
classifying them (the least a row-by-row classifier over this data must do).

Each of five rounds makes its data afresh (other seeds, other words), so each classifies cold:
no cache filled by an earlier round helps. This machine's speed swings by half from minute to
minute, hence medians, and the ratio to the baseline measured in the same rounds.
"""

import random
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pmdata.triage.batch import TestHistory, classify_rows  # noqa: E402
from pmdata.triage.rules import History, Thresholds  # noqa: E402

N = 100_000
ROUNDS = 5
MESSAGES = [
    "Error: expect(locator).toHaveText(expected) failed\n\nLocator: getByTestId('total')",
    "Error: Test timeout of 30000ms exceeded.",
    "Error: NotImplementedError: feature not implemented - payment provider",
    "TypeError: Cannot read properties of undefined (reading 'id')",
    "Error: page.goto: net::ERR_CONNECTION_REFUSED at http://localhost:3000/cart",
]


def batch(seed: int) -> tuple[pd.DataFrame, dict]:
    """100,000 failures of 20,000 tests, each test with a history of its own."""
    rng = random.Random(seed)
    tests = [
        (f"w{i % 20}", f"tests/e2e/f{i % 300}.spec.ts", f"suite {seed} › test {i}")
        for i in range(20_000)
    ]
    known = {
        key: TestHistory(
            History(
                occ := rng.randint(1, 40),
                occ + rng.randint(0, 40),
                rng.randint(0, occ),
                rng.randint(0, 2),
                rng.randint(0, 6),
                passes_since=rng.choice([0, 0, 0, 1, 2, 8]),
            ),
            frozenset(f"{rng.getrandbits(64):016x}" for _ in range(rng.randint(1, 4))),
        )
        for key in tests
    }
    picks = [tests[rng.randrange(len(tests))] for _ in range(N)]
    frame = pd.DataFrame(
        {
            "failure_id": range(N),
            "workflow_name": [p[0] for p in picks],
            "test_file": [p[1] for p in picks],
            "test_name": [p[2] for p in picks],
            # Every message differs in its numbers, as real ones do; one in five also in its
            # words (a different locator), so the signature cache misses often.
            "error": [
                f"{MESSAGES[i % 5]} (run {i})"
                + ("" if i % 5 else f" near {''.join(rng.choices('abcdefghij', k=12))}")
                for i in range(N)
            ],
            "stack_trace": [
                "at tests/e2e/f.spec.ts:12:7" if i % 7 else "at beforeEach" for i in range(N)
            ],
            # What ingest keeps beside the message: where it broke and the code around it.
            "error_location": [f"e2e/f{i % 300}.spec.ts:{12 + i % 40}:7" for i in range(N)],
            "error_snippet": [
                f"  {10 + i % 40} |   await page.goto(url);\n> {11 + i % 40} |   "
                f"await expect(page.getByTestId('t{i % 300}')).toHaveText('x');\n     |   ^"
                for i in range(N)
            ],
            "failed_in": ["test" if i % 7 else "hook" for i in range(N)],
            "final_status": ["failed" if i % 9 else "timedOut" for i in range(N)],
        }
    )
    return frame, known


def main():
    took, base = [], []
    for round_ in range(ROUNDS):
        frame, known = batch(seed=7 + round_)
        start = time.perf_counter()
        baseline = [
            (r.failure_id, known[(r.workflow_name, r.test_file, r.test_name)].history)
            for r in frame.itertuples(index=False)
        ]
        base.append(time.perf_counter() - start)
        start = time.perf_counter()
        out = classify_rows(frame, known, {}, Thresholds())
        took.append(time.perf_counter() - start)
        assert len(out) == len(baseline) == N
    counts = pd.Series([s.suggestion.decision for s in out]).value_counts().to_dict()
    median, median_base = statistics.median(took), statistics.median(base)
    print(
        f"{N:,} failures classified in {median:.2f} s, median of {ROUNDS} cold rounds "
        f"(fastest {min(took):.2f} s, slowest {max(took):.2f} s; target <= 1 s); "
        f"baseline walk {median_base:.2f} s, ratio {median / median_base:.2f}x"
    )
    print(f"decisions (last round): {counts}")


if __name__ == "__main__":
    main()
