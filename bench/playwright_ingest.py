"""Ingest time of a 10,000-test Playwright report vs merely json.load-ing the same file."""

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pmdata.ingest.playwright_ingest import ingest_report  # noqa: E402
from pmdata.store import migrate  # noqa: E402

TESTS = 10_000
SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "playwright" / "run-4.json"


def big_report(path: Path) -> None:
    """Real tests from a fixture report, repeated in describe blocks until there are TESTS."""
    data = json.loads(SAMPLE.read_text())
    specs = [(s, spec) for s in data["suites"] for spec in _specs(s)]
    suites = []
    for i in range(TESTS // len(specs) + 1):
        suites.append(
            {
                "title": f"batch {i}",
                "file": f"batch{i}.spec.ts",
                "specs": [dict(spec, title=f"{spec['title']} #{i}") for _, spec in specs],
                "suites": [],
            }
        )
    data["suites"] = [
        {"title": "big.spec.ts", "file": "big.spec.ts", "specs": [], "suites": suites}
    ]
    path.write_text(json.dumps(data))


def _specs(suite):
    yield from suite.get("specs", [])
    for child in suite.get("suites", []):
        yield from _specs(child)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "big.json"
        big_report(report)
        start = time.perf_counter()
        json.loads(report.read_bytes())
        baseline = time.perf_counter() - start
        db = Path(tmp) / "bench.db"
        migrate(db)
        start = time.perf_counter()
        result = ingest_report(db, report, "bench")
        took = time.perf_counter() - start
        size_mb = report.stat().st_size / 1e6
    print(f"report: {result.tests:,} tests, {result.failures:,} failures, {size_mb:.1f} MB")
    print(f"json.load baseline : {baseline * 1000:8.1f} ms")
    print(f"pmdata ingest      : {took * 1000:8.1f} ms")
    print(
        f"ratio ingest/load  : {took / baseline:8.1f}x   target: <= 2 s "
        f"({'met' if took <= 2 else 'NOT met'} here)"
    )


if __name__ == "__main__":
    main()
