"""A test's own page (`/test?workflow=shop-e2e&test=cart › adds an item`): its pass/fail strip
over the runs (ReportPortal's history line), its duration trend, failure and flaky rates, first
and last failure, its state now and the runs where it changed state."""

import pandas as pd
import streamlit as st

from dashboard import charts, common, lists, readers
from pmdata.inert_markdown import inert
from pmdata.triage.batch import history_of
from pmdata.triage.service import thresholds_from
from pmdata.triage.standings import state

RUNS_SHOWN = 200

# What a change of outcome from one run to the next means, in words.
_CHANGES = {
    ("passed", "failed"): "broke",
    ("flaky", "failed"): "broke",
    ("failed", "passed"): "fixed",
    ("failed", "flaky"): "passes on retry",
    ("passed", "flaky"): "passed on retry",
    ("flaky", "passed"): "steady again",
}


def _day(epoch) -> str:
    return "—" if pd.isna(epoch) else pd.Timestamp(int(epoch), unit="s").strftime("%Y-%m-%d")


def state_changes(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs where the outcome changed from the run before (skips left out), oldest first."""
    ran = runs[runs["outcome"].isin(["passed", "failed", "flaky", "not failed"])]
    ran = ran.iloc[::-1].assign(outcome=ran["outcome"].replace({"not failed": "passed"}))
    before = ran["outcome"].shift()
    changed = ran[before.notna() & (ran["outcome"] != before)]
    words = [
        _CHANGES.get((b, a), f"{b} → {a}")
        for b, a in zip(before[changed.index], changed["outcome"], strict=True)
    ]
    return changed.assign(change=words)


def show(workflow: str, test_name: str) -> None:
    common.header("Errors", test_name)
    st.subheader(inert(test_name))
    runs = readers.run("test_runs", workflow=workflow, test_name=test_name, limit=RUNS_SHOWN)
    history = readers.run("test_history", workflow=workflow, test_name=test_name)
    if runs.empty:
        st.error(inert(f"No run of {workflow} holds a test named {test_name!r}."))
        return
    st.caption(inert(f"{workflow} · the last {len(runs)} runs"))
    cols = st.columns(5)
    if history.empty:
        cols[0].metric("State", "Healthy")
    else:
        h = history.iloc[0]
        record = history_of(h)
        cols[0].metric("State", state(record.history, thresholds_from(readers.settings())))
        cols[1].metric("Failure rate", f"{h['failure_rate']:.0%}")
        ran = int((runs["outcome"] != "skipped").sum())
        flaky = int((runs["outcome"] == "flaky").sum())
        cols[2].metric("Flaky rate", f"{flaky / ran:.0%}" if ran else "—")
        cols[3].metric("First failure", _day(h["first_seen"]))
        cols[4].metric("Last failure", _day(h["last_seen"]))
    st.plotly_chart(charts.test_strip(runs), width="stretch")
    if runs["duration"].notna().any():
        st.plotly_chart(charts.test_durations(runs), width="stretch")
    st.markdown("#### Where it changed state")
    changes = state_changes(runs)
    if changes.empty:
        st.caption("The same outcome in every run shown.")
    else:
        changes = common.with_failure_links(changes)
        lists.table(
            changes.iloc[::-1],
            "run_number run_at change outcome link",
            run_number="Run",
            run_at=lists.ago("When"),
            change="Change",
            outcome="Outcome",
        )
