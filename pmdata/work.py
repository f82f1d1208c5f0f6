"""All Work: planned changes and failing tests in one list, ordered by one priority scale.

Priority (1 low … 5 urgent) means the same for both kinds:
- an error carries its triage priority (the classifier's, or the one a person set);
- a change, by the OpenSpec CLI's status: in-progress 4 (it has tasks to do), no-tasks 3 (not
  planned yet), complete 2 (only the archive is left); one that fails `openspec validate` gets
  +1 (it blocks its own archive), capped at 5.
Equal priorities put the most recently active item first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz

from pmdata.vocabulary import CHANGE_STATES, SESSION_STATES, TRIAGE_STATES

CHANGE_PRIORITY = {"in-progress": 4, "no-tasks": 3, "complete": 2, "archived": 1}
STATUSES = CHANGE_STATES + TRIAGE_STATES + SESSION_STATES
SEARCH_THRESHOLD = 70
# How a status reads on screen: one spelling for one thing, in words rather than codes.
STATUS_WORDS = {
    "no-tasks": "no tasks",
    "in-progress": "in progress",
    "complete": "complete",
    "archived": "archived",
    "needs_spec": "needs a spec",
    "one_off_fix": "one-off fix",
    "ignore": "ignore",
    "pending": "pending",
    "untriaged": "untriaged",
    "waiting": "waiting",
    "running": "running",
    "idle": "idle",
    "finished": "finished",
    "manual": "manual",
    "spec_implementation": "implements a change",
    "error_remediation": "fixes a failure",
}


def how_many(n: int, one: str, many: str | None = None) -> str:
    """ "1 failing test", "206,173 failures": the number with separators, the noun agreeing."""
    if many is None:
        many = one + "s" if not one.endswith("s") else one
    return f"{n:,} {one if n == 1 else many}"


def in_words(status: object) -> str:
    """A status as it reads on screen ("needs a spec"); anything unknown as it is."""
    return STATUS_WORDS.get(status, status) if isinstance(status, str) else ""


class Filters(BaseModel):
    """What a person narrowed the view to; it lives in the URL."""

    model_config = ConfigDict(frozen=True)

    project: str | None = None
    status: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None  # inclusive
    q: str = ""

    def epoch_range(self) -> tuple[int | None, int | None]:
        since = (
            int(datetime(*self.since.timetuple()[:3], tzinfo=UTC).timestamp())
            if self.since
            else None
        )
        until = (
            int(datetime(*self.until.timetuple()[:3], tzinfo=UTC).timestamp()) + 86_400
            if self.until
            else None
        )
        return since, until

    def active(self) -> list[str]:
        """The filters in force, in words: what an empty result names."""
        words = []
        if self.project:
            words.append(f"project {self.project}")
        if self.status:
            words.append("status " + " or ".join(in_words(s) for s in self.status))
        if self.since:
            end = f" to {self.until:%d %b %Y}" if self.until and self.until != self.since else ""
            words.append(f"dates {self.since:%d %b %Y}{end}")
        if self.q:
            words.append(f"search “{self.q}”")
        return words

    def statuses_in(self, vocabulary: tuple[str, ...]) -> tuple[str, ...]:
        """The chosen statuses this page understands (none chosen: no narrowing)."""
        return tuple(s for s in self.status if s in vocabulary)


def change_priority(state: str, valid: bool = True) -> int:
    return min(CHANGE_PRIORITY.get(state, 3) + (0 if valid else 1), 5)


def fuzzy_filter(frame: pd.DataFrame, columns: list[str], q: str, also=None) -> pd.DataFrame:
    """Rows where any of `columns` holds `q` (any case), best first. Only when nothing holds it
    do close matches count (rapidfuzz partial ratio ≥ 70): "cart" finds "cart total", and finds
    "card" only when no text holds "cart". Such a result has `attrs["fuzzy"]` set, for the page
    to say so. `also`: rows known to hold `q` elsewhere (a failure's error text), by position."""
    q = (q or "").strip().lower()
    if not q or frame.empty:
        return frame
    text = frame[columns].fillna("").astype(str).agg(" ".join, axis=1).str.lower()
    exact = text.str.contains(q, regex=False)
    if also is not None:
        exact = exact | pd.Series(also, index=frame.index, dtype=bool)
    if exact.any():
        return frame[exact]
    scores = text.map(lambda t: fuzz.partial_ratio(q, t))
    # Filter last: assigning a full-length column to an empty frame would bring its rows back.
    ranked = frame.assign(_score=scores).sort_values("_score", ascending=False, kind="stable")
    close = ranked[ranked["_score"] >= SEARCH_THRESHOLD].drop(columns="_score")
    close.attrs["fuzzy"] = True
    return close


def in_date_range(frame: pd.DataFrame, column: str, filters: Filters) -> pd.DataFrame:
    """Rows whose `column` (a time) falls within the chosen dates, whole days in UTC."""
    since, until = filters.epoch_range()
    if since is None and until is None:
        return frame
    stamps = _in_utc(frame[column])
    keep = pd.Series(True, index=frame.index)
    if since is not None:
        keep &= stamps >= pd.Timestamp(since, unit="s", tz="UTC")
    if until is not None:
        keep &= stamps < pd.Timestamp(until, unit="s", tz="UTC")
    return frame[keep]


def _in_utc(stamps: pd.Series) -> pd.Series:
    """Timestamps in UTC, whether they came naive (taken as UTC) or with a zone."""
    # utc=True also when empty: an empty naive column compared with a UTC time raised (an
    # empty project under a date filter).
    return pd.to_datetime(stamps, utc=True)


def work_items(changes: pd.DataFrame, failures: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """changes: project, id, title, state, valid (None while unknown), last_modified, progress;
    failures: rows of queries/failing_tests.sql. Returns one table, highest priority first."""
    rows = []
    for c in changes.itertuples(index=False):
        known = c.valid is not None and not pd.isna(c.valid)
        validity = " · invalid" if known and not c.valid else ""
        rows.append(
            {
                "kind": "spec",
                "project": c.project,
                "ref": c.id,
                "title": c.title,
                "status": c.state,
                # Unknown counts as valid until the verdict comes in: no alarm on a guess.
                "priority": change_priority(c.state, not known or bool(c.valid)),
                "detail": f"{c.completed}/{c.total} tasks{validity}",
                "active_at": pd.Timestamp(c.last_modified),
            }
        )
    columns = ["kind", "project", "ref", "title", "status", "priority", "detail", "active_at"]
    specs = pd.DataFrame(rows, columns=columns)
    specs["active_at"] = _in_utc(specs["active_at"])
    specs = in_date_range(specs, "active_at", filters)  # failures come narrowed by their query
    # Tens of thousands of failing tests at a million failures: built by columns, not rows.
    errors = pd.DataFrame(
        {
            "kind": "error",
            "project": failures["project"],
            "ref": failures["failure_id"].astype("int64").astype(str),
            "title": failures["test_name"],
            "status": failures["decision"],
            "priority": failures["priority"].astype(int),
            "detail": failures["classification"].astype(str)
            + " · "
            + failures["occurrences"].astype("int64").astype(str)
            + "×",
            "active_at": _in_utc(failures["last_seen"]),
        },
        columns=columns,
    )
    parts = [part for part in (specs, errors) if len(part)]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    wanted = filters.statuses_in(CHANGE_STATES + TRIAGE_STATES)
    if wanted:
        frame = frame[frame["status"].isin(wanted)]
    frame = fuzzy_filter(frame, ["title", "ref"], filters.q)
    return frame.sort_values(["priority", "active_at"], ascending=[False, False], kind="stable")


CHANGE_COLUMNS = [
    "project",
    "id",
    "title",
    "state",
    "completed",
    "total",
    "progress",
    "last_modified",
    "valid",
    "problem",
]


def changes_table(index, project: str | None, include_archived: bool = False) -> pd.DataFrame:
    """Every change of `project` (all projects when None) under a ProjectIndex, with its
    validation verdict: None until the background validator has it."""
    rows = []
    for p in index.projects():
        if project and p.name != project:
            continue
        verdicts = index.validation_if_ready(p)
        for c in index.summaries(p):
            if c.state == "archived" and not include_archived:
                continue
            if verdicts is None:
                verdict = {"valid": None}
            else:
                verdict = verdicts.get(("change", c.id), {"valid": True, "issues": []})
            rows.append(
                {
                    "project": p.name,
                    "id": c.id if c.state != "archived" else c.folder,
                    "title": c.title,
                    "state": c.state,
                    "completed": c.completed_tasks,
                    "total": c.total_tasks,
                    "progress": c.progress,
                    "last_modified": c.last_modified,
                    "valid": True if c.state == "archived" else verdict["valid"],
                    "problem": c.problem,
                }
            )
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)
