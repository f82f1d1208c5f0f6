"""Specs: changes by state with progress and validation; a change's or a spec's own page; the
create-proposal and archive forms (only for the project on screen)."""

import streamlit as st

from dashboard import common, filters, lists, live, readers, shell, usage_view
from pmdata.errors import PmdashError
from pmdata.inert_markdown import inert
from pmdata.openspec import transaction
from pmdata.openspec.archive import ArchiveRefused, archive_change, plan_archive
from pmdata.openspec.tree import OpenSpecError
from pmdata.openspec.writes import FirstDelta, Proposal, create_proposal
from pmdata.sessions import with_states
from pmdata.vocabulary import CHANGE_STATES
from pmdata.work import fuzzy_filter, in_date_range, in_words
from pmdata.work_item import WorkItem

shell.require()  # first: a page never renders outside the shell

f = filters.current_filters()
change_id = st.query_params.get("change")
spec_id = st.query_params.get("spec")
projects = {p.name: p for p in readers.index().projects()}
project = projects.get(f.project) if f.project else None
live.live(trees=True)  # an edit on disk, or verdicts from the background, show by themselves


def agents_line(project: str, change_id: str) -> None:
    """The sessions started on this change (`PMDASH_WORK_ITEM=spec:<project>/<change>`)."""
    if not readers.db():
        return
    try:
        # Not narrowed by project: a session's project is named after its working directory,
        # a change's after its tree; the work item names the change exactly.
        sessions = readers.run("session_activity")
    except PmdashError:
        return  # the Sessions page says what is wrong with the database
    item = WorkItem.spec(project, change_id)
    on_it = sessions[sessions["work_item"] == str(item)]
    if on_it.empty:
        st.caption(f"No agent session on it yet: `PMDASH_WORK_ITEM={item} claude` starts one.")
        return
    on_it = with_states(on_it, common.now(), readers.settings().idle_minutes)
    st.markdown(
        "**Agents on it:** "
        + " · ".join(
            f"[session {int(r.id)}]({common.permalink('sessions', session=int(r.id))}) "
            f"({r.state_text})"
            for r in on_it.itertuples(index=False)
        )
    )
    usage_view.cost_line(str(item))


def unfinished_archives(shown) -> None:
    """An archive killed half way leaves specs/ part-merged until something finishes it: say
    so above everything else, with the way out."""
    for p in shown:
        for left in transaction.unfinished_archives(p.openspec_path):
            st.warning(inert(f"**{p.name}**: {left.describe(str(p.path))}"))
            if common.readonly():
                continue
            if st.button("Put the tree back now", key=f"recover-{p.name}-{left.change_id}"):
                try:
                    with transaction.tree_lock(p.openspec_path):
                        done = transaction.recover(p.openspec_path)
                except (OpenSpecError, OSError) as exc:
                    st.error(inert(str(exc)))
                    continue
                readers.index().invalidate(p)
                st.success(inert("; ".join(done) or "Nothing was left to do."))


def show_change(project, change_id: str) -> None:
    common.header("Specs", change_id)
    try:
        detail = readers.index().change(project, change_id)
    except OpenSpecError as exc:
        st.error(str(exc))
        return
    st.subheader(inert(detail.title))
    st.caption(
        f"`{detail.folder}` · {in_words(detail.state)} · "
        f"{detail.completed_tasks}/{detail.total_tasks} tasks"
    )
    if detail.problem:
        st.warning(inert(detail.problem))
    agents_line(project.name, change_id)
    verdict = readers.index().change_verdict(project, change_id)
    if verdict:
        issues = verdict["issues"]
        (st.success if verdict["valid"] else st.error)(
            "Valid" if verdict["valid"] else "Fails `openspec validate`"
        )
        for i in issues:
            st.caption(inert(f"{i['level']} · {i['path']}: {i['message']}"))
    proposal, deltas, tasks, design = st.tabs(
        ["Proposal", "Deltas", "Tasks", "Design"], key="change_tab", bind="query-params"
    )
    # Only the open tab is drawn: a change with 452 tasks costs nothing until Tasks is opened.
    if proposal.open:
        with proposal:
            # As its author wrote it, whatever its sections are called (Context, Goals, 背景).
            if detail.proposal.strip():
                st.markdown(inert(detail.proposal))
            else:
                st.caption("This change has no proposal.md.")
    if deltas.open:
        with deltas:
            show_deltas(detail)
    if tasks.open:
        with tasks:
            if not detail.tasks:
                st.caption("No tasks.")
            else:  # one list, not a widget per task
                st.caption(f"{detail.completed_tasks} of {detail.total_tasks} done")
                checklist = "\n".join(
                    f"- [{'x' if t.done else ' '}] {t.text}" for t in detail.tasks
                )
                st.markdown(inert(checklist))
    if design.open:
        with design:
            st.markdown(inert(detail.design) or "_No design.md._")
    if detail.state != "archived" and not common.readonly():
        archive_form(project, change_id, verdict)


def show_deltas(detail) -> None:
    if not detail.capabilities:
        st.caption("No delta specs.")
    for cap in detail.capabilities:
        st.markdown(inert(f"#### {cap.capability}"))
        for d in cap.deltas:
            label = f"{d.operation} · {d.requirement.name}"
            if d.renamed_from:
                label += f" (from {d.renamed_from})"
            with st.expander(inert(label)):
                st.markdown(inert(d.requirement.text) or "_(name only)_")
                for s in d.requirement.scenarios:
                    st.markdown(inert(f"**Scenario: {s.name}**\n\n{s.text}"))


def describe_update(update: dict) -> str:
    """ "creates it: 9 requirements added", "updates it: 1 added, 1 modified"."""
    counts = [f"{n} {what}" for what, n in update["counts"].items() if n]
    verb = "creates it" if update["action"] == "create" else "updates it"
    return f"{verb}: {', '.join(counts) or 'no requirement changes'}"


def archive_form(project, change_id: str, verdict: dict | None) -> None:
    st.divider()
    st.subheader("Archive this change")
    plan, _ = plan_archive(project.openspec_path, change_id)
    st.write(f"Moves to `changes/archive/{plan.archive_name}/` and applies its deltas:")
    for u in plan.updates:
        st.caption(inert(f"{u['spec']}: {describe_update(u)}"))
    if plan.refusal:
        st.error(inert(f"Archive would refuse: {plan.refusal}"))
        return
    # The CLI's archive skips validating a change with no deltas; the page's verdict does not,
    # so an invalid change never archives without the person saying so.
    invalid = not plan.valid or (verdict is not None and not verdict["valid"])
    if invalid:
        issues = plan.validation["issues"] if not plan.valid else verdict["issues"]
        st.error("Fails `openspec validate`: archiving it anyway needs the force box. Why:")
        for i in issues:
            if i["level"] == "ERROR":
                st.caption(inert(f"{i['path']}: {i['message']}"))
    if plan.open_tasks:
        st.warning(f"{plan.open_tasks} of {plan.total_tasks} tasks are still open.")
    with st.form("archive", enter_to_submit=False):
        confirm = st.checkbox(f"Yes, archive {change_id} in {project.name}")
        force = st.checkbox("Archive even though validation fails") if invalid else False
        if st.form_submit_button("Archive", type="primary", disabled=False):
            if not confirm:
                st.error("Tick the confirmation first.")
                return
            if invalid and not force:
                st.error("This change fails validation: tick the force box to archive it anyway.")
                return
            try:
                archive_change(
                    project.openspec_path, change_id, force=force, accept_open_tasks=True
                )
            except (ArchiveRefused, OpenSpecError, OSError) as exc:
                st.error(str(exc))
                return
            readers.index().invalidate(project)
            common.done(f"Archived {change_id} as {plan.archive_name}.", change=None)


def show_spec(project, spec_id: str) -> None:
    common.header("Specs", spec_id)
    try:
        spec = readers.index().spec(project, spec_id)
    except OpenSpecError as exc:
        st.error(str(exc))
        return
    st.subheader(inert(spec.id))
    if spec.problem:
        st.warning(inert(spec.problem))
    st.markdown(inert(spec.purpose))
    for r in spec.requirements:
        with st.expander(inert(r.name)):
            st.markdown(inert(r.text))
            for s in r.scenarios:
                st.markdown(inert(f"**Scenario: {s.name}**\n\n{s.text}"))


def create_form(project) -> None:
    with (
        st.expander("New proposal", icon=":material/add:"),
        st.form("create_proposal", clear_on_submit=False, enter_to_submit=False),
    ):
        title = st.text_input("Title", key="new_title")
        why = st.text_area("Why", key="new_why")
        what = st.text_area("What changes (one per line)", key="new_what")
        st.caption("A change adds at least one requirement, with a scenario, to a capability.")
        capability = st.text_input("Capability", placeholder="e.g. checkout", key="new_capability")
        requirement = st.text_input("Requirement name", key="new_requirement")
        text = st.text_input("Requirement (use SHALL)", key="new_text")
        scenario = st.text_input("Scenario", key="new_scenario")
        when = st.text_input("WHEN", key="new_when")
        then = st.text_input("THEN", key="new_then")
        if st.form_submit_button("Create proposal", type="primary"):
            fields = {
                "Title": title, "Why": why, "What changes": what, "Capability": capability,
                "Requirement name": requirement, "Requirement": text, "Scenario": scenario,
                "WHEN": when, "THEN": then,
            }  # fmt: skip
            missing = [label for label, value in fields.items() if not value.strip()]
            if missing:
                st.error(f"Fill in: {', '.join(missing)}.")
                return
            try:
                proposal = Proposal(
                    title=title,
                    why=why,
                    what_changes=[w.strip() for w in what.splitlines() if w.strip()],
                    first_delta=FirstDelta(
                        capability=capability.strip(),
                        requirement=requirement,
                        text=text,
                        scenario=scenario,
                        when=when,
                        then=then,
                    ),
                )
                new_id = create_proposal(project.openspec_path, proposal)
            except OpenSpecError as exc:
                st.error(inert(str(exc)))
                return
            readers.index().invalidate(project)
            common.done(f"Created change {new_id} in {project.name}.", change=new_id)


unfinished_archives([project] if project else projects.values())
if change_id or spec_id:
    if project is None:
        common.header("Specs")
        st.info("Pick the project in the sidebar: a change's link names its project.")
    elif change_id:
        show_change(project, change_id)
    else:
        show_spec(project, spec_id)
    st.stop()

common.header("Specs")
if not projects:
    st.info(
        "No OpenSpec projects found under "
        + ", ".join(f"`{r}`" for r in readers.settings().project_roots)
        + ". A project is a folder holding `openspec/`; "
        "set PMDASH_PROJECT_ROOTS to where yours live."
    )
    st.stop()
changes = readers.changes_frame(f, include_archived=True)
filters.statuses_not_followed(CHANGE_STATES, "changes")
wanted = f.statuses_in(CHANGE_STATES)
if wanted:
    changes = changes[changes["state"].isin(wanted)]
changes = in_date_range(changes, "last_modified", f)  # changed within the dates
changes = fuzzy_filter(changes, ["id", "title"], f.q)
filters.say_if_close_matches(changes, "change")
if changes.empty and filters.nothing_matches("changes"):
    st.stop()
changes = changes.assign(
    valid=changes["valid"].map(common.validity),
    link=[
        common.permalink("specs", project=p, change=c)
        for p, c in zip(changes["project"], changes["id"], strict=True)
    ],
)
common.validation_notice()
by_state = changes["state"].value_counts()
st.caption(
    f"{len(changes)} changes · "
    + " · ".join(f"{int(by_state.get(state, 0))} {in_words(state)}" for state in CHANGE_STATES)
)
tabs = st.tabs([in_words(s).capitalize() for s in CHANGE_STATES], key="state", bind="query-params")
for state, tab in zip(CHANGE_STATES, tabs, strict=True):
    with tab:
        rows = changes[changes["state"] == state]
        if rows.empty:
            where = f" in {f.project}" if f.project else ""
            st.caption(inert(f"No changes {in_words(state)}{where}."))
            continue
        lists.table(
            rows,
            "project id title progress completed total valid last_modified link",
            opens_from="specs",
            name=state,
            id="Change",
            progress=st.column_config.ProgressColumn("Tasks", min_value=0, max_value=1),
            last_modified=lists.ago("Changed"),
        )
st.subheader("Specs")
for p in projects.values():
    if f.project and p.name != f.project:
        continue
    specs = readers.index().specs(p)
    if specs:
        st.markdown(
            f"**{p.name}**: "
            + " · ".join(
                f"[{s['id']}]({common.permalink('specs', project=p.name, spec=s['id'])})"
                f" ({s['requirementCount']})"
                for s in specs
            )
        )
if project is not None and not common.readonly():
    create_form(project)
elif not common.readonly():
    st.caption("Pick a project in the sidebar to create a proposal in it.")
