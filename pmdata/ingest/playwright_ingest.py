"""`pmdata ingest playwright`: one report → reports, test_failures and test_results, atomically."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError

from pmdata.errors import StoreError
from pmdata.ingest.playwright_report import Report, read_report
from pmdata.project_rows import driver, project_id
from pmdata.remediation import record_reruns
from pmdata.store import schema
from pmdata.store.database import Store, check_database

BATCH = 2000


@dataclass(frozen=True)
class IngestResult:
    path: Path
    report_id: int | None  # None when the run was already there
    tests: int
    failures: int
    workflow: str = ""
    run_number: int | None = None
    attempt: int | None = None
    why_not: str = ""  # for a duplicate: what made it one
    flaky: int = 0  # tests that failed and then passed on retry (triaged too)

    @property
    def duplicate(self) -> bool:
        return self.report_id is None

    @property
    def run(self) -> str:
        attempt = f" attempt {self.attempt}" if self.attempt else ""
        return f"{self.workflow} run {self.run_number}{attempt}"

    def describe(self) -> str:
        if self.duplicate:
            return f"{self.path}: {self.run} is already recorded ({self.why_not}); nothing added"
        flaky = f", {self.flaky} flaky (passed on retry)" if self.flaky else ""
        return (
            f"{self.path}: {self.run} recorded, {self.tests} tests, "
            f"{self.failures} failure{'s' if self.failures != 1 else ''}{flaky}"
        )


def ingest_report(
    db: Path,
    path: Path | str,
    project: str,
    workflow: str | None = None,
    run_number: int | None = None,
    progress: bool = False,
    attempt: int | None = None,
) -> IngestResult:
    """Record one report in one transaction. The same run again adds nothing: the same bytes,
    or the same workflow, run number and attempt (a report written again for one run)."""
    check_database(db, require_tables=("reports", "test_failures", "test_results", "projects"))
    report = read_report(path)  # the whole file is checked before anything is written
    return record_report(db, report, project, workflow, run_number, progress, attempt)


def record_report(
    db: Path,
    report: Report,
    project: str,
    workflow: str | None = None,
    run_number: int | None = None,
    progress: bool = False,
    attempt: int | None = None,
) -> IngestResult:
    """Record a report already read and checked (a file, or an upload)."""
    workflow = workflow or project
    reports = schema.reports
    try:
        with Store(db).transaction() as conn:
            same = conn.execute(
                select(reports.c.workflow_name, reports.c.run_number, reports.c.run_attempt).where(
                    reports.c.hash == report.digest
                )
            ).first()
            why = "the same report file"
            if same is None and run_number is not None:
                same = conn.execute(
                    select(
                        reports.c.workflow_name, reports.c.run_number, reports.c.run_attempt
                    ).where(
                        reports.c.workflow_name == workflow,
                        reports.c.run_number == run_number,
                        reports.c.run_attempt.is_(attempt),
                    )
                ).first()
                why = "a report of the same run"
            if same is not None:
                return IngestResult(report.path, None, len(report.tests), 0, *same, why_not=why)
            if run_number is None:
                last = conn.execute(
                    select(func.max(schema.reports.c.run_number)).where(
                        schema.reports.c.workflow_name == workflow
                    )
                ).scalar()
                run_number = (last or 0) + 1
            _ensure_project(conn, project, report)
            report_id = conn.execute(
                insert(schema.reports).values(
                    workflow_name=workflow,
                    run_number=run_number,
                    hash=report.digest,
                    file_path=str(report.path.resolve()),
                    total_tests=len(report.tests),
                    passed=report.count("passed") + report.count("flaky"),
                    failed=report.count("failed"),
                    skipped=report.count("skipped"),
                    status=report.status,
                    created_at=report.started_at,
                    flaky=report.count("flaky"),
                    duration_ms=report.duration_ms,
                    project=project,
                    run_attempt=attempt,
                )
            ).inserted_primary_key[0]
            failures = _write_tests(conn, report, report_id, progress)
            record_reruns(conn, report_id)
    except OperationalError as exc:  # locked for too long, or a schema older than ours
        raise StoreError(
            f"could not record {report.path} in {db}: {exc.orig} "
            f"(a missing column: run `pmdata migrate --db {db}`)"
        ) from exc
    return IngestResult(
        report.path,
        report_id,
        len(report.tests),
        failures,
        workflow,
        run_number,
        attempt,
        flaky=report.count("flaky"),
    )


def _ensure_project(conn, project: str, report: Report) -> None:
    folder = str(report.path.resolve().parent)
    project_id(driver(conn), project, folder, "Created from a Playwright report", int(time.time()))


def _write_tests(conn, report: Report, report_id: int, progress: bool) -> int:
    from tqdm import tqdm

    results, failures = [], []
    at = report.started_at
    for t in report.tests:
        results.append(
            {
                "report_id": report_id,
                "test_name": t.name,
                "test_file": t.file,
                "line_number": t.line,
                "project_name": t.project_name,
                "outcome": t.outcome,
                "duration": t.duration,
                "retries": t.retries,
                "created_at": at,
            }
        )
        if t.failing:
            failures.append(
                {
                    "report_id": report_id,
                    "test_name": t.name,
                    "test_file": t.file,
                    "line_number": t.line,
                    "error": t.error,
                    "stack_trace": t.stack,
                    "duration": t.duration,
                    "retries": t.retries,
                    "created_at": at,
                    "outcome": t.outcome,
                    "final_status": t.final_status,
                    "error_location": t.error_location,
                    "failed_in": t.failed_in or None,
                    "error_snippet": t.snippet,
                    "attachments": json.dumps(list(t.attachments)) if t.attachments else None,
                }
            )
    with tqdm(
        total=len(results) + len(failures),
        unit=" rows",
        disable=not progress,
        desc=report.path.name,
    ) as bar:
        for table, rows in ((schema.test_results, results), (schema.test_failures, failures)):
            for start in range(0, len(rows), BATCH):
                chunk = rows[start : start + BATCH]
                conn.execute(insert(table), chunk)
                bar.update(len(chunk))
    return report.count("failed")


def watch(
    db: Path,
    folder: Path,
    project: str,
    workflow: str | None,
    on_result,
    stop=None,
    settle_seconds: float = 0.5,
) -> None:
    """Ingest every *.json report already in `folder`, then each new one as it appears."""
    import queue

    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    found: queue.Queue[Path] = queue.Queue()

    class Handler(FileSystemEventHandler):
        def on_created(self, event):
            if not event.is_directory:
                found.put(Path(event.src_path))

        on_modified = on_created

        def on_moved(self, event):
            found.put(Path(event.dest_path))

    for existing in sorted(folder.glob("*.json")):
        found.put(existing)
    observer = Observer()
    observer.schedule(Handler(), str(folder), recursive=False)
    observer.start()
    pending: dict[Path, float] = {}
    try:
        while not (stop and stop.is_set()):
            try:
                path = found.get(timeout=0.2)
                if path.suffix == ".json" and not path.name.startswith("."):
                    pending[path] = time.monotonic()
            except queue.Empty:
                pass
            # A report is written in pieces: wait until it has been quiet for a moment.
            for path, seen in list(pending.items()):
                if time.monotonic() - seen >= settle_seconds:
                    del pending[path]
                    if path.exists():
                        on_result(path, _try_ingest(db, path, project, workflow))
    finally:
        observer.stop()
        observer.join()


def _try_ingest(db, path, project, workflow):
    from pmdata.errors import PmdashError

    try:
        return ingest_report(db, path, project, workflow)
    except PmdashError as exc:
        return exc
