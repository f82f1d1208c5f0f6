"""A failure's own page (`/failure?failure=39`): its run history, its error and root cause (the
fingerprint and every test that shares it), the remediation attempts, and the forms a person
decides with."""

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import common, lists, readers, remediation, usage_view
from pmdata.errors import PmdashError
from pmdata.inert_markdown import inert
from pmdata.openspec.tree import OpenSpecError
from pmdata.remediation import Remediation
from pmdata.triage import mutes, service
from pmdata.triage.fingerprint import signature
from pmdata.triage.proposals import create_proposal_from_failure, draft_from_failure
from pmdata.vocabulary import DECISIONS
from pmdata.work import how_many, in_words


def show_failure(failure_id: int, f) -> None:
    """A failure's page: its test's runs, its error and root cause, and what people do."""
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
    usage_view.cost_line(f"error:{failure_id}")
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
    test_page = common.permalink("errors", test=d["test_name"], workflow=d["workflow_name"])
    st.markdown("#### Run history")
    st.markdown(f"[The test's page]({test_page}): every run, its state, rates and durations.")
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
    show_attachments(d)
    st.markdown(f"#### Fingerprint `{d['fingerprint'] or '—'}`")
    st.code(signature(d["error"]), language="text")
    group = pd.DataFrame()
    if d["fingerprint"]:
        group = readers.run("fingerprint_group", fingerprint=d["fingerprint"])
        st.caption(
            f"{how_many(int(group['failures'].sum()), 'failure')} of "
            f"{how_many(len(group), 'test')} share it:"
        )
        lists.table(
            common.with_failure_links(group),
            "project test_name failures undecided link",
            opens_from="errors",
            name="same_cause",
            failures="Failures",
            undecided="Undecided",
        )
    attempts = remediation.show_attempts(d)
    if common.readonly() or pd.isna(d["triage_id"]):
        return
    forms(d, group, attempts)


def forms(d, group, attempts) -> None:
    override, assign, remediate, propose, whole, quiet = st.tabs(
        [
            "Decide",
            "Assign a session",
            "Remediate",
            "Proposal from this error",
            "Whole group",
            "Mute",
        ],
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
    with whole:
        group_form(d, group)
    with quiet:
        mute_form(d)


def mute_form(d) -> None:
    """Mute the test for a while with a reason, or end the mute in force."""
    tests = readers.run("failing_tests", now=common.this_minute())
    this = tests[
        (tests["workflow_name"] == d["workflow_name"]) & (tests["test_name"] == d["test_name"])
    ]
    if not this.empty and bool(this.iloc[0]["muted"]):
        m = this.iloc[0]
        until = pd.Timestamp(m["muted_until"]).strftime("%Y-%m-%d %H:%M")
        st.markdown(inert(f"**Muted by {m['muted_by']} until {until} UTC:** {m['mute_reason']}"))
        if st.button("Unmute", key="unmute"):
            mutes.unmute(readers.db(), d["workflow_name"], d["test_name"], common.who())
            common.done("Unmuted: its failures count again.")
        return
    st.caption(
        "A muted test's failures are shown apart and raise no priority until the mute expires "
        "or the test passes a run."
    )
    with st.form("mute", enter_to_submit=False):
        reason = st.text_input("Why", key="mute_reason")
        days = st.number_input("For how many days", 1, mutes.MAX_DAYS, 14, key="mute_days")
        if st.form_submit_button("Mute this test"):
            try:
                mutes.mute(
                    readers.db(),
                    d["workflow_name"],
                    d["test_name"],
                    reason,
                    int(days),
                    common.who(),
                )
            except PmdashError as exc:
                st.error(inert(str(exc)))
            else:
                common.done(f"Muted for {how_many(int(days), 'day')}.")


def group_form(d, group) -> None:
    """One decision for a root cause, saying first exactly what it changes: in this project
    unless asked for every project."""
    if group.empty:
        st.caption("This failure has no fingerprint yet.")
        return
    here = group[group["project"] == d["project"]]
    elsewhere = group[group["project"] != d["project"]]
    everywhere = bool(len(elsewhere)) and st.checkbox(
        f"Also in {how_many(elsewhere['project'].nunique(), 'other project')} "
        f"({', '.join(sorted(elsewhere['project'].unique()))})",
        key="group_everywhere",
    )
    chosen = group if everywhere else here
    st.caption(
        f"Deciding changes {how_many(int(chosen['failures'].sum()), 'failure')} of "
        f"{how_many(len(chosen), 'test')} in {', '.join(sorted(chosen['project'].unique()))}"
        f" ({int(chosen['undecided'].sum())} not yet decided by a person)."
    )
    with st.form("group", enter_to_submit=False):
        decision = st.selectbox("Decision for all", DECISIONS, key="group_decision")
        rationale = st.text_area("Rationale", key="group_rationale")
        if st.form_submit_button("Decide the whole group"):
            try:
                n = service.triage_group(
                    readers.db(),
                    d["fingerprint"],
                    decision,
                    rationale,
                    who=common.who(),
                    project=None if everywhere else d["project"],
                )
            except PmdashError as exc:
                st.error(inert(str(exc)))
            else:
                common.done(f"{how_many(n, 'failure')} decided: {in_words(decision)}.")


MAX_ATTACHMENT = 50 * 1024 * 1024  # a trace or video larger than this is linked, not loaded


def show_attachments(d) -> None:
    """The trace, screenshots and video the failed attempt left, when this server can read
    them. Only files inside the report's own folder are served: a report names any path it
    likes, and the dashboard must not hand out the rest of the disk."""
    try:
        items = json.loads(d["attachments"]) if isinstance(d["attachments"], str) else []
    except ValueError:
        items = []
    if not items or not isinstance(items, list):
        return
    st.markdown("#### Attachments")
    folder = Path(str(d["report_path"] or "")).resolve().parent
    for n, item in enumerate(a for a in items if isinstance(a, dict) and a.get("path")):
        path = Path(str(item["path"]))
        name = str(item.get("name") or path.name)
        kind = str(item.get("contentType") or "")
        try:
            real = path.resolve()
            ok = real.is_relative_to(folder) and real.is_file()
            size = real.stat().st_size if ok else 0
        except OSError:
            ok, size = False, 0
        if not ok:
            st.caption(
                inert(f"{name}: {path} is not on this server, or outside the report's folder.")
            )
        elif kind.startswith("image/"):
            st.image(str(real), caption=name)
        elif kind.startswith("video/"):
            st.video(str(real))
        elif size <= MAX_ATTACHMENT:
            st.download_button(
                f"Download {name} ({real.name})",
                real.read_bytes(),
                file_name=real.name,
                key=f"attachment-{n}",
            )
            if real.suffix == ".zip" and "trace" in name:
                st.caption(f"Open it with `npx playwright show-trace {real.name}`.")
        else:
            st.caption(inert(f"{name}: {real} ({size // 1_000_000} MB, too large to load here)."))
