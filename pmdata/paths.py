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


def write_private(path: str, data: bytes | str) -> None:
    """Write `path` atomically (a reader sees the old file or the new, never half), readable by
    this user alone: tokens, keys, uploaded reports."""
    import tempfile  # here: the hook path imports this module and never writes these

    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
