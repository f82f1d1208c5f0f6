"""What agent work cost, where people look for it: beside each session, each work item and on
an item's own page. Read from queries/agent_usage_daily.sql; a database never migrated for it
shows no cost at all rather than an error on every page (the Sessions page says why)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, readers
from pmdata import usage
from pmdata.errors import PmdashError
from pmdata.inert_markdown import inert


def daily(project: str | None = None) -> pd.DataFrame | None:
    """Usage per session and day; None when the database has no usage table yet."""
    if not readers.db():
        return None
    try:
        return readers.run("agent_usage_daily", project=project)
    except PmdashError:
        return None


def with_session_costs(sessions: pd.DataFrame, rows: pd.DataFrame | None) -> pd.DataFrame:
    """`sessions` (with agent_id) with what each cost: cost_usd and tokens (NaN when no
    telemetry came), and the same as words for a list (cost, tokens_used; blank when none)."""
    if rows is None or rows.empty:
        out = sessions.assign(cost_usd=float("nan"), tokens=float("nan"))
    else:
        totals = usage.per_session(rows)[["agent_id", "cost_usd", "tokens"]]
        out = sessions.merge(totals, on="agent_id", how="left")
    return out.assign(
        cost=[usage.money(c) if c == c else "" for c in out["cost_usd"]],
        tokens_used=[usage.tokens_text(t).removesuffix(" tokens") if t == t else ""
                     for t in out["tokens"]],
    )  # fmt: skip


def work_item_keys(items: pd.DataFrame) -> list[str]:
    """The work item text (pmdata.work_item) each row of the All Work list is."""
    return [
        f"spec:{p}/{r}" if k == "spec" else f"error:{r}"
        for k, p, r in zip(items["kind"], items["project"], items["ref"], strict=True)
    ]


def with_item_costs(items: pd.DataFrame, rows: pd.DataFrame | None) -> pd.DataFrame:
    """The All Work list with what the sessions on each item cost (blank: none did)."""
    if rows is None or rows.empty or items.empty:
        return items.assign(cost_usd=float("nan"), cost="")
    totals = usage.per_work_item(rows).set_index("work_item")["cost_usd"]
    costs = pd.Series(work_item_keys(items), index=items.index).map(totals)
    return items.assign(cost_usd=costs, cost=[usage.money(c) if c == c else "" for c in costs])


def cost_line(work_item: str) -> None:
    """On an item's page: what the sessions on it cost so far."""
    rows = daily()
    if rows is None or rows.empty:
        return
    mine = rows[rows["work_item"] == work_item]
    if mine.empty:
        return
    total = usage.per_work_item(mine).iloc[0]
    st.caption(inert(f"Agent cost so far: {usage.describe(total)}"))


def cost_summary(rows: pd.DataFrame | None, session_ids) -> None:
    """The cost of the sessions shown, today's, and a chart of it per day."""
    if rows is None:
        st.caption(
            "Cost and tokens appear once the database is migrated (`pmdata migrate`) and Claude "
            "Code's OpenTelemetry export points at this server (README: From another machine)."
        )
        return
    shown = rows[rows["session_id"].isin(session_ids)]
    if shown.empty:
        return
    st.subheader("Cost")
    today = pd.Timestamp.now(tz="UTC").date()
    total = usage.per_project(shown)
    cols = st.columns(3)
    cols[0].metric("Cost, sessions shown", usage.money(total["cost_usd"].sum()))
    cols[1].metric(
        "Today",
        usage.money(shown.loc[pd.to_datetime(shown["day"]).dt.date == today, "cost_usd"].sum()),
    )
    cols[2].metric("Tokens", usage.tokens_text(total["tokens"].sum()).removesuffix(" tokens"))
    by_day = usage.per_day(shown)
    st.plotly_chart(charts.cost_per_day(by_day), width="stretch")
