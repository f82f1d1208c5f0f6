"""Agent sessions as people see them: waiting for their agent, running, idle for N minutes, or
finished; and what a finished session did."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd

from pmdata.ingest.hook_events import WAITING_AGENT_PREFIX
from pmdata.work_item import WorkItem


def session_state(
    status: str, stopped_at, last_event_at, now: int, idle_minutes: int, agent_id: str = ""
) -> str:
    stopped = stopped_at is not None and not pd.isna(stopped_at)
    if str(agent_id or "").startswith(WAITING_AGENT_PREFIX) and not stopped:
        return "waiting"  # made by "start a remediation"; no agent has claimed it yet
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
        session_state(
            r.status, r.stopped_at, r.last_event_at, now, idle_minutes, getattr(r, "agent_id", "")
        )
        for r in frame.itertuples(index=False)
    ]
    texts = []
    for r in frame.itertuples(index=False):
        minutes = max(0, (now - int(r.last_event_at)) // 60) if not pd.isna(r.last_event_at) else 0
        texts.append(
            {"idle": f"idle for {describe_idle(minutes)}", "waiting": "waiting for its agent"}.get(
                r.state, r.state
            )
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


# What a call was about, from its input: the first of these keys it has.
_ABOUT = ("command", "file_path", "path", "notebook_path", "pattern", "url", "query", "prompt")


def _first_line(text) -> str:
    return text.strip().splitlines()[0] if isinstance(text, str) and text.strip() else ""


def _about(raw) -> str:
    try:
        data = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    for key in _ABOUT:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            first = value.strip().splitlines()[0]
            return first if len(first) <= 120 else first[:117] + "…"
    return ""


def calls_in_order(calls: pd.DataFrame) -> pd.DataFrame:
    """A session's tool calls as a person reads them (rows of session_tool_calls.sql): number,
    tool, what it was about, outcome, duration in seconds, and for a failed call its error
    ("Bash failed: exit 2")."""
    if calls.empty:
        return pd.DataFrame(
            columns=["number", "at", "tool", "about", "outcome", "seconds", "error"]
        )
    ordered = calls.sort_values(["ended_ms", "hook_id"], kind="stable")
    tools = ordered["tool_name"].fillna("(unnamed tool)")
    failed = ordered["success"] == 0
    errors = [
        f"{tool} failed: {_first_line(message) or 'no message'}" if bad else ""
        for tool, message, bad in zip(tools, ordered["error_message"], failed, strict=True)
    ]
    return pd.DataFrame(
        {
            "number": range(1, len(ordered) + 1),
            "at": pd.to_datetime(ordered["ended_ms"], unit="ms", utc=True).to_numpy(),
            "tool": tools.to_numpy(),
            "about": [_about(raw) for raw in ordered["tool_input"]],
            "outcome": ["failed" if bad else "ok" for bad in failed],
            "seconds": (ordered["duration_ms"] / 1000).to_numpy(),
            "error": errors,
        }
    )


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


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def finished_summaries(sessions: pd.DataFrame, summaries: pd.DataFrame) -> pd.DataFrame:
    """One row per finished session (rows of `with_states`) with what it did (rows of
    session_summaries.sql, over all its hooks): the Sessions page's "Finished" table."""
    done = sessions[sessions["state"] == "finished"]
    by_id = summaries.set_index("session_id") if not summaries.empty else None
    rows = []
    for r in done.itertuples(index=False):
        have = by_id is not None and r.id in by_id.index
        what = by_id.loc[r.id] if have else None
        # No file touched: the query's list is NULL, which pandas hands over as NA.
        files = list(what["files"]) if have and _is_list(what["files"]) else []
        ended = None if pd.isna(r.stopped_at) else int(r.stopped_at)
        started = None if pd.isna(r.started_at) else int(r.started_at)
        rows.append(
            {
                "id": r.id,
                "project": r.project,
                "work_item": work_item_text(r.work_item),
                "ended_at": ended,
                "duration": describe_duration(ended - started if ended and started else None),
                "calls": int(what["calls"]) if have else 0,
                "succeeded": int(what["succeeded"]) if have else 0,
                "failed": int(what["failed"]) if have else 0,
                "tools": what["tools"] if have and isinstance(what["tools"], str) else "",
                "files": len(files),
                "files_touched": ", ".join(files[:5]) + (" …" if len(files) > 5 else ""),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "project",
            "work_item",
            "ended_at",
            "duration",
            "calls",
            "succeeded",
            "failed",
            "tools",
            "files",
            "files_touched",
        ],
    )


def agents_on(items: pd.DataFrame, failures: pd.DataFrame, sessions: pd.DataFrame) -> list:
    """Which session is on each All Work item, as "#13 idle for 4 min" (None: nobody).

    items: rows of `work.work_items` (kind, project, ref); failures: rows of failing_tests.sql;
    sessions: rows of `with_states`, most recently active first. A change is on the latest
    session started with `spec:<project>/<change>`; a failing test on the session last put on
    one of its failures (by a person, or by an `error:<failure id>` session)."""
    label: dict[int, str] = {}
    on_item: dict[str, int] = {}
    for r in sessions.itertuples(index=False):
        label[int(r.id)] = f"#{int(r.id)} {r.state_text}"
        item = work_item_text(r.work_item)
        if item:
            on_item.setdefault(item, int(r.id))
    assigned = {}
    if len(failures) and "session_on_test" in failures:
        taken = failures[failures["session_on_test"].notna()]
        assigned = dict(
            zip(
                taken["failure_id"].astype("int64").astype(str),
                taken["session_on_test"].astype("int64"),
                strict=True,
            )
        )
    out = []
    for kind, project, ref in zip(items["kind"], items["project"], items["ref"], strict=True):
        sid = on_item.get(str(WorkItem.spec(project, ref))) if kind == "spec" else assigned.get(ref)
        out.append(None if sid is None else label.get(int(sid), f"#{int(sid)}"))
    return out


def work_item_target(value) -> tuple[str, dict] | None:
    """Where a stored work item lives in the dashboard: ("specs", {project, change}) for a
    change, ("errors", {failure}) for a failure, or None for no work item or one this version
    does not know."""
    item = WorkItem.read(value)
    if item is None:
        return None
    if item.is_error:
        return "errors", {"failure": item.failure_id}
    return "specs", {"project": item.project, "change": item.change}


def work_item_text(value) -> str | None:
    """A work item as read back from a frame (a missing one arrives as None or NaN)."""
    return value if isinstance(value, str) and value else None


def describe_idle(minutes: int) -> str:
    """Idle time as people say it: "14 min" within the hour; a session left overnight reads
    "9 h 5 min", one left for the week "6 d 3 h", not 8,820 min."""
    hours, mins = divmod(int(minutes), 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def describe_duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def completion_notice(session_id: int, project: str, work_item: str | None, summary: dict) -> str:
    """The one line an open dashboard pops up when a session finishes."""
    item = work_item_text(work_item)
    on = f"on {item}" if item else "with no work item"
    return (
        f"Session {session_id} ({project}) finished {on}: {summary['calls']} tool calls, "
        f"{summary['failed']} failed, {describe_duration(summary['duration_s'])}, "
        f"{len(summary['files'])} files touched."
    )


def newly_finished(finished_ids, seen: set[int] | None) -> tuple[list[int], set[int]]:
    """Which sessions finished since the last look. The first look only sets the baseline, so
    opening the dashboard does not announce every session that ever ended."""
    now_finished = {int(i) for i in finished_ids}
    if seen is None:
        return [], now_finished
    return sorted(now_finished - seen), now_finished
