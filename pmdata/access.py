"""Who may use the server: named API tokens, and the signed cookie a password sign-in leaves.

Tokens live in the state folder (`tokens.json`, mode 0600), never in the homelab database: a
copy of that file handed around must not carry keys. Only a token's SHA-256 is kept, so the
file alone cannot be replayed; `pmdata token create NAME` prints the token once. The cookie is
signed with a key of this server's own (`cookie-key`, made on first use), carries the name given
at sign-in, and expires: a stolen cookie cannot be edited into another name, and a new key (or a
new password) ends every sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass

from filelock import FileLock
from itsdangerous import BadSignature, URLSafeTimedSerializer

from pmdata.errors import PmdashError
from pmdata.paths import state_dir, write_private

COOKIE = "pmdash_session"
COOKIE_DAYS = 30
TOKEN_PREFIX = "pmd_"  # says what a stray token in a log or a shell history is
_NAME = re.compile(r"^\w[\w .@-]{0,63}$")


class AccessError(PmdashError):
    pass


@dataclass(frozen=True)
class TokenInfo:
    name: str
    created: int  # epoch seconds


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Tokens:
    """The named tokens of one state folder. Checking re-reads the file only when it changed,
    so a token revoked from the command line is refused by a running server at once."""

    def __init__(self, folder: str | None = None):
        self.folder = folder or state_dir()
        self.path = os.path.join(self.folder, "tokens.json")
        self._lock = threading.Lock()
        self._seen: tuple = ()
        self._by_digest: dict[str, str] = {}

    # -- the command line's side --------------------------------------------------------------
    def create(self, name: str) -> str:
        if not _NAME.match(name):
            raise AccessError(
                f"token name {name!r}: use 1-64 letters, digits, spaces or ._@- "
                "(it is shown as who made a decision)"
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._file_lock():
            entries = self._read()
            if name in entries:
                raise AccessError(
                    f"a token named {name!r} exists; revoke it first (pmdata token revoke {name!r})"
                )
            entries[name] = {"sha256": _digest(token), "created": int(time.time())}
            self._save(entries)
        return token

    def list(self) -> list[TokenInfo]:
        return [
            TokenInfo(name, int(entry.get("created") or 0))
            for name, entry in sorted(self._read().items())
        ]

    def revoke(self, name: str) -> None:
        with self._file_lock():
            entries = self._read()
            if name not in entries:
                known = ", ".join(sorted(entries)) or "none"
                raise AccessError(f"no token named {name!r} (tokens: {known})")
            del entries[name]
            self._save(entries)

    # -- the server's side --------------------------------------------------------------------
    def any(self) -> bool:
        return bool(self._current())

    def who(self, token: str | None) -> str | None:
        """The token's name, None for no token, a wrong one or a revoked one."""
        if not token:
            return None
        wanted = _digest(token)
        for digest, name in self._current().items():
            if hmac.compare_digest(digest, wanted):
                return name
        return None

    def _current(self) -> dict[str, str]:
        try:
            stat = os.stat(self.path)
            seen = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except FileNotFoundError:
            seen = ()
        with self._lock:
            if seen != self._seen:
                entries = self._read() if seen else {}
                self._by_digest = {e["sha256"]: n for n, e in entries.items() if "sha256" in e}
                self._seen = seen
            return self._by_digest

    # -- the file -----------------------------------------------------------------------------
    def _file_lock(self) -> FileLock:
        os.makedirs(self.folder, exist_ok=True)
        return FileLock(self.path + ".lock", timeout=10)

    def _read(self) -> dict[str, dict]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                entries = json.load(fh)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise AccessError(f"{self.path} cannot be read ({exc}); fix or remove it") from exc
        if not isinstance(entries, dict):
            raise AccessError(f"{self.path} does not hold a JSON object; fix or remove it")
        return {n: e for n, e in entries.items() if isinstance(e, dict)}

    def _save(self, entries: dict) -> None:
        write_private(self.path, json.dumps(entries, indent=2, sort_keys=True) + "\n")


def _cookie_key(folder: str, password: str) -> bytes:
    """This server's signing key, bound to the password: changing the password signs out all."""
    path = os.path.join(folder, "cookie-key")
    try:
        with open(path, encoding="utf-8") as fh:
            key = fh.read().strip()
    except FileNotFoundError:
        key = ""
    if len(key) < 32:
        key = secrets.token_hex(32)
        write_private(path, key + "\n")
    return hmac.new(key.encode(), password.encode("utf-8", "surrogatepass"), "sha256").digest()


class SignedIn:
    """Makes and reads the sign-in cookie: the person's name, signed, with its time."""

    def __init__(self, password: str, folder: str | None = None, days: int = COOKIE_DAYS):
        self.max_age = days * 86_400
        # URL-safe: a cookie is ASCII, and a person's name need not be.
        key = _cookie_key(folder or state_dir(), password)
        self._signer = URLSafeTimedSerializer(key, salt=COOKIE)

    def cookie(self, name: str) -> str:
        return self._signer.dumps(name)

    def name(self, cookie: str | None) -> str | None:
        """The name the cookie was made for; None when absent, edited, or expired."""
        if not cookie:
            return None
        try:
            name = self._signer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # SignatureExpired is one too
            return None
        return name if isinstance(name, str) else None


def clean_name(given: str) -> str:
    """The name a person gives at sign-in, as it is shown beside their decisions."""
    name = " ".join(given.split())[:64]
    return name if name and _NAME.match(name) else "someone"
