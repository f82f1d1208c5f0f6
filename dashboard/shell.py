"""The shell every page runs inside: settings, the password gate, the URL-bound filters and the
navigation. app.py runs it; each page in pages/ calls `require()` first."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import common, filters, guard, readers, routes
from pmdata.access import COOKIE, SignedIn
from pmdata.errors import PmdashError
from pmdata.inert_markdown import inert
from pmdata.paths import state_dir
from pmdata.sessions import activity_summary, completion_notice, newly_finished, with_states
from pmdata.sign_in import SignInGuard

FAVICON = Path(__file__).parent / "static" / "favicon.png"
_FRAMED = "_pmdash_framed"  # set by run() just before the page, taken by require()
_NOTICES = "_pmdash_notices"  # toasts to show at the top of the next whole run


def run() -> None:
    """Draw the shell, then the page the URL names."""
    # A file of ours: an icon name (":material/...") makes the browser fetch it from a font CDN.
    st.set_page_config(page_title="pmdash", page_icon=str(FAVICON), layout="wide")
    try:
        settings = readers.settings()
    except PmdashError as exc:
        st.error(f"Configuration problem: {exc}")
        st.stop()
    _password_gate(settings.password)
    with st.sidebar:
        st.markdown("### pmdash")
        try:
            filters.filter_widgets()
        except PmdashError as exc:
            st.error(str(exc))
        if settings.readonly:
            st.caption(":material/lock: Read-only: write forms are hidden.")
        if settings.password and st.session_state.get("who"):
            st.caption(inert(f"Signed in as {st.session_state['who']}") + " · [Sign out](/signout)")
    page = navigation(settings.disable)
    if page is None:
        st.info("Every page is turned off (PMDASH_DISABLE): remove a name to bring it back.")
        st.stop()
    routes.follow(page)  # a row chosen, an item on its list's path, the way back
    for notice in st.session_state.pop(_NOTICES, []):
        st.toast(notice, icon=":material/task_alt:")
    if readers.db():
        completion_notices()
    st.session_state[_FRAMED] = True
    common.show_done()
    try:
        page.run()
    except Exception as exc:  # one line, never a traceback; the shell keeps serving
        guard.report(exc)


@st.fragment(run_every="5s")
@guard.quiet
def completion_notices() -> None:
    """A toast on whatever page is open when an agent session finishes, saying what it did."""
    try:
        sessions = readers.run("session_activity")
    except PmdashError:
        return  # the page says what is wrong with the database
    settings = readers.settings()
    states = with_states(sessions, common.now(), settings.idle_minutes)
    finished = states[states["state"] == "finished"]
    new, seen = newly_finished(finished["id"], st.session_state.get("_finished_seen"))
    st.session_state["_finished_seen"] = seen
    notices = []
    for session_id in new[-3:]:  # a burst (a database swapped in) is not a flood of toasts
        r = finished[finished["id"] == session_id].iloc[0]
        calls = readers.run("session_tool_calls", session_id=session_id)
        summary = activity_summary(calls, r["started_at"], r["stopped_at"])
        notices.append(inert(completion_notice(session_id, r["project"], r["work_item"], summary)))
    if notices:
        # Shown by the whole run this starts, not here: the same event also makes the page
        # rerun (dashboard/live.py), and a toast drawn just before that rerun was lost with it.
        st.session_state[_NOTICES] = [*st.session_state.get(_NOTICES, []), *notices]
        st.rerun()


def navigation(disabled: frozenset[str] | set[str] = frozenset()):
    # No page icons: the browser tab shows the open page's icon as its favicon, and a
    # ":material/..." icon is fetched from a font CDN. The shell's own file stands.
    declared = routes.pages(disabled)
    return st.navigation(declared, position="top") if declared else None


def require() -> None:
    """Make sure the page runs inside the shell.

    A `pages/` folder beside app.py switches on Streamlit's legacy page discovery until the
    first `st.navigation` call of the process, so the first request after a server start, if it
    is a deep link (`/errors?project=beta`), runs the page alone: no filters, no navigation.
    Declaring our navigation turns that discovery off for the whole process, and the rerun then
    goes through app.py with the same page and URL. It happens at most once per server."""
    if st.session_state.pop(_FRAMED, False):
        return
    navigation(readers.settings().disable)
    st.rerun()


@st.cache_resource
def sign_in_guard() -> SignInGuard:
    return SignInGuard()  # one per server: every tab and every browser asks the same one


def _client() -> str:
    address = st.context.ip_address  # None (or a stand-in under AppTest) when unknown
    return address if isinstance(address, str) and address else "unknown client"


@st.cache_resource
def _signed_in(password: str, folder: str) -> SignedIn:
    return SignedIn(password, folder)


def _cookie_name(expected: str) -> str | None:
    """The name the server's sign-in cookie carries (api/door.py signed it), if it is valid."""
    cookie = st.context.cookies.get(COOKIE) if st.context.cookies else None
    if not cookie:
        return None
    s = readers.settings()
    return _signed_in(expected, str(s.state_dir) if s.state_dir else state_dir()).name(cookie)


def _password_gate(expected: str | None) -> None:
    """An optional shared password for the home network (PMDASH_PASSWORD or secrets.toml).
    Served by server.py, the door signs people in before the page is even sent, and its cookie
    says who they are; served by app.py alone, this form asks. Wrong guesses are slowed down
    and logged per client (pmdata.sign_in)."""
    if not expected or st.session_state.get("signed_in"):
        return
    name = _cookie_name(expected)
    if name:
        st.session_state["signed_in"] = True
        st.session_state["who"] = name  # beside every decision this person makes
        return
    guard = sign_in_guard()
    with st.form("sign_in"):
        given = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in"):
            verdict = guard.attempt(_client(), given, expected)
            if verdict.signed_in:
                st.session_state["signed_in"] = True
                st.rerun()
            st.error(verdict.message())
    st.stop()
