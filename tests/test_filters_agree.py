"""The sidebar's filters in combination, on every page of the real site (tests/real_site.py):
every figure, table and chart of a page answers the same filtered question, or the page says
which filter it does not follow."""

import base64
import re

import numpy as np
import plotly.io as pio
import pytest

from pmdata.work import in_words
from tests.test_app import PAGES, open_page, served_like_a_running_server  # noqa: F401

# (project, status, dates, search): each filter alone and with the others, on the days the
# fixture reports ran (24 Nov 2026) and after them (when only sessions and specs moved).
COMBINATIONS = [
    {},
    {"project": "shop"},
    {"project": "Fission-AI+OpenSpec", "q": "spec"},
    {"status": "needs_spec", "q": "cart"},
    {"status": ["in-progress", "finished"]},
    {"project": "shop", "dates": ["2026-11-24", "2026-11-24"]},
    {"dates": ["2026-11-25", "2030-12-31"], "status": "needs_spec"},
    {"project": "shop", "status": ["needs_spec", "finished"], "q": "price"},
]
IDS = ["-".join(f"{k}={v}" for k, v in c.items()) or "none" for c in COMBINATIONS]


def wanted(filters: dict, vocabulary) -> set[str]:
    status = filters.get("status", [])
    chosen = {status} if isinstance(status, str) else set(status)
    return {in_words(s) for s in chosen & set(vocabulary)}


def figures(at) -> list:
    return [pio.from_json(c.proto.spec) for c in at.get("plotly_chart")]


def values(array) -> list:
    """A trace's values: plotly sends numbers as a typed array ({"dtype", "bdata"})."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def total(figure) -> float:
    return sum(sum(values(t.x if t.orientation == "h" else t.y)) for t in figure.data)


def nothing_matches(at) -> bool:
    return any(" match " in i.value for i in at.info)


def number(pattern: str, texts) -> int:
    for text in texts:
        m = re.search(pattern, text)
        if m:
            return int(m[1].replace(",", ""))
    raise AssertionError(f"no {pattern!r} in {texts}")


@pytest.mark.parametrize("filters", COMBINATIONS, ids=IDS)
def test_all_work_figures_are_its_list(real, filters):
    at = open_page(PAGES[0], timeout=120, **filters)
    if nothing_matches(at):
        return
    listed = at.dataframe[0].value
    by_status = next(d.value for d in at.dataframe if "items" in d.value)
    metric = {m.label: int(m.value) for m in at.metric}
    specs, errors = listed[listed["kind"] == "spec"], listed[listed["kind"] == "error"]
    assert metric["In progress"] == (specs["status"] == in_words("in-progress")).sum()
    assert metric["No tasks yet"] == (specs["status"] == in_words("no-tasks")).sum()
    assert metric["Failing tests"] == len(errors)
    assert metric["Need a spec"] == (errors["status"] == in_words("needs_spec")).sum()
    assert by_status["items"].sum() == len(listed)
    if filters.get("project"):
        assert set(listed["project"]) == {filters["project"]}
    states = wanted(filters, ("no-tasks", "in-progress", "complete", "needs_spec", "pending"))
    if states:
        assert set(listed["status"]) <= states


@pytest.mark.parametrize("filters", COMBINATIONS, ids=IDS)
def test_errors_counts_list_and_charts_agree(real, filters):
    at = open_page(PAGES[2], timeout=120, **filters)
    if nothing_matches(at):
        return
    listed = at.dataframe[0].value
    captions = [c.value for c in at.caption]
    assert number(r"^([\d,]+) failing tests?\b", captions) == len(listed)
    failures = number(r"· ([\d,]+) failures?\b", captions)
    assert failures == listed["occurrences"].astype(int).sum()
    assert (
        number(r"· ([\d,]+) needs? a spec", captions)
        == (listed["decision"] == in_words("needs_spec")).sum()
    )
    [trend] = figures(at)
    narrowed = "status" in filters and wanted(filters, ("needs_spec",)) or "q" in filters
    if narrowed:
        assert any("not narrowed by" in c for c in captions), "the trend says what it skips"
    else:
        assert total(trend) == failures
    at.query_params["chart"] = "Most failing"
    at.run()
    [most] = figures(at)
    bars = {y: x for t in most.data for x, y in zip(values(t.x), t.y, strict=True)}
    by_test = listed.assign(n=listed["occurrences"].astype(int)).groupby("test_name")["n"].max()
    assert bars == {t: by_test[t] for t in bars} and len(bars) == min(15, len(listed))


@pytest.mark.parametrize("filters", COMBINATIONS, ids=IDS)
def test_sessions_figures_are_its_list(real, filters):
    at = open_page(PAGES[3], timeout=120, **filters)
    if nothing_matches(at):
        return
    listed = at.dataframe[0].value
    metric = {m.label: int(m.value) for m in at.metric}
    assert sum(metric.values()) == len(listed)
    states = wanted(filters, ("waiting", "running", "idle", "finished"))
    if states:
        assert {s.split(" ")[0].lower() for s in listed["state_text"]} <= {
            s.lower() for s in states
        }
    charts = figures(at)
    if charts:
        timeline, per_tool = charts
        assert total(per_tool) == sum(len(t.y) for t in timeline.data)
        shown = {f"Session {i}" for i in listed["id"]}
        assert {y for t in timeline.data for y in t.y} <= shown


@pytest.mark.parametrize("filters", COMBINATIONS, ids=IDS)
def test_specs_counts_are_its_tabs(real, filters):
    at = open_page(PAGES[1], timeout=120, **filters)
    if nothing_matches(at):
        return
    counted = number(r"^(\d+) changes", [c.value for c in at.caption])
    listed = [d.value for d in at.dataframe]
    assert sum(len(d) for d in listed) == counted
    if filters.get("project"):
        assert all(set(d["project"]) == {filters["project"]} for d in listed)
