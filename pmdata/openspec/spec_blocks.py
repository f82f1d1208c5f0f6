"""Requirement blocks of a main spec as `validate` and `archive` see them (the CLI's
requirement-blocks, requirement-text and spec-structure readers).

These read raw lines, not the section tree: a block is a `### Requirement:` header and every
line up to the next one or the next `## ` header, so what `archive` writes back is byte for
byte what the author wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pmdata.openspec.deltas import REQUIREMENT_HEADER, Block, requirement_name
from pmdata.openspec.markdown import fence_mask, js_trim, normalize

SCENARIO_HEADER = re.compile(r"^####\s+")
_SCENARIO_BODY_END = re.compile(r"^#{1,4}\s")
_REQUIREMENTS_HEADER = re.compile(r"^##\s+Requirements\s*$", re.I)
_TOP = re.compile(r"^##\s+")
_DELTA_HEADER = re.compile(r"^##\s+(ADDED|MODIFIED|REMOVED|RENAMED)\s+Requirements\s*$", re.I)
_STRICT_REQUIREMENT = re.compile(r"^###\s+Requirement:\s*(.+)\s*$", re.I)
_SHALL_MUST = re.compile(r"\b(SHALL|MUST)\b")


def fold_name(name: str) -> str:
    """Case- and spacing-insensitive form, for "differs only in case" checks."""
    return re.sub(r"\s+", " ", requirement_name(name).lower())


def contains_shall_or_must(text: str) -> bool:
    return bool(_SHALL_MUST.search(text))


def _scenario_bodies(body_lines: list[str]) -> list[str]:
    mask = fence_mask(body_lines)
    bodies = []
    for i, line in enumerate(body_lines):
        if mask[i] or not SCENARIO_HEADER.match(line):
            continue
        end = i + 1
        while end < len(body_lines) and (
            mask[end] or not _SCENARIO_BODY_END.match(body_lines[end])
        ):
            end += 1
        bodies.append("\n".join(body_lines[i + 1 : end]))
    return bodies


def count_scenarios(body_lines: list[str]) -> int:
    return sum(1 for body in _scenario_bodies(body_lines) if js_trim(body))


def count_empty_scenarios(body_lines: list[str]) -> int:
    return sum(1 for body in _scenario_bodies(body_lines) if not js_trim(body))


@dataclass
class RequirementsSection:
    before: str
    header_line: str
    preamble: str
    blocks: list[Block] = field(default_factory=list)
    after: str = "\n"


def requirements_section(content: str) -> RequirementsSection:
    """Split a main spec around `## Requirements` into its requirement blocks."""
    lines = normalize(content).split("\n")
    mask = fence_mask(lines)
    start = next(
        (i for i, line in enumerate(lines) if not mask[i] and _REQUIREMENTS_HEADER.match(line)), -1
    )
    if start == -1:
        before = content.rstrip()
        return RequirementsSection(before + "\n\n" if before else "", "## Requirements", "")
    end = next(
        (i for i in range(start + 1, len(lines)) if not mask[i] and _TOP.match(lines[i])),
        len(lines),
    )
    body, body_mask = lines[start + 1 : end], mask[start + 1 : end]
    is_req = lambda k: not body_mask[k] and REQUIREMENT_HEADER.match(body[k])  # noqa: E731
    is_top = lambda k: not body_mask[k] and _TOP.match(body[k])  # noqa: E731
    cursor, preamble = 0, []
    while cursor < len(body) and not is_req(cursor):
        preamble.append(body[cursor])
        cursor += 1
    blocks = []
    while cursor < len(body):
        if not is_req(cursor):
            cursor += 1
            continue
        header = body[cursor]
        name = requirement_name(REQUIREMENT_HEADER.match(header).group(1))
        buf = [header]
        cursor += 1
        while cursor < len(body) and not is_req(cursor) and not is_top(cursor):
            buf.append(body[cursor])
            cursor += 1
        blocks.append(Block(header, name, "\n".join(buf).rstrip()))
    before = "\n".join(lines[:start])
    after = "\n".join(lines[end:])
    return RequirementsSection(
        before=before + "\n" if before.rstrip() else before,
        header_line=lines[start],
        preamble="\n".join(preamble).rstrip(),
        blocks=blocks,
        after=after if after.startswith("\n") else "\n" + after,
    )


# -- scenarios by name (archive refuses a MODIFIED block that drops one) -----------------------
def _scenario_names(raw: str) -> list[str]:
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    mask = fence_mask(lines)
    names = []
    for i, line in enumerate(lines):
        if not mask[i] and SCENARIO_HEADER.match(line):
            name = SCENARIO_HEADER.sub("", line, count=1)
            name = re.sub(r"[ \t]+#+[ \t]*$", "", name)
            names.append(js_trim(re.sub(r"^Scenario:\s*", "", name, count=1, flags=re.I)))
    return names


@dataclass
class ScenarioDiff:
    missing: list[str]
    added: list[str]
    current_count: int
    incoming_count: int


def diff_scenarios(current: Block, incoming: Block) -> ScenarioDiff:
    have, new = _scenario_names(current.raw), _scenario_names(incoming.raw)

    def unmatched(names: list[str], against: list[str]) -> list[str]:
        left: dict[str, int] = {}
        for name in against:
            left[name] = left.get(name, 0) + 1
        out = []
        for name in names:
            if left.get(name, 0) > 0:
                left[name] -= 1
            else:
                out.append(name)
        return out

    return ScenarioDiff(unmatched(have, new), unmatched(new, have), len(have), len(new))


def describe_balance(diff: ScenarioDiff) -> str:
    def count(n: int) -> str:
        return f"{n} {'scenario' if n == 1 else 'scenarios'}"

    scale = (
        f"The modified block has {count(diff.incoming_count)}; "
        f"the current spec has {count(diff.current_count)}."
    )
    if not diff.added:
        return f"{scale} It adds none."
    listed = ", ".join(f'"{n}"' for n in diff.added[:3])
    rest = len(diff.added) - 3
    names = f"{listed} and {rest} more" if rest > 0 else listed
    return f"{scale} It adds {count(len(diff.added))} not in the current spec: {names}."


# -- structure of a main spec ------------------------------------------------------------------
@dataclass
class StructureIssue:
    line: int
    message: str


def structure_issues(content: str) -> list[StructureIssue]:
    """Delta headers in a main spec, requirements outside `## Requirements`, duplicates."""
    raw = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    mask = fence_mask(raw)
    lines = ["" if mask[i] else line for i, line in enumerate(raw)]
    start = next((i for i, line in enumerate(lines) if _REQUIREMENTS_HEADER.match(line)), -1)
    end = len(lines)
    if start != -1:
        end = next((i for i in range(start + 1, len(lines)) if _TOP.match(lines[i])), len(lines))
    issues, seen = [], {}
    for i, line in enumerate(lines):
        trimmed = js_trim(line)
        if not trimmed:
            continue
        if _DELTA_HEADER.match(line):
            issues.append(
                StructureIssue(
                    i + 1,
                    f'Main spec contains delta header "{trimmed}". Delta headers are only valid '
                    "inside openspec/changes/<name>/specs/<capability-path>/spec.md and truncate "
                    "the parsed ## Requirements section.",
                )
            )
            continue
        m = _STRICT_REQUIREMENT.match(line)
        if not m:
            continue
        if not (start != -1 and start < i < end):
            issues.append(
                StructureIssue(
                    i + 1,
                    f'Requirement header "{trimmed}" appears outside the main ## Requirements '
                    "section. Main specs only parse requirements inside that section, so this "
                    "requirement is currently invisible to validate, list, and archive.",
                )
            )
            continue
        name = requirement_name(m.group(1))
        if name in seen:
            issues.append(
                StructureIssue(
                    i + 1,
                    f'Requirement header "{trimmed}" duplicates the requirement declared on line '
                    f"{seen[name]}. Requirement names must be unique so spec updates cannot "
                    "discard one block while updating another.",
                )
            )
        else:
            seen[name] = i + 1
    return issues
