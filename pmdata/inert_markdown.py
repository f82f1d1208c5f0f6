"""Markdown from files, reports and people, made unable to load anything from elsewhere.

A proposal, a test name or a rationale may hold `![x](http://host/...)`: rendered as is, every
viewer's browser would fetch that address (tracking, or a GET to a device on the LAN). Images
are shown as the text they were written as; links stay links, since nothing follows a link
until a person clicks it. Raw HTML is never rendered by the pages (Streamlit escapes it unless
asked not to, and pmdash never asks), so `<img>` stays text too. Code is left exactly as written.
"""

from __future__ import annotations

import re

# Fenced code blocks and inline code spans: what is inside them is shown verbatim already.
_CODE = re.compile(
    r"(^[ \t]{0,3}(`{3,}|~{3,}).*?(?:^[ \t]{0,3}\2[ \t]*$|\Z)|(`+).+?\3)", re.M | re.S
)
# `![` starts an image, inline or by reference; escaping the bracket makes it plain text.
_IMAGE = re.compile(r"!(?=\[)")


def inert(text: object) -> str:
    """`text` as markdown that renders the same, except that images stay text."""
    if text is None:
        return ""
    text = str(text)
    if "![" not in text:
        return text
    out, at = [], 0
    for code in _CODE.finditer(text):
        out.append(_IMAGE.sub("!\\\\", text[at : code.start()]))
        out.append(code.group(0))
        at = code.end()
    out.append(_IMAGE.sub("!\\\\", text[at:]))
    return "".join(out)
