"""Errors: failing tests with the classifier's view and people's decisions; charts; a failure's
own page with its history, fingerprint group and the triage forms."""

import pandas as pd
import streamlit as st

from dashboard import charts, common, filters, lists, live, readers, remediation, shell
from pmdata.errors import PmdashError
from pmdata.inert_markdown import inert
from pmdata.openspec.tree import OpenSpecError
from pmdata.remediation import TEST_REMEDIATION_STATES, Remediation
from pmdata.triage import service
from pmdata.triage.fingerprint import signature
from pmdata.triage.proposals import create_proposal_from_failure, draft_from_failure
from pmdata.vocabulary import DECISIONS
from pmdata.work import fuzzy_filter, how_many, in_words

shell.require()  # first: a page never renders outside the shell

f = filters.current_filters()
if not readers.db():
    common.header("Errors")
    common.no_database()
    st.stop()

failure_param = st.query_params.get("failure")


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
        help=f"{int(row['kept'])} of {int(row['reviewed'])} reviewed failures (target: > 70%)",
    )


def show_failure(failure_id: int) -> None:
    detail = readers.run("failure_detail", failure_id=failure_id)
    if detail.empty:
        common.header("Errors")
        st.error(f"No failure with id {failure_id}.")
        return
    d = detail.iloc[0]
    if f.project and d["project"] != f.project:
        common.header("Errors")
        st.warning(inert(f"Failure {failure_id} belongs to {d['project']}, not {f.project}."))
        return
    common.header("Errors", d["test_name"])
    st.subheader(inert(d["test_name"]))
    st.caption(
        inert(f"{d['test_file']} · {d['workflow_name']} run {d['run_number']} · {d['failed_at']}")
    )
    cols = st.columns(4)
    cols[0].metric("Decision", in_words(d["decision"]) or "untriaged")
    cols[1].metric("Priority", "" if pd.isna(d["priority"]) else int(d["priority"]))
    cols[2].metric("Suggested", in_words(d["suggested_decision"]) or "—")
    cols[3].metric(
        "Confidence",
        "" if pd.isna(d["suggested_confidence"]) else f"{d['suggested_confidence']:.0%}",
    )
    st.markdown(inert(f"**Why (classifier):** {d['suggested_rationale'] or 'not classified yet'}"))
    if d["decided_by"]:
        st.markdown(inert(f"**Decided by {d['decided_by']}:** {d['rationale']}"))
    if not pd.isna(d["assigned_session_id"]):
        st.markdown(
            f"**Session on it:** [{int(d['assigned_session_id'])}]"
            f"({common.permalink('sessions', session=int(d['assigned_session_id']))})"
        )
    if d["spec_change_id"]:
        st.markdown(
            f"**Spec change:** [{d['spec_change_id']}]"
            f"({common.permalink('specs', project=d['project'], change=d['spec_change_id'])})"
        )
    runs = readers.run("test_runs", workflow=d["workflow_name"], test_name=d["test_name"])
    st.markdown("#### Run history")
    lists.table(
        runs,
        report_id="Report",
        run_number="Run",
        run_at=lists.ago("When"),
        outcome="Outcome",
        failure_id="Failure",
        duration="Duration (ms)",
    )
    st.markdown("#### Error")
    st.code(d["error"] or "(no message)", language="text")
    with st.expander("Stack trace"):
        st.code(d["stack_trace"] or "(none)", language="text")
    st.markdown(f"#### Fingerprint `{d['fingerprint'] or '—'}`")
    st.code(signature(d["error"]), language="text")
    group = pd.DataFrame()
    if d["fingerprint"]:
        everything = readers.run("failing_tests")
        group = everything[everything["fingerprint"] == d["fingerprint"]]
        st.caption(f"The failing tests that share it ({len(group)}), across projects:")
        lists.table(group, "project test_name occurrences decision")
    attempts = remediation.show_attempts(d)
    if common.readonly() or pd.isna(d["triage_id"]):
        return
    forms(d, group, attempts)


def forms(d, group, attempts) -> None:
    override, assign, remediate, propose, whole = st.tabs(
        ["Decide", "Assign a session", "Remediate", "Proposal from this error", "Whole group"],
        key="form",
        bind="query-params",
    )
    with remediate:
        remediation.forms(d, attempts)
    with override, st.form("override", enter_to_submit=False):
        # Keyed by failure: another failure's page starts from its own values.
        of = int(d["failure_id"])
        decision = st.selectbox(
            "Decision", DECISIONS, index=DECISIONS.index(d["decision"]), key=f"decision-{of}"
        )
        priority = st.slider("Priority", 1, 5, int(d["priority"]), key=f"priority-{of}")
        rationale = st.text_area(
            "Rationale", value="" if not d["decided_by"] else d["rationale"], key=f"rationale-{of}"
        )
        if st.form_submit_button("Save decision", type="primary"):
            try:
                service.override(
                    readers.db(),
                    int(d["failure_id"]),
                    decision,
                    rationale,
                    priority,
                    who=common.who(),
                )
            except PmdashError as exc:
                st.error(inert(str(exc)))
            else:
                common.done(f"Saved: {in_words(decision)}, priority {priority}.")
    with assign, st.form("assign", enter_to_submit=False):
        sessions = readers.run("session_activity", project=d["project"])
        free = sessions[sessions["work_item"].isna() & (sessions["status"] == "running")]
        choice = st.selectbox(
            "Session",
            free["id"].tolist(),
            index=None,
            placeholder="A running session with no work item",
        )
        st.caption(f"Or start one: `{Remediation.command_for(int(d['failure_id']))}`")
        if st.form_submit_button("Assign"):
            if choice is None:
                st.error("Pick a session first.")
                return
            try:
                service.assign_session(readers.db(), int(d["failure_id"]), int(choice))
            except PmdashError as exc:
                st.error(inert(str(exc)))
            else:
                common.done(f"Session {choice} is on it.")
    with propose:
        project = next((p for p in readers.index().projects() if p.name == d["project"]), None)
        if project is None:
            st.caption(f"No OpenSpec project named {d['project']} under the project roots.")
        else:
            history = readers.run(
                "test_history", workflow=d["workflow_name"], test_name=d["test_name"]
            )
            draft = draft_from_failure(
                d.to_dict(), history.iloc[0].to_dict() if not history.empty else None
            )
            with st.form("propose", enter_to_submit=False):
                title = st.text_input("Title", value=draft.title)
                why = st.text_area("Why", value=draft.why)
                what = st.text_area("What changes", value="\n".join(draft.what_changes))
                if st.form_submit_button(f"Create in {project.name}"):
                    try:
                        proposal = draft.model_copy(
                            update={
                                "title": title,
                                "why": why,
                                "what_changes": [w for w in what.splitlines() if w.strip()],
                            }
                        )
                        new_id = create_proposal_from_failure(
                            readers.db(), project.openspec_path, int(d["failure_id"]), proposal
                        )
                    except (PmdashError, OpenSpecError, ValueError) as exc:
                        st.error(inert(str(exc)))
                    else:
                        readers.index().invalidate(project)
                        common.done(f"Created change {new_id} in {project.name}.")
    with whole, st.form("group", enter_to_submit=False):
        st.caption(f"{len(group)} failing tests share this fingerprint.")
        decision = st.selectbox("Decision for all", DECISIONS, key="group_decision")
        rationale = st.text_area("Rationale", key="group_rationale")
        if st.form_submit_button("Decide the whole group"):
            try:
                n = service.triage_group(
                    readers.db(), d["fingerprint"], decision, rationale, who=common.who()
                )
            except PmdashError as exc:
                st.error(inert(str(exc)))
            else:
                common.done(f"{how_many(n, 'failure')} decided: {in_words(decision)}.")


if failure_param:
    live.live("failure_detail", "test_runs", "failing_tests", "remediation_attempts")
    try:
        show_failure(int(failure_param))
    except ValueError:
        st.error(f"{failure_param!r} is not a failure id.")
    st.stop()

common.header("Errors")
live.live("failing_tests", "failure_trend_by_class", "flaky_tests", "triage_agreement")
params = filters.filter_params(f)
failing = readers.run("failing_tests", **params)
filters.statuses_not_followed(DECISIONS, "failing tests")
wanted = f.statuses_in(DECISIONS)
if wanted:
    failing = failing[failing["decision"].isin(wanted)]
failing = fuzzy_filter(failing, ["test_name", "test_file"], f.q)
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
agreement_line()
if failing.empty:
    if not filters.nothing_matches(
        "failing tests", [f"remediation {' or '.join(chosen)}"] if chosen else []
    ):
        st.info(
            "No failing tests yet. Ingest Playwright reports with "
            "`pmdata ingest playwright REPORT --project NAME`."
        )
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
shown = shown.assign(link=[common.permalink("errors", failure=i) for i in shown["failure_id"]])
lists.table(
    shown,
    "priority project test_name classification decision occurrences last_seen remediation link",
    opens_from="errors",
    last_seen=lists.ago("Last seen"),
)
trend, top, flaky = st.tabs(["Trend", "Most failing", "Flaky"], key="chart", bind="query-params")
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
        st.plotly_chart(
            charts.failures_by_day(readers.run("failure_trend_by_class", **params)),
            width="stretch",
        )
        if not_followed:
            st.caption(not_followed)
if top.open:
    with top:
        most = failing.sort_values("occurrences", ascending=False).head(15)
        st.plotly_chart(charts.most_failing(most), width="stretch")
if flaky.open:
    with flaky:
        data = readers.run("flaky_tests", **params)
        if data.empty:
            st.caption("No test passed on retry in this range.")
        else:
            st.plotly_chart(charts.flaky_tests(data), width="stretch")
            if not_followed:
                st.caption(not_followed)
