"""Muting a test: a person says "known, leave it" for a while, with a reason and an expiry.

A muted test's failures are shown apart and raise no priority until the mute expires, the test
passes a run after it was muted, or a person unmutes it (queries/failing_tests.sql decides which
mutes are in force; nothing here runs on a clock). A mute is never deleted: ending it records
when and why, so the page can say who muted what.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import and_, insert, select, update

from pmdata.errors import PmdashError
from pmdata.store import schema
from pmdata.store.database import Store

MAX_DAYS = 90  # a mute is a pause, not a way to forget a test


class MuteError(PmdashError):
    """A mute was refused; the message says why."""


def mute(
    db: Path | str,
    workflow: str,
    test_name: str,
    reason: str,
    days: int,
    who: str,
    now: int | None = None,
) -> int:
    """Mute a test of a workflow for `days`; returns the mute's id. A test already muted gets
    the new reason and expiry (one mute in force per test)."""
    if not (reason or "").strip():
        raise MuteError("say why: a mute needs a reason")
    if not 1 <= int(days) <= MAX_DAYS:
        raise MuteError(f"a mute lasts 1 to {MAX_DAYS} days, not {days}")
    now = int(time.time()) if now is None else now
    m, f, r = schema.test_mutes, schema.test_failures, schema.reports
    with Store(db).transaction() as conn:
        known = conn.execute(
            select(f.c.id)
            .join(r, r.c.id == f.c.report_id)
            .where(and_(r.c.workflow_name == workflow, f.c.test_name == test_name))
            .limit(1)
        ).first()
        if known is None:
            raise MuteError(f"no failing test {test_name!r} in workflow {workflow!r}")
        conn.execute(
            update(m)
            .where(_in_force(m, workflow, test_name))
            .values(ended_at=now, ended_why=f"muted again by {who}")
        )
        return conn.execute(
            insert(m).values(
                workflow_name=workflow,
                test_name=test_name,
                reason=reason.strip(),
                muted_by=who,
                muted_at=now,
                expires_at=now + int(days) * 86400,
            )
        ).inserted_primary_key[0]


def unmute(db: Path | str, workflow: str, test_name: str, who: str) -> int:
    """End the mute in force on a test; returns how many ended (0 or 1)."""
    m = schema.test_mutes
    now = int(time.time())
    with Store(db).transaction() as conn:
        return conn.execute(
            update(m)
            .where(_in_force(m, workflow, test_name))
            .values(ended_at=now, ended_why=f"unmuted by {who}")
        ).rowcount


def _in_force(m, workflow: str, test_name: str):
    return and_(m.c.workflow_name == workflow, m.c.test_name == test_name, m.c.ended_at.is_(None))
