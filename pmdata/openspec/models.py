"""The product's view of an OpenSpec tree: pydantic models the dashboard shows.

Built from the same readers as the CLI-shaped JSON (tree.py), so a page and `openspec show`
never disagree. A part that cannot be read becomes `problem` on its item, never an exception.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from pmdata.openspec.markdown import find_section, js_trim, parse_sections
from pmdata.openspec.tasks import status_of, task_lines
from pmdata.openspec.tree import (
    OpenSpecError,
    OpenSpecTree,
    change_title,
    discover_spec_files,
    read_text,
    scan_change,
)

_ARCHIVED = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")


class Scenario(BaseModel):
    name: str
    text: str


class Requirement(BaseModel):
    name: str
    text: str
    scenarios: list[Scenario] = Field(default_factory=list)


class Delta(BaseModel):
    operation: str  # ADDED, MODIFIED, REMOVED, RENAMED
    requirement: Requirement
    renamed_from: str | None = None


class CapabilityDeltas(BaseModel):
    capability: str
    deltas: list[Delta]


class Task(BaseModel):
    done: bool
    text: str


class ChangeSummary(BaseModel):
    """One line of the Specs page: an active or archived change."""

    id: str
    title: str
    state: str  # the CLI's words: no-tasks | in-progress | complete; and archived
    completed_tasks: int
    total_tasks: int
    last_modified: datetime
    archived_on: date | None = None
    folder: str  # the folder name under changes/ (archived: with its date)
    problem: str | None = None

    @property
    def progress(self) -> float:
        return self.completed_tasks / self.total_tasks if self.total_tasks else 0.0


class ChangeDetail(ChangeSummary):
    why: str = ""
    what_changes: str = ""
    impact: str = ""
    capabilities: list[CapabilityDeltas] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    design: str | None = None
    proposal: str = ""


class SpecDetail(BaseModel):
    id: str
    title: str
    purpose: str
    requirements: list[Requirement]
    problem: str | None = None


def change_state(completed: int, total: int, archived: bool = False) -> str:
    """The CLI's status (no-tasks, in-progress, complete: `tasks.status_of`), or archived (moved
    to archive/). A change with tasks and none done is in-progress, as the CLI says."""
    return "archived" if archived else status_of(completed, total)


def _requirement(section) -> Requirement:
    name = re.sub(r"^Requirement:\s*", "", section.title, flags=re.I)
    text = js_trim(section.content.split("\n#", 1)[0]) if section.content else ""
    scenarios = [
        Scenario(name=re.sub(r"^Scenario:\s*", "", c.title, flags=re.I), text=c.content)
        for c in section.children
        if js_trim(c.content)
    ]
    return Requirement(name=name, text=text, scenarios=scenarios)


def _delta(entry: dict, name: str, scenario_names: list[str]) -> Delta:
    """One of `show`'s deltas, with the names its JSON leaves out."""
    if entry["operation"] == "RENAMED" and "rename" in entry:
        renamed = entry["rename"]
        requirement = Requirement(name=renamed["to"], text="")
        return Delta(operation="RENAMED", requirement=requirement, renamed_from=renamed["from"])
    shown = entry.get("requirement")
    if shown is None:  # the legacy `- **spec:** description` form
        requirement = Requirement(name=entry["description"], text="")
        return Delta(operation=entry["operation"], requirement=requirement)
    scenarios = [
        Scenario(name=scenario_names[i] if i < len(scenario_names) else "", text=s["rawText"])
        for i, s in enumerate(shown.get("scenarios", []))
    ]
    requirement = Requirement(name=name, text=shown["text"], scenarios=scenarios)
    return Delta(operation=entry["operation"], requirement=requirement)


def _summary(tree: OpenSpecTree, folder: Path, change_id: str, archived_on=None) -> dict:
    newest, has_tasks = scan_change(str(folder))
    done = total = 0
    problem = None
    if has_tasks:
        try:
            tasks = task_lines(read_text(folder / "tasks.md", tree.problems))
            done, total = sum(1 for t in tasks if t[0]), len(tasks)
        except (OSError, OpenSpecError) as exc:
            problem = f"tasks.md: {exc}"
    title = change_id
    try:
        title = change_title(read_text(folder / "proposal.md", tree.problems), change_id)
    except FileNotFoundError:
        problem = problem or "no proposal.md yet"
    except (OSError, OpenSpecError) as exc:
        problem = problem or f"proposal.md: {exc}"
    return {
        "id": change_id,
        "title": title,
        "state": change_state(done, total, archived_on is not None),
        "completed_tasks": done,
        "total_tasks": total,
        "last_modified": datetime.fromtimestamp(newest, UTC),
        "archived_on": archived_on,
        "folder": folder.name,
        "problem": problem,
    }


def change_summaries(tree: OpenSpecTree, include_archived: bool = True) -> list[ChangeSummary]:
    out = [
        ChangeSummary(**_summary(tree, tree.changes_dir / cid, cid))
        for cid in sorted(tree.change_ids(include_dot=False))
    ]
    if include_archived:
        for folder_name in tree.archived_ids():
            m = _ARCHIVED.match(folder_name)
            try:
                day = date.fromisoformat(m.group(1)) if m else None
            except ValueError:
                day = None
            change_id = m.group(2) if m and day else folder_name
            summary = _summary(tree, tree.changes_dir / "archive" / folder_name, change_id)
            summary.update(state="archived", archived_on=day)
            out.append(ChangeSummary(**summary))
    return out


def change_detail(tree: OpenSpecTree, change_id: str) -> ChangeDetail:
    """A change (active, or archived by folder name) with proposal, deltas, tasks and design."""
    folder = tree.changes_dir / change_id
    archived_on = None
    if change_id not in tree.change_ids(include_dot=False):
        if change_id not in tree.archived_ids():
            raise OpenSpecError(f'Change "{change_id}" not found')
        folder = tree.changes_dir / "archive" / change_id
        m = _ARCHIVED.match(change_id)
        archived_on = date.fromisoformat(m.group(1)) if m else date.min
    summary = _summary(tree, folder, change_id)
    if archived_on is not None:
        summary.update(
            state="archived", archived_on=None if archived_on == date.min else archived_on
        )
    detail = ChangeDetail(**summary)
    try:
        proposal = read_text(folder / "proposal.md", tree.problems)
        sections = parse_sections(proposal)
        detail.proposal = proposal
        for attr, title in (("why", "Why"), ("what_changes", "What Changes"), ("impact", "Impact")):
            found = find_section(sections, title)
            setattr(detail, attr, found.content if found else "")
    except (OSError, OpenSpecError):
        pass
    # The deltas `openspec show` prints, read by the same code: one parse for CLI and pages.
    relative = str(folder.relative_to(tree.changes_dir))
    names: list = []
    by_spec: dict[str, list[Delta]] = {}
    for entry, (name, scenario_names) in zip(
        tree.change_deltas(relative, detail.what_changes, names), names, strict=True
    ):
        by_spec.setdefault(entry["spec"], []).append(_delta(entry, name, scenario_names))
    detail.capabilities = [CapabilityDeltas(capability=c, deltas=d) for c, d in by_spec.items()]
    with contextlib.suppress(OSError, OpenSpecError):
        detail.tasks = [
            Task(done=d, text=t)
            for d, t in task_lines(read_text(folder / "tasks.md", tree.problems))
        ]
    design = folder / "design.md"
    if design.is_file():
        try:
            detail.design = read_text(design, tree.problems)
        except (OSError, OpenSpecError) as exc:
            detail.design = f"(design.md could not be read: {exc})"
    return detail


def spec_detail(tree: OpenSpecTree, spec_id: str) -> SpecDetail:
    path = next((p for sid, p in discover_spec_files(tree.specs_dir) if sid == spec_id), None)
    if path is None:
        raise OpenSpecError(f'Spec "{spec_id}" not found')
    text = read_text(path, tree.problems)
    sections = parse_sections(text)
    purpose = find_section(sections, "Purpose")
    reqs = find_section(sections, "Requirements")
    problem = None
    if not purpose or not reqs:
        problem = "missing a ## Purpose or ## Requirements section"
    return SpecDetail(
        id=spec_id,
        title=spec_id,
        purpose=purpose.content if purpose else "",
        requirements=[_requirement(c) for c in reqs.children] if reqs else [],
        problem=problem,
    )
