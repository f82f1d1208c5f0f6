"""A site on data nobody made up: the fixture OpenSpec trees (folder names with `+`) as the
project roots, and a copy of the homelab database filled the way the homelab fills it (real
Playwright reports, real hook payloads, sessions whose calls touch no file), triaged."""

from __future__ import annotations

import json
from pathlib import Path

from pmdata.ingest.hook_recorder import HookRecorder
from pmdata.ingest.playwright_ingest import ingest_report
from pmdata.store import migrate
from pmdata.triage.service import run_triage
from tests.conftest import SHARED, copy_fixture_db

TREES = SHARED / "fixtures" / "openspec"
REPORTS = sorted((SHARED / "fixtures" / "playwright").glob("run-*.json"))
HOOKS = SHARED / "fixtures" / "hooks"


def build(folder: Path) -> Path:
    """The database; the project roots are TREES, read as they are."""
    db = copy_fixture_db(folder / "claude.db")
    migrate(db)
    for n, report in enumerate(REPORTS, start=1):
        ingest_report(db, report, "shop", "shop-e2e", n)
    state = {"PMDASH_STATE_DIR": str(folder / "state")}
    for name, item in (
        ("session-full.jsonl", "spec:Fission-AI+OpenSpec/add-qa-smoke-harness"),
        ("session-old-no-tool-use-id.jsonl", None),
    ):
        recorder = HookRecorder(str(db), {**state, **({"PMDASH_WORK_ITEM": item} if item else {})})
        for line in (HOOKS / name).read_text().splitlines():
            recorder.handle(line)
    # A short session whose only call touches no file, then ends.
    recorder = HookRecorder(str(db), state)
    session = "0c9e7f1a-2b3d-4e5f-8a9b-1c2d3e4f5a6b"
    for event, extra in (
        ("SessionStart", {"source": "startup"}),
        ("PreToolUse", {"tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "t"}),
        ("PostToolUse", {"tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "t"}),
        ("SessionEnd", {"reason": "exit"}),
    ):
        payload = {"session_id": session, "hook_event_name": event, "cwd": "/home/dev/shop"}
        recorder.handle(json.dumps({**payload, **extra}))
    run_triage(db)
    return db
