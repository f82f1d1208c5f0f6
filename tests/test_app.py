"""Every page in AppTest on the real demo data: the shell, URL-bound filters, forms that write
exactly what they should, read-only mode, the password, page switches and empty states."""

import json
import shutil
import sqlite3

import pandas as pd
import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from pmdata.openspec.tree import OpenSpecTree
from pmdata.work import STATUS_WORDS, change_priority
from tests.conftest import ROOT, rows

APP = str(ROOT / "app.py")
PAGES = [
    "pages/all_work.py",
    "pages/specs.py",
    "pages/errors.py",
    "pages/sessions.py",
]


@pytest.fixture(autouse=True)
def served_like_a_running_server(request, monkeypatch):
    """AppTest resets Streamlit's legacy `pages/` discovery before every run, so each run would
    start the way only a server's very first request does (tested on its own below). Outside
    that test, run as the server runs every request after its first: app.py first, always."""
    if request.node.get_closest_marker("cold_start"):
        return
    init = PagesManager.__init__

    def after_first_request(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", after_first_request)


@pytest.fixture
def demo(demo_dir, tmp_path, monkeypatch):
    """A private copy of the demo (forms write to it), wired in through the environment."""
    copy = tmp_path / "demo"
    shutil.copytree(demo_dir, copy)
    serve_from(monkeypatch, tmp_path, copy / "pmdash.db", copy / "projects")
    return copy


def serve_from(monkeypatch, tmp_path, db, roots) -> None:
    """The app's database and project roots, through the environment as a server gets them;
    no read-only, page switches or password left over, no secrets.toml (a fresh folder)."""
    monkeypatch.setenv("PMDASH_DB", str(db))
    monkeypatch.setenv("PMDASH_PROJECT_ROOTS", str(roots))
    monkeypatch.setenv("PMDASH_STATE_DIR", str(tmp_path / "state"))
    for var in ("PMDASH_READONLY", "PMDASH_DISABLE", "PMDASH_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


def open_page(page: str, timeout: float = 60, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(params)
    at.run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_inside_the_frame(demo, page):
    at = open_page(page)
    assert at.selectbox(key="project") is not None  # the frame ran: filters are there
    assert at.title and not at.error
    at.run()  # and on a rerun too
    assert at.selectbox(key="project") is not None and not at.exception


@pytest.mark.parametrize("page", PAGES)
def test_values_of_the_wrong_type_in_the_database_break_no_page(demo, page):
    """Another producer may put anything in any SQLite column: the page still serves."""
    con = sqlite3.connect(demo / "pmdash.db")
    with con:
        con.execute("UPDATE test_failures SET line_number = 'ten' WHERE id % 7 = 0")
        con.execute("UPDATE test_results SET duration = 'abc' WHERE id % 5 = 0")
        con.execute("UPDATE reports SET duration_ms = 1e300, run_number = 'x' WHERE id % 3 = 0")
        con.execute("UPDATE hooks SET duration_ms = 'slow' WHERE id % 4 = 0")
    con.close()
    at = open_page(page)  # no exception, checked inside
    assert at.title and not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", PAGES)
def test_a_missing_database_is_one_line_on_every_page(demo, page, monkeypatch, tmp_path):
    monkeypatch.setenv("PMDASH_DB", str(tmp_path / "gone.db"))
    at = open_page(page)  # no exception, checked inside
    shown = [e.value for e in at.error]
    assert len(shown) <= 1 and all("database not found" in e for e in shown), shown
    assert not any("could not draw" in e for e in shown)


@pytest.mark.cold_start
@pytest.mark.parametrize("page", PAGES[1:])
def test_a_cold_deep_link_runs_the_page_inside_the_frame(demo, page):
    """With Streamlit's legacy discovery on (a server's first request), a deep link to a page
    still gets the filters, seeded from the URL, and the page's own title."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(project="storefront")
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="project").value == "storefront"
    assert at.title[0].value.endswith("· storefront")


def test_the_frame_runs_on_every_rerun(demo):
    """A widget rerun (not only the first run) still draws the filters around the page."""
    at = open_page(PAGES[2], project="storefront")
    for _ in range(2):
        at.text_input(key="q").input("cart").run()
        assert at.selectbox(key="project").value == "storefront"
        assert at.title[0].value == "Errors · storefront" and not at.exception


def test_filters_round_trip_through_the_url(demo):
    at = open_page(PAGES[2], project="storefront", status=["needs_spec"], q="cart")
    assert at.selectbox(key="project").value == "storefront"
    assert at.multiselect(key="status").value == ["needs_spec"]
    assert at.text_input(key="q").value == "cart"
    assert at.title[0].value == "Errors · storefront"
    assert "storefront" in at.caption[0].value  # breadcrumbs
    table = at.dataframe[0].value
    assert set(table["project"]) == {"storefront"} and set(table["decision"]) == {"needs a spec"}
    assert at.query_params["project"] in ("storefront", ["storefront"])


def test_all_work_orders_specs_and_errors_by_one_priority(demo):
    at = open_page(PAGES[0])
    table = at.dataframe[0].value
    assert set(table["kind"]) == {"spec", "error"}
    assert list(table["priority"]) == sorted(table["priority"], reverse=True)
    assert table["link"].str.startswith("/").all()


def test_all_work_says_which_agent_is_on_each_item(demo):
    db = demo / "pmdash.db"
    spec_session, item = rows(
        db,
        "SELECT id, work_item FROM sessions WHERE work_item LIKE 'spec:%'"
        " ORDER BY last_activity_at DESC LIMIT 1",
    )[0]
    project, change = item.removeprefix("spec:").split("/")
    # A test that failed again after a session took on its first failure: its All Work row
    # stands for the latest failure, and the session is still on it.
    failure, first = rows(
        db,
        "SELECT max(f.id), min(f.id) FROM test_failures f JOIN reports r ON r.id = f.report_id"
        " WHERE r.project = ? GROUP BY r.workflow_name, f.test_name HAVING count(*) > 1"
        " ORDER BY 1 LIMIT 1",
        project,
    )[0]
    con = sqlite3.connect(db)
    error_session = con.execute("SELECT id FROM sessions WHERE work_item IS NULL LIMIT 1")
    error_session = error_session.fetchone()[0]
    con.execute(
        "UPDATE error_triage SET assigned_session_id = NULL WHERE test_failure_id IN (SELECT"
        " id FROM test_failures WHERE test_name = (SELECT test_name FROM test_failures"
        " WHERE id = ?))",
        (first,),
    )
    con.execute(
        "UPDATE error_triage SET assigned_session_id = ? WHERE test_failure_id = ?",
        (error_session, first),
    )
    con.commit()
    con.close()
    table = open_page(PAGES[0], project=project).dataframe[0].value.set_index("link")
    agent = table["agent"]
    assert agent[f"/change?project={project}&change={change}"].startswith(f"#{spec_session} ")
    assert agent[f"/failure?failure={failure}&project={project}"].startswith(f"#{error_session} ")
    assert (agent == "").any()  # and nobody on the rest
    # The change's own page names its sessions, with their links.
    at = open_page(PAGES[1], project=project, change=change)
    line = next(m.value for m in at.markdown if m.value.startswith("**Agents on it:**"))
    assert f"[session {spec_session}](/session?session={spec_session}&project={project})" in line


def test_change_verdicts_come_in_from_the_background(demo):
    """Validation runs in a helper process: the lists show "checking…" at first, then the
    verdicts, and an invalid change moves up one priority on All Work."""
    from dashboard import readers

    at = open_page(PAGES[1], project="billing-api")
    assert readers.index().settle()
    at.run()
    listed = pd.concat([d.value for d in at.dataframe if "valid" in d.value], ignore_index=True)
    assert "checking…" not in set(listed["valid"])
    assert listed.set_index("id").loc["refactor-bulk-actions", "valid"] == "invalid"
    work = open_page(PAGES[0], project="billing-api").dataframe[0].value
    invalid = work[work["link"].str.contains("change=refactor-bulk-actions")].iloc[0]
    assert "invalid" in invalid["detail"]
    state = {words: code for code, words in STATUS_WORDS.items()}[invalid["status"]]  # on screen
    assert invalid["priority"] == change_priority(state, valid=False)


def failure_of(db, project):
    return rows(
        db,
        "SELECT t.test_failure_id FROM error_triage t JOIN test_failures f"
        " ON f.id = t.test_failure_id JOIN reports r ON r.id = f.report_id"
        " WHERE r.project = ? AND t.decided_by IS NULL LIMIT 1",
        project,
    )[0][0]


def test_a_failure_permalink_and_the_override_form(demo):
    db = demo / "pmdash.db"
    failure_id = failure_of(db, "storefront")
    at = open_page(PAGES[2], project="storefront", failure=str(failure_id))
    assert any("Why (classifier)" in m.value for m in at.markdown)
    before = rows(db, "SELECT * FROM error_triage WHERE test_failure_id != ?", failure_id)
    at.selectbox(key=f"decision-{failure_id}").select("ignore")
    at.text_area(key=f"rationale-{failure_id}").input("known upstream outage")
    at.button(key="FormSubmitter:override-Save decision").click().run()
    assert not at.exception
    [(decision, rationale, who)] = rows(
        db,
        "SELECT decision, rationale, decided_by FROM error_triage WHERE test_failure_id = ?",
        failure_id,
    )
    assert (decision, rationale) == ("ignore", "known upstream outage") and who
    assert rows(db, "SELECT * FROM error_triage WHERE test_failure_id != ?", failure_id) == before
    # The page shows the result at once: the message, and the figures already say "ignore".
    assert any(m.value.startswith("Saved: ignore") for m in at.success)
    assert next(m for m in at.metric if m.label == "Decision").value == "ignore"


def test_a_failure_of_another_project_is_not_shown_under_this_one(demo):
    db = demo / "pmdash.db"
    other = failure_of(db, "billing-api")
    at = open_page(PAGES[2], project="storefront", failure=str(other))
    assert "belongs to billing-api" in at.warning[0].value
    assert not at.button  # no form can write to the other project


def test_a_change_during_a_run_does_not_drop_a_forms_submit(demo, monkeypatch):
    """The live check never reruns the run that draws the page: verdicts arriving from the
    background in the middle of a submit's run once swallowed the form's answer."""
    from itertools import count

    from dashboard import readers

    ticks = count()
    monkeypatch.setattr(readers, "tree_token", lambda: (next(ticks),))  # changes at every look
    at = open_page(PAGES[1], project="notes-app")
    at.text_input(key="new_title").input("Add dark mode")
    at.button(key="FormSubmitter:create_proposal-Create proposal").click().run()
    assert at.error[0].value.startswith("Fill in: Why, What changes")


def test_create_a_proposal_from_the_specs_page(demo):
    at = open_page(PAGES[1], project="notes-app")
    at.text_input(key="new_title").input("Add dark mode")
    at.text_area(key="new_why").input("People read notes at night and the white page hurts.")
    at.text_area(key="new_what").input("Add a dark theme\nRemember the choice")
    submit = "FormSubmitter:create_proposal-Create proposal"
    at.button(key=submit).click().run()
    assert at.error[0].value == (
        "Fill in: Capability, Requirement name, Requirement, Scenario, WHEN, THEN."
    )
    for key, value in {
        "new_capability": "theme",
        "new_requirement": "Dark theme",
        "new_text": "The app SHALL offer a dark theme.",
        "new_scenario": "At night",
        "new_when": "a person picks dark",
        "new_then": "pages turn dark",
    }.items():
        at.text_input(key=key).input(value)
    at.button(key=submit).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    tree = OpenSpecTree(demo / "projects" / "notes-app" / "openspec")
    assert "add-dark-mode" in tree.change_ids()
    from pmdata.openspec.validate import validate_change

    assert validate_change(tree.changes_dir / "add-dark-mode", tree.specs_dir)["valid"]
    assert not (
        demo / "projects" / "storefront" / "openspec" / "changes" / "add-dark-mode"
    ).exists()


def test_archive_form_shows_validation_and_needs_confirmation(demo):
    tree = OpenSpecTree(demo / "projects" / "storefront" / "openspec")
    change = sorted(tree.change_ids(include_dot=False))[0]
    at = open_page(PAGES[1], project="storefront", change=change)
    assert any(s.value in ("Valid",) for s in at.success) or at.error
    at.button(key="FormSubmitter:archive-Archive").click().run()
    assert change in tree.change_ids()  # not confirmed: nothing moved
    confirm = next(c for c in at.checkbox if c.label.startswith("Yes, archive"))
    confirm.check()
    force = [c for c in at.checkbox if c.label.startswith("Archive even")]
    if force:
        force[0].check()
    at.button(key="FormSubmitter:archive-Archive").click().run()
    assert change not in tree.change_ids()
    assert any(name.endswith(change) for name in tree.archived_ids())


def test_an_interrupted_archive_is_shown_with_its_way_out(demo, monkeypatch):
    from tests.openspec.test_archive import kill_archive_after_the_specs

    root = demo / "projects" / "storefront" / "openspec"
    tree = OpenSpecTree(root)
    change = next(
        c
        for c in sorted(tree.change_ids(include_dot=False))
        if (root / "changes" / c / "specs").is_dir()
    )
    before = {p: p.read_bytes() for p in (root / "specs").rglob("*.md")}
    kill_archive_after_the_specs(root, change, monkeypatch, force=True)
    assert {p: p.read_bytes() for p in (root / "specs").rglob("*.md")} != before
    at = open_page(PAGES[1], project="storefront")
    assert any("was interrupted" in w.value and change in w.value for w in at.warning)
    at.button(key=f"recover-storefront-{change}").click().run()
    assert any("rolled back" in s.value for s in at.success)
    assert {p: p.read_bytes() for p in (root / "specs").rglob("*.md")} == before
    at.run()
    assert not any("was interrupted" in w.value for w in at.warning)


def test_an_invalid_change_archives_only_when_forced_with_its_reasons_shown(demo):
    root = demo / "projects" / "notes-app" / "openspec"
    change = root / "changes" / "tidy-up"
    change.mkdir(parents=True)
    (change / "proposal.md").write_text(
        "# Tidy up\n\n## Why\nIt is messy.\n\n## What Changes\n- x\n"
    )
    (change / "tasks.md").write_text("## 1. Do\n- [x] 1.1 tidy\n")
    at = open_page(PAGES[1], project="notes-app", change="tidy-up")
    assert any("archiving it anyway needs the force box" in e.value for e in at.error)
    assert any("at least one delta" in c.value for c in at.caption)
    next(c for c in at.checkbox if c.label.startswith("Yes, archive")).check()
    at.button(key="FormSubmitter:archive-Archive").click().run()
    assert any("tick the force box" in e.value for e in at.error)
    assert change.is_dir(), "not archived without force"
    next(c for c in at.checkbox if c.label.startswith("Archive even")).check()
    at.button(key="FormSubmitter:archive-Archive").click().run()
    assert not change.exists()


def test_readonly_removes_every_write_form(demo, monkeypatch):
    monkeypatch.setenv("PMDASH_READONLY", "1")
    db = demo / "pmdash.db"
    at = open_page(PAGES[2], project="storefront", failure=str(failure_of(db, "storefront")))
    assert [b.label for b in at.button] == ["Back to Errors"]  # the way back, no write
    at = open_page(PAGES[1], project="notes-app")
    assert not at.button and not at.text_area


def test_a_shared_password_guards_the_app(demo, monkeypatch):
    monkeypatch.setenv("PMDASH_PASSWORD", "hunter2")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.title and at.text_input[0].label == "Password"
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert "Wrong password" in at.error[0].value and not at.title
    at.text_input[0].input("hunter2")
    at.button[0].click().run()
    assert at.title[0].value == "All Work"


def test_guessing_the_password_is_slowed_down_for_every_tab(demo, monkeypatch):
    from dashboard.shell import sign_in_guard

    sign_in_guard.clear()
    monkeypatch.setenv("PMDASH_PASSWORD", "hunter2")
    tabs = [AppTest.from_file(APP, default_timeout=60).run() for _ in range(2)]
    for n in range(3):  # three guesses, from two tabs of one client
        at = tabs[n % 2]
        at.text_input[0].input(f"guess{n}")
        at.button[0].click().run()
        assert at.error[0].value == "Wrong password."
    at = tabs[1]
    at.text_input[0].input("hunter2")  # right, but too soon after three wrong ones
    at.button[0].click().run()
    assert "Too many wrong passwords" in at.error[0].value and not at.title
    sign_in_guard.clear()


def test_pages_can_be_switched_off(demo, monkeypatch):
    monkeypatch.setenv("PMDASH_DISABLE", "all_work,errors")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and at.title[0].value == "Specs"  # the first page left


def test_no_database_and_no_projects_explain_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("PMDASH_DB", raising=False)
    monkeypatch.setenv("PMDASH_PROJECT_ROOTS", str(tmp_path / "nowhere"))
    monkeypatch.chdir(tmp_path)
    for page in PAGES:
        at = open_page(page)
        assert at.info, page
    assert "No database is configured" in open_page(PAGES[2]).info[0].value
    assert "No OpenSpec projects found" in open_page(PAGES[1]).info[0].value


def test_corrupt_database_is_a_message_not_a_crash(tmp_path, monkeypatch):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not sqlite" * 100)
    monkeypatch.setenv("PMDASH_DB", str(bad))
    monkeypatch.setenv("PMDASH_PROJECT_ROOTS", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    at = open_page(PAGES[2])
    assert any("not a SQLite database" in e.value for e in at.error)


def test_a_missing_table_is_a_message(tmp_path, monkeypatch):
    db = tmp_path / "empty.db"
    sqlite3.connect(db).execute("CREATE TABLE unrelated (x)").connection.close()
    monkeypatch.setenv("PMDASH_DB", str(db))
    monkeypatch.setenv("PMDASH_PROJECT_ROOTS", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    at = open_page(PAGES[2])
    assert any("pmdata migrate" in e.value for e in at.error)


def test_sessions_show_states_and_idle_minutes(demo):
    at = open_page(PAGES[3])
    table = at.dataframe[0].value
    states = set(table["state_text"].str.replace(r"\d+", "N", regex=True))
    idle = {"idle for N min", "idle for N h N min", "idle for N d N h"}
    assert "finished" in states and states & idle
    assert states <= {"running", "finished", "waiting for its agent"} | idle
    states = {"Waiting", "Running", "Idle", "Finished"}
    assert states <= {m.label for m in at.metric}  # and what they cost: tests/test_usage.py


def test_a_session_permalink_opens_its_page_with_its_timeline_and_work_item(demo):
    db = demo / "pmdash.db"
    (on_error, item, failure), (on_spec, change) = (
        rows(
            db,
            "SELECT s.id, s.work_item, t.test_failure_id FROM sessions s JOIN error_triage t"
            " ON s.work_item = 'error:' || t.test_failure_id LIMIT 1",
        )[0],
        rows(db, "SELECT id, work_item FROM sessions WHERE work_item LIKE 'spec:%' LIMIT 1")[0],
    )
    # The status filter says finished only: a link to one session shows it all the same.
    at = open_page(PAGES[3], session=str(on_error), status="finished")
    assert at.subheader[0].value.startswith(f"Session {on_error} · ")
    assert [set(d.value.columns) >= {"number", "outcome"} for d in at.dataframe] == [True]  # calls
    assert at.get("plotly_chart"), "no timeline of its tool calls"
    links = [m.value for m in at.markdown if m.value.startswith("**Working on:**")]
    assert links == [f"**Working on:** [{item}](/failure?failure={failure})"]
    at = open_page(PAGES[3], session=str(on_spec))
    project, change_id = change.removeprefix("spec:").split("/")
    links = [m.value for m in at.markdown if m.value.startswith("**Working on:**")]
    assert links == [f"**Working on:** [{change}](/change?project={project}&change={change_id})"]
    at = open_page(PAGES[3], session="9999")
    assert at.warning and "No session 9999" in at.warning[0].value


def unassigned_failure(db, project="storefront"):
    """A classified failure with no session on it and no remediation on its test."""
    return rows(
        db,
        "SELECT t.test_failure_id FROM error_triage t JOIN test_failures f"
        " ON f.id = t.test_failure_id JOIN reports r ON r.id = f.report_id"
        " WHERE r.project = ? AND t.assigned_session_id IS NULL AND NOT EXISTS ("
        "   SELECT 1 FROM remediation_attempts a WHERE a.test_name = f.test_name)"
        " ORDER BY t.test_failure_id LIMIT 1",
        project,
    )[0][0]


def test_start_and_update_a_remediation_from_a_failure(demo):
    db = demo / "pmdash.db"
    failure = unassigned_failure(db)
    at = open_page(PAGES[2], project="storefront", failure=str(failure), form="Remediate")
    assert any("No remediation attempt" in c.value for c in at.caption)
    at.button(key="start_remediation").click().run()
    assert not at.exception
    [(attempt_id, status)] = rows(
        db,
        "SELECT a.id, a.status FROM remediation_attempts a JOIN test_failures f"
        " ON f.test_name = a.test_name WHERE f.id = ?",
        failure,
    )
    [(triage_id, session_type)] = rows(
        db,
        "SELECT t.id, s.session_type FROM error_triage t JOIN sessions s"
        " ON s.id = t.assigned_session_id WHERE t.test_failure_id = ?",
        failure,
    )
    assert status == "pending" and session_type == "error_remediation"
    # The work item names the failure by the id in the page's own URL.
    assert any(c.value == f"PMDASH_WORK_ITEM=error:{failure} claude" for c in at.code)
    at.selectbox(key=f"attempt-status-{attempt_id}").select("fixed")
    at.text_area(key=f"attempt-fix-{attempt_id}").input("Awaited the toast")
    at.text_input(key=f"attempt-pr-{attempt_id}").input("https://git.home.arpa/pr/7")
    at.button(key="FormSubmitter:attempt-Update attempt").click().run()
    assert not at.exception
    assert rows(
        db,
        "SELECT status, fix_description, pr_url FROM remediation_attempts WHERE id = ?",
        attempt_id,
    ) == [("fixed", "Awaited the toast", "https://git.home.arpa/pr/7")]
    # Fixed before an agent ever started: its session ends instead of waiting forever, and the
    # failure takes a new attempt (issue 15: every state has a way forward).
    [(stopped,)] = rows(
        db,
        "SELECT s.stopped_at FROM sessions s JOIN remediation_attempts a"
        " ON a.claude_session_id = s.agent_id WHERE a.id = ?",
        attempt_id,
    )
    assert stopped is not None
    again = open_page(PAGES[2], project="storefront", failure=str(failure), form="Remediate")
    assert again.button(key="start_remediation") is not None


def test_the_errors_list_filters_by_remediation_from_the_url(demo):
    at = open_page(PAGES[2], remediation=["in progress"])
    table = at.dataframe[0].value
    assert len(table) and set(table["remediation"]) == {"in progress"}
    everything = open_page(PAGES[2]).dataframe[0].value
    assert len(everything) > len(table)


def test_an_open_dashboard_toasts_a_session_that_finishes(demo, tmp_path):
    from pmdata.ingest.hook_recorder import HookRecorder

    db = demo / "pmdash.db"
    at = open_page(PAGES[0])
    assert not at.toast  # the first look announces nothing
    [(session_id, agent, item)] = rows(
        db,
        "SELECT id, agent_id, work_item FROM sessions WHERE status = 'running'"
        " AND work_item IS NOT NULL ORDER BY id LIMIT 1",
    )
    end = {"session_id": agent, "hook_event_name": "SessionEnd", "reason": "exit", "cwd": "/"}
    HookRecorder(str(db), {"PMDASH_STATE_DIR": str(tmp_path / "s")}).handle(json.dumps(end))
    at.run()
    assert not at.exception
    [toast] = at.toast
    assert (
        toast.value.startswith(f"Session {session_id} (") and f"finished on {item}" in toast.value
    )
    at.run()
    assert not at.toast  # said once


def test_a_reverted_database_asks_for_migrate_and_migrate_brings_the_pages_back(demo):
    from pmdata.store import migrate, revert

    db = demo / "pmdash.db"
    failures = rows(db, "SELECT count(*) FROM test_failures")
    revert(db)
    at = open_page(PAGES[2])
    assert any("pmdata migrate" in e.value for e in at.error)
    assert open_page(PAGES[1]).title[0].value == "Specs"  # the rest of the app keeps serving
    migrate(db)
    at = open_page(PAGES[2])
    assert not at.error and len(at.dataframe[0].value)
    assert rows(db, "SELECT count(*) FROM test_failures") == failures


@pytest.mark.parametrize(
    "name",
    ["Fission-AI+OpenSpec", "a b", "c#d", "50%", "x&y=z", "why?", "(paren)", "日本語 プロジェクト"],
)
def test_a_permalink_round_trips_any_folder_name(name, monkeypatch):
    from urllib.parse import parse_qs, urlsplit

    from dashboard import common, filters
    from pmdata.work import Filters

    monkeypatch.setattr(filters, "current_filters", lambda: Filters(project=name))
    link = common.permalink("specs", change="add-x")
    assert " " not in link and "(" not in link and ")" not in link  # safe inside markdown
    params = parse_qs(urlsplit(link).query)  # how the server reads a query string
    assert params == {"change": ["add-x"], "project": [name]}
