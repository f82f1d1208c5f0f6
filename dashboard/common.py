"""Presentation helpers every page shares: its header, what a write says after it, links to
items, and a few words for states."""

from __future__ import annotations

import time
from urllib.parse import quote, urlencode

import pandas as pd
import streamlit as st

from dashboard import filters, lists, readers, routes
from pmdata.inert_markdown import inert


def header(page: str, *trail: str) -> None:
    """Page title and breadcrumbs naming the selected project, so a shared link says its scope."""
    f = filters.current_filters()
    scope = f.project or "All projects"
    st.title(inert(f"{page} · {scope}" if f.project else page))
    st.caption(inert(" › ".join(["pmdash", scope, page, *trail])))
    if trail:  # an item's page
        lists.back_link(page)


_FLASH = "_pmdash_flash"


def done(message: str, **item) -> None:
    """After a write: rerun at once, so every figure on the page shows the new state, and say
    what was done at the top of the next run (a message drawn before a rerun would vanish).
    `item` opens another item of this page (`change="new-id"`), or its list (`change=None`)."""
    st.session_state[_FLASH] = message
    for key, value in item.items():
        if value is None:
            routes.leave_item()
        else:
            routes.go_to(key, {key: value})
    st.rerun()


def show_done() -> None:
    """The message of the write that caused this run, once."""
    message = st.session_state.pop(_FLASH, None)
    if message:
        st.success(inert(message), icon=":material/check_circle:")


def readonly() -> bool:
    return readers.settings().readonly


def who() -> str:
    user = getattr(st, "user", None)
    name = None
    try:
        name = user.get("email") if user is not None else None
    except Exception:  # st.user without auth configured
        name = None
    return st.session_state.get("who") or name or "dashboard"


def no_database() -> None:
    st.info(
        "No database is configured, so there are no failures or sessions to show. Set "
        "`PMDASH_DB=/path/to/claude.db` (the homelab database), or run `make run` without it to "
        "explore the demo data."
    )


def now() -> int:
    return int(time.time())


def this_minute() -> int:
    """The clock to the minute: a cached answer that depends on it (a mute's expiry) is
    reused within the minute."""
    return now() // 60 * 60


def permalink(page: str, **params) -> str:
    """A relative link that opens exactly this item, with the current filters kept."""
    f = filters.current_filters()
    query_params = {k: v for k, v in params.items() if v is not None}
    if f.project:
        query_params.setdefault("project", f.project)
    # Every character that means something in a URL or in markdown is escaped: a folder named
    # `Fission-AI+OpenSpec` must not come back as "Fission-AI OpenSpec".
    text = urlencode(query_params, quote_via=quote, safe="")
    return f"/{routes.path_for(page, params)}" + (f"?{text}" if text else "")


def with_failure_links(frame: pd.DataFrame, column: str = "failure_id") -> pd.DataFrame:
    """`frame` with a `link` column opening each row's failure (none where it has no id)."""
    return frame.assign(
        link=[None if pd.isna(i) else permalink("errors", failure=int(i)) for i in frame[column]]
    )


MAX_ROWS = 500  # a table longer than this is read by filtering, not scrolling


def validity(valid) -> str:
    """A change's verdict in words; None while the background validator works on it."""
    if valid is None or pd.isna(valid):
        return "checking…"
    return "valid" if valid else "invalid"


def validation_notice() -> None:
    """While verdicts are computed in the background, say so (`live(trees=True)` brings them)."""
    if readers.index().validating():
        st.caption(
            ":material/hourglass_top: Validating changes in the background: "
            "verdicts appear here in a few seconds."
        )
