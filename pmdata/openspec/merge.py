"""Merging a change's delta specs into the main specs, as `openspec archive` does (specs-apply).

`build_updated_spec` only computes the new text; `archive.py` writes it. Validation reuses the
same function as a dry run, so "archive would refuse this" is never a second opinion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pmdata.errors import PmdashError
from pmdata.openspec.deltas import REQUIREMENT_HEADER, Block, parse_delta_spec, requirement_name
from pmdata.openspec.markdown import fence_mask, find_section, js_trim, parse_sections
from pmdata.openspec.spec_blocks import (
    describe_balance,
    diff_scenarios,
    fold_name,
    requirements_section,
    structure_issues,
)
from pmdata.openspec.tree import discover_spec_files

PLACEHOLDER_PREFIX = "TBD - created by archiving change "
PLACEHOLDER_SUFFIX = ". Update Purpose after archive."
MIN_PURPOSE_LENGTH = 50


class ApplyError(PmdashError):
    """A delta cannot be merged into its main spec; the message is the CLI's own wording."""


@dataclass
class SpecUpdate:
    id: str
    source: Path
    target: Path
    exists: bool


@dataclass
class Merged:
    rebuilt: str
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    no_requirement_blocks: bool = False


def find_spec_updates(change_dir: Path, main_specs_dir: Path) -> list[SpecUpdate]:
    """One update per delta spec of the change, paired with its main spec (which may not exist)."""
    updates = []
    for spec_id, source in discover_spec_files(change_dir / "specs"):
        target = main_specs_dir.joinpath(*spec_id.split("/"), "spec.md")
        if not target.resolve().is_relative_to(main_specs_dir.resolve()):
            raise ApplyError(f"Path is outside the allowed directory: {target}")
        updates.append(SpecUpdate(spec_id, source, target, target.is_file()))
    return updates


def _check_plan(plan, spec: str) -> None:
    """The preconditions specs-apply throws on, in its order."""
    if plan.unpaired_renames:
        side, name, line = plan.unpaired_renames[0]
        missing = "TO" if side == "FROM" else "FROM"
        raise ApplyError(
            f"{spec} validation failed - RENAMED entry on line {line} has no matching {missing}: "
            f'for header "### Requirement: {name}". '
            "Write each rename as a FROM: line followed immediately by its TO: line."
        )

    def unique(names, label):
        seen = set()
        for name in names:
            key = requirement_name(name)
            if key in seen:
                raise ApplyError(
                    f"{spec} validation failed - duplicate requirement in {label} for header "
                    f'"### Requirement: {name}"'
                )
            seen.add(key)
        return seen

    added = unique([b.name for b in plan.added], "ADDED")
    modified = unique([b.name for b in plan.modified], "MODIFIED")
    removed = unique(plan.removed, "REMOVED")
    froms, tos = set(), set()
    for old, new in plan.renamed:
        if requirement_name(old) in froms:
            raise ApplyError(
                f"{spec} validation failed - duplicate FROM in RENAMED for header "
                f'"### Requirement: {old}"'
            )
        if requirement_name(new) in tos:
            raise ApplyError(
                f"{spec} validation failed - duplicate TO in RENAMED for header "
                f'"### Requirement: {new}"'
            )
        froms.add(requirement_name(old))
        tos.add(requirement_name(new))
    conflicts = [(n, "MODIFIED", "REMOVED") for n in modified if n in removed]
    conflicts += [(n, "MODIFIED", "ADDED") for n in modified if n in added]
    conflicts += [(n, "ADDED", "REMOVED") for n in added if n in removed]
    for old, new in plan.renamed:
        old_key = requirement_name(old)
        match = next((r for r in removed if fold_name(r) == fold_name(old_key)), None)
        if match is not None:
            spelled = "" if match == old_key else f' (REMOVED spells it "{match}")'
            raise ApplyError(
                f"{spec} validation failed - requirement present in multiple sections (RENAMED and "
                f'REMOVED) for header "### Requirement: {old}"{spelled}'
            )
        if old_key in modified:
            raise ApplyError(
                f"{spec} validation failed - when a rename exists, MODIFIED must reference the NEW "
                f'header "### Requirement: {new}"'
            )
        if requirement_name(new) in added:
            raise ApplyError(
                f"{spec} validation failed - RENAMED TO header collides with ADDED for "
                f'"### Requirement: {new}"'
            )
    if conflicts:
        name, a, b = conflicts[0]
        raise ApplyError(
            f"{spec} validation failed - requirement present in multiple sections ({a} and {b}) "
            f'for header "### Requirement: {name}"'
        )


def build_updated_spec(update: SpecUpdate, change_name: str) -> Merged:
    """The main spec after applying one delta: RENAMED, then REMOVED, MODIFIED, ADDED."""
    delta_text = update.source.read_text(encoding="utf-8", errors="replace")
    plan = parse_delta_spec(delta_text)
    spec = update.id
    warnings: list[str] = []
    _check_plan(plan, spec)
    if not (plan.added or plan.modified or plan.removed or plan.renamed):
        raise ApplyError(
            f"Delta parsing found no operations for {update.id}. "
            "Provide ADDED/MODIFIED/REMOVED/RENAMED sections in change spec."
        )
    delta_purpose = purpose_section(delta_text)
    is_new = False
    try:
        target_text = update.target.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        if plan.modified or plan.renamed:
            raise ApplyError(
                f"{spec}: target spec does not exist; only ADDED requirements are allowed for new "
                "specs. MODIFIED and RENAMED operations require an existing spec."
            ) from None
        if plan.removed:
            warnings.append(
                f"{spec} - {len(plan.removed)} REMOVED requirement(s) ignored for new spec "
                "(nothing to remove)."
            )
        is_new = True
        target_text = spec_skeleton(spec, change_name, delta_purpose)
        if delta_purpose and not _readable_overview(target_text):
            target_text = spec_skeleton(spec, change_name)
    problems = structure_issues(target_text)
    if problems:
        details = "\n".join(f"line {p.line}: {p.message}" for p in problems)
        raise ApplyError(
            f"{spec}: target spec is structurally invalid and cannot be updated until fixed:"
            f"\n{details}"
        )
    parts = requirements_section(target_text)
    by_name: dict[str, Block] = {requirement_name(b.name): b for b in parts.blocks}
    order = [requirement_name(b.name) for b in parts.blocks]
    counts = {"added": 0, "modified": 0, "removed": 0, "renamed": 0}

    def header(name: str) -> str:
        return f'"### Requirement: {name}"'

    for old, new in plan.renamed:
        frm, to = requirement_name(old), requirement_name(new)
        if frm not in by_name:
            if to in by_name:
                near = next(
                    (k for k in by_name if k != to and fold_name(k) == fold_name(frm)), None
                )
                if near is not None:
                    raise ApplyError(
                        f"{spec} RENAMED failed for header {header(old)} - source not found, but "
                        f"{header(by_name[near].name)} exists; fix the header to match it exactly"
                    )
                continue
            raise ApplyError(f"{spec} RENAMED failed for header {header(old)} - source not found")
        if to in by_name:
            raise ApplyError(
                f"{spec} RENAMED failed for header {header(new)} - target already exists"
            )
        near = next((k for k in by_name if k != frm and fold_name(k) == fold_name(to)), None)
        if near is not None:
            raise ApplyError(
                f"{spec} RENAMED failed for header {header(new)} - {header(by_name[near].name)} "
                "already exists and differs only in case or spacing; choose a distinct name"
            )
        block = by_name.pop(frm)
        raw_lines = block.raw.split("\n")
        raw_lines[0] = f"### Requirement: {to}"
        by_name[to] = Block(raw_lines[0], to, "\n".join(raw_lines))
        if frm in order:
            order[order.index(frm)] = to
        counts["renamed"] += 1
    for name in plan.removed:
        key = requirement_name(name)
        if key not in by_name:
            if not is_new:
                near = next((k for k in by_name if fold_name(k) == fold_name(key)), None)
                if near is not None:
                    raise ApplyError(
                        f"{spec} REMOVED failed for header {header(name)} - not found, but "
                        f"{header(by_name[near].name)} exists; fix the header to match it exactly"
                    )
                warnings.append(
                    f'{spec} - REMOVED requirement "{name}" is not in the current spec; treating '
                    "it as already removed."
                )
            continue
        del by_name[key]
        counts["removed"] += 1
    for mod in plan.modified:
        key = requirement_name(mod.name)
        current = by_name.get(key)
        if current is None:
            raise ApplyError(f"{spec} MODIFIED failed for header {header(mod.name)} - not found")
        m = REQUIREMENT_HEADER.match(mod.raw.split("\n")[0])
        if not m or requirement_name(m.group(1)) != key:
            raise ApplyError(
                f"{spec} MODIFIED failed for header {header(mod.name)} - header mismatch in content"
            )
        diff = diff_scenarios(current, mod)
        if diff.missing:
            missing = ", ".join(f'"{n}"' for n in diff.missing)
            raise ApplyError(
                f"{spec} MODIFIED failed for header {header(mod.name)} - current spec contains "
                f"scenario(s) not present in the modified block: {missing}. "
                f"{describe_balance(diff)} Refresh the change spec before archiving to avoid "
                "dropping scenarios."
            )
        if current.raw.strip() != mod.raw.strip():
            counts["modified"] += 1
        by_name[key] = mod
    for add in plan.added:
        key = requirement_name(add.name)
        existing = by_name.get(key)
        if existing is not None:
            if existing.raw.strip() == add.raw.strip():
                continue
            raise ApplyError(f"{spec} ADDED failed for header {header(add.name)} - already exists")
        near = next((k for k in by_name if fold_name(k) == fold_name(key)), None)
        if near is not None:
            raise ApplyError(
                f"{spec} ADDED failed for header {header(add.name)} - "
                f"{header(by_name[near].name)} already exists and differs only in case or "
                "spacing; use MODIFIED with that exact header to change it, or choose a "
                "distinct name"
            )
        by_name[key] = add
        counts["added"] += 1
    kept, seen = [], set()
    for key in order:
        if key in by_name:
            kept.append(by_name[key])
            seen.add(key)
    kept += [block for key, block in by_name.items() if key not in seen]
    preamble = [parts.preamble.rstrip()] if js_trim(parts.preamble) else []
    body = "\n\n".join(preamble + [b.raw for b in kept]).rstrip()
    pieces = [parts.before.rstrip(), parts.header_line, body, js_trim(parts.after)]
    rebuilt = _collapse_blank_runs("\n\n".join(p for p in pieces if p != "")).rstrip() + "\n"
    return Merged(rebuilt, counts, warnings, no_requirement_blocks=not kept)


def spec_skeleton(spec_id: str, change_name: str, purpose: str | None = None) -> str:
    body = (purpose or "").strip() or f"{PLACEHOLDER_PREFIX}{change_name}{PLACEHOLDER_SUFFIX}"
    return f"# {spec_id} Specification\n\n## Purpose\n{body}\n\n## Requirements\n"


def _readable_overview(skeleton: str) -> bool:
    if "<!--" in skeleton or structure_issues(skeleton):
        return False
    purpose = find_section(parse_sections(skeleton), "Purpose")
    return bool(purpose and js_trim(purpose.content))


def _mask_html_comments(content: str) -> str:
    def blank(text: str) -> str:
        return re.sub(r"[^\n]", " ", text)

    out, index = [], 0
    while True:
        start = content.find("<!--", index)
        if start == -1:
            return "".join(out) + content[index:]
        out.append(content[index:start])
        close = -1
        for i in range(start + 4, len(content)):
            if content.startswith("-->", i):
                close = i + 3
                break
            if content.startswith("--!>", i):
                close = i + 4
                break
        if close == -1:
            return "".join(out) + blank(content[start:])
        out.append(blank(content[start:close]))
        index = close


def purpose_section(content: str) -> str | None:
    """The `## Purpose` body of a delta, or None when it holds no prose (comments and fences
    don't count): a new spec then gets the placeholder Purpose."""
    normalized = content.replace("\r\n", "\n").replace("\r", "\n")
    lines = normalized.split("\n")
    masked = _mask_html_comments(normalized).split("\n")
    mask = fence_mask(masked)
    start = next(
        (
            i
            for i, line in enumerate(masked)
            if not mask[i] and re.match(r"^##\s+Purpose\s*$", line, re.I)
        ),
        -1,
    )
    if start == -1:
        return None
    end = next(
        (
            i
            for i in range(start + 1, len(masked))
            if not mask[i] and re.match(r"^##\s+", masked[i])
        ),
        len(masked),
    )
    prose = "\n".join(masked[i] for i in range(start + 1, end) if not mask[i])
    if not js_trim(prose):
        return None
    return js_trim("\n".join(lines[start + 1 : end])) or None


def _collapse_blank_runs(content: str) -> str:
    lines = content.split("\n")
    mask = fence_mask(lines)
    kept, run = [], 0
    for i, line in enumerate(lines):
        if mask[i]:
            run = 0
        elif line == "":
            run += 1
            if run > 1:
                continue
        else:
            run = 0
        kept.append(line)
    return "\n".join(kept)


def match_line_ending(content: str, original: str) -> str:
    """Write CRLF back into a file that was mostly CRLF, so a merge doesn't rewrite every line."""
    crlf = original.count("\r\n")
    lf = len(re.findall(r"(?<!\r)\n", original))
    if crlf == 0 and lf == 0:
        return content
    content = content.replace("\r\n", "\n")
    return content.replace("\n", "\r\n") if crlf >= lf else content
