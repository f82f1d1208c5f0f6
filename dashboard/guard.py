"""No page shows a traceback: a part that fails says one line of what is wrong, and the rest of
the page keeps serving. The traceback goes to the server's log, where it helps."""

from __future__ import annotations

import functools
import logging

import streamlit as st

from pmdata.errors import PmdashError
from pmdata.inert_markdown import inert

log = logging.getLogger("pmdash.dashboard")
INTERNAL = "pmdash could not draw this part"  # tests look for it: it means a bug of ours


def report(exc: Exception) -> None:
    """One line on the page for what went wrong."""
    if isinstance(exc, PmdashError):  # a missing table, a corrupt file: the user can act on it
        st.error(inert(str(exc)))
        return
    log.exception("a page part failed")
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    st.error(
        inert(
            f"{INTERNAL} ({type(exc).__name__}: {first}). The rest keeps serving; "
            "the server's log has the details."
        )
    )


def shielded(part):
    """Decorate a page part (a fragment, a section): its failure is reported, not raised."""

    @functools.wraps(part)
    def run(*args, **kwargs):
        try:
            return part(*args, **kwargs)
        except Exception as exc:  # st.stop and st.rerun are BaseExceptions: they pass
            report(exc)
            return None

    return run


def quiet(part):
    """For a background helper (a toast, a change check): a failure is logged, never shown;
    the page it runs on says what is wrong with the database itself."""

    @functools.wraps(part)
    def run(*args, **kwargs):
        try:
            return part(*args, **kwargs)
        except Exception:
            log.exception("a background part failed")
            return None

    return run
