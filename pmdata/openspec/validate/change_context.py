"""What a change's rules read beyond its delta text: the main spec a MODIFIED block replaces,
a dry run of the archive's merge, files under specs/ the CLI ignores, and the skip_specs
marker of .openspec.yaml."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pmdata.openspec import merge
from pmdata.openspec.deltas import parse_delta_spec, requirement_name
from pmdata.openspec.spec_blocks import (
    describe_balance,
    diff_scenarios,
    requirements_section,
)
from pmdata.openspec.tree import (
    OpenSpecError,
    read_text,
)
from pmdata.openspec.validate.issues import (
    Issue,
)


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


def has_any_file(folder: Path) -> bool:
    for _, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if any(not f.startswith(".") for f in files):
            return True
    return False


def scenario_loss(plan, target: Path, entry: str) -> list[Issue]:
    try:
        current_text = target.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        return [
            Issue(
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
            Issue(
                "ERROR",
                entry,
                f'MODIFIED "{block.name}" omits scenario(s) the current spec still has: {missing}. '
                f"{describe_balance(diff)} Copy the omitted scenarios into the MODIFIED block (a "
                "MODIFIED requirement replaces the whole block, so archive refuses to drop them).",
            )
        )
    return out


def archive_blockers(change_dir: Path, main_specs_dir: Path, reported: set[str]) -> list[Issue]:
    """A dry-run merge: what `archive` would refuse, as INFO (a sibling change may fix it)."""
    try:
        updates = merge.find_spec_updates(change_dir, main_specs_dir)
    except merge.ApplyError as exc:
        return [Issue("INFO", "specs", f"Could not check archive merge conflicts: {exc}")]
    out = []
    for update in updates:
        entry = f"{update.id}/spec.md"
        if entry in reported:
            continue
        try:
            merge.build_updated_spec(update, change_dir.name)
        except merge.ApplyError as exc:
            out.append(Issue("INFO", entry, f"Archive would refuse this delta: {exc}"))
        except OSError:
            continue
    return out
