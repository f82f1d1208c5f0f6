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
_has_digit = re.compile(r"\d").search


def _hex_run(found: re.Match) -> str:
    """A run of 8+ hex characters is an id only if it mixes digits and letters ("deadbeef12",
    not "acceptable" nor "20261124")."""
    run = found[0]
    is_id = any(c in "0123456789" for c in run) and any(c in "abcdefABCDEF" for c in run)
    return "<hex>" if is_id else run


# (pattern, replacement, cheap test for whether it can match at all). Applied in order, the
# specific shapes before the bare numbers they contain. A test that starts with a literal
# character is a fast scan, a tenth of a pattern's own: most texts hold no time nor uuid.
# Each pattern starts with a character class, never with `\b` or a lookaround: Python's regex
# engine then jumps from candidate to candidate instead of trying every position, which is
# most of its time on long texts. `X(?<!\wX)` is `\bX` for a word character X; classes are
# spelled out in both cases for the same reason (IGNORECASE turns the jump off).
_HEX = "[0-9a-fA-F]"
_REPLACEMENTS = [
    (
        re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"),
        "<time>",
        re.compile(r"-\d\d[T ]\d\d:").search,
    ),
    (
        re.compile(r"\d(?<!\w\d)\d?:\d{2}:\d{2}(\.\d+)?\b"),
        "<time>",
        re.compile(r":\d\d:\d\d").search,
    ),
    (
        re.compile(
            rf"{_HEX}(?<!\w{_HEX}){_HEX}{{7}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}\b"
        ),
        "<uuid>",
        re.compile(rf"-{_HEX}{{4}}-{_HEX}{{4}}-").search,
    ),
    (re.compile(rf"0(?<!\w0)[xX]{_HEX}+\b"), "<hex>", lambda t: "0x" in t or "0X" in t),
    (re.compile(rf"{_HEX}(?<!\w{_HEX}){_HEX}{{7,}}\b"), _hex_run, _has_digit),
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
        # [^\S\n]: any space but the line break normalise_many joins lines with.
        # Possessive (*+, ?+): a digit or space given back can never be followed by a unit.
        re.compile(r"\d(?<!\w\d)\d*+(?:\.\d+)?+[^\S\n]*+(?:ms|s|sec|seconds|m|min)\b"),
        "<duration>",
        _has_digit,
    ),
    (
        re.compile(r"\"[^\"\n]*\"|'[^'\n]*'|`[^`\n]*`"),
        "<str>",
        lambda t: '"' in t or "'" in t or "`" in t,
    ),
    (re.compile(r"#\d+\b"), "#<n>", lambda t: "#" in t),
    (re.compile(r"\d(?<!\w\d)\d*(\.\d+)?\b"), "<n>", _has_digit),
]

_LOCATOR = re.compile(r"^\s*Locator:\s*(.+)$", re.M)


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text) if "\x1b" in text else text


def normalise_many(lines: list[str]) -> list[str]:
    """Each line (none may hold a line feed) with its times, ids, numbers, quoted values and paths
    made placeholders, and its spaces collapsed. All lines at once: one pass of each pattern
    over the lines joined, not one call per pattern per line; no pattern matches across a line
    break, so each line comes out as it would alone."""
    text = "\n".join(lines)
    for pattern, replacement, may_match in _REPLACEMENTS:
        if may_match(text):
            text = pattern.sub(replacement, text)
    return [" ".join(line.split()) for line in text.split("\n")]


# Every shape above treats all digits alike, so messages that differ only in their digits
# have the same signature: they share one cache entry (a suite breaks the same way every run,
# with new numbers each time).
# Bytes, because str.translate looks every character up in a dict (ten times slower at 100,000
# messages); UTF-8 never puts an ASCII byte inside another character, so this is exact.
ZERO_DIGITS = bytes.maketrans(b"123456789", b"000000000")


def zero_digits(text: str) -> str:
    """Every ASCII digit made 0: the key under which messages of one cause share cached work."""
    return (
        text.encode("utf-8", "surrogatepass")
        .translate(ZERO_DIGITS)
        .decode("utf-8", "surrogatepass")
    )


def signature(error: str | None) -> str:
    """The normalised text a fingerprint is made of (shown on a failure's page)."""
    return _signature(zero_digits(error or ""))


@lru_cache(maxsize=65536)
def _signature(error: str) -> str:
    return signatures([error])[0]


def signatures(errors: list[str]) -> list[str]:
    """The signature of each message (digits already zeroed): its first line, and its
    Playwright `Locator:` line if any, normalised; all lines of the batch in one go."""
    lines: dict[str, int] = {}  # what normalise_many is given, each line once, by its place
    shapes: list[tuple[int, int] | None] = []  # per message: its lines' places, -1 for none
    for error in errors:
        text = strip_ansi(error).strip()
        if not text:
            shapes.append(None)
            continue
        # Stripped, the text starts with a character of its first line, which is thus not
        # blank; splitlines, for the breaks other than "\n" (such as "\r" and "\u2028").
        end = text.find("\n")
        first = (text if end < 0 else text[:end]).splitlines()[0]
        first_at = lines.setdefault(first, len(lines))
        locator = _LOCATOR.search(text) if "Locator:" in text else None
        if locator is None:
            shapes.append((first_at, -1))
        else:
            shapes.append((first_at, lines.setdefault(locator[1], len(lines))))
    normalised = normalise_many(list(lines)) if lines else []
    return [
        "(no error message)"
        if shape is None
        else normalised[shape[0]]
        if shape[1] < 0
        else f"{normalised[shape[0]]}\nLocator: {normalised[shape[1]]}"
        for shape in shapes
    ]


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
    """`fingerprint` of a message already passed through `zero_digits`."""
    return fingerprint_of_signature(_signature(zeroed), place)


def fingerprint_of_signature(signature: str, place: str = "") -> str:
    """`fingerprint` of a message whose `signatures` entry a batch has made. Not cached: a
    batch asks once per distinct (message, place), and a cache's upkeep costs a third of a hash."""
    text = f"{signature}\n@ {place}" if place else signature
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
