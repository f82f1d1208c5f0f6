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
HOOKS_PATH = "/api/hooks"


def hook_command(
    db: Path | None = None, url: str | None = None, token_env: str | None = None
) -> str:
    """The command Claude Code runs: this install's own `pmdata`, so no venv needs activating.
    With `url`, it forwards to the server (pmdata.ingest.hook_forward)."""
    exe = Path(sys.executable).parent / "pmdata"
    program = str(exe) if exe.exists() else (shutil.which("pmdata") or "pmdata")
    if url:
        token = f" --token-env {token_env}" if token_env else ""
        return f"{program} hook --url {server_url(url)}{token}"
    return f"{program} hook" + (f" --db {db.resolve()}" if db else "")


def server_url(url: str) -> str:
    """`server:8501` or `http://server:8501/` as one spelling."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    if not url.startswith(("http://", "https://")) or len(url.split("://", 1)[1]) == 0:
        raise PmdashError(f"--url {url!r}: give the server as http://host:port")
    return url


def http_hook(url: str, token_env: str | None = None) -> dict:
    """Claude Code's own HTTP hook: it POSTs each event to the server. Headers name environment
    variables, which Claude Code fills only when allowedEnvVars lists them."""
    headers = {"X-Pmdash-Work-Item": "$PMDASH_WORK_ITEM"}
    allowed = ["PMDASH_WORK_ITEM"]
    if token_env:
        headers["Authorization"] = f"Bearer ${token_env}"
        allowed.append(token_env)
    return {
        "type": "http",
        "url": server_url(url) + HOOKS_PATH,
        "timeout": TIMEOUT_S,
        "headers": headers,
        "allowedEnvVars": allowed,
    }


def command_hook(command: str) -> dict:
    return {"type": "command", "command": command, "timeout": TIMEOUT_S}


def _ours(hook: object) -> bool:
    """A hook pmdash installed: `… pmdata hook …`, or an HTTP hook to a server's /api/hooks."""
    if not isinstance(hook, dict):
        return False
    if hook.get("type") == "http":
        return str(hook.get("url", "")).endswith(HOOKS_PATH)
    words = str(hook.get("command", "")).split()
    return len(words) >= 2 and words[0].endswith("pmdata") and words[1] == "hook"


def settings_path(project: Path | None, user: bool) -> Path:
    if user:
        return Path(os.path.expanduser("~")) / ".claude" / "settings.json"
    return (project or Path.cwd()) / ".claude" / "settings.json"


def merge_hooks(settings: dict, hook: dict | str) -> tuple[dict, list[str]]:
    """`settings` with `hook` on every event, in place of any other pmdash hook (a command hook
    and an HTTP hook both there would record each event twice); keeps every hook not ours."""
    if isinstance(hook, str):
        hook = command_hook(hook)
    hooks = settings.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise PmdashError("settings.json: 'hooks' is not an object; fix it by hand first")
    added = []
    for event in HOOK_TYPES:
        groups = hooks.setdefault(event, [])
        if not isinstance(groups, list):
            raise PmdashError(f"settings.json: hooks.{event} is not a list; fix it by hand first")
        mine = [
            h for g in groups if isinstance(g, dict) for h in (g.get("hooks") or []) if _ours(h)
        ]
        if mine == [hook]:
            continue
        for group in groups:
            if isinstance(group, dict) and isinstance(group.get("hooks"), list):
                group["hooks"] = [h for h in group["hooks"] if not _ours(h)]
        groups[:] = [g for g in groups if not (isinstance(g, dict) and g.get("hooks") == [])]
        group: dict = {"hooks": [hook]}
        if event in TOOL_EVENTS:
            group = {"matcher": "", **group}
        groups.append(group)
        added.append(event)
    return settings, added


def install(path: Path, hook: dict | str) -> list[str]:
    """Merge into `path` atomically; returns the events that were added."""
    settings = {}
    if path.exists():
        try:
            settings = json.loads(path.read_text(encoding="utf-8") or "{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PmdashError(f"{path} is not valid JSON ({exc}); nothing was changed") from exc
        if not isinstance(settings, dict):
            raise PmdashError(f"{path} does not hold a JSON object; nothing was changed")
    settings, added = merge_hooks(settings, hook)
    if added:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings.", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(settings, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    return added
