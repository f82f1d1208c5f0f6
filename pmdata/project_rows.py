"""Rows of the projects table: one per name, whichever door its data came in by (a report
ingested, a remediation started, an agent's first hook event). Standard library only, and
outside pmdata.store (whose package imports SQLAlchemy): the hook path uses it on a plain
sqlite3 connection; SQLAlchemy callers pass theirs (`driver`), inside their own transaction."""

from __future__ import annotations

import sqlite3


def project_id(con: sqlite3.Connection, name: str, path: str, description: str, now: int) -> int:
    """The id of the project called `name`, made with `path` and `description` if none is."""
    found = con.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
    if found:
        return found[0]
    return con.execute(
        "INSERT INTO projects (name, path, description, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (name, path, description, now, now),
    ).lastrowid


def driver(conn) -> sqlite3.Connection:
    """The sqlite3 connection under a SQLAlchemy one (same transaction)."""
    return conn.connection.driver_connection
