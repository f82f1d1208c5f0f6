"""Sessions: waiting, running, idle and finished agents, what they use, what they work on and
what a finished one did."""

import pandas as pd
import streamlit as st

from dashboard import charts, common, filters, guard, lists, live, readers, shell, usage_view
from pmdata import usage
from pmdata.inert_markdown import inert
from pmdata.sessions import (
    activity_summary,
    calls_in_order,
    describe_duration,
    finished_summaries,
    with_states,
    work_item_target,
    work_item_text,
)
from pmdata.vocabulary import SESSION_STATES
from pmdata.work import fuzzy_filter, in_date_range

shell.require()  # first: a page never renders outside the shell

f = filters.current_filters()
chosen = st.query_params.get("session")  # a session's own page (its permalink)
common.header("Sessions", *([f"Session {chosen}"] if chosen else []))
if not readers.db():
    common.no_database()
    st.stop()


@guard.shielded
def sessions_view():
    sessions = readers.run("session_activity", project=f.project)
    if sessions.empty:
        # Sessions elsewhere but none in the chosen project: the filter says so, not "no
        # sessions yet".
        if not (f.project and not chosen and filters.nothing_matches("sessions")):
            st.info(
                "No agent sessions yet. Wire Claude Code's hooks with "
                "`pmdata hook install --project DIR` (see the README)."
            )
        return
    sessions = with_states(sessions, common.now(), readers.settings().idle_minutes)
    costs = usage_view.daily(f.project)
    sessions = usage_view.with_session_costs(sessions, costs)
    if chosen:  # a link to one session shows it whatever the status and search filters say
        show_session(sessions, chosen)
        return
    filters.statuses_not_followed(SESSION_STATES, "sessions")
    wanted = f.statuses_in(SESSION_STATES)
    if wanted:
        sessions = sessions[sessions["state"].isin(wanted)]
    # Dates narrow to sessions active within them (their last event).
    sessions = in_date_range(
        sessions.assign(active_at=pd.to_datetime(sessions["last_event_at"], unit="s", utc=True)),
        "active_at",
        f,
    )
    sessions = fuzzy_filter(sessions, ["agent_id", "work_item", "project"], f.q)
    filters.say_if_close_matches(sessions, "session")
    if sessions.empty:
        filters.nothing_matches("sessions")
        return
    cols = st.columns(len(SESSION_STATES))
    for col, state in zip(cols, SESSION_STATES, strict=True):
        col.metric(state.title(), int((sessions["state"] == state).sum()))
    lists.table(
        sessions.assign(
            link=[common.permalink("sessions", session=i) for i in sessions["id"]],
            # A finished session has no current tool; its last one is on its own page.
            last_tool=sessions["last_tool"].where(sessions["state"] != "finished", ""),
            avg_duration_ms=sessions["avg_duration_ms"].round().astype("Int64"),  # 1039 ms
        ),
        "id project state_text session_type work_item last_tool tool_calls success_rate"
        " avg_duration_ms cost tokens_used link",
        opens_from="sessions",
        id="Session",
        state_text="State",
        success_rate=st.column_config.ProgressColumn("Success", min_value=0, max_value=1),
    )
    usage_view.cost_summary(costs, sessions["id"])
    calls = readers.run("session_tool_calls", since=common.now() - 7 * 86_400)
    calls = calls[calls["session_id"].isin(sessions["id"])]
    if not calls.empty:
        st.subheader("Tool calls")
        st.plotly_chart(charts.sessions_timeline(calls), width="stretch")
        counts = calls.groupby("tool_name").size().rename("calls").reset_index()
        st.plotly_chart(charts.calls_per_tool(counts), width="stretch")
    finished = finished_summaries(sessions, readers.run("session_summaries", project=f.project))
    if not finished.empty:
        st.subheader("Finished: what each session did")
        lists.table(
            finished.assign(
                ended_at=pd.to_datetime(finished["ended_at"], unit="s", utc=True),
                link=[common.permalink("sessions", session=i) for i in finished["id"]],
            ),
            opens_from="sessions",
            id="Session",
            ended_at=lists.ago("Ended"),
        )


def work_item_link(work_item) -> str | None:
    """The permalink of the change or failure a session is on, if it still exists."""
    target = work_item_target(work_item)
    if target is None:
        return None
    page, params = target
    return common.permalink(page, **params)


def show_session(sessions: pd.DataFrame, chosen: str) -> None:
    """One session's own page: its state, work item, activity summary and tool-call timeline."""
    try:
        row = sessions[sessions["id"] == int(chosen)]
    except ValueError:
        st.error(f"{chosen!r} is not a session id.")
        return
    if row.empty:
        where = f"project {f.project}" if f.project else "the database"
        st.warning(f"No session {chosen} in {where}.")
        st.markdown(f"[All sessions]({common.permalink('sessions')})")
        return
    r = row.iloc[0]
    st.subheader(f"Session {int(r['id'])} · {r['state_text']}")
    item = work_item_text(r["work_item"]) or "no work item"
    st.caption(inert(f"{r['project']} · {r['session_type']} · {item}"))
    link = work_item_link(r["work_item"])
    if link:
        st.markdown(inert(f"**Working on:** [{r['work_item']}]({link})"))
    mine = readers.run("session_tool_calls", session_id=int(r["id"]))
    summary = activity_summary(mine, r["started_at"], r["stopped_at"])
    cols = st.columns(4)
    cols[0].metric("Tool calls", summary["calls"])
    cols[1].metric("Succeeded", summary["succeeded"])
    cols[2].metric("Failed", summary["failed"])
    cols[3].metric("Duration", describe_duration(summary["duration_s"]))
    if r["cost"]:
        cols = st.columns(4)
        cols[0].metric("Cost", usage.money(r["cost_usd"]))
        cols[1].metric("Tokens", usage.tokens_text(r["tokens"]).removesuffix(" tokens"))
    if summary["tools"]:
        tools = ", ".join(f"{t} × {n}" for t, n in summary["tools"].items())
        st.markdown(inert(f"**Tools:** {tools}"))
    st.markdown("**Files touched:**" + ("" if summary["files"] else " none"))
    if summary["files"]:
        st.code("\n".join(summary["files"]), language="text")
    if not mine.empty:
        ordered = calls_in_order(mine)
        st.markdown("**Tool calls, in order:**")
        st.plotly_chart(charts.calls_in_order(ordered), width="stretch")
        lists.table(
            ordered,
            number="#",
            at=lists.ago("When"),
            tool="Tool",
            about="On",
            outcome="Outcome",
            seconds=st.column_config.NumberColumn("Took", format="%.1f s"),
            error="Error",
        )


# New events show by themselves, and "idle for 6 min" moves on with the clock.
live.live(
    "session_activity", "session_tool_calls", "session_summaries", "agent_usage_daily", clock=True
)
sessions_view()
