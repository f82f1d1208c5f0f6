"""The rules for a change's task files, in the CLI's order."""

from __future__ import annotations

import re
from pathlib import Path

from pmdata.openspec.tasks import task_lines
from pmdata.openspec.validate.issues import NO_CHECKBOX, Issue

_LEVEL_TWO = re.compile(r"^ {0,3}##(?!#)(?:[ \t]+|[ \t]*\r?$)")
_NUMBERED_GROUP = re.compile(r"^ {0,3}##[ \t]+(\d+)\.(?:[ \t]|\r?$)")
_TASK_ID = re.compile(r"^(\d+(?:\.\d+)+(?:[A-Za-z]+)?)(?=\s|$)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+\S")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)")


def _uses_builtin_spec_driven(change_dir: Path, openspec_dir: Path) -> bool:
    schema = None
    for meta in (change_dir / ".openspec.yaml", openspec_dir / "config.yaml"):
        try:
            m = re.search(r"^schema:\s*['\"]?([^'\"#\s]+)", meta.read_text(encoding="utf-8"), re.M)
        except OSError:
            continue
        if m:
            schema = m.group(1)
            break
    schema = re.sub(r"\.ya?ml$", "", schema or "spec-driven")
    return schema == "spec-driven" and not (openspec_dir / "schemas" / "spec-driven").is_dir()


def task_file_issues(change_dir: Path, openspec_dir: Path) -> list[Issue]:
    """Task-numbering and missing-checkbox WARNINGs for the built-in spec-driven schema."""
    if not _uses_builtin_spec_driven(change_dir, openspec_dir):
        return []
    path = change_dir / "tasks.md"
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    issues = []
    if not task_lines(content):
        line = _first_list_item(content)
        if line is not None:
            issues.append(Issue("WARNING", "tasks.md", NO_CHECKBOX, line))
    issues += _numbering(content)
    return issues


def _numbering(content: str) -> list[Issue]:
    lines = content.split("\n")
    if not any(_NUMBERED_GROUP.match(line) for line in lines):
        return []
    out, first, group = [], {}, None
    for index, line in enumerate(lines):
        if _LEVEL_TWO.match(line):
            m = _NUMBERED_GROUP.match(line)
            group = m.group(1) if m else None
        if group is None:
            continue
        tasks = task_lines(line)
        m = _TASK_ID.match(tasks[0][1]) if tasks else None
        if not m:
            continue
        task_id, number = m.group(1), index + 1
        task_group = task_id.split(".")[0]
        if re.sub(r"^0+(?=\d)", "", task_group) != re.sub(r"^0+(?=\d)", "", group):
            out.append(
                Issue(
                    "WARNING",
                    "tasks.md",
                    f'Task "{task_id}" is under group {group}, but its leading number points to '
                    f"group {task_group}. Move it to group {task_group} or renumber it.",
                    number,
                )
            )
        if task_id in first:
            out.append(
                Issue(
                    "WARNING",
                    "tasks.md",
                    f'Task ID "{task_id}" is duplicated; it was first declared on line '
                    f"{first[task_id]}.",
                    number,
                )
            )
        else:
            first[task_id] = number
    return out


def _first_list_item(content: str) -> int | None:
    lines = content.split("\n")
    start = 0
    if lines and re.match(r"^-{3}\s*$", lines[0].lstrip("\ufeff").rstrip()):
        start = next(
            (i + 1 for i in range(1, len(lines)) if re.match(r"^-{3}\s*$", lines[i].rstrip())), 0
        )
    fence, in_comment = None, False
    for index in range(start, len(lines)):
        line = lines[index]
        if in_comment:
            in_comment = "-->" not in line
            continue
        m = _FENCE.match(line)
        if m:
            marker = (m.group(1)[0], len(m.group(1)))
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and marker[1] >= fence[1] and not m.group(2).strip():
                fence = None
            continue
        if fence is not None:
            continue
        if line.lstrip().startswith("<!--"):
            if "-->" not in line[line.index("<!--") + 4 :]:
                in_comment = True
            continue
        if _LIST_ITEM.match(line) and _indent(line) < 4:
            return index + 1
    return None


def _indent(line: str) -> int:
    column = 0
    for char in line:
        if char == " ":
            column += 1
        elif char == "\t":
            column += 4 - column % 4
        else:
            break
    return column
