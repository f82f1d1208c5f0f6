"""Agent sessions as people see them: running, idle for N minutes, or finished; and what a
finished session did."""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd


def session_state(status: str, stopped_at, last_event_at, now: int, idle_minutes: int) -> str:
    if stopped_at is not None and not pd.isna(stopped_at) or status in ("stopped", "error"):
        return "finished"
    quiet = last_event_at is not None and not pd.isna(last_event_at)
    if quiet and now - int(last_event_at) >= idle_minutes * 60:
        return "idle"
    return "running"


def with_states(frame: pd.DataFrame, now: int, idle_minutes: int = 5) -> pd.DataFrame:
    """Adds `state` and a human `state_text` ("idle for 14 min") to session_activity rows."""
    frame = frame.copy()
    frame["state"] = [
        session_state(r.status, r.stopped_at, r.last_event_at, now, idle_minutes)
        for r in frame.itertuples(index=False)
    ]
    texts = []
    for r in frame.itertuples(index=False):
        minutes = max(0, (now - int(r.last_event_at)) // 60) if not pd.isna(r.last_event_at) else 0
        texts.append(
            f"idle for {minutes} min"
            if r.state == "idle"
            else ("running" if r.state == "running" else "finished")
        )
    frame["state_text"] = texts
    return frame


def files_touched(tool_inputs) -> list[str]:
    """Paths named in tool inputs (file_path, path, notebook_path), in first-seen order."""
    seen: dict[str, None] = {}
    for raw in tool_inputs:
        try:
            data = json.loads(raw) if isinstance(raw, str) else (raw or {})
        except ValueError:
            continue
        if isinstance(data, dict):
            for key in ("file_path", "path", "notebook_path"):
                value = data.get(key)
                if isinstance(value, str) and value:
                    seen.setdefault(value, None)
    return list(seen)


def activity_summary(calls: pd.DataFrame, started_at: int | None, ended_at: int | None) -> dict:
    """What one session did, from its tool calls (rows of session_tool_calls.sql)."""
    tools = Counter(calls["tool_name"].dropna()) if not calls.empty else Counter()
    ok = int((calls["success"] == 1).sum()) if not calls.empty else 0
    failed = int((calls["success"] == 0).sum()) if not calls.empty else 0
    duration = None
    if started_at is not None and ended_at is not None and not pd.isna(ended_at):
        duration = int(ended_at) - int(started_at)
    return {
        "tools": dict(tools.most_common()),
        "calls": int(len(calls)),
        "succeeded": ok,
        "failed": failed,
        "duration_s": duration,
        "files": files_touched(calls["tool_input"]) if not calls.empty else [],
    }
