"""A failure's remediation panel: its attempts, starting one, and moving one along."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import common, lists, readers
from pmdata.remediation import (
    STATUSES,
    Remediation,
    RemediationError,
    start_remediation,
    update_attempt,
)


def attempts_of(d) -> pd.DataFrame:
    return readers.run(
        "remediation_attempts",
        project=d["project"],
        workflow=d["workflow_name"],
        test_name=d["test_name"],
    )


def show_attempts(d) -> pd.DataFrame:
    """The attempts on this failure's test, newest first, with their rerun verdicts."""
    attempts = attempts_of(d)
    st.markdown("#### Remediation")
    if attempts.empty:
        st.caption("No remediation attempt on this test yet.")
        return attempts
    shown = attempts.assign(
        rerun=[
            "—" if pd.isna(p) else f"run {int(n)}: " + ("passed" if int(p) else "failed")
            for p, n in zip(attempts["rerun_passed"], attempts["rerun_run_number"], strict=True)
        ],
        session=[
            common.permalink("sessions", session=int(s)) if not pd.isna(s) else None
            for s in attempts["session_id"]
        ],
    )
    lists.table(
        shown,
        "attempt_id status triggered_at completed_at fix_description pr_url rerun session",
        attempt_id="Attempt",
        fix_description="Fix",
        rerun="Rerun",
        pr_url=st.column_config.LinkColumn("PR"),
        session=st.column_config.LinkColumn("Session", display_text="open"),
        triggered_at=lists.ago("Started"),
        completed_at=lists.ago("Finished"),
    )
    return attempts


def forms(d, attempts: pd.DataFrame) -> None:
    """Start an attempt (when none is open), or move the latest one along."""
    open_ = attempts[attempts["status"].isin(("pending", "in_progress"))]
    if open_.empty and pd.isna(d["assigned_session_id"]):
        st.caption("Starting a remediation opens an attempt and the session record it will run in.")
        if st.button("Start a remediation", key="start_remediation"):
            try:
                start_remediation(readers.db(), int(d["failure_id"]))
                st.rerun()
            except RemediationError as exc:
                st.error(str(exc))
    elif open_.empty:
        st.caption(
            f"Session {int(d['assigned_session_id'])} is already on this failure: one work item, "
            "one session."
        )
    if not open_.empty:
        st.markdown("Run this in the project's folder to put Claude Code on it:")
        st.code(Remediation.command_for(int(d["failure_id"])), language="bash")
    if attempts.empty:
        return
    latest = attempts.iloc[0]
    with st.form("attempt", enter_to_submit=False):
        st.markdown(f"Attempt {int(latest['attempt_id'])} is **{latest['status']}**.")
        of = int(latest["attempt_id"])  # keyed by attempt: a newer one starts from its values
        status = st.selectbox(
            "Status", STATUSES, index=STATUSES.index(latest["status"]), key=f"attempt-status-{of}"
        )
        fix = st.text_area(
            "Fix description", value=latest["fix_description"] or "", key=f"attempt-fix-{of}"
        )
        pr = st.text_input("PR link", value=latest["pr_url"] or "", key=f"attempt-pr-{of}")
        if st.form_submit_button("Update attempt"):
            try:
                update_attempt(
                    readers.db(), int(latest["attempt_id"]), status, fix_description=fix, pr_url=pr
                )
                st.success(f"Attempt {int(latest['attempt_id'])}: {status}.")
            except RemediationError as exc:
                st.error(str(exc))
