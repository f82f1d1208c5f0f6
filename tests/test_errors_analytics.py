"""The Errors page's analytics on a real labelled history (tests/fixtures/triage-suite, twelve
runs of a real Playwright suite): runs and their comparison, search in error text, a root
cause's group decision said before it is made, agreement per rule, untriaged apart from
pending."""

import sqlite3

import pytest

from pmdata.analytics import Analytics
from pmdata.ingest.playwright_ingest import ingest_report
from pmdata.store import migrate
from pmdata.triage import service
from tests.conftest import ROOT, SHARED, rows
from tests.test_app import open_page, serve_from, served_like_a_running_server  # noqa: F401

REPORTS = sorted((ROOT / "tests" / "fixtures" / "triage-suite" / "reports").glob("run-*.json"))
TREES = SHARED / "fixtures" / "openspec"


@pytest.fixture(scope="module")
def suite_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("suite") / "claude.db"
    migrate(db)
    for run, report in enumerate(REPORTS, 1):
        ingest_report(db, report, "shop", "shop-e2e", run)
        service.classify_on_arrival(db, workflow="shop-e2e")
    return db


@pytest.fixture
def site(suite_db, tmp_path, monkeypatch):
    db = tmp_path / "claude.db"
    db.write_bytes(suite_db.read_bytes())
    serve_from(monkeypatch, tmp_path, db, TREES)
    return db


def listed(at) -> list[str]:
    return list(at.dataframe[0].value["test_name"])


def failure_of(db, test_name: str) -> int:
    return rows(db, "SELECT max(id) FROM test_failures WHERE test_name = ?", test_name)[0][0]


def test_runs_with_pass_rate_and_what_changed_and_any_two_compared(site):
    at = open_page("pages/errors.py", chart="Runs")
    runs = next(d.value for d in at.dataframe if "new_failures" in d.value.columns)
    assert list(runs["run_number"]) == list(range(12, 0, -1))
    latest = runs.iloc[0]
    assert (latest["new_failures"], latest["fixed"], latest["still_failing"]) == (4, 0, 21)
    assert 0 < latest["pass_rate"] < 1 and latest["duration_s"] > 0
    caption = next(c.value for c in at.caption if " against " in c.value)
    assert caption.startswith("shop-e2e run 12 against shop-e2e run 11: 4 newly failing tests")
    compared = next(d.value for d in at.dataframe if "change" in d.value.columns)
    assert set(compared[compared["change"] == "newly failing"]["test_name"]) == {
        "account › signs up for the newsletter",
        "account › switches the language",
        "account › uploads an avatar",
        "cart › saves the cart",
    }
    # Any two: run 4 against run 1, chosen in the URL as people read them.
    at = open_page(
        "pages/errors.py", chart="Runs", run_head="shop-e2e run 4", run_base="shop-e2e run 1"
    )
    caption = next(c.value for c in at.caption if " against " in c.value)
    assert caption.startswith("shop-e2e run 4 against shop-e2e run 1:")
    compared = next(d.value for d in at.dataframe if "change" in d.value.columns)
    assert "cart › prints the invoice" in set(compared[compared["change"] == "fixed"]["test_name"])


def test_search_reads_error_text_and_labels_close_matches(site):
    at = open_page("pages/errors.py", q="ECONNREFUSED")
    # None of these titles holds the word: their errors do.
    assert set(listed(at)) == {
        "orders › lists orders",
        "orders › cancels an order",
        "receipts › emails a receipt",
    }
    assert not any("close matches" in c.value for c in at.caption)
    at = open_page("pages/errors.py", q="widgetz")
    assert "dashboard › shows the widgets" in listed(at)
    assert any("holds “widgetz”: these are close matches" in c.value for c in at.caption)


def test_a_group_decision_says_what_it_changes_and_stays_in_its_project(site):
    # Another project's test failing with the same root cause, which must be left alone.
    ingest_report(site, REPORTS[3], "lab", "lab-e2e", 1)
    service.run_triage(site)
    failure = failure_of(site, "orders › lists orders")
    at = open_page("pages/errors.py", failure=str(failure), form="Whole group")
    said = next(c.value for c in at.caption if c.value.startswith("Deciding changes"))
    assert said.startswith("Deciding changes 6 failures of 2 tests in shop")
    at.text_area(key="group_rationale").input("the database container starts late")
    at.selectbox(key="group_decision").select("one_off_fix")
    at.button[[b.label for b in at.button].index("Decide the whole group")].click().run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    decided = rows(
        site,
        "SELECT COALESCE(r.project, r.workflow_name), count(*) FROM error_triage t"
        " JOIN test_failures f ON f.id = t.test_failure_id JOIN reports r ON r.id = f.report_id"
        " WHERE t.decided_by IS NOT NULL GROUP BY 1",
    )
    assert decided == [("shop", 6)]


def test_agreement_per_rule_shows_the_rule_people_override(site):
    for name, decision in (
        ("orders › lists orders", "one_off_fix"),
        ("cart › total includes tax", "needs_spec"),
        ("search › filters orders by date", "ignore"),
    ):
        service.override(site, failure_of(site, name), decision, "looked at it", who="ana")
    at = open_page("pages/errors.py", chart="Agreement")
    per_rule = next(d.value for d in at.dataframe if "bucket" in d.value.columns)
    first = per_rule.iloc[0]
    assert (first["bucket"], first["reviewed"], first["kept"]) == ("PERSISTENT", 2, 1)
    assert any(m.label == "People kept the classifier's decision" for m in at.metric)


def test_untriaged_is_never_shown_as_pending(site):
    con = sqlite3.connect(site)
    with con:
        con.execute(
            "DELETE FROM error_triage WHERE test_failure_id IN (SELECT id FROM test_failures"
            " WHERE test_name = 'account › uploads an avatar')"
        )
    con.close()
    at = open_page("pages/errors.py")
    table = at.dataframe[0].value.set_index("test_name")
    assert table.loc["account › uploads an avatar", "decision"] == "untriaged"
    assert table.loc["dashboard › shows the widgets", "decision"] == "pending"
    at = open_page("pages/errors.py", status="untriaged")
    assert listed(at) == ["account › uploads an avatar"]


def test_a_tests_page_has_its_strip_rates_state_and_the_runs_where_it_changed(site):
    at = open_page("pages/errors.py", test="cart › applies a coupon", workflow="shop-e2e")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["State"] == "Recovered"  # failed runs 1-2, passed the ten since
    assert metrics["Failure rate"] == "17%" and metrics["Flaky rate"] == "0%"
    assert len(at.get("plotly_chart")) == 2  # the pass/fail strip and the durations
    changes = next(d.value for d in at.dataframe if "change" in d.value.columns)
    assert list(zip(changes["run_number"], changes["change"], strict=True)) == [(3, "fixed")]
    flaky = open_page("pages/errors.py", test="search › shows suggestions", workflow="shop-e2e")
    assert {m.label: m.value for m in flaky.metric}["State"] == "Flaky"
    assert {m.label: m.value for m in flaky.metric}["Flaky rate"] == "50%"
    # The failure's page links to it.
    failure = failure_of(site, "cart › applies a coupon")
    at = open_page("pages/errors.py", failure=str(failure))
    assert any("/test?test=cart" in m.value and "workflow=shop-e2e" in m.value for m in at.markdown)


def test_a_muted_test_is_shown_apart_raises_no_priority_and_ends_when_it_passes(site):
    from pmdata.triage import mutes

    failure = failure_of(site, "dashboard › shows the widgets")
    at = open_page("pages/errors.py", failure=str(failure), form="Mute")
    at.text_input(key="mute_reason").input("the widgets are being rebuilt this sprint")
    at.button(key="FormSubmitter:mute-Mute this test").click().run()
    assert not at.exception
    assert rows(site, "SELECT muted_by IS NOT NULL, expires_at - muted_at FROM test_mutes") == [
        (1, 14 * 86400)
    ]
    at = open_page("pages/errors.py")
    assert "dashboard › shows the widgets" not in listed(at)
    muted = next(d.value for d in at.dataframe if "mute_reason" in d.value.columns)
    assert list(muted["test_name"]) == ["dashboard › shows the widgets"]
    with Analytics(site) as analytics:
        row = (
            analytics.run("failing_tests")
            .set_index("test_name")
            .loc["dashboard › shows the widgets"]
        )
    assert (bool(row["muted"]), row["priority"], row["muted_by"]) == (True, 1, row["muted_by"])
    # Muted in force (30 days from run 1), but the test passed runs since: muted no more.
    first_run = rows(site, "SELECT min(created_at) FROM reports")[0][0]
    mutes.mute(site, "shop-e2e", "cart › applies a coupon", "coupon service", 30, "ana", first_run)
    at = open_page("pages/errors.py")
    assert "cart › applies a coupon" in listed(at)
    with pytest.raises(mutes.MuteError, match="needs a reason"):
        mutes.mute(site, "shop-e2e", "cart › applies a coupon", " ", 3, "ana")
    with pytest.raises(mutes.MuteError, match="1 to 90 days"):
        mutes.mute(site, "shop-e2e", "cart › applies a coupon", "x", 365, "ana")


def test_a_test_is_muted_and_unmuted_from_the_command_line(site, capsys):
    from pmdata.cli import main

    widgets = "dashboard › shows the widgets"
    test = ["--db", str(site), "--workflow", "shop-e2e", "--test", widgets]

    def muted() -> bool:
        with Analytics(site) as analytics:
            return bool(analytics.run("failing_tests").set_index("test_name").loc[widgets, "muted"])

    assert main(["triage", "mute", *test, "--reason", "widgets rebuilt", "--by", "ana"]) == 0
    assert f"muted '{widgets}' of shop-e2e for 14 days" in capsys.readouterr().out
    assert muted()  # the page lists it apart: test_a_muted_test_is_shown_apart_...
    assert main(["triage", "mute", *test, "--reason", "x", "--days", "365"]) == 2
    assert capsys.readouterr().err.strip() == "pmdata triage: a mute lasts 1 to 90 days, not 365"
    assert main(["triage", "unmute", *test, "--by", "ana"]) == 0
    assert main(["triage", "unmute", *test]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == [
        f"unmuted '{widgets}' of shop-e2e",
        f"'{widgets}' of shop-e2e was not muted",
    ]
    assert not muted()
    assert rows(site, "SELECT muted_by, ended_why FROM test_mutes") == [("ana", "unmuted by ana")]


def test_attachments_inside_the_reports_folder_are_shown_and_others_are_not(site, tmp_path):
    """A report names its screenshot and trace beside it, and a path leading out of its folder
    (`/etc/hostname`, a symlink to it): only the first two are served."""
    import base64
    import json

    folder = tmp_path / "ci"
    (folder / "test-results").mkdir(parents=True)
    png = folder / "test-results" / "failed.png"
    png.write_bytes(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
        )
    )
    (folder / "test-results" / "trace.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (folder / "test-results" / "leak.txt").symlink_to("/etc/hostname")
    data = json.loads((SHARED / "fixtures" / "playwright" / "run-4.json").read_text())
    failed = next(  # the last attempt of a failed test: the one ingest reads
        test["results"][-1]
        for suite in data["suites"]
        for spec in suite.get("specs", [])
        + [x for child in suite.get("suites", []) for x in child.get("specs", [])]
        for test in spec["tests"]
        if test["status"] == "unexpected"
    )
    failed["attachments"] = [
        {"name": "screenshot", "contentType": "image/png", "path": str(png)},
        {"name": "trace", "contentType": "application/zip", "path": str(png.parent / "trace.zip")},
        {"name": "leak", "contentType": "text/plain", "path": str(png.parent / "leak.txt")},
        {"name": "passwd", "contentType": "text/plain", "path": "/etc/passwd"},
    ]
    report = folder / "report.json"
    report.write_text(json.dumps(data))
    ingest_report(site, report, "lab", "lab-e2e", 1)
    service.run_triage(site)
    failure = rows(
        site,
        "SELECT f.id FROM test_failures f JOIN reports r ON r.id = f.report_id"
        " WHERE r.workflow_name = 'lab-e2e' AND f.attachments LIKE '%screenshot%'",
    )[0][0]
    at = open_page("pages/errors.py", failure=str(failure))
    assert len(at.get("image")) == 1
    assert [b.label for b in at.get("download_button")] == ["Download trace (trace.zip)"]
    refused = [c.value for c in at.caption if "outside the report's folder" in c.value]
    assert len(refused) == 2 and any("/etc/passwd" in c for c in refused)
