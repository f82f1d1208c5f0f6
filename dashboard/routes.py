"""Where each view lives: a list at its page's path (`/errors`), an item at a path of its own
(`/failure?failure=39`) served by the same page script, hidden from the navigation.

Why an item has its own path: clicking the current page in the navigation reruns it with the
URL unchanged, so if an item lived at its list's path (`/errors?failure=39`) the navigation's
"Errors" could never bring the list back. From an item's own path, "Errors" is a page change,
which keeps only the filters bound to widgets and drops the item."""

from __future__ import annotations

import streamlit as st

LISTS = [  # key (also the URL path and the PMDASH_DISABLE name), title
    ("all_work", "All Work"),
    ("specs", "Specs"),
    ("errors", "Errors"),
    ("sessions", "Sessions"),
]
ITEMS = {  # an item's URL parameter, which is also its path → the list page that shows it
    "failure": "errors",
    "test": "errors",  # with `workflow`: a test's own page
    "change": "specs",
    "spec": "specs",
    "session": "sessions",
}
ITEM_TABS = ("change_tab", "form")  # tabs of an item's page, bound to the URL
ITEM_PARAMS = (*ITEMS, *ITEM_TABS)
_GO = "_pmdash_go"


def pages(disabled: frozenset[str] | set[str] = frozenset()) -> list:
    """The pages to declare: the enabled lists (the first is the default), then their items.
    A list comes before its items, so `st.switch_page("pages/errors.py")` means the list."""
    lists = [(key, title) for key, title in LISTS if key not in disabled]
    declared = [
        st.Page(f"pages/{key}.py", title=title, url_path=key, default=n == 0)
        for n, (key, title) in enumerate(lists)
    ]
    enabled = {key for key, _ in lists}
    declared += [_item_page(item) for item, key in ITEMS.items() if key in enabled]
    return declared


def _item_page(item: str):
    return st.Page(
        f"pages/{ITEMS[item]}.py", title=item.capitalize(), url_path=item, visibility="hidden"
    )


def path_for(page: str, params: dict) -> str:
    """The path of a view: an item's own path when `params` name one, else the list's."""
    item = next((i for i in ITEMS if params.get(i) is not None and ITEMS[i] == page), None)
    return item or page


def go_to(path: str, params: dict) -> None:
    """Ask for another view (from a callback, where switching pages is not allowed): the shell
    opens it before drawing anything (`follow`)."""
    st.session_state[_GO] = (path, params)


def follow(current) -> None:
    """Called by the shell once its navigation is declared (`current` is the page the URL
    names): open a view a callback asked for, or take an item path left without its item back
    to its list. (An item on its list's path, as older permalinks have it, is shown there.)"""
    chosen = st.session_state.pop(_GO, None)
    if chosen:
        path, params = chosen
        st.switch_page(_page(path), query_params=params)
    here = current.url_path or LISTS[0][0]
    if here in ITEMS and here not in st.query_params:
        st.switch_page(f"pages/{ITEMS[here]}.py", query_params={})
    if here not in ITEMS and not any(ITEMS[i] == here and i in st.query_params for i in ITEMS):
        for tab in ITEM_TABS:  # a list shows no item's tab (one left by the way back)
            st.query_params.pop(tab, None)


def leave_item() -> None:
    """The way back from an item (a callback): its list, whose filters never changed."""
    here = next((i for i in ITEMS if i in st.query_params), None)
    if here:
        go_to(ITEMS[here], {})


def _page(path: str):
    return _item_page(path) if path in ITEMS else f"pages/{path}.py"
