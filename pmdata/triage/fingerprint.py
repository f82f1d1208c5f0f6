"""Error fingerprints: one root cause, one fingerprint, across tests, runs and projects.

The message is normalised the way failure-triage tools do (ANSI codes, times, ids, numbers,
quoted values and paths out), then its first line and any Playwright `Locator:` line are hashed
with the place in the code where it broke: the failing line's code (from the report's code
frame, so a line moved by an edit above keeps its fingerprint), else the file and line of the
error or of the stack's top frame in the suite's own code. A generic message such as
`expect(received).toBe(expected)` is thus one cause per assertion, not one for every test. The
test's own name is not part of it: two tests broken in one shared helper share a fingerprint.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from pmdata.ingest.failure_place import frames
from pmdata.triage.facts import failing_code

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
# (pattern, replacement, cheap test for whether it can match at all). Applied in order, the
# specific shapes before the bare numbers they contain; the guards skip most regexes on most
# messages, which is what keeps 100,000 fingerprints under a second.
_has_digit = re.compile(r"\d").search


_REPLACEMENTS = [
    (
        re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"),
        "<time>",
        lambda t: "-" in t and ":" in t,
    ),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(\.\d+)?\b"), "<time>", lambda t: ":" in t),
    (
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
        "<uuid>",
        lambda t: "-" in t,
    ),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<hex>", lambda t: "0x" in t or "0X" in t),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.I), "<hex>", _has_digit),
    (
        re.compile(r"(?:localhost|127\.0\.0\.1|0\.0\.0\.0):\d+"),
        "<host>",
        lambda t: "localhost:" in t or ".0.0.1:" in t or "0.0.0.0:" in t,
    ),
    (
        re.compile(r"(?:/tmp|/var/folders|/private/var)/[^\s'\"`)]+"),
        "<tmp>",
        lambda t: "/tmp/" in t or "/var/" in t,
    ),
    (re.compile(r":\d+:\d+\b"), ":<line>", lambda t: ":" in t),
    (
        re.compile(r"\b\d+(\.\d+)?\s*(ms|s|sec|seconds|m|min)\b"),
        "<duration>",
        _has_digit,
    ),
    (
        re.compile(r"\"[^\"\n]*\"|'[^'\n]*'|`[^`\n]*`"),
        "<str>",
        lambda t: '"' in t or "'" in t or "`" in t,
    ),
    (re.compile(r"#\d+\b"), "#<n>", lambda t: "#" in t),
    (re.compile(r"\b\d+(\.\d+)?\b"), "<n>", _has_digit),
]

_LOCATOR = re.compile(r"^\s*Locator:\s*(.+)$", re.M)


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def normalise(line: str) -> str:
    for pattern, replacement, may_match in _REPLACEMENTS:
        if may_match(line):
            line = pattern.sub(replacement, line)
    return " ".join(line.split())


# Every shape above treats all digits alike, so messages that differ only in their digits
# have the same signature: they share one cache entry (a suite breaks the same way every run,
# with new numbers each time).
# Bytes, because str.translate looks every character up in a dict (ten times slower at 100,000
# messages); UTF-8 never puts an ASCII byte inside another character, so this is exact.
_ZERO_DIGITS = bytes.maketrans(b"123456789", b"000000000")


def zero_digits(text: str) -> str:
    """Every ASCII digit made 0: the key under which messages of one cause share cached work."""
    return (
        text.encode("utf-8", "surrogatepass")
        .translate(_ZERO_DIGITS)
        .decode("utf-8", "surrogatepass")
    )


def signature(error: str | None) -> str:
    """The normalised text a fingerprint is made of (shown on a failure's page)."""
    return _signature(zero_digits(error or ""))


@lru_cache(maxsize=65536)
def _signature(error: str) -> str:
    text = strip_ansi(error).strip()
    if not text:
        return "(no error message)"
    first = next((line for line in text.splitlines() if line.strip()), "")
    parts = [normalise(first)]
    locator = _LOCATOR.search(text)
    if locator:
        parts.append("Locator: " + normalise(locator.group(1)))
    return "\n".join(parts)


# What a machine's error names: the address refused, the host not found, the port taken. Without
# a place in the code (Node's socket errors carry no frames) it is what tells one cause from
# another: the database refusing on 5432 is not the mail catcher on 2525.
_MACHINE_TARGET = re.compile(
    r"\b(?:ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EADDRINUSE|EHOSTUNREACH|ETIMEDOUT)"
    r"\s+(\S+)|\b(net::ERR_[A-Z_]+) at ((?:[a-z]+://)?[^/\s?#]+)"
)


def machine_target(error: str | None) -> str:
    """The address a machine's error names ("127.0.0.1:5432", "http://cdn.shop.invalid"),
    from the message as it is (not digit-zeroed); "" when it names none."""
    found = _MACHINE_TARGET.search(error or "")
    if not found:
        return ""
    return found[1] or f"{found[2]} {found[3]}"


@lru_cache(maxsize=65536)
def code_place(
    location: str | None, snippet: str | None, stack: str | None = None, target: str = ""
) -> str:
    """Where in the suite's code it broke: `file: code` or `file:line`; else the address a
    machine's error names (`target`, see machine_target); "" when unknown. `location` is
    `file:line:column` as ingest stores it."""
    file, line = "", ""
    if location:
        file, _, rest = location.partition(":")
        line = rest.partition(":")[0]
    else:
        top = frames(stack)
        if top:
            file, line = top[0][0], str(top[0][1])
    # Machines differ in where the checkout lives; a page's URL in its query ("?run=12").
    file = "/".join(file.split("?")[0].split("#")[0].split("/")[-2:])
    code, _ = failing_code(snippet)
    if code:
        return f"{file}: {' '.join(code.split())}"
    if file:
        return f"{file}:{line}" if line else file
    return f"target {target}" if target else ""


def fingerprint(error: str | None, place: str = "") -> str:
    """16 hex characters naming the root cause of an error message broken at `place`."""
    return fingerprint_of_zeroed(zero_digits(error or ""), place)


def fingerprint_of_zeroed(zeroed: str, place: str = "") -> str:
    """`fingerprint` of a message already passed through `zero_digits` (a batch does it once)."""
    return _hash(_signature(zeroed) + (f"\n@ {place}" if place else ""))


@lru_cache(maxsize=65536)
def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
