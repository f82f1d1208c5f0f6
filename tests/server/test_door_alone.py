"""The door as an ASGI middleware on its own, for what a live server makes slow to reach."""

import asyncio
from concurrent.futures import ThreadPoolExecutor


def run(door, scope):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    # A thread of its own: the browser tests' playwright keeps a loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, door(scope, receive, send)).result()
    return sent


def test_a_setting_that_cannot_be_read_shuts_the_door_and_says_why(monkeypatch, tmp_path):
    from api.door import Door

    reached = []

    async def app(scope, receive, send):
        reached.append(scope["path"])

    monkeypatch.setenv("PMDASH_IDLE_MINUTES", "soon")  # not a number
    monkeypatch.setenv("PMDASH_STATE_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    scope = {"type": "http", "path": "/errors", "method": "GET", "headers": [], "query_string": b""}
    sent = run(Door(app), scope)
    assert reached == []
    assert sent[0]["status"] == 503
    assert b"configuration problem" in sent[1]["body"] and b"IDLE_MINUTES" in sent[1]["body"]
    closed = run(Door(app), {**scope, "type": "websocket", "path": "/_stcore/stream"})
    assert closed == [{"type": "websocket.close", "code": 1011}] and reached == []
