"""The rules for a main spec (`openspec validate <spec>`), in the CLI's order."""

from __future__ import annotations

import re

from pmdata.openspec import merge
from pmdata.openspec.markdown import fence_mask, js_trim, requirement_body
from pmdata.openspec.spec_blocks import (
    contains_shall_or_must,
    requirements_section,
    structure_issues,
)
from pmdata.openspec.tree import (
    OpenSpecError,
    OpenSpecTree,
)
from pmdata.openspec.validate.issues import (
    MAX_REQUIREMENT_TEXT,
    MIN_PURPOSE_LENGTH,
    MISSING_SPEC_SECTIONS,
    NO_SCENARIOS,
    PURPOSE_PLACEHOLDER,
    PURPOSE_TOO_BRIEF,
    SCENARIO_FORMAT,
    TOO_LONG,
    Issue,
    report,
    shall_message,
)


def validate_spec_text(spec_id: str, content: str, strict: bool = False) -> dict:
    issues: list[Issue] = []
    try:
        spec = OpenSpecTree.parse_spec_text(content)
    except OpenSpecError as exc:
        message = str(exc)
        if "Purpose section" in message or "Requirements section" in message:
            message = f"{message}. {MISSING_SPEC_SECTIONS}"
        return report([Issue("ERROR", "file", message)], strict)
    requirements = spec["requirements"]
    # What the CLI's zod schema reports, in its order.
    for n, req in enumerate(requirements):
        if not req["scenarios"]:
            issues.append(Issue("ERROR", f"requirements.{n}.scenarios", NO_SCENARIOS))
    if not requirements:
        issues.append(Issue("ERROR", "requirements", "Spec must have at least one requirement"))
    for problem in structure_issues(content):
        issues.append(Issue("ERROR", "file", problem.message, problem.line))
    placeholder = _purpose_placeholder(spec["overview"], content)
    if placeholder is not False:
        issues.append(Issue("WARNING", "overview", PURPOSE_PLACEHOLDER, placeholder))
    elif len(spec["overview"]) < MIN_PURPOSE_LENGTH:
        issues.append(Issue("WARNING", "overview", PURPOSE_TOO_BRIEF))
    for n, req in enumerate(requirements):
        if len(req["text"]) > MAX_REQUIREMENT_TEXT:
            issues.append(Issue("INFO", f"requirements[{n}]", TOO_LONG))
        if not req["scenarios"]:
            issues.append(
                Issue(
                    "WARNING", f"requirements[{n}].scenarios", f"{NO_SCENARIOS}. {SCENARIO_FORMAT}"
                )
            )
    for n, block in enumerate(requirements_section(content).blocks):
        text = requirement_body(block.raw.split("\n")[1:])
        subject = f'Requirement "{block.name}"'
        if not text:
            issues.append(Issue("ERROR", f"requirements[{n}]", shall_message(subject, block.name)))
        elif not contains_shall_or_must(text):
            issues.append(
                Issue("WARNING", f"requirements[{n}]", shall_message(subject, block.name, True))
            )
    return report(issues, strict)


_WORD_END = r"(?![^\W_]|_)"  # JS (?![\p{L}\p{N}\p{M}_])
_LEADING_SHOUTED = re.compile(rf"^(?:TBD|TODO){_WORD_END}")
_LEADING_PUNCTUATED = re.compile(
    rf"^(?:TBD|TODO){_WORD_END}(?=[ \t]*(?:$|\n|[:\-\u2013\u2014.,;()\[\]{{}}]))", re.I
)
_PURPOSE_HEADER = re.compile(r"^ {0,3}##(?!#)[ \t]+Purpose[ \t]*$", re.I)
_TOP_HEADER = re.compile(r"^ {0,3}#{1,2}(?!#)[ \t]+")


def _placeholder_at(text: str) -> int | None:
    suffix_at = text.find(merge.PLACEHOLDER_SUFFIX)
    while suffix_at != -1:
        prefix_at = text.rfind(merge.PLACEHOLDER_PREFIX, 0, suffix_at + 1)
        if prefix_at != -1:
            return prefix_at
        suffix_at = text.find(merge.PLACEHOLDER_SUFFIX, suffix_at + 1)
    return None


def _purpose_placeholder(overview: str, content: str) -> int | None | bool:
    """False when a person wrote the Purpose; else the placeholder's line (or None)."""
    lines = overview.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    mask = fence_mask(lines)
    prose = js_trim("\n".join(line for i, line in enumerate(lines) if not mask[i]))
    leading = bool(_LEADING_SHOUTED.match(prose) or _LEADING_PUNCTUATED.match(prose))
    if not leading and _placeholder_at(prose) is None:
        return False
    lines = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    mask = fence_mask(lines)
    start = next(
        (i for i, line in enumerate(lines) if not mask[i] and _PURPOSE_HEADER.match(line)), -1
    )
    if start == -1:
        return None
    purpose = []
    for i in range(start + 1, len(lines)):
        if mask[i]:
            continue
        if _TOP_HEADER.match(lines[i]):
            break
        if leading and js_trim(lines[i]):
            return i + 1
        purpose.append((i + 1, lines[i]))
    if leading:
        return None
    text = "\n".join(t for _, t in purpose)
    at = _placeholder_at(text)
    if at is None:
        return None
    offset = text[:at].count("\n")
    return purpose[offset][0] if offset < len(purpose) else None
