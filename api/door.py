"""The one lock on the door: every request to the server — pages, the websocket, media, static
files and the API — passes here first.

- With a password set (PMDASH_PASSWORD), a browser signs in once at /signin and gets a signed,
  HttpOnly cookie that every tab and reload sends; a script sends `Authorization: Bearer <token>`
  (pmdata token create). Wrong passwords are slowed down and logged per client.
- Writes over the API (hooks, reports, telemetry) need a token whenever the door is locked at
  all (a password or any token exists): a browser's cookie reads, it does not write.
- With neither, the server is open, as a dashboard on a trusted home network was before.
Only /signin and the liveness check /_stcore/health (it answers "ok", nothing else) are open.
"""

from __future__ import annotations

import html
import json
import logging
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from api.context import door_state, settings
from pmdata.access import COOKIE, clean_name
from pmdata.errors import PmdashError
from pmdata.sign_in import SignInGuard

log = logging.getLogger("pmdash.door")
OPEN_PATHS = ("/signin", "/signout", "/_stcore/health")
API_PREFIXES = ("/api/", "/v1/")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
_guard = SignInGuard()  # one per server: every client's failures counted in one place


def _bearer(headers: dict[bytes, bytes]) -> str | None:
    value = headers.get(b"authorization", b"").decode("latin-1").strip()
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _cookie(headers: dict[bytes, bytes]) -> str | None:
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        key, _, value = part.strip().partition("=")
        if key == COOKIE:
            return value.strip('"')
    return None


class Door:
    """Pure ASGI middleware (BaseHTTPMiddleware would not see the websocket)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if path in OPEN_PATHS:
            return await self.app(scope, receive, send)
        try:
            known = settings()
            state = door_state(known)
        except PmdashError as exc:  # a setting that cannot be read: shut, and say why
            log.error("the door cannot read its settings: %s", exc)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1011})
                return None
            response = Response(f"pmdash: configuration problem: {exc}\n", 503)
            return await response(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        token_name = state.tokens.who(_bearer(headers))
        person = state.signed_in.name(_cookie(headers)) if state.signed_in else None
        is_api = path.startswith(API_PREFIXES)
        write = scope["type"] == "http" and scope.get("method") in WRITES and is_api
        if write:
            allowed = token_name is not None or not state.locked_for_writes
        else:
            allowed = token_name is not None or person is not None or not state.password
        if allowed:
            scope.setdefault("state", {}).update(who=token_name or person, settings=known)
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "sign in first"})
            return None
        response = _refusal(scope, path, write)
        return await response(scope, receive, send)


def _refusal(scope, path: str, write: bool) -> Response:
    if path.startswith(API_PREFIXES):
        why = (
            "a token is needed for writes: Authorization: Bearer <token> (pmdata token create NAME)"
            if write
            else "sign in, or send Authorization: Bearer <token> (pmdata token create NAME)"
        )
        return Response(
            json.dumps({"error": why}),
            status_code=401,
            media_type="application/json",
            headers={"WWW-Authenticate": "Bearer"},
        )
    accepts_html = b"text/html" in dict(scope.get("headers") or []).get(b"accept", b"")
    if scope.get("method") == "GET" and accepts_html:
        target = path + (
            ("?" + scope["query_string"].decode("latin-1")) if scope.get("query_string") else ""
        )
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
    return Response("sign in first: /signin\n", status_code=401, media_type="text/plain")


def _safe_next(value: str | None) -> str:
    """Only a path of this server: never an open redirect to another host."""
    value = value or "/"
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _form(next_path: str, message: str = "", name: str = "") -> HTMLResponse:
    error = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pmdash · sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f7f9; color: #1f2328; }}
main {{ max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem;
        border-radius: .5rem; box-shadow: 0 1px 4px rgba(0,0,0,.12); }}
label {{ display: block; margin-top: 1rem; font-size: .9rem; }}
input {{ width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem; }}
button {{ margin-top: 1.5rem; padding: .5rem 1.25rem; }}
.error {{ color: #b42318; }}
</style></head>
<body><main><h1>pmdash</h1>{error}
<form method="post" action="/signin">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<label>Your name (shown beside your decisions)
<input name="name" autocomplete="username" value="{html.escape(name)}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"
autofocus></label>
<button type="submit">Sign in</button>
</form></main></body></html>
"""
    return HTMLResponse(page, status_code=401 if message else 200)


async def sign_in(request: Request) -> Response:
    state = door_state()
    if request.method == "GET":
        if not state.password:  # nothing to sign in to
            return RedirectResponse(_safe_next(request.query_params.get("next")), 303)
        return _form(_safe_next(request.query_params.get("next")))
    # A plain urlencoded form, read here (Starlette's form parser needs python-multipart).
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    form = {k: v[0] for k, v in fields.items()}
    next_path = _safe_next(str(form.get("next") or "/"))
    name = clean_name(str(form.get("name") or ""))
    if not state.password or state.signed_in is None:
        return RedirectResponse(next_path, status_code=303)
    client = request.client.host if request.client else "unknown client"
    verdict = _guard.attempt(client, str(form.get("password") or ""), state.password)
    if not verdict.signed_in:
        return _form(next_path, verdict.message(), str(form.get("name") or ""))
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE,
        state.signed_in.cookie(name),
        max_age=state.signed_in.max_age,
        httponly=True,
        samesite="lax",
        path="/",
    )
    log.info("signed in: %s from %s", name, client)
    return response


async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


ROUTES = [
    Route("/signin", sign_in, methods=["GET", "POST"]),
    Route("/signout", sign_out, methods=["GET", "POST"]),
]
