"""`pmdata hook install`: merges pmdash's hook block into a Claude Code settings.json."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from pmdata.errors import PmdashError
from pmdata.ingest.hook_events import HOOK_TYPES

TOOL_EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure")
TIMEOUT_S = 5


def hook_command(db: Path | None = None) -> str:
    """The command Claude Code runs: this install's own `pmdata`, so no venv needs activating."""
    exe = Path(sys.executable).parent / "pmdata"
    program = str(exe) if exe.exists() else (shutil.which("pmdata") or "pmdata")
    return f"{program} hook" + (f" --db {db.resolve()}" if db else "")


def settings_path(project: Path | None, user: bool) -> Path:
    if user:
        return Path(os.path.expanduser("~")) / ".claude" / "settings.json"
    return (project or Path.cwd()) / ".claude" / "settings.json"


def merge_hooks(settings: dict, command: str) -> tuple[dict, list[str]]:
    """`settings` with our command on every event; keeps every hook already there."""
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise PmdashError("settings.json: 'hooks' is not an object; fix it by hand first")
    added = []
    for event in HOOK_TYPES:
        groups = hooks.setdefault(event, [])
        if not isinstance(groups, list):
            raise PmdashError(f"settings.json: hooks.{event} is not a list; fix it by hand first")
        present = any(
            isinstance(h, dict)
            and str(h.get("command", "")).split(" --db")[0] == command.split(" --db")[0]
            for g in groups
            if isinstance(g, dict)
            for h in g.get("hooks", []) or []
        )
        if present:
            continue
        group: dict = {"hooks": [{"type": "command", "command": command, "timeout": TIMEOUT_S}]}
        if event in TOOL_EVENTS:
            group = {"matcher": "", **group}
        groups.append(group)
        added.append(event)
    return settings, added


def install(path: Path, command: str) -> list[str]:
    """Merge into `path` atomically; returns the events that were added."""
    settings = {}
    if path.exists():
        try:
            settings = json.loads(path.read_text(encoding="utf-8") or "{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PmdashError(f"{path} is not valid JSON ({exc}); nothing was changed") from exc
        if not isinstance(settings, dict):
            raise PmdashError(f"{path} does not hold a JSON object; nothing was changed")
    settings, added = merge_hooks(settings, command)
    if added:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings.", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(settings, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    return added
