"""What every route of the server reads: the settings, the door's keys, the database path.

The settings are the pages' own (dashboard.readers.settings: read again when a PMDASH_ variable
or the secrets file changes), so the pages and the API never disagree about the password or the
database.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from dashboard import readers
from pmdata.access import SignedIn, Tokens
from pmdata.paths import state_dir
from pmdata.settings import Settings


@dataclass(frozen=True)
class DoorState:
    password: str | None
    tokens: Tokens
    signed_in: SignedIn | None  # None without a password: nobody signs in

    @property
    def locked_for_writes(self) -> bool:
        return bool(self.password) or self.tokens.any()


def settings(scope: dict | None = None) -> Settings:
    """The settings the door read for this request, or read now. Reading them looks through the
    whole environment (~0.1 ms): once a request is enough, and hook events come by the thousand."""
    known = (scope or {}).get("state", {}).get("settings")
    return known if known is not None else readers.settings()


def folder(s: Settings | None = None) -> str:
    s = s or settings()
    return str(s.state_dir) if s.state_dir else state_dir()


def door_state(s: Settings | None = None) -> DoorState:
    s = s or settings()
    return _door_state(s.password or None, folder(s))


@functools.lru_cache(maxsize=4)
def _door_state(password: str | None, state_folder: str) -> DoorState:
    signed_in = SignedIn(password, state_folder) if password else None
    return DoorState(password, Tokens(state_folder), signed_in)


def db(s: Settings | None = None) -> Path | None:
    return (s or settings()).db
