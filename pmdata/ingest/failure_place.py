"""Where a failure happened in the test code, read from the report's own facts.

A person reading a failure asks first whether it broke in the test's body or in the code around
it: a `beforeEach`, an `afterAll`, a fixture, global setup. Playwright says where an error was
thrown (`error.location`, the stack's frames) and where the test is declared (`spec.line`):
a frame in the test's file above the test's own line is a hook (hooks are declared before the
tests they serve); no frame in the test's file at all, but frames in other test code, is a
fixture. The words in a file name ("fixtures", "setup") play no part: they are often the
product's.
"""

from __future__ import annotations

import re

TEST, HOOK, FIXTURE, SETUP = "test", "hook", "fixture", "setup"

# "    at fn (/abs/file.ts:12:5)" or "    at /abs/file.ts:12:5"
_FRAME = re.compile(
    r"^\s*at (?:.*?\()?(?P<file>[^()\s]+?):(?P<line>\d+):(?P<column>\d+)\)?\s*$", re.M
)
# Where Playwright itself, Node and the browser run: never the suite's own code.
_NOT_OURS = ("node_modules/", "node:", "internal/", "<anonymous>", "file://", "http://", "https://")


def frames(stack: str | None) -> list[tuple[str, int]]:
    """The stack's frames in the suite's own code, innermost first: (file, line)."""
    out = []
    for match in _FRAME.finditer(stack or ""):
        file = match["file"]
        if not any(marker in file for marker in _NOT_OURS):
            out.append((file, int(match["line"])))
    return out


def _same_file(path: str, spec_file: str) -> bool:
    # Locations are absolute, a spec's file is relative to the test folder.
    return bool(spec_file) and (path == spec_file or path.endswith("/" + spec_file.lstrip("./")))


def place(spec_file: str, spec_line: int | None, location: dict | None, stack: str | None) -> str:
    """ "test", "hook", "fixture", or "" when the report does not say (an error with no frames,
    such as Node's ECONNREFUSED)."""
    found = frames(stack)
    if location and location.get("file") and location.get("line") is not None:
        found.insert(0, (str(location["file"]), int(location["line"])))
    if not found:
        return ""
    in_spec = [line for file, line in found if _same_file(file, spec_file)]
    if not in_spec:
        return FIXTURE
    if spec_line is None or any(line >= spec_line for line in in_spec):
        return TEST
    return HOOK


def where(location: dict | None, root: str | None) -> str | None:
    """A location as `file:line:column`, the file relative to the suite's root."""
    if not location or not location.get("file"):
        return None
    file = str(location["file"])
    if root and file.startswith(root.rstrip("/") + "/"):
        file = file[len(root.rstrip("/")) + 1 :]
    parts = [file] + [str(location[k]) for k in ("line", "column") if location.get(k) is not None]
    return ":".join(parts)
