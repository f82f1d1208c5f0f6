"""Live pages: a page reruns by itself within 2 s of a change to what it shows (an event, a
report or a cost record arriving over HTTP included). The one way a page refreshes itself: an
idle dashboard re-runs nothing."""

from __future__ import annotations

import time

import streamlit as st

from dashboard import readers


def live(*queries: str, trees: bool = False, clock: bool = False) -> None:
    """Rerun the page within 2 s of a change to what it shows — a table its queries read, an
    OpenSpec tree (and its verdicts), or with `clock` the minute (for "idle for 6 min") —
    without a reload. Between changes the check is a few stat calls."""
    st.session_state["_live"] = (queries, trees, clock, _live_token(queries, trees, clock))
    # The check runs once inline, now, then every second on its own. Inline there is nothing to
    # compare yet: a change landing between these two lines (verdicts from the background) would
    # rerun the page and drop what this run was doing, a form's submit among it.
    st.session_state["_live_drawn"] = True
    _rerun_on_change()


def _live_token(queries: tuple[str, ...], trees: bool, clock: bool) -> tuple:
    return (
        readers.db_token(*queries) if queries else (),
        readers.tree_token() if trees else (),
        int(time.time()) // 60 if clock else (),
    )


@st.fragment(run_every="1s")  # a few stat calls a second: within 2 s of any change
def _rerun_on_change() -> None:
    if st.session_state.pop("_live_drawn", False):
        return
    queries, trees, clock, shown = st.session_state.get("_live", ((), False, False, None))
    try:
        changed = _live_token(queries, trees, clock) != shown
    except Exception:  # the page itself says what is wrong; this check stays silent
        return
    if changed:
        st.rerun()  # the whole page: a fragment rerun would redraw only this check
