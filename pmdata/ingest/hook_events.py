"""Turns one Claude Code hook payload into the row the homelab `hooks` table expects.

Standard library only: this runs inside every tool call of an agent.
"""

from __future__ import annotations

import json

from pmdata.work_item import NotAWorkItem, WorkItem

# Claude Code's event names → the hook_type vocabulary the homelab services already use.
HOOK_TYPES = {
    "PreToolUse": "pre_tool_use",
    "PostToolUse": "post_tool_use",
    "PostToolUseFailure": "post_tool_use",
    "UserPromptSubmit": "user_prompt_submit",
    "SessionStart": "session_start",
    "SessionEnd": "session_end",
    "Stop": "session_stop",
    "SubagentStop": "subagent_stop",
    "PreCompact": "pre_compact",
    "Notification": "notification",
}
# Fields kept in `metadata` (besides the receipt time) because the dashboard shows them.
METADATA_FIELDS = (
    "permission_mode",
    "source",
    "model",
    "reason",
    "stop_hook_active",
    "message",
    "notification_type",
    "trigger",
    "agent_id",
    "agent_type",
    "is_interrupt",
)
# The agent id of a session record made by "start a remediation" before its agent runs; Claude
# Code's own ids are UUIDs, so the two never meet.
WAITING_AGENT_PREFIX = "pmdash-waiting:"
MAX_TEXT = 64_000  # a huge tool response is cut: the dashboard needs its gist, not megabytes


class BadPayload(ValueError):
    """The input is not a hook payload we can record; the message says why."""


class HookEvent:
    """One parsed payload. A plain class: dataclasses costs ~6 ms of import on the hook path."""

    __slots__ = (
        "session_id",
        "event",
        "hook_type",
        "cwd",
        "tool_name",
        "tool_input",
        "tool_output",
        "tool_use_id",
        "success",
        "error_message",
        "metadata",
        "raw",
    )

    def __init__(self, **fields: object):
        for name in self.__slots__:
            setattr(self, name, fields[name])

    @property
    def is_tool_start(self) -> bool:
        return self.event == "PreToolUse"

    @property
    def is_tool_end(self) -> bool:
        return self.event in ("PostToolUse", "PostToolUseFailure")


def clean(text: str) -> str:
    """Text that UTF-8 (SQLite, our files) can hold. A lone surrogate — a JSON escape such as
    "\\ud83d" with no partner, or an invalid byte read from stdin — becomes its escape, so the
    text is kept whole and nothing fails later on it."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = clean(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…[truncated]"


def _string(value: object) -> str | None:
    return clean(value) if isinstance(value, str) else None


def parse_payload(raw: str, received_at_ms: int) -> HookEvent:
    """The event in `raw`, or BadPayload saying what is wrong with it."""
    if not raw.strip():
        raise BadPayload("empty input")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadPayload(f"not JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(data, dict):
        raise BadPayload(f"expected a JSON object, got {type(data).__name__}")
    session_id, event = data.get("session_id"), data.get("hook_event_name")
    if not isinstance(session_id, str) or not session_id.strip():
        raise BadPayload("no session_id")
    if not isinstance(event, str) or not event:
        raise BadPayload("no hook_event_name")
    if event not in HOOK_TYPES:
        raise BadPayload(f"unknown event {event!r}")
    failed = event == "PostToolUseFailure"
    metadata = {"received_at_ms": received_at_ms}
    metadata.update({k: data[k] for k in METADATA_FIELDS if k in data})
    tool_input = data.get("tool_input")
    if event == "UserPromptSubmit":
        tool_input = data.get("prompt")
    return HookEvent(
        session_id=clean(session_id.strip()),
        event=event,
        hook_type=HOOK_TYPES[event],
        cwd=_string(data.get("cwd")),
        tool_name=_string(data.get("tool_name")),
        tool_input=_text(tool_input),
        tool_output=_text(data.get("tool_response")),
        tool_use_id=_string(data.get("tool_use_id")),
        success=(0 if failed else 1) if event in ("PostToolUse", "PostToolUseFailure") else None,
        error_message=_text(data.get("error")) if failed else None,
        metadata=metadata,
        raw=_text(raw.strip()) or "",
    )


def parse_work_item(value: str | None) -> WorkItem | None:
    """The work item PMDASH_WORK_ITEM names (None when unset)."""
    if not value:
        return None
    try:
        return WorkItem.parse(clean(value))
    except NotAWorkItem as exc:
        raise BadPayload(f"PMDASH_WORK_ITEM={exc}") from None
