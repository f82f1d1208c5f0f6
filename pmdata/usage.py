"""What agent work cost, from the rows of queries/agent_usage_daily.sql (one per session and
day): totals per session, per work item, per project and per day, and the words for them."""

from __future__ import annotations

import pandas as pd

MEASURES = [
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "api_requests",
    "api_errors",
]
COLUMNS = ["agent_id", "session_id", "project", "work_item", "day", *MEASURES]


def _totals(daily: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    frame = daily if len(daily) else pd.DataFrame(columns=COLUMNS)
    grouped = frame.groupby(by, dropna=False, sort=False)
    out = grouped[MEASURES].sum(numeric_only=False).reset_index()
    out["sessions"] = grouped["agent_id"].nunique().to_numpy() if len(out) else []
    out["tokens"] = (
        out[["input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens"]]
        .astype("int64")
        .sum(axis=1)
    )
    return out.sort_values("cost_usd", ascending=False, kind="stable").reset_index(drop=True)


def per_session(daily: pd.DataFrame) -> pd.DataFrame:
    """One row per Claude session id (agent_id), with our session id when we know it."""
    return _totals(daily, ["agent_id", "session_id", "project", "work_item"])


def per_work_item(daily: pd.DataFrame) -> pd.DataFrame:
    """What each piece of work cost across the sessions that were on it."""
    return _totals(daily[daily["work_item"].notna()] if len(daily) else daily, ["work_item"])


def per_project(daily: pd.DataFrame) -> pd.DataFrame:
    return _totals(daily, ["project"])


def per_day(daily: pd.DataFrame) -> pd.DataFrame:
    return _totals(daily, ["day", "project"]).sort_values("day", kind="stable")


def money(usd: float | None) -> str:
    """$0.42, $12.30, $1,204; "$0.00" for nothing, never "nan"."""
    if usd is None or pd.isna(usd):
        return "$0.00"
    return f"${usd:,.0f}" if usd >= 1000 else f"${usd:,.2f}"


def tokens_text(n: float | None) -> str:
    """1.2M tokens, 35k tokens, 512 tokens."""
    if n is None or pd.isna(n):
        n = 0
    n = int(n)
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M tokens"
    if n >= 10_000:
        return f"{n / 1000:.0f}k tokens"
    return f"{n:,} tokens"


def describe(row) -> str:
    """'$1.24 · 1.2M tokens · 3 sessions' for one total."""
    parts = [money(row["cost_usd"]), tokens_text(row["tokens"])]
    if "sessions" in row and int(row["sessions"]) != 1:
        parts.append(f"{int(row['sessions'])} sessions")
    return " · ".join(parts)
