"""The Errors page's Runs tab: every run with its pass rate and duration and what changed since
the previous run of its workflow, and any two runs compared test by test."""

import pandas as pd
import streamlit as st

from dashboard import common, lists, readers
from pmdata.inert_markdown import inert
from pmdata.work import how_many


def _label(runs: pd.DataFrame) -> dict[str, str]:
    # Keyed by the report id as text: the choice lives in the URL.
    return {
        str(int(r.report_id)): f"{r.workflow_name} run {r.run_number}"
        + (f" attempt {int(r.run_attempt)}" if not pd.isna(r.run_attempt) else "")
        for r in runs.itertuples(index=False)
    }


def show(params: dict) -> None:
    runs = readers.run("runs_overview", **params)
    if runs.empty:
        st.caption("No run in this range.")
        return
    lists.table(
        runs,
        "project workflow_name run_number run_at pass_rate duration_s failed flaky "
        "new_failures fixed still_failing",
        workflow_name="Workflow",
        run_number="Run",
        run_at=lists.ago("When"),
        pass_rate=st.column_config.NumberColumn("Pass rate", format="percent"),
        duration_s=st.column_config.NumberColumn("Duration (s)", format="%.1f"),
        flaky="Flaky",
        new_failures="Newly failing",
        fixed="Fixed",
        still_failing="Still failing",
    )
    compare(runs)


def compare(runs: pd.DataFrame) -> None:
    """Two runs chosen by the person (the latest and the one before it unless they choose),
    kept in the URL so the comparison is a link."""
    names = _label(runs)
    ids = list(names)
    previous = {
        str(int(r.report_id)): None if pd.isna(r.previous_id) else str(int(r.previous_id))
        for r in runs.itertuples(index=False)
    }
    cols = st.columns(2)
    head = cols[1].selectbox(
        "Compare run",
        ids,
        index=0,
        format_func=lambda i: names.get(i, f"run {i}"),
        key="run_head",
        bind="query-params",
    )
    # Earlier runs only (the list is newest first); the head's own previous run unless chosen.
    others = ids[ids.index(head) + 1 :]
    if not others:
        st.caption("The earliest run shown: nothing earlier to compare it with.")
        return
    base_default = previous.get(head)
    base_index = others.index(base_default) if base_default in others else 0
    base = cols[0].selectbox(
        "with the earlier run",
        others,
        index=base_index,
        format_func=lambda i: names.get(i, f"run {i}"),
        key="run_base",
        bind="query-params",
    )
    compared = readers.run("run_compare", base=int(base), head=int(head))
    counts = compared["change"].value_counts()
    st.caption(
        inert(
            f"{names.get(head)} against {names.get(base)}: "
            f"{how_many(int(counts.get('newly failing', 0)), 'newly failing test')}, "
            f"{how_many(int(counts.get('fixed', 0)), 'fixed test')}, "
            + how_many(
                int(counts.get("still failing", 0)), "test still failing", "tests still failing"
            )
            + "."
        )
    )
    compared = common.with_failure_links(compared)
    lists.table(
        compared,
        "change test_name link",
        opens_from="errors",
        name="compare",
        change="Change",
    )
