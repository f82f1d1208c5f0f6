"""The app layer shared by every page: settings, cached readers keyed on what changed, the
URL-bound filters and small presentation helpers. pmdata never imports Streamlit; this does."""

from __future__ import annotations

import contextlib
import functools
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode

import pandas as pd
import streamlit as st

from pmdata.analytics import Analytics, load_query, snapshot_file_for
from pmdata.errors import PmdashError
from pmdata.inert_markdown import inert
from pmdata.openspec.index import ProjectIndex
from pmdata.settings import Settings, load_settings
from pmdata.work import STATUSES, Filters, in_words


def settings() -> Settings:
    # Not cached: it is a few environment lookups, and a changed setting must show at once.
    return load_settings()


@st.cache_resource
def analytics(db: str) -> Analytics:
    # One columnar snapshot per process, shared by every browser session, kept on disk so that
    # a restarted server only tops it up.
    return Analytics(db, snapshot=True, snapshot_file=snapshot_file_for(Path(db)))


# The first request after a server start is served before the background parse, watch set-up
# and validation begin: a page that needs the changes parses them itself (a fraction of a
# second), and the rest of the start-up work competes with no one.
STARTUP_GRACE_S = 1.5


@st.cache_resource
def project_index(roots: tuple[str, ...], ttl: int, rescan: int) -> ProjectIndex:
    from pmdata.openspec.cache import TreeCache

    index = ProjectIndex(
        list(roots),
        TreeCache(ttl_seconds=ttl),
        rescan_seconds=rescan,
        startup_grace=STARTUP_GRACE_S,
    )
    index.warm_later()  # parse and validate every project once, off the page's thread
    return index


def index() -> ProjectIndex:
    s = settings()
    return project_index(
        tuple(str(r) for r in s.project_roots), s.cache_ttl_seconds, s.rescan_seconds
    )


def db() -> str | None:
    s = settings()
    return str(s.db) if s.db else None


def db_token(*names: str) -> tuple:
    """Changes when a table the named queries read changes (a hook event leaves the failure
    queries' answers alone): what cached reads are keyed on."""
    path = db()
    if not path:
        return ()
    reader = analytics(path)
    return (path, *(reader.token(load_query(n)) for n in names))


@st.cache_data(max_entries=256, show_spinner=False)
def query(name: str, token: tuple, **params) -> pd.DataFrame:
    """A named query, re-run only when what it reads changed (token) or the params differ."""
    return analytics(db()).run(name, **params)


def run(name: str, **params) -> pd.DataFrame:
    return query(name, db_token(name), **params)


# -- filters -----------------------------------------------------------------------------------
def project_names() -> list[str]:
    names = {p.name for p in index().projects()}
    if db():
        with contextlib.suppress(PmdashError):  # the page says what is wrong with it
            names |= set(run("project_names")["project"].dropna())
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


# -- presentation ------------------------------------------------------------------------------
def header(page: str, *trail: str) -> None:
    """Page title and breadcrumbs naming the selected project, so a shared link says its scope."""
    f = current_filters()
    scope = f.project or "All projects"
    st.title(inert(f"{page} · {scope}" if f.project else page))
    st.caption(inert(" › ".join(["pmdash", scope, page, *trail])))
    if trail:  # an item's page
        back_link(page)


_FLASH = "_pmdash_flash"


def done(message: str, **go_to) -> None:
    """After a write: rerun at once, so every figure on the page shows the new state, and say
    what was done at the top of the next run (a message drawn before a rerun would vanish).
    `go_to` changes the URL's item (`change=None` goes back to the list)."""
    st.session_state[_FLASH] = message
    for key, value in go_to.items():
        if value is None:
            st.query_params.pop(key, None)
        else:
            st.query_params[key] = value
    st.rerun()


def show_done() -> None:
    """The message of the write that caused this run, once."""
    message = st.session_state.pop(_FLASH, None)
    if message:
        st.success(inert(message), icon=":material/check_circle:")


def readonly() -> bool:
    return settings().readonly


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


def permalink(page: str, **params) -> str:
    """A relative link that opens exactly this item, with the current filters kept."""
    f = current_filters()
    query_params = {k: v for k, v in params.items() if v is not None}
    if f.project:
        query_params.setdefault("project", f.project)
    # Every character that means something in a URL or in markdown is escaped: a folder named
    # `Fission-AI+OpenSpec` must not come back as "Fission-AI OpenSpec".
    text = urlencode(query_params, quote_via=quote, safe="")
    return f"/{page}" + (f"?{text}" if text else "")


MAX_ROWS = 500  # a table longer than this is read by filtering, not scrolling

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
    "avg_duration_ms": st.column_config.NumberColumn("Average call", format="%.0f ms"),
    "duration": "Duration",
    "calls": "Calls",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "tools": "Tools",
    "files": "Files",
    "files_touched": "Files touched",
}


WORDED = ("status", "decision", "state", "session_type")  # codes shown as words (in_words)


def headings(**own) -> dict:
    """`column_config` for a table: the shared headings, plus and over the table's `own`."""
    return {**HEADINGS, **own}


ITEM_PARAMS = ("failure", "change", "spec", "session", "change_tab", "form")
_OPENED, _GO = "_pmdash_opened", "_pmdash_go"


def _choose(key: str, links: list[str], here: str) -> None:
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
    page = path.strip("/") or "all_work"
    if page == here:
        st.query_params.update(params)
    else:  # another page: the frame switches to it before drawing (`go_to_chosen`)
        st.session_state[_GO] = (page, params)


def go_to_chosen() -> None:
    """Called by the frame before it draws anything: open the item a row choice asked for, in
    this tab (no reload, so no new sign-in). The filters stay as they were, for the way back."""
    chosen = st.session_state.pop(_GO, None)
    if chosen:
        page, params = chosen
        st.switch_page(f"pages/{page}.py", query_params=params)


def _leave_item() -> None:
    for key in ITEM_PARAMS:
        st.query_params.pop(key, None)


def back_link(page_title: str) -> None:
    """On an item's page: back to its list (the same page without the item), whose filters
    never changed."""
    st.button(f"Back to {page_title}", icon="↩", on_click=_leave_item, key="back-to-list")


def _blank_missing(column: pd.Series) -> pd.Series:
    """Missing as empty text; numbers as their text (Arrow takes no column of ints and text)."""
    if column.dtype != object:
        whole = column.dropna()
        if len(whole) and (whole == whole.round()).all():
            column = column.astype("Int64")  # 39, not 39.0
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
        if (shown[c].dtype == object or pd.api.types.is_numeric_dtype(shown[c]))
        and not pd.api.types.is_bool_dtype(shown[c])
        and shown[c].isna().any()
    ]
    if missing:
        shown = shown.assign(**{c: _blank_missing(shown[c]) for c in missing})
    choosing = {}
    if opens_from is not None and "link" in shown.columns and not shown.empty:
        key = f"rows-{opens_from}-{name or columns}-{st.session_state.get(_OPENED, 0)}"
        on_select = functools.partial(_choose, key, list(shown["link"]), opens_from)
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


def tree_token() -> tuple:
    """Changes when a tree does, or when a project's verdicts come in from the background."""
    return (index().generation(), index().verdicts_ready())


def changes_frame(f: Filters, include_archived: bool = False) -> pd.DataFrame:
    return _changes_frame(tree_token(), f, include_archived)


def validity(valid) -> str:
    """A change's verdict in words; None while the background validator works on it."""
    if valid is None or pd.isna(valid):
        return "checking…"
    return "valid" if valid else "invalid"


def validation_notice() -> None:
    """While verdicts are computed in the background, say so (`live(trees=True)` brings them)."""
    if index().validating():
        st.caption(
            ":material/hourglass_top: Validating changes in the background: "
            "verdicts appear here in a few seconds."
        )


# -- live --------------------------------------------------------------------------------------
def live(*queries: str, trees: bool = False) -> None:
    """Rerun the page within 5 s of a change to what it shows — a table its queries read, or an
    OpenSpec tree (and its verdicts) — without a reload. Between changes the check is a few
    stat calls, so an idle dashboard re-runs nothing."""
    st.session_state["_live"] = (queries, trees, _live_token(queries, trees))
    _rerun_on_change()


def _live_token(queries: tuple[str, ...], trees: bool) -> tuple:
    return (db_token(*queries) if queries else (), tree_token() if trees else ())


@st.fragment(run_every="5s")
def _rerun_on_change() -> None:
    queries, trees, shown = st.session_state.get("_live", ((), False, None))
    try:
        changed = _live_token(queries, trees) != shown
    except Exception:  # the page itself says what is wrong; this check stays silent
        return
    if changed:
        st.rerun()  # the whole page: a fragment rerun would redraw only this check


@st.cache_data(max_entries=64, show_spinner=False)
def _changes_frame(token: tuple, f: Filters, include_archived: bool) -> pd.DataFrame:
    """Every change of the chosen project(s), with its validation verdict (None until the
    background validator has it); re-read only when `tree_token` moved."""
    rows = []
    for project in index().projects():
        if f.project and project.name != f.project:
            continue
        verdicts = index().validation_if_ready(project)
        for c in index().summaries(project):
            if c.state == "archived" and not include_archived:
                continue
            if verdicts is None:
                verdict = {"valid": None}
            else:
                verdict = verdicts.get(("change", c.id), {"valid": True, "issues": []})
            rows.append(
                {
                    "project": project.name,
                    "id": c.id if c.state != "archived" else c.folder,
                    "title": c.title,
                    "state": c.state,
                    "completed": c.completed_tasks,
                    "total": c.total_tasks,
                    "progress": c.progress,
                    "last_modified": c.last_modified,
                    "valid": True if c.state == "archived" else verdict["valid"],
                    "problem": c.problem,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "project",
            "id",
            "title",
            "state",
            "completed",
            "total",
            "progress",
            "last_modified",
            "valid",
            "problem",
        ],
    )
