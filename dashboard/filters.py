"""The sidebar's filters (project, status, dates, search), bound to the URL so every view is a
shareable link, and what a page says when they leave nothing."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from dashboard import readers
from pmdata.errors import PmdashError
from pmdata.inert_markdown import inert
from pmdata.work import STATUSES, Filters, in_words


def project_names() -> list[str]:
    names = {p.name for p in readers.index().projects()}
    if readers.db():
        with contextlib.suppress(PmdashError):  # the page says what is wrong with it
            names |= set(readers.run("project_names")["project"].dropna())
    return sorted(names)


def filter_widgets() -> Filters:
    """The sidebar filters, bound to the URL so every view is a shareable link."""
    st.selectbox(
        "Project",
        project_names(),
        key="project",
        bind="query-params",
        index=None,
        placeholder="All projects",
    )
    st.multiselect("Status", STATUSES, key="status", bind="query-params")
    st.date_input(
        "Dates",
        value=(),
        key="dates",
        bind="query-params",
        min_value=date(2000, 1, 1),  # any history; Streamlit's own floor is ten years back
        max_value=date.today() + timedelta(days=1),
    )
    st.text_input("Search", key="q", bind="query-params", placeholder="title, test, change id")
    return current_filters()


def clear_filters() -> None:
    """A button's callback: runs before the rerun, when bound widgets may still be set."""
    for key, empty in (("project", None), ("status", []), ("dates", ()), ("q", "")):
        st.session_state[key] = empty
    st.session_state["remediation"] = []


def statuses_not_followed(vocabulary: tuple[str, ...], what: str) -> None:
    """A status chosen on another page (draft on Errors) is said to be ignored here, not
    silently dropped."""
    foreign = [s for s in current_filters().status if s not in vocabulary]
    if foreign:
        names = " or ".join(in_words(s) for s in foreign)
        st.caption(
            inert(f"Status {names} is not a state of {what}: this page does not narrow by it.")
        )


def nothing_matches(what: str, extra: list[str] | None = None) -> bool:
    """When filters are in force, say that they emptied the list and offer to clear them;
    False when no filter is in force (the page then says why the list is empty)."""
    active = current_filters().active() + (extra or [])
    if not active:
        return False
    st.info(inert(f"No {what} match {', '.join(active)}."))
    st.button("Clear the filters", on_click=clear_filters, key=f"clear-{what}")
    return True


def say_if_close_matches(frame, what: str) -> None:
    """Results of the fuzzy fallback are labelled: nothing held the words as they were typed."""
    q = current_filters().q.strip()
    if q and frame.attrs.get("fuzzy"):
        st.caption(inert(f"No {what} holds “{q}”: these are close matches."))


def drill_to_test(chart_key: str) -> None:
    """A chart's bar chosen (a callback, before the run): search for the test it stands for.
    The search is bound to the URL, so the drill-down is a link too."""
    points = st.session_state[chart_key].selection.points
    if points:
        st.session_state["q"] = str(points[0]["y"])


def drill_to_day(chart_key: str) -> None:
    """A day's bar chosen: the dates filter becomes that day (in the URL like any filter)."""
    points = st.session_state[chart_key].selection.points
    if points:
        day = pd.Timestamp(points[0]["x"]).date()
        st.session_state["dates"] = (day, day)


def current_filters() -> Filters:
    state = st.session_state
    dates = state.get("dates") or ()
    since = dates[0] if len(dates) >= 1 else None
    until = dates[1] if len(dates) >= 2 else since
    return Filters(
        project=state.get("project") or None,
        status=tuple(state.get("status") or ()),
        since=since,
        until=until,
        q=state.get("q") or "",
    )


def filter_params(f: Filters) -> dict:
    since, until = f.epoch_range()
    return {"project": f.project, "since": since, "until": until}
