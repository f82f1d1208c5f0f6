"""The charts the pages draw: one palette per concept everywhere, axes in words, bars ordered
by what they measure, and time axes that read as days."""

from __future__ import annotations

import pandas as pd
import plotly.express as px

# A failure's class keeps its colour on every chart (NEW calm, PERSISTENT alarming).
CLASS_COLORS = {
    "NEW": "#4e79a7",
    "FLAKY": "#f2b447",
    "RECURRING": "#e8743b",
    "PERSISTENT": "#c0392b",
}
# Tools share one qualitative palette, assigned by name, so Bash is the same colour everywhere.
_TOOL_PALETTE = px.colors.qualitative.Safe


def tool_colors(tools) -> dict[str, str]:
    return {t: _TOOL_PALETTE[i % len(_TOOL_PALETTE)] for i, t in enumerate(sorted(set(tools)))}


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
    fig.update_xaxes(tickformat="%d %b", dtick=86_400_000)  # days, never 23:59:59.9996
    return fig


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
