"""`openspec validate`: the CLI 1.13.2 rules for main specs (spec_rules), change deltas
(change_rules) and task files (task_rules), each rule a function, run in the CLI's order.

A report is {valid, issues: [{level, path, message, line?}]} (an `Issue` each); `valid` means no
ERROR (and, with strict, no WARNING). Messages are the CLI's own, word for word.
"""

from __future__ import annotations

from pmdata.openspec.tasks import task_progress
from pmdata.openspec.tree import (
    OpenSpecError,
    OpenSpecTree,
    discover_spec_files,
    locale_key,
    read_text,
)
from pmdata.openspec.validate.change_context import skip_specs_marker, unread_delta_files
from pmdata.openspec.validate.change_rules import validate_change
from pmdata.openspec.validate.issues import Issue, report
from pmdata.openspec.validate.spec_rules import validate_spec_text

__all__ = [
    "Issue",
    "OpenSpecError",
    "report",
    "skip_specs_marker",
    "unread_delta_files",
    "validate_archived",
    "validate_change",
    "validate_spec_text",
    "validate_tree",
]


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
                result = report([Issue("ERROR", "file", str(exc))], strict)
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
        issues: list[Issue] = []
        try:
            done, total = task_progress(read_text(path)) if path.exists() else (0, 0)
        except (OSError, OpenSpecError):
            issues.append(
                Issue(
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
                Issue(
                    "ERROR",
                    "tasks.md",
                    f"{open_tasks} incomplete task{plural} ({done}/{total} completed)",
                )
            )
        items.append({"id": change_id, "type": "change", **report(issues)})
    return {"items": items, "summary": _summary(items, ["change"]), "version": "1.0"}
