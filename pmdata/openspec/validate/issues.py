"""What a validation finds: an `Issue` (level, path, message, line) and a report of them, with
the official CLI's messages word for word, so a person can search them."""

from __future__ import annotations

from dataclasses import dataclass

from pmdata.openspec.spec_blocks import (
    contains_shall_or_must,
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


@dataclass(frozen=True)
class Issue:
    """One finding. ERROR makes the item invalid; WARNING too under --strict; INFO never."""

    level: str
    path: str
    message: str
    line: int | None = None

    def as_dict(self) -> dict:
        """As the CLI's JSON has it: no `line` key when there is no line."""
        out = {"level": self.level, "path": self.path, "message": self.message}
        if self.line is not None:
            out["line"] = self.line
        return out


def report(issues: list[Issue], strict: bool = False) -> dict:
    """{valid, issues}: the shape `validate --json` gives an item."""
    levels = [i.level for i in issues]
    bad = "ERROR" in levels or (strict and "WARNING" in levels)
    return {"valid": not bad, "issues": [i.as_dict() for i in issues]}


def shall_message(prefix: str, name: str, guidance: bool = False) -> str:
    base = f"{prefix} {'should' if guidance else 'must'} contain SHALL or MUST"
    suffix = " (RFC 2119 best practice for English specs)" if guidance else ""
    if contains_shall_or_must(name):
        return (
            f"{base} in the requirement body, not only in the header. Move the SHALL/MUST "
            'statement to the line immediately after the "### Requirement: ..." header.'
            f"{suffix}"
        )
    return base + suffix
