"""Where pmdash keeps its own files (locks, the hook spool, logs, snapshots).

Standard library only: the hook recorder imports it on every agent tool call.
"""

from __future__ import annotations

import os


def state_dir(environ: dict[str, str] | None = None) -> str:
    """PMDASH_STATE_DIR, else $XDG_STATE_HOME/pmdash, else ~/.local/state/pmdash."""
    env = os.environ if environ is None else environ
    home = env.get("HOME", "/tmp")
    base = env.get("XDG_STATE_HOME") or os.path.join(home, ".local", "state")
    return env.get("PMDASH_STATE_DIR") or os.path.join(base, "pmdash")
