"""`openspec validate`: the CLI 1.13.2 rules for main specs, change deltas and archived changes.

A report is {valid, issues: [{level, path, message, line?}]}; `valid` means no ERROR (and, with
strict, no WARNING). Messages are the CLI's own, word for word, so a person can search them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pmdata.openspec import merge
from pmdata.openspec.deltas import parse_delta_spec, requirement_name
from pmdata.openspec.markdown import fence_mask, js_trim, requirement_body
from pmdata.openspec.spec_blocks import (
    contains_shall_or_must,
    count_empty_scenarios,
    count_scenarios,
    describe_balance,
    diff_scenarios,
    fold_name,
    requirements_section,
    structure_issues,
)
from pmdata.openspec.tasks import task_lines, task_progress
from pmdata.openspec.tree import (
    OpenSpecError,
    OpenSpecTree,
    discover_spec_files,
    locale_key,
    read_text,
)

MIN_PURPOSE_LENGTH = 50
MAX_REQUIREMENT_TEXT = 500
NO_SCENARIOS = "Requirement must have at least one scenario"
SCENARIO_FORMAT = (
    "Scenarios must use level-4 headers. Convert bullet lists into:\n#### Scenario: Short name\n"
    "- **WHEN** ...\n- **THEN** ...\n- **AND** ..."
)
MISSING_SPEC_SECTIONS = (
    'Missing required sections. Expected headers: "## Purpose" and "## Requirements". Example:\n'
    "## Purpose\n[brief purpose]\n\n## Requirements\n### Requirement: Clear requirement "
    "statement\nUsers SHALL ...\n\n#### Scenario: Descriptive name\n- **WHEN** ...\n- **THEN** ..."
)
NO_DELTAS = (
    "Change must have at least one delta. No deltas found. Ensure your change has a specs/ "
    "directory with capability folders (e.g. specs/http-server/spec.md) containing .md files that "
    "use delta headers (## ADDED/MODIFIED/REMOVED/RENAMED Requirements) and that each requirement "
    'includes at least one "#### Scenario:" block. If this change intentionally modifies no specs '
    '(pure refactor, tooling, docs), set "skip_specs: true" in the change\'s .openspec.yaml '
    'instead. Tip: run "openspec change show <change-id> --json --deltas-only" to inspect parsed '
    "deltas."
)
PURPOSE_TOO_BRIEF = f"Purpose section is too brief (less than {MIN_PURPOSE_LENGTH} characters)"
PURPOSE_PLACEHOLDER = (
    "Purpose section is still a placeholder rather than a Purpose anyone wrote (the sentence "
    "`openspec archive` writes for a new capability, or a `TBD`/`TODO` marker left in its place). "
    "Replace it with what this capability is for, editing the main spec directly: a `## Purpose` "
    "in a delta is read only when the capability is created, so it cannot replace this one."
)
TOO_LONG = (
    f"Requirement text is very long (>{MAX_REQUIREMENT_TEXT} characters). "
    "Consider breaking it down."
)
SKIP_CONFLICT = (
    "skip_specs is set in .openspec.yaml but spec files exist under specs/. Remove skip_specs or "
    "delete the delta spec files"
)
SKIP_ACCEPTED = (
    "skip_specs is set in .openspec.yaml: change declares no spec-level behavior changes, zero "
    "deltas accepted"
)
SKIP_INVALID = (
    "skip_specs is set but .openspec.yaml is not valid change metadata, so the marker is not "
    "honored. Fix the metadata"
)
NO_CHECKBOX = (
    "This change counts as 0 tasks: no line in its tracked task files is a checkbox, so "
    '"openspec list" and "openspec status" report no work and "openspec archive" has nothing to '
    'flag as incomplete. Write each task as "- [ ] 1.1 Description".'
)


def issue(level: str, path: str, message: str, line: int | None = None) -> dict:
    out = {"level": level, "path": path, "message": message}
    if line is not None:
        out["line"] = line
    return out


def report(issues: list[dict], strict: bool = False) -> dict:
    levels = [i["level"] for i in issues]
    bad = "ERROR" in levels or (strict and "WARNING" in levels)
    return {"valid": not bad, "issues": issues}


# -- main specs --------------------------------------------------------------------------------
def validate_spec_text(spec_id: str, content: str, strict: bool = False) -> dict:
    issues: list[dict] = []
    try:
        spec = OpenSpecTree.parse_spec_text(content)
    except OpenSpecError as exc:
        message = str(exc)
        if "Purpose section" in message or "Requirements section" in message:
            message = f"{message}. {MISSING_SPEC_SECTIONS}"
        return report([issue("ERROR", "file", message)], strict)
    requirements = spec["requirements"]
    # What the CLI's zod schema reports, in its order.
    for n, req in enumerate(requirements):
        if not req["scenarios"]:
            issues.append(issue("ERROR", f"requirements.{n}.scenarios", NO_SCENARIOS))
    if not requirements:
        issues.append(issue("ERROR", "requirements", "Spec must have at least one requirement"))
    for problem in structure_issues(content):
        issues.append(issue("ERROR", "file", problem.message, problem.line))
    placeholder = _purpose_placeholder(spec["overview"], content)
    if placeholder is not False:
        issues.append(issue("WARNING", "overview", PURPOSE_PLACEHOLDER, placeholder))
    elif len(spec["overview"]) < MIN_PURPOSE_LENGTH:
        issues.append(issue("WARNING", "overview", PURPOSE_TOO_BRIEF))
    for n, req in enumerate(requirements):
        if len(req["text"]) > MAX_REQUIREMENT_TEXT:
            issues.append(issue("INFO", f"requirements[{n}]", TOO_LONG))
        if not req["scenarios"]:
            issues.append(
                issue(
                    "WARNING", f"requirements[{n}].scenarios", f"{NO_SCENARIOS}. {SCENARIO_FORMAT}"
                )
            )
    for n, block in enumerate(requirements_section(content).blocks):
        text = requirement_body(block.raw.split("\n")[1:])
        subject = f'Requirement "{block.name}"'
        if not text:
            issues.append(issue("ERROR", f"requirements[{n}]", _shall_message(subject, block.name)))
        elif not contains_shall_or_must(text):
            issues.append(
                issue("WARNING", f"requirements[{n}]", _shall_message(subject, block.name, True))
            )
    return report(issues, strict)


def _shall_message(prefix: str, name: str, guidance: bool = False) -> str:
    base = f"{prefix} {'should' if guidance else 'must'} contain SHALL or MUST"
    suffix = " (RFC 2119 best practice for English specs)" if guidance else ""
    if contains_shall_or_must(name):
        return (
            f"{base} in the requirement body, not only in the header. Move the SHALL/MUST "
            'statement to the line immediately after the "### Requirement: ..." header.'
            f"{suffix}"
        )
    return base + suffix


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


# -- changes -----------------------------------------------------------------------------------
def skip_specs_marker(change_dir: Path) -> tuple[bool, str | None]:
    """(skip_specs declared, why it cannot be honoured) from the change's .openspec.yaml."""
    try:
        text = (change_dir / ".openspec.yaml").read_text(encoding="utf-8")
    except OSError:
        return False, None
    if not re.search(r"^skip_specs:\s*true\s*(#.*)?$", text, re.M):
        return False, None
    if not re.search(r"^schema:\s*\S", text, re.M):
        return False, "schema: Required"
    return True, None


def unread_delta_files(specs_dir: Path) -> list[tuple[str, str]]:
    """Delta sections in .md files the merge never reads: (path, where they belong)."""
    found = []
    for folder, dirs, files in os.walk(specs_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = Path(folder).relative_to(specs_dir).parts
        for name in sorted(files):
            if name.startswith(".") or name == "spec.md" or not name.lower().endswith(".md"):
                continue
            try:
                plan = parse_delta_spec(read_text(Path(folder, name)))
            except (OSError, OpenSpecError):
                continue
            if plan.has_delta_sections:
                capability = "/".join(rel) if rel else name[:-3]
                found.append(("/".join([*rel, name]), f"{capability}/spec.md"))
    return sorted(found)


def _has_any_file(folder: Path) -> bool:
    for _, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if any(not f.startswith(".") for f in files):
            return True
    return False


def validate_change(
    change_dir: Path, main_specs_dir: Path | None = None, strict: bool = False
) -> dict:
    """`validate <change>`: the change's delta specs, checked against the main specs."""
    issues: list[dict] = []
    specs_dir = change_dir / "specs"
    total = 0
    root_spec = (specs_dir / "spec.md").is_file()
    missing_headers: list[str] = []
    empty_sections: list[tuple[str, list[str]]] = []
    if root_spec:
        issues.append(
            issue(
                "ERROR",
                "spec.md",
                "Delta spec found at specs/spec.md. Delta specs must live under a capability path "
                "(e.g. specs/<capability-path>/spec.md) — a file at the specs/ root is ignored "
                "when the change is applied or archived.",
            )
        )
    for spec_id, spec_file in discover_spec_files(specs_dir):
        try:
            plan = parse_delta_spec(read_text(spec_file))
        except (OSError, OpenSpecError):
            continue
        entry = f"{spec_id}/spec.md"
        for header, section, line in plan.skipped_headers:
            if re.match(r"^requirement:?$", header, re.I):
                text = (
                    f'Header "### {header}" in {section} is missing a requirement name and is '
                    'ignored by validation. Add a name, e.g. "### Requirement: <name>".'
                )
            else:
                text = (
                    f'Header "### {header}" in {section} is not a "### Requirement:" header and is '
                    f'ignored by validation. Use "### Requirement: {header}" if it should be '
                    "validated as a requirement."
                )
            issues.append(issue("INFO", entry, text, line))
        for side, name, line in plan.unpaired_renames:
            other = "TO" if side == "FROM" else "FROM"
            issues.append(
                issue(
                    "ERROR",
                    entry,
                    f'RENAMED {side}: "{name}" has no matching {other}: line. Write each rename '
                    "as a FROM: line followed immediately by its TO: line.",
                    line,
                )
            )
        for name, section, line in plan.orphans:
            where = f'under "## {section}"' if section else 'above the first "## " section'
            issues.append(
                issue(
                    "WARNING",
                    entry,
                    f'Requirement "{name}" is {where}, which is not a delta section, so it is '
                    'ignored. Move it under "## ADDED Requirements", "## MODIFIED Requirements", '
                    '"## REMOVED Requirements", or "## RENAMED Requirements".',
                    line,
                )
            )
        sections = [
            f"## {op} Requirements"
            for op in ("ADDED", "MODIFIED", "REMOVED", "RENAMED")
            if plan.presence.get(op)
        ]
        if not (plan.added or plan.modified or plan.removed or plan.renamed):
            if sections:
                empty_sections.append((entry, sections))
            else:
                missing_headers.append(entry)
        # dicts as ordered sets: the CLI reports conflicts in insertion order
        names: dict[str, dict[str, None]] = {op: {} for op in ("ADDED", "MODIFIED", "REMOVED")}
        for op, blocks in (("ADDED", plan.added), ("MODIFIED", plan.modified)):
            for block in blocks:
                total += 1
                key = requirement_name(block.name)
                if key in names[op]:
                    issues.append(
                        issue("ERROR", entry, f'Duplicate requirement in {op}: "{block.name}"')
                    )
                names[op][key] = None
                body = block.raw.split("\n")[1:]
                text = requirement_body(body)
                subject = f'{op} "{block.name}"'
                if not text:
                    message = (
                        _shall_message(subject, block.name)
                        if contains_shall_or_must(block.name)
                        else f"{subject} is missing requirement text"
                    )
                    issues.append(issue("ERROR", entry, message))
                elif not contains_shall_or_must(text):
                    issues.append(
                        issue("WARNING", entry, _shall_message(subject, block.name, True))
                    )
                if count_scenarios(body) < 1:
                    hint = (
                        " (a scenario header with no body under it does not count; add its "
                        'steps, e.g. "- **WHEN** ..." and "- **THEN** ...")'
                        if count_empty_scenarios(body)
                        else ""
                    )
                    issues.append(
                        issue("ERROR", entry, f"{subject} must include at least one scenario{hint}")
                    )
            if op == "MODIFIED" and main_specs_dir is not None and plan.modified:
                target = main_specs_dir.joinpath(*spec_id.split("/"), "spec.md")
                issues += _scenario_loss(plan, target, entry)
        for name in plan.removed:
            total += 1
            key = requirement_name(name)
            if key in names["REMOVED"]:
                issues.append(issue("ERROR", entry, f'Duplicate requirement in REMOVED: "{name}"'))
            names["REMOVED"][key] = None
        froms, tos = set(), set()
        for old, new in plan.renamed:
            total += 1
            for value, seen, label in ((old, froms, "FROM"), (new, tos, "TO")):
                key = requirement_name(value)
                if key in seen:
                    issues.append(issue("ERROR", entry, f'Duplicate {label} in RENAMED: "{value}"'))
                seen.add(key)
        added, modified, removed = names["ADDED"], names["MODIFIED"], names["REMOVED"]
        for n in modified:
            if n in removed:
                issues.append(
                    issue(
                        "ERROR", entry, f'Requirement present in both MODIFIED and REMOVED: "{n}"'
                    )
                )
            if n in added:
                issues.append(
                    issue("ERROR", entry, f'Requirement present in both MODIFIED and ADDED: "{n}"')
                )
        for n in added:
            if n in removed:
                issues.append(
                    issue("ERROR", entry, f'Requirement present in both ADDED and REMOVED: "{n}"')
                )
        for old, new in plan.renamed:
            old_key, new_key = requirement_name(old), requirement_name(new)
            if old_key in modified:
                issues.append(
                    issue(
                        "ERROR",
                        entry,
                        f'MODIFIED references old name from RENAMED. Use new header for "{new}"',
                    )
                )
            if new_key in added:
                issues.append(issue("ERROR", entry, f'RENAMED TO collides with ADDED for "{new}"'))
            match = next((r for r in removed if fold_name(r) == fold_name(old_key)), None)
            if match is not None:
                spelled = "" if match == old_key else f' (REMOVED spells it "{match}")'
                issues.append(
                    issue(
                        "ERROR",
                        entry,
                        f'Requirement present in both RENAMED and REMOVED: "{old}"{spelled}',
                    )
                )
    if main_specs_dir is not None:
        reported = {i["path"] for i in issues if i["level"] == "ERROR"}
        reported |= set(missing_headers) | {path for path, _ in empty_sections}
        issues += _archive_blockers(change_dir, main_specs_dir, reported)
    unread = unread_delta_files(specs_dir)
    for path, expected in unread:
        issues.append(
            issue(
                "ERROR",
                path,
                f"Delta spec found at specs/{path}. Delta specs must be a spec.md inside a "
                "capability folder — this file is ignored when the change is applied or archived. "
                f"Move its requirements into specs/{expected}.",
            )
        )
    for path, sections in empty_sections:
        listed = (
            sections[0] if len(sections) == 1 else f"{', '.join(sections[:-1])} and {sections[-1]}"
        )
        issues.append(
            issue(
                "ERROR",
                path,
                f"Delta sections {listed} were found, but no requirement entries parsed. Ensure "
                'each section includes at least one "### Requirement:" block (REMOVED may use '
                "bullet list syntax).",
            )
        )
    for path in missing_headers:
        issues.append(
            issue(
                "ERROR",
                path,
                'No delta sections found. Add headers such as "## ADDED Requirements" or move '
                "non-delta notes outside specs/.",
            )
        )
    skip, invalid = skip_specs_marker(change_dir)
    if invalid:
        issues.append(issue("ERROR", ".openspec.yaml", f"{SKIP_INVALID} ({invalid})"))
    has_files = skip and _has_any_file(specs_dir)
    if skip and has_files:
        issues.append(issue("ERROR", "file", SKIP_CONFLICT))
    if total == 0 and not root_spec and not unread:
        if skip and not has_files:
            issues.append(issue("INFO", "file", SKIP_ACCEPTED))
        elif not skip:
            issues.append(issue("ERROR", "file", NO_DELTAS))
    if main_specs_dir is not None:
        issues += task_file_issues(change_dir, main_specs_dir.parent)
    return report(issues, strict)


def _scenario_loss(plan, target: Path, entry: str) -> list[dict]:
    try:
        current_text = target.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        return [
            issue(
                "ERROR",
                entry,
                f"Could not read {target.as_posix()} to check the MODIFIED requirements against "
                f"it ({exc.strerror}). Archive reads the same file, so fix the file before "
                "archiving.",
            )
        ]
    current = {requirement_name(b.name): b for b in requirements_section(current_text).blocks}
    renamed_from = {requirement_name(new): requirement_name(old) for old, new in plan.renamed}
    renamed_away = {requirement_name(old) for old, _ in plan.renamed}

    def current_block(name: str):
        seen, key = set(), name
        while key is not None and key not in seen:
            if key in current:
                return current[key]
            seen.add(key)
            key = renamed_from.get(key)
        return None

    out = []
    for block in plan.modified:
        key = requirement_name(block.name)
        if key in renamed_away:
            continue
        have = current_block(key)
        if have is None:
            continue
        diff = diff_scenarios(have, block)
        if not diff.missing:
            continue
        missing = ", ".join(f'"{n}"' for n in diff.missing)
        out.append(
            issue(
                "ERROR",
                entry,
                f'MODIFIED "{block.name}" omits scenario(s) the current spec still has: {missing}. '
                f"{describe_balance(diff)} Copy the omitted scenarios into the MODIFIED block (a "
                "MODIFIED requirement replaces the whole block, so archive refuses to drop them).",
            )
        )
    return out


def _archive_blockers(change_dir: Path, main_specs_dir: Path, reported: set[str]) -> list[dict]:
    """A dry-run merge: what `archive` would refuse, as INFO (a sibling change may fix it)."""
    try:
        updates = merge.find_spec_updates(change_dir, main_specs_dir)
    except merge.ApplyError as exc:
        return [issue("INFO", "specs", f"Could not check archive merge conflicts: {exc}")]
    out = []
    for update in updates:
        entry = f"{update.id}/spec.md"
        if entry in reported:
            continue
        try:
            merge.build_updated_spec(update, change_dir.name)
        except merge.ApplyError as exc:
            out.append(issue("INFO", entry, f"Archive would refuse this delta: {exc}"))
        except OSError:
            continue
    return out


# -- task files --------------------------------------------------------------------------------
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


def task_file_issues(change_dir: Path, openspec_dir: Path) -> list[dict]:
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
            issues.append(issue("WARNING", "tasks.md", NO_CHECKBOX, line))
    issues += _numbering(content)
    return issues


def _numbering(content: str) -> list[dict]:
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
                issue(
                    "WARNING",
                    "tasks.md",
                    f'Task "{task_id}" is under group {group}, but its leading number points to '
                    f"group {task_group}. Move it to group {task_group} or renumber it.",
                    number,
                )
            )
        if task_id in first:
            out.append(
                issue(
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


# -- whole trees -------------------------------------------------------------------------------
def _summary(items: list[dict], types: list[str]) -> dict:
    def count(rows):
        passed = sum(1 for r in rows if r["valid"])
        return {"items": len(rows), "passed": passed, "failed": len(rows) - passed}

    return {
        "totals": count(items),
        "byType": {t: count([r for r in items if r["type"] == t]) for t in types},
    }


def validate_tree(
    tree: OpenSpecTree, strict: bool = False, changes: bool = True, specs: bool = True
) -> dict:
    """`openspec validate --all --json` (or --changes / --specs) without durations or root."""
    items = []
    if changes:
        for change_id in sorted(tree.change_ids(include_dot=False)):
            result = validate_change(tree.changes_dir / change_id, tree.specs_dir, strict)
            items.append({"id": change_id, "type": "change", **result})
    if specs:
        for spec_id, path in discover_spec_files(tree.specs_dir):
            try:
                text = read_text(path, tree.problems)
            except (OSError, OpenSpecError) as exc:
                result = report([issue("ERROR", "file", str(exc))], strict)
            else:
                result = validate_spec_text(spec_id, text, strict)
            items.append({"id": spec_id, "type": "spec", **result})
    items.sort(key=lambda r: locale_key(r["id"]))  # the CLI's localeCompare, not code points
    types = [t for t, on in (("change", changes), ("spec", specs)) if on]
    return {"items": items, "summary": _summary(items, types), "version": "1.0"}


def validate_archived(tree: OpenSpecTree) -> dict:
    """`openspec validate --archived --json`: every archived change must have its tasks done."""
    items = []
    for change_id in tree.archived_ids():
        path = tree.changes_dir / "archive" / change_id / "tasks.md"
        issues = []
        try:
            done, total = task_progress(read_text(path)) if path.exists() else (0, 0)
        except (OSError, OpenSpecError):
            issues.append(
                issue(
                    "ERROR",
                    f"openspec/changes/archive/{change_id}/tasks.md",
                    "could not read task file",
                )
            )
            done = total = 0
        open_tasks = max(total - done, 0)
        if open_tasks:
            plural = "" if open_tasks == 1 else "s"
            issues.append(
                issue(
                    "ERROR",
                    "tasks.md",
                    f"{open_tasks} incomplete task{plural} ({done}/{total} completed)",
                )
            )
        items.append({"id": change_id, "type": "change", "valid": not issues, "issues": issues})
    return {"items": items, "summary": _summary(items, ["change"]), "version": "1.0"}
