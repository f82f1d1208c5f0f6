"""What agent work cost, on the pages: per session (Sessions), per work item (All Work, an item's
page), per day; and the words and totals of pmdata.usage, on the demo's usage records."""

import sqlite3

import pandas as pd
import pytest

from pmdata import usage
from pmdata.analytics import Analytics
from tests.test_app import PAGES, demo, open_page, served_like_a_running_server  # noqa: F401


def total_cost(db) -> float:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT sum(cost_usd) FROM agent_usage").fetchone()[0]
    finally:
        con.close()


def test_the_sessions_list_says_what_each_session_cost(demo):  # noqa: F811
    at = open_page(PAGES[3])
    listed = at.dataframe[0].value
    assert {"cost", "tokens_used"} <= set(listed.columns)
    dollars = listed["cost"].str.removeprefix("$").str.replace(",", "").astype(float)
    assert dollars.sum() == pytest.approx(total_cost(demo / "pmdash.db"), abs=0.01 * len(listed))
    assert listed["tokens_used"].str.match(r"^[\d.,]+[kM]?$").all()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Cost, sessions shown"] == usage.money(total_cost(demo / "pmdash.db"))
    assert at.get("plotly_chart")  # cost per day


def test_a_sessions_own_page_says_its_cost(demo):  # noqa: F811
    at = open_page(PAGES[3], session="3")
    shown = {m.label: m.value for m in at.metric}
    con = sqlite3.connect(demo / "pmdash.db")
    (cost,) = con.execute(
        "SELECT sum(u.cost_usd) FROM agent_usage u JOIN sessions s ON s.agent_id = u.agent_id"
        " WHERE s.id = 3"
    ).fetchone()
    con.close()
    assert shown["Cost"] == usage.money(cost)


def test_each_work_item_carries_the_cost_of_the_sessions_on_it(demo):  # noqa: F811
    work = open_page(PAGES[0]).dataframe[0].value
    daily = Analytics(demo / "pmdash.db").run("agent_usage_daily")
    by_item = usage.per_work_item(daily).set_index("work_item")["cost_usd"]
    # Every item agents worked on shows its cost; the others show none (not a made-up $0.00).
    with_cost = work[work["cost"] != ""]
    assert len(with_cost) == len(by_item) > 0
    assert sorted(with_cost["cost"]) == sorted(usage.money(c) for c in by_item)


def test_a_failures_page_says_what_fixing_it_cost_so_far(demo):  # noqa: F811
    con = sqlite3.connect(demo / "pmdash.db")
    (item,) = con.execute(
        "SELECT work_item FROM sessions WHERE work_item LIKE 'error:%' LIMIT 1"
    ).fetchone()
    con.close()
    at = open_page(PAGES[2], failure=item.split(":")[1])
    said = [c.value for c in at.caption if "Agent cost so far" in c.value]
    assert said and said[0].startswith("Agent cost so far: $")


def test_words_for_money_and_tokens_never_show_a_raw_value():
    assert usage.money(None) == "$0.00" and usage.money(float("nan")) == "$0.00"
    assert usage.money(0.4213) == "$0.42" and usage.money(1204.6) == "$1,205"
    assert usage.tokens_text(512) == "512 tokens" and usage.tokens_text(35_400) == "35k tokens"
    assert usage.tokens_text(1_234_567) == "1.2M tokens" and usage.tokens_text(None) == "0 tokens"


def test_totals_of_nothing_are_empty_frames_not_errors():
    empty = pd.DataFrame(columns=usage.COLUMNS)
    for total in (usage.per_session, usage.per_work_item, usage.per_project, usage.per_day):
        assert total(empty).empty
