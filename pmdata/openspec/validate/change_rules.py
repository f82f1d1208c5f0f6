"""The rules for a change (`openspec validate <change>`): its delta specs, checked against the
main specs, then its task files; one function per rule, called in the CLI's order."""

from __future__ import annotations

import re
from pathlib import Path

from pmdata.openspec.deltas import parse_delta_spec, requirement_name
from pmdata.openspec.markdown import requirement_body
from pmdata.openspec.spec_blocks import (
    contains_shall_or_must,
    count_empty_scenarios,
    count_scenarios,
    fold_name,
)
from pmdata.openspec.tree import (
    OpenSpecError,
    discover_spec_files,
    read_text,
)
from pmdata.openspec.validate.change_context import (
    archive_blockers,
    has_any_file,
    scenario_loss,
    skip_specs_marker,
    unread_delta_files,
)
from pmdata.openspec.validate.issues import (
    NO_DELTAS,
    SKIP_ACCEPTED,
    SKIP_CONFLICT,
    SKIP_INVALID,
    Issue,
    report,
    shall_message,
)
from pmdata.openspec.validate.task_rules import task_file_issues

OPS = ("ADDED", "MODIFIED", "REMOVED", "RENAMED")


def validate_change(
    change_dir: Path, main_specs_dir: Path | None = None, strict: bool = False
) -> dict:
    """`validate <change>`: the change's delta specs, checked against the main specs."""
    specs_dir = change_dir / "specs"
    root_spec = (specs_dir / "spec.md").is_file()
    issues = root_spec_file() if root_spec else []
    total = 0
    missing_headers: list[str] = []  # delta files with no delta section at all
    empty_sections: list[tuple[str, list[str]]] = []  # ... with sections but no entries
    for spec_id, spec_file in discover_spec_files(specs_dir):
        try:
            plan = parse_delta_spec(read_text(spec_file))
        except (OSError, OpenSpecError):
            continue
        entry = f"{spec_id}/spec.md"
        issues += skipped_headers(plan, entry)
        issues += unpaired_renames(plan, entry)
        issues += orphan_requirements(plan, entry)
        sections = [f"## {op} Requirements" for op in OPS if plan.presence.get(op)]
        if not (plan.added or plan.modified or plan.removed or plan.renamed):
            if sections:
                empty_sections.append((entry, sections))
            else:
                missing_headers.append(entry)
        total += len(plan.added) + len(plan.modified) + len(plan.removed) + len(plan.renamed)
        # dicts as ordered sets: the CLI reports conflicts in insertion order
        names: dict[str, dict[str, None]] = {op: {} for op in OPS[:3]}
        target = None
        if main_specs_dir is not None:
            target = main_specs_dir.joinpath(*spec_id.split("/"), "spec.md")
        issues += added_and_modified(plan, entry, names, target)
        issues += removed_twice(plan, entry, names)
        issues += renamed_twice(plan, entry)
        issues += in_two_sections(entry, names)
        issues += rename_conflicts(plan, entry, names)
    if main_specs_dir is not None:
        reported = {i.path for i in issues if i.level == "ERROR"}
        reported |= set(missing_headers) | {path for path, _ in empty_sections}
        issues += archive_blockers(change_dir, main_specs_dir, reported)
    unread = unread_delta_files(specs_dir)
    issues += [unread_file(path, expected) for path, expected in unread]
    issues += [sections_without_entries(path, sections) for path, sections in empty_sections]
    issues += [no_delta_sections(path) for path in missing_headers]
    issues += skip_marker(
        change_dir, specs_dir, no_deltas=total == 0 and not root_spec and not unread
    )
    if main_specs_dir is not None:
        issues += task_file_issues(change_dir, main_specs_dir.parent)
    return report(issues, strict)


def root_spec_file() -> list[Issue]:
    return [
        Issue(
            "ERROR",
            "spec.md",
            "Delta spec found at specs/spec.md. Delta specs must live under a capability path "
            "(e.g. specs/<capability-path>/spec.md) — a file at the specs/ root is ignored "
            "when the change is applied or archived.",
        )
    ]


def skipped_headers(plan, entry: str) -> list[Issue]:
    out = []
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
        out.append(Issue("INFO", entry, text, line))
    return out


def unpaired_renames(plan, entry: str) -> list[Issue]:
    out = []
    for side, name, line in plan.unpaired_renames:
        other = "TO" if side == "FROM" else "FROM"
        out.append(
            Issue(
                "ERROR",
                entry,
                f'RENAMED {side}: "{name}" has no matching {other}: line. Write each rename '
                "as a FROM: line followed immediately by its TO: line.",
                line,
            )
        )
    return out


def orphan_requirements(plan, entry: str) -> list[Issue]:
    out = []
    for name, section, line in plan.orphans:
        where = f'under "## {section}"' if section else 'above the first "## " section'
        out.append(
            Issue(
                "WARNING",
                entry,
                f'Requirement "{name}" is {where}, which is not a delta section, so it is '
                'ignored. Move it under "## ADDED Requirements", "## MODIFIED Requirements", '
                '"## REMOVED Requirements", or "## RENAMED Requirements".',
                line,
            )
        )
    return out


def added_and_modified(plan, entry: str, names: dict, target: Path | None) -> list[Issue]:
    """Each ADDED and MODIFIED requirement: named once, with SHALL/MUST text and a scenario;
    a MODIFIED one keeps the scenarios the main spec (`target`) has."""
    out = []
    for op, blocks in (("ADDED", plan.added), ("MODIFIED", plan.modified)):
        for block in blocks:
            key = requirement_name(block.name)
            if key in names[op]:
                out.append(Issue("ERROR", entry, f'Duplicate requirement in {op}: "{block.name}"'))
            names[op][key] = None
            body = block.raw.split("\n")[1:]
            text = requirement_body(body)
            subject = f'{op} "{block.name}"'
            if not text:
                message = (
                    shall_message(subject, block.name)
                    if contains_shall_or_must(block.name)
                    else f"{subject} is missing requirement text"
                )
                out.append(Issue("ERROR", entry, message))
            elif not contains_shall_or_must(text):
                out.append(Issue("WARNING", entry, shall_message(subject, block.name, True)))
            if count_scenarios(body) < 1:
                hint = (
                    " (a scenario header with no body under it does not count; add its "
                    'steps, e.g. "- **WHEN** ..." and "- **THEN** ...")'
                    if count_empty_scenarios(body)
                    else ""
                )
                out.append(
                    Issue("ERROR", entry, f"{subject} must include at least one scenario{hint}")
                )
        if op == "MODIFIED" and target is not None and plan.modified:
            out += scenario_loss(plan, target, entry)
    return out


def removed_twice(plan, entry: str, names: dict) -> list[Issue]:
    out = []
    for name in plan.removed:
        key = requirement_name(name)
        if key in names["REMOVED"]:
            out.append(Issue("ERROR", entry, f'Duplicate requirement in REMOVED: "{name}"'))
        names["REMOVED"][key] = None
    return out


def renamed_twice(plan, entry: str) -> list[Issue]:
    out, froms, tos = [], set(), set()
    for old, new in plan.renamed:
        for value, seen, label in ((old, froms, "FROM"), (new, tos, "TO")):
            key = requirement_name(value)
            if key in seen:
                out.append(Issue("ERROR", entry, f'Duplicate {label} in RENAMED: "{value}"'))
            seen.add(key)
    return out


def in_two_sections(entry: str, names: dict) -> list[Issue]:
    out = []
    added, modified, removed = names["ADDED"], names["MODIFIED"], names["REMOVED"]

    def both(first: str, second: str, name: str) -> Issue:
        return Issue("ERROR", entry, f'Requirement present in both {first} and {second}: "{name}"')

    for n in modified:
        if n in removed:
            out.append(both("MODIFIED", "REMOVED", n))
        if n in added:
            out.append(both("MODIFIED", "ADDED", n))
    out += [both("ADDED", "REMOVED", n) for n in added if n in removed]
    return out


def rename_conflicts(plan, entry: str, names: dict) -> list[Issue]:
    out = []
    added, modified, removed = names["ADDED"], names["MODIFIED"], names["REMOVED"]
    for old, new in plan.renamed:
        old_key, new_key = requirement_name(old), requirement_name(new)
        if old_key in modified:
            out.append(
                Issue(
                    "ERROR",
                    entry,
                    f'MODIFIED references old name from RENAMED. Use new header for "{new}"',
                )
            )
        if new_key in added:
            out.append(Issue("ERROR", entry, f'RENAMED TO collides with ADDED for "{new}"'))
        match = next((r for r in removed if fold_name(r) == fold_name(old_key)), None)
        if match is not None:
            spelled = "" if match == old_key else f' (REMOVED spells it "{match}")'
            out.append(
                Issue(
                    "ERROR",
                    entry,
                    f'Requirement present in both RENAMED and REMOVED: "{old}"{spelled}',
                )
            )
    return out


def unread_file(path: str, expected: str) -> Issue:
    return Issue(
        "ERROR",
        path,
        f"Delta spec found at specs/{path}. Delta specs must be a spec.md inside a "
        "capability folder — this file is ignored when the change is applied or archived. "
        f"Move its requirements into specs/{expected}.",
    )


def sections_without_entries(path: str, sections: list[str]) -> Issue:
    listed = sections[0] if len(sections) == 1 else f"{', '.join(sections[:-1])} and {sections[-1]}"
    return Issue(
        "ERROR",
        path,
        f"Delta sections {listed} were found, but no requirement entries parsed. Ensure "
        'each section includes at least one "### Requirement:" block (REMOVED may use '
        "bullet list syntax).",
    )


def no_delta_sections(path: str) -> Issue:
    return Issue(
        "ERROR",
        path,
        'No delta sections found. Add headers such as "## ADDED Requirements" or move '
        "non-delta notes outside specs/.",
    )


def skip_marker(change_dir: Path, specs_dir: Path, no_deltas: bool) -> list[Issue]:
    """`skip_specs: true` in .openspec.yaml: honoured only when valid and with no spec files;
    without it, a change needs at least one delta."""
    out = []
    skip, invalid = skip_specs_marker(change_dir)
    if invalid:
        out.append(Issue("ERROR", ".openspec.yaml", f"{SKIP_INVALID} ({invalid})"))
    has_files = skip and has_any_file(specs_dir)
    if skip and has_files:
        out.append(Issue("ERROR", "file", SKIP_CONFLICT))
    if no_deltas:
        if skip and not has_files:
            out.append(Issue("INFO", "file", SKIP_ACCEPTED))
        elif not skip:
            out.append(Issue("ERROR", "file", NO_DELTAS))
    return out
