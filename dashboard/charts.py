"""The charts the pages draw: one palette per concept everywhere, axes in words, bars ordered
by what they measure, and time axes that read as days."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

# A figure is built once per distinct data and then shared: plotly express takes ~0.1 s per
# chart, which every rerun (a refresh every 5 s, a click) would pay again. The same object is
# handed out (no copy), so nothing may change a figure after it is built.
_built_once = st.cache_resource(max_entries=64, show_spinner=False)

# A failure's class keeps its colour on every chart (NEW calm, PERSISTENT alarming).
CLASS_COLORS = {
    "NEW": "#4e79a7",
    "FLAKY": "#f2b447",
    "RECURRING": "#e8743b",
    "PERSISTENT": "#c0392b",
    "RECOVERED": "#59a14f",
}
# Tools share one qualitative palette, assigned by name, so Bash is the same colour everywhere.
_TOOL_PALETTE = px.colors.qualitative.Safe


def tool_colors(tools) -> dict[str, str]:
    return {t: _TOOL_PALETTE[i % len(_TOOL_PALETTE)] for i, t in enumerate(sorted(set(tools)))}


def _in_days(fig, data: pd.DataFrame):
    """Days, never 23:59:59.9996: a tick per day while they fit, plotly's choice of days after."""
    days = pd.to_datetime(data["day"]).nunique() if not data.empty else 0
    fig.update_xaxes(tickformat="%d %b", **({"dtick": 86_400_000} if days <= 14 else {}))
    return fig


@_built_once
def failures_by_day(data: pd.DataFrame):
    fig = px.bar(
        data,
        x="day",
        y="failures",
        color="classification",
        color_discrete_map=CLASS_COLORS,
        category_orders={"classification": list(CLASS_COLORS)},
        labels={"day": "Day", "failures": "Failures", "classification": "Class"},
    )
    return _in_days(fig, data)


@_built_once
def most_failing(data: pd.DataFrame):
    fig = px.bar(
        data,
        x="occurrences",
        y="test_name",
        orientation="h",
        color="classification",
        color_discrete_map=CLASS_COLORS,
        labels={"occurrences": "Failures", "test_name": "Test", "classification": "Class"},
    )
    # The biggest at the top, whatever its colour.
    fig.update_yaxes(categoryorder="total ascending")
    return fig


@_built_once
def flaky_tests(data: pd.DataFrame):
    fig = px.bar(
        data,
        x="flaky_rate",
        y="test_name",
        orientation="h",
        hover_data=["flaky_runs", "runs"],
        labels={
            "flaky_rate": "Runs that passed only on retry",
            "test_name": "Test",
            "flaky_runs": "Flaky runs",
            "runs": "Runs",
        },
    )
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(categoryorder="total ascending")
    return fig


OUTCOME_COLORS = {"ok": "#59a14f", "failed": "#c0392b"}


@_built_once
def calls_in_order(calls: pd.DataFrame):
    """A session's calls one after another (rows of `pmdata.sessions.calls_in_order`): a bar
    per call, as tall as it took, failures in red. Readable for 6 calls and for 2,000, since
    nothing is placed by clock time (calls share seconds)."""
    fig = px.bar(
        calls,
        x="number",
        y="seconds",
        color="outcome",
        color_discrete_map=OUTCOME_COLORS,
        category_orders={"outcome": list(OUTCOME_COLORS)},
        hover_data={"tool": True, "about": True, "error": True, "number": True},
        labels={"number": "Call", "seconds": "Seconds", "outcome": "Outcome", "about": "On"},
    )
    fig.update_layout(bargap=0.1 if len(calls) < 200 else 0)
    return fig


@_built_once
def sessions_timeline(calls: pd.DataFrame):
    """Each tool call from its start to its end, a row per session (rows of
    session_tool_calls.sql). Sessions are named, not numbered, so the axis reads "Session 12"."""
    ended = pd.to_datetime(calls["ended_ms"], unit="ms", utc=True)
    took = pd.to_timedelta(calls["duration_ms"].fillna(0), unit="ms")
    frame = calls.assign(
        start=ended - took,
        # A call of a few milliseconds would be an invisible sliver: at least a fifth of a second.
        end=ended.where(
            took >= pd.Timedelta(milliseconds=200), ended - took + pd.Timedelta(milliseconds=200)
        ),
        session="Session " + calls["session_id"].astype(str),
        tool=calls["tool_name"].fillna("(unnamed tool)"),
    )
    fig = px.timeline(
        frame,
        x_start="start",
        x_end="end",
        y="session",
        color="tool",
        color_discrete_map=tool_colors(frame["tool"]),
        labels={"session": "Session", "tool": "Tool"},
    )
    fig.update_yaxes(type="category")
    return fig


@_built_once
def calls_per_tool(counts: pd.DataFrame):
    fig = px.bar(
        counts.sort_values("calls", ascending=False),
        x="tool_name",
        y="calls",
        color="tool_name",
        color_discrete_map=tool_colors(counts["tool_name"]),
        labels={"tool_name": "Tool", "calls": "Calls"},
    )
    fig.update_layout(showlegend=False)
    return fig


OUTCOME_COLORS = {
    "passed": "#59a14f",
    "not failed": "#59a14f",
    "flaky": "#f2b447",
    "failed": "#c0392b",
    "skipped": "#bab0ac",
}


@_built_once
def test_strip(runs: pd.DataFrame):
    """A test's outcome in each run, oldest on the left: one square per run (the history
    line ReportPortal shows)."""
    data = runs.iloc[::-1].assign(row="")
    fig = px.scatter(
        data,
        x="run_number",
        y="row",
        color="outcome",
        color_discrete_map=OUTCOME_COLORS,
        hover_data={"run_at": True, "row": False},
        labels={"run_number": "Run", "row": "", "outcome": "Outcome", "run_at": "When"},
        height=160,
    )
    fig.update_traces(marker={"symbol": "square", "size": 14})
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(margin={"t": 10, "b": 10})
    return fig


@_built_once
def test_durations(runs: pd.DataFrame):
    """A test's duration in each run it ran, oldest on the left."""
    data = runs[runs["duration"].notna()].iloc[::-1]
    fig = px.line(
        data,
        x="run_number",
        y="duration",
        markers=True,
        labels={"run_number": "Run", "duration": "Duration (ms)"},
        height=240,
    )
    fig.update_layout(margin={"t": 10, "b": 10})
    return fig


@_built_once
def cost_per_day(data: pd.DataFrame):
    """What agent sessions cost each day, by project (queries/agent_usage_daily.sql)."""
    fig = px.bar(
        data,
        x="day",
        y="cost_usd",
        color="project",
        labels={"day": "Day", "cost_usd": "Cost (USD)", "project": "Project"},
    )
    fig.update_yaxes(tickprefix="$")
    return _in_days(fig, data)
