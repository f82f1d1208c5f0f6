"""pmdash: the frame every page runs inside — settings, the password gate, the URL-bound filters
and the navigation. Pages live in app_pages/ (a `pages/` folder beside this file would switch on
Streamlit's legacy discovery, which serves a cold deep link without this frame)."""

from __future__ import annotations

import hmac

import streamlit as st

from app_pages import common
from pmdata.errors import PmdashError

st.set_page_config(page_title="pmdash", page_icon=":material/dashboard:", layout="wide")

try:
    settings = common.settings()
except PmdashError as exc:
    st.error(f"Configuration problem: {exc}")
    st.stop()


def password_gate() -> None:
    """An optional shared password for the home network (PMDASH_PASSWORD or secrets.toml)."""
    expected = settings.password
    if not expected or st.session_state.get("signed_in"):
        return
    with st.form("sign_in"):
        given = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in"):
            if hmac.compare_digest(given.encode(), expected.encode()):
                st.session_state["signed_in"] = True
                st.rerun()
            st.error("Wrong password.")
    st.stop()


password_gate()

with st.sidebar:
    st.markdown("### pmdash")
    try:
        filters = common.filter_widgets()
    except PmdashError as exc:
        st.error(str(exc))
    if settings.readonly:
        st.caption(":material/lock: Read-only: write forms are hidden.")

PAGES = [  # key (also the URL path and the PMDASH_DISABLE name), title, icon
    ("all_work", "All Work", ":material/list:"),
    ("specs", "Specs", ":material/description:"),
    ("errors", "Errors", ":material/error:"),
    ("sessions", "Sessions", ":material/smart_toy:"),
]
enabled = [p for p in PAGES if p[0] not in settings.disable]
if not enabled:
    st.info("Every page is turned off (PMDASH_DISABLE). Remove a name from it to bring it back.")
    st.stop()
page = st.navigation(
    [
        st.Page(f"app_pages/{key}.py", title=title, icon=icon, url_path=key, default=n == 0)
        for n, (key, title, icon) in enumerate(enabled)
    ],
    position="top",
)
try:
    page.run()
except PmdashError as exc:  # a missing table, a corrupt file: say so, keep the frame serving
    st.error(str(exc))
