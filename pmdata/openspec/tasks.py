"""Task progress in tasks.md, by the CLI 1.13.1+ task-line rule."""

from __future__ import annotations

import re

from pmdata.openspec.markdown import JS_S, js_trim

# Any list marker (-, *, +, 1. or 1)), a checkbox with at most one marker, not a link.
TASK_LINE = re.compile(
    rf"^{JS_S}*(?:[-*+]|\d{{1,9}}[.)]){JS_S}*\[(?:{JS_S}*([^\]{JS_S[1:-1]}]?){JS_S}*\](?![(\[])"
    rf"|{JS_S}+\])"
)

# The same rule with the description captured (JS `.` stops at CR and the line separators).
_TASK_WITH_TEXT = re.compile(TASK_LINE.pattern + rf"{JS_S}*([^\r\u2028\u2029]*)")


def task_lines(text: str) -> list[tuple[bool, str]]:
    """(done, description) for every task line, as the CLI's parseTaskLines."""
    out = []
    for line in text.split("\n"):
        m = _TASK_WITH_TEXT.match(line) if "[" in line else None
        if m:
            out.append(((m.group(1) or "") in ("x", "X"), js_trim(m.group(2))))
    return out


def task_progress(text: str) -> tuple[int, int]:
    """(completed, total). Every matching line counts, code fences included, as in the CLI."""
    completed = total = 0
    # JS splits on \n only and `.` stops at \r: a CRLF file still matches line by line.
    for line in text.split("\n"):
        m = TASK_LINE.match(line) if "[" in line else None
        if m:
            total += 1
            if (m.group(1) or "") in ("x", "X"):
                completed += 1
    return completed, total


def status_of(completed: int, total: int) -> str:
    if total == 0:
        return "no-tasks"
    return "complete" if completed == total else "in-progress"
