"""The cached readers every page shares: the settings, the database's named queries (re-run
only when a table they read changed) and the OpenSpec project index."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from pmdata.analytics import Analytics, load_query, snapshot_file_for
from pmdata.openspec.index import ProjectIndex
from pmdata.settings import ENV_PREFIX, SECRETS_FILE, Settings, load_settings
from pmdata.work import Filters, changes_table


def settings() -> Settings:
    """The settings, read again only when they can have changed: a PMDASH_ variable, the
    secrets file (parsing it is most of the cost, and every part of every page asks), or the
    folder it is found from."""
    environment = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX)))
    try:  # relative to the working folder, which is part of the key
        secrets = os.stat(SECRETS_FILE).st_mtime_ns
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


def tree_token() -> tuple:
    """Changes when a tree does, or when a project's verdicts come in from the background."""
    return (index().generation(), index().verdicts_ready())


def changes_frame(f: Filters, include_archived: bool = False) -> pd.DataFrame:
    return _changes_frame(tree_token(), f, include_archived)


@st.cache_data(max_entries=64, show_spinner=False)
def _changes_frame(token: tuple, f: Filters, include_archived: bool) -> pd.DataFrame:
    """Re-read only when `tree_token` moved."""
    return changes_table(index(), f.project, include_archived)
