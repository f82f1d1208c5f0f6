"""Errors: failing tests with the classifier's view and people's decisions; charts; a failure's
own page with its history, fingerprint group and the triage forms."""

import streamlit as st

from dashboard import (
    charts,
    common,
    failure_page,
    filters,
    lists,
    live,
    readers,
    runs_view,
    shell,
    test_view,
)
from pmdata.inert_markdown import inert
from pmdata.remediation import TEST_REMEDIATION_STATES
from pmdata.vocabulary import TRIAGE_STATES
from pmdata.work import fuzzy_filter, how_many

shell.require()  # first: a page never renders outside the shell

f = filters.current_filters()
if not readers.db():
    common.header("Errors")
    common.no_database()
    st.stop()

failure_param = st.query_params.get("failure")
test_param = st.query_params.get("test")


def agreement_per_rule() -> None:
    """How often people kept each rule's suggestion: a rule they keep overriding comes first,
    the one to look at (`pmdata triage tune` says which threshold change would help)."""
    frame = readers.run("triage_agreement", project=f.project)
    rules = frame[frame["scope"] == "rule"].sort_values(["agreement", "reviewed"])
    if rules.empty:
        st.caption("No person has reviewed a suggestion yet.")
        return
    lists.table(
        rules,
        "bucket reviewed kept agreement",
        bucket="Deciding rule",
        reviewed="Reviewed",
        kept="Kept",
        agreement=st.column_config.NumberColumn("Agreement", format="percent"),
    )
    st.caption("`pmdata triage tune` says which threshold change would raise agreement.")


def show_muted(muted) -> None:
    if muted.empty:
        return
    with st.expander(f"Muted ({len(muted)}): shown apart, raising no priority"):
        lists.table(
            common.with_failure_links(muted),
            "project test_name mute_reason muted_by muted_until link",
            opens_from="errors",
            name="muted",
            mute_reason="Why muted",
            muted_by="By",
            muted_until=st.column_config.DatetimeColumn("Until", format="YYYY-MM-DD HH:mm"),
        )


def agreement_line() -> None:
    frame = readers.run("triage_agreement", project=f.project)
    overall = frame[frame["scope"] == "overall"]
    if overall.empty or not int(overall.iloc[0]["reviewed"]):
        where = f" in {f.project}" if f.project else ""
        st.caption(inert(f"Agreement: no person has reviewed a suggestion{where} yet."))
        return
    row = overall.iloc[0]
    st.metric(
        "People kept the classifier's decision",
        f"{row['agreement']:.0%}",
        help=f"{int(row['kept'])} of {int(row['reviewed'])} reviewed failures (target: > 85%)",
    )


if test_param:
    live.live("test_runs", "test_history")
    test_view.show(st.query_params.get("workflow") or "", test_param)
    st.stop()

if failure_param:
    live.live("failure_detail", "test_runs", "fingerprint_group", "remediation_attempts")
    if failure_param.isdigit():
        failure_page.show_failure(int(failure_param), f)
    else:
        common.header("Errors")
        st.error(inert(f"{failure_param!r} is not a failure id."))
    st.stop()

common.header("Errors")
live.live(
    "failing_tests", "failure_trend_by_class", "flaky_tests", "triage_agreement", "runs_overview"
)
params = filters.filter_params(f)
failing = readers.run("failing_tests", now=common.this_minute(), **params)
filters.statuses_not_followed(TRIAGE_STATES, "failing tests")
wanted = f.statuses_in(TRIAGE_STATES)
if wanted:
    failing = failing[failing["decision"].isin(wanted)]
in_errors = None
if f.q.strip():  # error messages and stack traces hold the words a title lacks
    hits = readers.run("failure_search", q=f.q.strip(), **params)
    keys = set(zip(hits["workflow_name"], hits["test_name"], strict=True))
    in_errors = [
        k in keys for k in zip(failing["workflow_name"], failing["test_name"], strict=True)
    ]
failing = fuzzy_filter(failing, ["test_name", "test_file"], f.q, also=in_errors)
filters.say_if_close_matches(failing, "failing test's title, file or error")
chosen = st.pills(
    "Remediation",
    TEST_REMEDIATION_STATES,
    selection_mode="multi",
    key="remediation",
    bind="query-params",
    help="The state of each test's latest remediation attempt",
)
if chosen:
    failing = failing[failing["remediation"].isin(chosen)]
# Muted tests are shown apart, below, and count in no figure: a person said "known, leave it".
muted = failing[failing["muted"].fillna(False).astype(bool)]
failing = failing[~failing.index.isin(muted.index)]
agreement_line()
if failing.empty:
    if not filters.nothing_matches(
        "failing tests", [f"remediation {' or '.join(chosen)}"] if chosen else []
    ):
        st.info(
            "No failing tests yet. Ingest Playwright reports with "
            "`pmdata ingest playwright REPORT --project NAME`."
        )
    show_muted(muted)
    st.stop()
needs_spec = int((failing["decision"] == "needs_spec").sum())
st.caption(
    f"{how_many(len(failing), 'failing test')} · "
    f"{how_many(int(failing['occurrences'].sum()), 'failure')} · "
    f"{how_many(needs_spec, 'needs a spec', 'need a spec')}"
)
shown = failing.head(common.MAX_ROWS)
if len(failing) > len(shown):
    st.caption(
        f"The {len(shown):,} most urgent of {len(failing):,} failing tests: filter for the rest."
    )
shown = common.with_failure_links(shown)
lists.table(
    shown,
    "priority project test_name classification decision occurrences last_seen remediation link",
    opens_from="errors",
    last_seen=lists.ago("Last seen"),
)
show_muted(muted)
trend, top, flaky, runs, agreement = st.tabs(
    ["Trend", "Most failing", "Flaky", "Runs", "Agreement"], key="chart", bind="query-params"
)
# The trend and flaky charts count by project and dates in SQL; the list's other filters are
# said, not silently dropped.
unfollowed = [w for w in f.active() if w.startswith(("status", "search"))]
unfollowed += [f"remediation {' or '.join(chosen)}"] if chosen else []
not_followed = None
if unfollowed:
    not_followed = inert(
        "Counts every failing test of the project and dates; not narrowed by "
        + ", ".join(unfollowed)
        + "."
    )
if trend.open:
    with trend:
        # A day's bar chosen narrows the page to that day; a test's bar to that test.
        st.plotly_chart(
            charts.failures_by_day(readers.run("failure_trend_by_class", **params)),
            width="stretch",
            key="trend_chart",
            on_select=lambda: filters.drill_to_day("trend_chart"),
            selection_mode="points",
        )
        st.caption("Choose a day's bar to see that day's failing tests.")
        if not_followed:
            st.caption(not_followed)
if top.open:
    with top:
        most = failing.sort_values("occurrences", ascending=False).head(15)
        st.plotly_chart(
            charts.most_failing(most),
            width="stretch",
            key="most_failing_chart",
            on_select=lambda: filters.drill_to_test("most_failing_chart"),
            selection_mode="points",
        )
        st.caption("Choose a bar to narrow the list to that test.")
if flaky.open:
    with flaky:
        data = readers.run("flaky_tests", **params)
        if data.empty:
            st.caption("No test passed on retry in this range.")
        else:
            st.plotly_chart(
                charts.flaky_tests(data),
                width="stretch",
                key="flaky_chart",
                on_select=lambda: filters.drill_to_test("flaky_chart"),
                selection_mode="points",
            )
            if not_followed:
                st.caption(not_followed)
if runs.open:
    with runs:
        runs_view.show(params)
if agreement.open:
    with agreement:
        agreement_per_rule()
