"""pmdash: the Streamlit entry point. Lays out the overview; every number comes from pmdata."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from pmdata.analytics import Analytics
from pmdata.errors import PmdashError
from pmdata.settings import load_settings

st.set_page_config(page_title="pmdash", page_icon=":material/dashboard:", layout="wide")


@st.cache_resource
def analytics(db_path: str) -> Analytics:
    return Analytics(db_path)


@st.cache_data(ttl=5, show_spinner=False)
def run_query(db_path: str, name: str, **params) -> pd.DataFrame:
    return analytics(db_path).run(name, **params)


def empty_state(message: str) -> None:
    st.info(message)
    st.markdown(
        "Point pmdash at the homelab database with `PMDASH_DB=/path/to/claude.db`, "
        "or run `make run` without it to explore the demo data set."
    )


st.title("pmdash")
st.caption(
    "Planned work (OpenSpec), failing tests (Playwright) and the agents on them, in one view."
)

try:
    settings = load_settings()
except PmdashError as exc:
    st.error(f"Configuration problem: {exc}")
    st.stop()

if settings.db is None:
    empty_state("No database is configured.")
    st.stop()

db = str(settings.db)
try:
    summary = run_query(db, "database_summary").iloc[0]
except PmdashError as exc:
    st.error(str(exc))
    st.stop()

cols = st.columns(5)
cols[0].metric("Projects", int(summary["projects"]))
cols[1].metric("Test runs", int(summary["runs"]))
cols[2].metric("Failures", int(summary["failures"]))
cols[3].metric("Running sessions", int(summary["running_sessions"]))
cols[4].metric("Triaged", int(summary["triaged"]))

left, right = st.columns(2)
with left:
    st.subheader("Failure trend")
    trend = run_query(db, "failure_trend_by_day", days=30)
    if trend.empty:
        st.caption("No failures in the last 30 days.")
    else:
        st.plotly_chart(px.bar(trend, x="day", y="failures"), width="stretch")
with right:
    st.subheader("Most failing tests")
    top = run_query(db, "failures_by_test", days=30, limit=10)
    if top.empty:
        st.caption("No failing tests in the last 30 days.")
    else:
        st.dataframe(
            top[["test_name", "workflow_name", "occurrences", "last_seen"]],
            hide_index=True,
            width="stretch",
        )

st.subheader("Agent sessions")
sessions = run_query(db, "sessions_overview", limit=20)
if sessions.empty:
    st.caption("No agent sessions recorded yet: wire the Claude Code hooks (see README).")
else:
    st.dataframe(sessions, hide_index=True, width="stretch")
