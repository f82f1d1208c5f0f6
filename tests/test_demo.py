from pathlib import Path

from pmdata.demo import DemoPlan, build_demo
from pmdata.demo.build import DEMO_PROJECTS
from tests.conftest import DEMO_NOW, dump
from tests.conftest import rows as one


def tree_files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_demo_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    build_demo(a, DemoPlan(changes=6), now=DEMO_NOW)
    build_demo(b, DemoPlan(changes=6), now=DEMO_NOW)

    def content(root):
        rows = dump(root / "pmdash.db")
        rows.pop("pmdash_migrations")  # records when it ran, not what the demo holds
        return repr(rows).replace(str(root), "<DIR>")

    assert content(a) == content(b)
    assert tree_files(a / "projects") == tree_files(b / "projects")


def test_demo_has_four_projects_with_real_looking_openspec_trees(demo_dir):
    projects = sorted(p.name for p in (demo_dir / "projects").iterdir())
    assert projects == sorted(DEMO_PROJECTS)
    tasks_states = set()
    for name in projects:
        root = demo_dir / "projects" / name / "openspec"
        specs = list((root / "specs").glob("*/spec.md"))
        changes = [p for p in (root / "changes").iterdir() if p.is_dir() and p.name != "archive"]
        archived = list((root / "changes" / "archive").iterdir())
        assert specs and changes and archived
        assert all((c / "proposal.md").exists() for c in changes)
        assert all(list(c.glob("specs/*/spec.md")) for c in changes)
        for spec in specs:
            text = spec.read_text()
            assert "## Purpose" in text and "### Requirement:" in text and "SHALL" in text
            assert "#### Scenario:" in text
        for c in changes:
            tasks = c / "tasks.md"
            if not tasks.exists():
                tasks_states.add("no-tasks")
                continue
            text = tasks.read_text()
            done, todo = text.count("- [x]"), text.count("- [ ]")
            tasks_states.add("complete" if not todo else "in-progress")
            assert done + todo > 0
        assert all(a.name[:10].count("-") == 2 for a in archived)
    assert tasks_states == {"no-tasks", "in-progress", "complete"}


def test_demo_database_shows_every_failure_pattern(demo_dir):
    db = demo_dir / "pmdash.db"
    days = one(db, "SELECT (max(created_at) - min(created_at)) / 86400.0 FROM reports")[0][0]
    assert 28 <= days <= 30
    assert one(db, "SELECT count(*) FROM test_failures WHERE error LIKE '%not implemented%'")[0][0]
    assert one(db, "SELECT count(*) FROM test_failures WHERE stack_trace LIKE '%beforeEach%'")[0][0]
    assert one(db, "SELECT count(*) FROM test_results WHERE outcome = 'flaky'")[0][0]
    assert one(db, "SELECT count(*) FROM test_results WHERE outcome = 'skipped'")[0][0]
    # persistent: failed in each of the latest 8 runs of its workflow
    persistent = one(
        db,
        "WITH latest AS (SELECT id FROM reports WHERE project = 'storefront'"
        " ORDER BY created_at DESC LIMIT 8)"
        " SELECT test_name FROM test_results WHERE report_id IN (SELECT id FROM latest)"
        " GROUP BY test_name HAVING sum(outcome = 'failed') = 8",
    )
    assert persistent
    # new: failed only in the latest run
    new = one(
        db,
        "SELECT test_name FROM test_failures f JOIN reports r ON r.id = f.report_id"
        " WHERE r.project = 'storefront' GROUP BY test_name HAVING count(*) = 1"
        " AND max(r.created_at) = (SELECT max(created_at) FROM reports WHERE project='storefront')",
    )
    assert new
    recurring = one(
        db,
        "SELECT test_name FROM test_failures GROUP BY test_name HAVING count(*) BETWEEN 3 AND 12",
    )
    assert recurring


def test_demo_sessions_cover_every_type_and_state(demo_dir):
    db = demo_dir / "pmdash.db"
    types = {t for (t,) in one(db, "SELECT DISTINCT session_type FROM sessions")}
    assert types == {"manual", "spec_implementation", "error_remediation"}
    now = DEMO_NOW
    rows = one(db, "SELECT status, last_activity_at FROM sessions")
    assert any(s == "running" and now - t < 300 for s, t in rows)  # active
    assert any(s == "running" and now - t > 300 for s, t in rows)  # idle
    assert any(s == "stopped" for s, _ in rows)  # finished
    paired = one(
        db,
        "SELECT count(*) FROM hooks a JOIN hooks b ON a.tool_use_id = b.tool_use_id"
        " AND a.hook_type = 'pre_tool_use' AND b.hook_type = 'post_tool_use'",
    )[0][0]
    assert paired > 100
    assert one(db, "SELECT count(DISTINCT status) FROM remediation_attempts")[0][0] >= 2
    assert one(db, "SELECT count(*) FROM error_triage WHERE assigned_session_id IS NOT NULL")[0][0]


def test_scaled_demo_hits_its_size(tmp_path):
    plan = DemoPlan.scaled(30_000, projects=3, changes=30)
    counts = build_demo(tmp_path, plan, now=DEMO_NOW)
    assert 0.7 * 30_000 <= counts["failures"] <= 1.3 * 30_000
    changes = [
        p for p in (tmp_path / "projects").glob("*/openspec/changes/*") if p.name != "archive"
    ]
    assert len(changes) == 30
    assert len(list((tmp_path / "projects").iterdir())) == 3


def test_rebuilding_replaces_the_old_demo(tmp_path):
    build_demo(tmp_path, DemoPlan(changes=4), now=DEMO_NOW)
    build_demo(tmp_path, DemoPlan(changes=8), now=DEMO_NOW)
    changes = [
        p for p in (tmp_path / "projects").glob("*/openspec/changes/*") if p.name != "archive"
    ]
    assert len(changes) == 8
    assert not list(tmp_path.glob(".*building*"))
