"""All Work: specs and errors in one list by priority, counts by status, and a live feed."""

import pandas as pd
import streamlit as st

from dashboard import common, filters, guard, lists, live, readers, shell, usage_view
from pmdata.errors import PmdashError
from pmdata.inert_markdown import inert
from pmdata.sessions import agents_on, with_states
from pmdata.vocabulary import CHANGE_STATES, DECISIONS
from pmdata.work import work_items

shell.require()  # first: a page never renders outside the shell

common.header("All Work")
f = filters.current_filters()
st.caption(
    "Priority 5 is the most urgent. An error keeps its triage priority; a change in progress "
    "counts 4, one with no tasks yet 3, a complete one 2, and +1 when it fails validation."
)


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs={pd.DataFrame: lambda _: 0})
def work_table(token, tree_token, filters, changes, failures) -> pd.DataFrame:
    """Rebuilt only when the database or a tree changed (the tokens) or the filters did;
    the frames are derived from those, so they are not hashed."""
    return work_items(changes, failures, filters)


def sessions_now() -> pd.DataFrame:
    """Every session with its state, for the Agent column (none without a database)."""
    if not readers.db():
        return pd.DataFrame(columns=["id", "work_item", "state_text"])
    try:
        # Every project's: a session is named after its working directory, a change after its
        # tree, so the project filter could hide the session on a change that it shows.
        sessions = readers.run("session_activity")
    except PmdashError:
        return pd.DataFrame(columns=["id", "work_item", "state_text"])  # Sessions says why
    return with_states(sessions, common.now(), readers.settings().idle_minutes)


@guard.shielded
def work_view():
    changes = readers.changes_frame(f)
    failures, failures_token, database_ok = pd.DataFrame(), (), bool(readers.db())
    if database_ok:
        try:
            failures = readers.run(
                "failing_tests", now=common.this_minute(), **filters.filter_params(f)
            )
            failures_token = readers.db_token("failing_tests")
        except PmdashError as exc:  # said once; the parts below that read it stay quiet
            st.error(inert(str(exc)))
            database_ok = False
    if failures.empty:
        failures = pd.DataFrame(
            columns=[
                "failure_id",
                "project",
                "test_name",
                "decision",
                "priority",
                "classification",
                "occurrences",
                "last_seen",
            ]
        )
    if readers.index().validating():  # the page reruns when they land (live, trees=True)
        st.caption(
            ":material/hourglass_top: Validating changes in the background: an invalid change "
            "moves up one priority when its verdict is in."
        )
    filters.statuses_not_followed(CHANGE_STATES + DECISIONS, "work items")
    items = work_table(failures_token, readers.tree_token(), f, changes, failures)
    counts = items.groupby(["kind", "status"]).size().rename("items").reset_index()
    total, counted = len(items), items
    items = items.head(common.MAX_ROWS)
    if changes.empty and failures.empty:
        st.info(
            "Nothing to show yet. Projects appear when a folder under PMDASH_PROJECT_ROOTS holds "
            "an openspec/ tree; failures when Playwright reports are ingested "
            "(`pmdata ingest playwright REPORT --project NAME`)."
        )
        return
    if not total:
        filters.nothing_matches("work items")
        return
    # Counted over the list below, so every figure follows every filter.
    kinds, states = counted["kind"], counted["status"]
    cols = st.columns(4)
    cols[0].metric("In progress", int(((kinds == "spec") & (states == "in-progress")).sum()))
    cols[1].metric("No tasks yet", int(((kinds == "spec") & (states == "no-tasks")).sum()))
    cols[2].metric("Failing tests", int((kinds == "error").sum()))
    cols[3].metric("Need a spec", int(((kinds == "error") & (states == "needs_spec")).sum()))
    items = items.assign(
        agent=[a or "" for a in agents_on(items, failures, sessions_now())],
        link=[
            common.permalink("specs", project=p, change=r)
            if k == "spec"
            else common.permalink("errors", failure=r)
            for k, p, r in zip(items["kind"], items["project"], items["ref"], strict=True)
        ],
    )
    items = usage_view.with_item_costs(items, usage_view.daily(f.project))
    st.subheader("Work by priority")
    if total > len(items):
        st.caption(f"The {len(items)} most urgent of {total}: filter to see the rest.")
    lists.table(
        items,
        "priority kind project title status detail agent cost active_at link",
        opens_from="all_work",
        active_at=lists.ago("Last activity"),
    )
    feed_column, status_column = st.columns([3, 1])
    with status_column:
        st.subheader("By status")
        lists.table(counts)
    with feed_column:
        st.subheader("Latest events")
        events = []
        if database_ok:
            try:
                feed = readers.run("latest_events", project=f.project, limit=30)
                events = [
                    {
                        "when": pd.Timestamp(r.event_at, unit="s", tz="UTC"),
                        "kind": r.kind,
                        "project": r.project,
                        "what": r.what,
                    }
                    for r in feed.itertuples(index=False)
                ]
            except PmdashError as exc:
                st.error(inert(str(exc)))
        for c in changes.sort_values("last_modified", ascending=False).head(10).itertuples():
            events.append(
                {
                    "when": pd.Timestamp(c.last_modified),
                    "kind": "spec edit",
                    "project": c.project,
                    "what": f"{c.id}: {c.title}",
                }
            )
        if events:
            feed = pd.DataFrame(events).sort_values("when", ascending=False).head(30)
            lists.table(feed, when=lists.ago("When"))
        else:
            st.caption("No events yet.")


# A new failure, event or session, or an edit on disk, shows by itself.
live.live("failing_tests", "latest_events", "session_activity", "agent_usage_daily", trees=True)
work_view()
