"""The lists every page shows: shared column headings and widths, codes read as words, missing
values as nothing, and a row that opens its item in the same tab (with the way back)."""

from __future__ import annotations

import functools
from urllib.parse import parse_qs

import pandas as pd
import streamlit as st

from dashboard import routes
from pmdata.work import in_words

# Column settings the lists share: priority as a 0–5 bar, an item's permalink as "open".
PRIORITY_COLUMN = st.column_config.ProgressColumn(
    "Priority", min_value=0, max_value=5, format="%d", width=72
)
OPEN_COLUMN = st.column_config.LinkColumn("Open", display_text="open", width=48)
# Widths that keep a list readable at 1280 px with 40–60 character folder names: the short
# columns narrow, the names and titles wide (a longer one is cut, its cell shows it whole).
_TEXT = st.column_config.TextColumn

# What people read above a column. The frames keep their names (queries and tests use them);
# one list, so a column reads the same on every page. A table adds its own (an "id" is a
# change on Specs and a session on Sessions).
HEADINGS = {
    "priority": PRIORITY_COLUMN,
    "link": OPEN_COLUMN,
    "kind": _TEXT("Kind", width=52),
    "project": _TEXT("Project", width=160),
    "title": _TEXT("Title", width=240),
    "status": _TEXT("Status", width=96),
    "detail": _TEXT("Why", width=130),
    "agent": _TEXT("Agent", width=150),
    "items": "Items",
    "what": "What",
    "test_name": "Test",
    "classification": "Classification",
    "decision": "Decision",
    "occurrences": "Occurrences",
    "remediation": "Remediation",
    "completed": "Done",
    "total": "Tasks in all",
    "valid": "Validation",
    "work_item": "Work item",
    "session_type": "Type",
    "last_tool": "Current tool",
    "tool_calls": "Tool calls",
    "avg_duration_ms": "Average call (ms)",  # whole milliseconds: see the Sessions page
    "duration": "Duration",
    "calls": "Calls",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "tools": "Tools",
    "files": "Files",
    "files_touched": "Files touched",
    # What agent work cost (Claude Code's OpenTelemetry export).
    # Text ("$1.53", "1.9M"), blank when no telemetry came: a list's missing values are text.
    "cost": _TEXT("Cost", width=72),
    "tokens_used": _TEXT("Tokens", width=72),
}


WORDED = ("status", "decision", "state", "session_type")  # codes shown as words (in_words)


def headings(**own) -> dict:
    """`column_config` for a table: the shared headings, plus and over the table's `own`."""
    return {**HEADINGS, **own}


_OPENED = "_pmdash_opened"


def _choose(key: str, links: list[str]) -> None:
    """A row was chosen (a callback: it runs before the next run, when the bound filters may
    still be set). Its item opens in this tab, with its permalink in the address bar."""
    rows = st.session_state[key].selection.rows
    if not rows:
        return
    st.session_state[_OPENED] = st.session_state.get(_OPENED, 0) + 1  # a fresh selection next
    path, _, query = links[rows[0]].partition("?")
    params = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(query).items()}
    project = params.pop("project", None)
    if project and st.session_state.get("project") != project:
        st.session_state["project"] = project  # the item's project, through its filter widget
    routes.go_to(path.strip("/") or routes.LISTS[0][0], params)


def back_link(page_title: str) -> None:
    """On an item's page: back to its list, whose filters never changed."""
    st.button(f"Back to {page_title}", icon="↩", on_click=routes.leave_item, key="back-to-list")


def _blank_missing(column: pd.Series) -> pd.Series:
    """Missing as empty text; numbers as their text (Arrow takes no column of ints and text)."""
    if pd.api.types.is_numeric_dtype(column):
        whole = column.dropna()
        if len(whole) and (whole == whole.round()).all():
            column = column.astype("Int64")  # 39, not 39.0
        else:
            column = column.round(1)  # 1038.7, never 1038.6923
    return column.map(lambda v: "" if v is None or v is pd.NA or v != v else str(v))


def table(
    frame: pd.DataFrame,
    columns: str = "",
    opens_from: str | None = None,
    name: str = "",
    **own,
) -> None:
    """A list as every page shows one: the `columns` named (space-separated; all when none),
    full width, no index, the shared headings plus the table's `own` column settings. With
    `opens_from` (the page it is on) and a `link` column, choosing a row opens its item; `name`
    tells apart two such lists with the same columns on one page."""
    shown = frame[columns.split()] if columns else frame
    if "link" in shown.columns:  # first, so it is on screen however wide the names are
        shown = shown[["link", *(c for c in shown.columns if c != "link")]]
    words = {c: shown[c].map(in_words) for c in WORDED if c in shown.columns}
    if words:
        shown = shown.assign(**words)
    # A missing value reads as nothing, not as a grey "None" (numbers too: a run without a
    # failure has no failure id).
    missing = [
        c
        for c in shown.columns
        if (
            shown[c].dtype == object
            or pd.api.types.is_string_dtype(shown[c])
            or pd.api.types.is_numeric_dtype(shown[c])
        )
        and not pd.api.types.is_bool_dtype(shown[c])
        and shown[c].isna().any()
    ]
    if missing:
        shown = shown.assign(**{c: _blank_missing(shown[c]) for c in missing})
    choosing = {}
    if opens_from is not None and "link" in shown.columns and not shown.empty:
        key = f"rows-{opens_from}-{name or columns}-{st.session_state.get(_OPENED, 0)}"
        on_select = functools.partial(_choose, key, list(shown["link"]))
        choosing = {"key": key, "on_select": on_select, "selection_mode": "single-row"}
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config=headings(**own),
        **choosing,
    )


def ago(heading: str):
    """A time column read as "8 days ago"."""
    return st.column_config.DatetimeColumn(heading, format="distance")
