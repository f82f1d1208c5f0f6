"""The app layer shared by every page: settings, cached readers keyed on what changed, the
URL-bound filters and small presentation helpers. pmdata never imports Streamlit; this does."""

from __future__ import annotations

import contextlib
import functools
import os
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import pandas as pd
import streamlit as st

from dashboard import lists, routes
from pmdata.analytics import Analytics, load_query, snapshot_file_for
from pmdata.errors import PmdashError
from pmdata.inert_markdown import inert
from pmdata.openspec.index import ProjectIndex
from pmdata.settings import ENV_PREFIX, SECRETS_FILE, Settings, load_settings
from pmdata.work import STATUSES, Filters, in_words


def settings() -> Settings:
    """The settings, read again only when they can have changed: a PMDASH_ variable, the
    secrets file (parsing it is most of the cost, and every part of every page asks), or the
    folder it is found from."""
    environment = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX)))
    try:
        secrets = Path(SECRETS_FILE).resolve().stat().st_mtime_ns
    except OSError:
        secrets = None
    return _settings(environment, secrets, os.getcwd())


@functools.lru_cache(maxsize=8)
def _settings(_environment: tuple, _secrets: int | None, _folder: str) -> Settings:
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
    return f"/{routes.path_for(page, params)}" + (f"?{text}" if text else "")


MAX_ROWS = 500  # a table longer than this is read by filtering, not scrolling


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
