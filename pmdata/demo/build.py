"""`pmdata demo DIR`: writes DIR/pmdash.db and DIR/projects/<name>/openspec/, seeded."""

from __future__ import annotations

import json
import math
import random
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from pmdata.demo import homelab_data as data
from pmdata.demo.openspec_tree import write_tree
from pmdata.errors import PmdashError
from pmdata.store.migrations import migrate
from pmdata.triage.service import run_triage
from pmdata.work_item import WorkItem

DEMO_PROJECTS = ["storefront", "billing-api", "notes-app", "homelab-portal"]
DB_NAME = "pmdash.db"
DAYS = 30


@dataclass(frozen=True)
class DemoPlan:
    """What to generate. The default is the newcomer's demo; `scaled` is for benchmarks."""

    projects: int = 4
    changes: int = 16  # active changes over all projects
    tests_per_project: int = 22
    runs_per_project: int = 45
    mix: tuple = tuple(data.DEMO_MIX)
    seed: int = 7

    @classmethod
    def scaled(cls, failures: int, projects: int = 20, changes: int = 1000, seed: int = 7):
        """About `failures` failures over 120 runs per project: the number of tests per project
        is the target divided by how often one test of the scale mix is expected to fail."""
        runs = 120
        expected = _expected_failures_per_test(data.SCALE_MIX, runs)
        tests = max(10, math.ceil(failures / (projects * expected)))
        return cls(projects, changes, tests, runs, tuple(data.SCALE_MIX), seed)

    def project_names(self) -> list[str]:
        if self.projects <= len(DEMO_PROJECTS):
            return DEMO_PROJECTS[: self.projects]
        return [f"project-{i + 1:02d}" for i in range(self.projects)]


def _expected_failures_per_test(mix, runs: int) -> float:
    rng = random.Random(0)
    sample = data.make_tests(rng, 400, list(mix))
    return sum(data.outcome(t, r, runs) == "failed" for t in sample for r in range(runs)) / 400


def build_demo(
    out_dir: Path | str, plan: DemoPlan = DemoPlan(), now: int | None = None, progress: bool = False
) -> dict[str, int]:
    """Write the demo set into `out_dir` (replacing an earlier demo there); returns counts.

    Same plan and `now` → same content. `now` defaults to the current time so the 30 days of
    history end today.
    """
    out_dir = Path(out_dir)
    now = int(time.time()) if now is None else now
    db_path, projects_dir = out_dir / DB_NAME, out_dir / "projects"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PmdashError(f"cannot create demo folder {out_dir}: {exc.strerror}") from exc
    # Build next to the target and swap in at the end: an interrupted run leaves the old demo.
    tmp_db = out_dir / f".{DB_NAME}.building"
    tmp_projects = out_dir / ".projects.building"
    for leftover in (tmp_db, Path(f"{tmp_db}-wal"), Path(f"{tmp_db}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(tmp_projects, ignore_errors=True)

    rng = random.Random(plan.seed)
    names = plan.project_names()
    today = datetime.fromtimestamp(now, UTC).date()
    per_project = _spread(plan.changes, len(names))
    for name, n_changes in zip(names, per_project, strict=True):
        write_tree(tmp_projects / name, random.Random(f"{plan.seed}/{name}"), today, n_changes)

    migrate(tmp_db)
    con = sqlite3.connect(tmp_db)
    counts = {"projects": len(names), "changes": plan.changes}
    try:
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("BEGIN")
        times = data.runs_schedule(now, DAYS, plan.runs_per_project)
        bar = tqdm(total=None, unit=" failures", disable=not progress, desc="demo")
        failures = 0
        for name in names:
            con.execute(
                "INSERT INTO projects (name, path, description, created_at, updated_at)"
                " VALUES (?,?,?,?,?)",
                (
                    name,
                    str((projects_dir / name).resolve()),
                    f"Demo project {name}",
                    now - 40 * data.DAY,
                    now - 40 * data.DAY,
                ),
            )
            tests = data.make_tests(
                random.Random(f"{plan.seed}/tests/{name}"), plan.tests_per_project, list(plan.mix)
            )
            failures += data.fill_runs(con, name, tests, times, tick=bar.update)
        bar.close()
        data.fill_stale_history(con, now - 3 * data.DAY)
        counts["failures"] = failures
        counts.update(_fill_agents(con, rng, names, now))
        con.commit()
    finally:
        con.close()
    # The real classifier on the demo's real history: every other failure gets a suggestion,
    # and the people's decisions above get the suggestion they are measured against.
    counts["classified"] = run_triage(tmp_db, now=now)["classified"]

    # Swap in: the new database and trees replace whatever an earlier demo left.
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    tmp_db.replace(db_path)
    shutil.rmtree(projects_dir, ignore_errors=True)
    tmp_projects.replace(projects_dir)
    return counts


def _spread(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _fill_agents(con: sqlite3.Connection, rng: random.Random, names: list[str], now: int) -> dict:
    """Sessions of each type and state, their hook events, triage decisions and remediations."""
    project_ids = dict(con.execute("SELECT name, id FROM projects"))
    latest = {
        name: con.execute(
            "SELECT f.id, f.test_name, f.report_id FROM test_failures f JOIN reports r"
            " ON r.id = f.report_id WHERE r.project = ? ORDER BY f.created_at DESC, f.id LIMIT 6",
            (name,),
        ).fetchall()
        for name in names[:4]
    }
    # (state, session_type, started minutes ago, last event minutes ago)
    shapes = [
        ("active", "spec_implementation", 40, 1),
        ("idle", "error_remediation", 90, 14),
        ("finished", "manual", 600, 540),
        ("finished", "spec_implementation", 2000, 1900),
    ]
    sessions = hooks = triaged = 0
    for p_index, name in enumerate(names[:4]):
        for s_index, (state, kind, started_ago, last_ago) in enumerate(shapes):
            start, end = now - started_ago * 60, now - last_ago * 60
            finished = state == "finished"
            failure = latest[name][s_index % max(1, len(latest[name]))] if latest[name] else None
            work_item = None
            if kind == "spec_implementation":
                change = _first_change_id(con, name, p_index + s_index)
                work_item = str(WorkItem.spec(name, change))
            elif kind == "error_remediation" and failure:
                triage_id = _triage(con, failure[0], now, decision="one_off_fix", human=True)
                triaged += 1
                work_item = str(WorkItem.error(failure[0]))
            cur = con.execute(
                "INSERT INTO sessions (project_id, agent_id, status, started_at, stopped_at,"
                " last_activity_at, session_type, work_item) VALUES (?,?,?,?,?,?,?,?)",
                (
                    project_ids[name],
                    agent := data.agent_uuid(rng),
                    "stopped" if finished else "running",
                    start,
                    end if finished else None,
                    end,
                    kind,
                    work_item,
                ),
            )
            session_id = cur.lastrowid
            sessions += 1
            rows = [
                (
                    session_id,
                    kind_,
                    ts,
                    tool,
                    inp,
                    dur,
                    ok,
                    err,
                    use_id,
                    json.dumps({"received_at_ms": ts * 1000}),
                )
                for kind_, ts, tool, inp, dur, ok, err, use_id in data.hook_events(
                    rng, start, end, finished
                )
            ]
            con.executemany(
                "INSERT INTO hooks (session_id, hook_type, timestamp, tool_name, tool_input,"
                " duration_ms, success, error_message, tool_use_id, metadata)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            hooks += len(rows)
            con.executemany(
                "INSERT INTO agent_usage (record_key, agent_id, source, kind, model, at, cost_usd,"
                " input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,"
                " duration_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                data.api_requests(agent, start, end),
            )
            if kind == "error_remediation" and failure:
                con.execute(
                    "UPDATE error_triage SET assigned_session_id = ? WHERE id = ?",
                    (session_id, triage_id),
                )
                _remediation(con, failure, "in_progress", now, agent=work_item)
    # A few decisions people made, one of them overriding the classifier.
    for name in names[:4]:
        for failure_id, _test, _report in latest[name][3:5]:
            _triage(con, failure_id, now, decision="needs_spec", human=True)
            triaged += 1
        if latest[name]:
            failure = latest[name][-1]
            _triage(con, failure[0], now, decision="ignore", human=True)
            _remediation(con, failure, "fixed", now, agent=None)
            triaged += 1
    return {"sessions": sessions, "hooks": hooks, "triaged": triaged}


def _first_change_id(con: sqlite3.Connection, project: str, index: int) -> str:
    path = Path(con.execute("SELECT path FROM projects WHERE name = ?", (project,)).fetchone()[0])
    # The tree is still in its building folder; the stored path names the final one.
    building = path.parent.parent / ".projects.building" / path.name / "openspec" / "changes"
    ids = sorted(p.name for p in building.iterdir() if p.is_dir() and p.name != "archive")
    return ids[index % len(ids)] if ids else "initial-change"


def _triage(con, failure_id: int, now: int, decision: str, human: bool) -> int:
    """A person's decision; the classifier's suggestion is filled in by `run_triage` later."""
    cur = con.execute(
        "INSERT INTO error_triage (test_failure_id, decision, rationale, priority, created_at,"
        " updated_at, decided_by, decided_at) VALUES (?,?,?,?,?,?,?,?)",
        (
            failure_id,
            decision,
            "Reviewed in the demo data set.",
            4 if decision == "needs_spec" else 2,
            now - 3600,
            now - 3600,
            "demo" if human else None,
            now - 3600 if human else None,
        ),
    )
    return cur.lastrowid


def _remediation(con, failure: tuple, status: str, now: int, agent: str | None) -> None:
    failure_id, test_name, report_id = failure
    done = status in ("fixed", "failed", "skipped")
    con.execute(
        "INSERT INTO remediation_attempts (report_id, test_name, claude_session_id, triggered_at,"
        " completed_at, status, fix_description, pr_url, error_message, classification_type)"
        " VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            report_id,
            test_name,
            agent,
            now - 5400,
            now - 1800 if done else None,
            status,
            "Waited for the network to be idle before clicking." if done else None,
            f"https://git.home.arpa/demo/pulls/{failure_id}" if done else None,
            None,
            "NEW",
        ),
    )
