"""Plain HTTP against a live server: redirects are answers, not followed; 4xx is not an error."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def call(
    method: str, url: str, body: bytes | str | None = None, headers: dict | None = None
) -> Answer:
    parts = urlsplit(url)
    con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        data = body.encode() if isinstance(body, str) else body
        con.request(method, path or "/", data, headers or {})
        answer = con.getresponse()
        found = {k.lower(): v for k, v in answer.getheaders()}
        return Answer(answer.status, found, answer.read())
    finally:
        con.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
