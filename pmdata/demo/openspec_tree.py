"""Writes a real-looking openspec/ tree: specs, active changes at varied progress, an archive."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

CAPABILITIES = {
    "auth": ["Sign in with email", "Session expiry", "Password reset", "Two-factor codes"],
    "cart": ["Add an item", "Remove an item", "Persist the cart", "Apply a discount code"],
    "checkout": ["Pay by card", "Order confirmation", "Address validation"],
    "search": ["Full-text search", "Filter by category", "Typo tolerance"],
    "notifications": ["Email receipts", "Push reminders", "Quiet hours"],
    "reports": ["Monthly summary", "CSV export", "Shareable links"],
    "profile": ["Edit display name", "Upload avatar", "Delete account"],
    "billing": ["Invoices", "Refunds", "Tax rates"],
}
CHANGE_VERBS = ["add", "improve", "refactor", "support", "harden", "simplify"]
CHANGE_TOPICS = [
    "discount-codes",
    "dark-mode",
    "offline-cart",
    "rate-limits",
    "audit-log",
    "csv-export",
    "passkeys",
    "search-ranking",
    "bulk-actions",
    "retry-payments",
    "guest-checkout",
    "saved-filters",
    "email-digest",
    "role-permissions",
    "image-uploads",
    "webhooks",
]


def slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def requirement_block(name: str, rng: random.Random, level: str = "###") -> str:
    subject = name.lower()
    scenarios = []
    for i in range(rng.randint(1, 3)):
        scenarios.append(
            f"#### Scenario: {name} case {i + 1}\n"
            f"- **WHEN** a user asks for {subject}\n"
            f"- **THEN** the system completes it within {rng.choice([1, 2, 5])} seconds\n"
            f"- **AND** records the outcome in the audit log\n"
        )
    return (
        f"{level} Requirement: {name}\n"
        f"The system SHALL support {subject} for every signed-in user.\n\n" + "\n".join(scenarios)
    )


def spec_text(capability: str, requirements: list[str], rng: random.Random) -> str:
    body = "\n".join(requirement_block(r, rng) for r in requirements)
    return (
        f"# {capability.title()} Specification\n\n"
        f"## Purpose\nDescribes how {capability} behaves for users and operators, "
        f"so that changes to it can be reviewed against one agreed contract.\n\n"
        f"## Requirements\n{body}"
    )


def proposal_text(change_id: str, capabilities: list[str]) -> str:
    title = change_id.replace("-", " ")
    caps = "\n".join(f"- `{c}`: behaviour updated by this change" for c in capabilities)
    return (
        f"# Change: {title.capitalize()}\n\n"
        f"## Why\nUsers keep asking to {title}; support tickets and failing end-to-end tests "
        f"show the current behaviour falls short.\n\n"
        f"## What Changes\n- {title.capitalize()} end to end\n- Update tests and docs\n\n"
        f"## Impact\n- Affected specs:\n{caps}\n- Affected code: web client, API\n"
    )


def tasks_text(total: int, done: int) -> str:
    lines = ["# Tasks", "", "## 1. Implementation"]
    for i in range(total):
        mark = "x" if i < done else " "
        lines.append(f"- [{mark}] 1.{i + 1} Step {i + 1} of the change")
    return "\n".join(lines) + "\n"


def delta_text(capability: str, rng: random.Random, existing: list[str]) -> str:
    added = f"{rng.choice(['Bulk', 'Scheduled', 'Audited', 'Offline'])} {capability} actions"
    parts = ["## ADDED Requirements", requirement_block(added, rng)]
    if existing and rng.random() < 0.6:
        parts += ["## MODIFIED Requirements", requirement_block(rng.choice(existing), rng)]
    return "\n".join(parts)


def write_tree(project_dir: Path, rng: random.Random, today: date, n_changes: int) -> None:
    """Write `project_dir/openspec/` with specs, `n_changes` active changes and an archive."""
    root = project_dir / "openspec"
    caps = rng.sample(sorted(CAPABILITIES), k=min(len(CAPABILITIES), rng.randint(3, 5)))
    (root / "specs").mkdir(parents=True, exist_ok=True)
    (root / "project.md").write_text(
        f"# {project_dir.name}\n\nDemo project for pmdash.\n", encoding="utf-8"
    )
    for cap in caps:
        (root / "specs" / cap).mkdir(exist_ok=True)
        (root / "specs" / cap / "spec.md").write_text(
            spec_text(cap, CAPABILITIES[cap], rng), encoding="utf-8"
        )
    used: set[str] = set()
    for i in range(n_changes):
        change_id = _unique_change_id(rng, used, i)
        folder = root / "changes" / change_id
        touched = rng.sample(caps, k=rng.randint(1, min(2, len(caps))))
        _write_change(folder, change_id, touched, rng, progress=i % 4)
    for i in range(rng.randint(1, 3)):
        change_id = _unique_change_id(rng, used, n_changes + i)
        day = today - timedelta(days=rng.randint(5, 60))
        folder = root / "changes" / "archive" / f"{day.isoformat()}-{change_id}"
        _write_change(folder, change_id, rng.sample(caps, k=1), rng, progress=3)


def _unique_change_id(rng: random.Random, used: set[str], i: int) -> str:
    base = f"{rng.choice(CHANGE_VERBS)}-{rng.choice(CHANGE_TOPICS)}"
    change_id = base if base not in used else f"{base}-{i}"
    used.add(change_id)
    return change_id


def _write_change(
    folder: Path, change_id: str, caps: list[str], rng: random.Random, progress: int
) -> None:
    """progress 0: draft (no tasks), 1: started, 2: mostly done, 3: complete."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "proposal.md").write_text(proposal_text(change_id, caps), encoding="utf-8")
    if progress > 0:
        total = rng.randint(4, 12)
        done = {1: rng.randint(0, total // 3), 2: total - rng.randint(1, 2), 3: total}[progress]
        (folder / "tasks.md").write_text(tasks_text(total, done), encoding="utf-8")
    if rng.random() < 0.5:
        (folder / "design.md").write_text(
            f"# Design: {change_id}\n\n## Context\nWhy the approach was chosen.\n\n"
            "## Decisions\n- Keep the public API stable.\n",
            encoding="utf-8",
        )
    for cap in caps:
        (folder / "specs" / cap).mkdir(parents=True, exist_ok=True)
        (folder / "specs" / cap / "spec.md").write_text(
            delta_text(cap, rng, CAPABILITIES[cap]), encoding="utf-8"
        )
