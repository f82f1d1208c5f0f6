"""The server the home network talks to, over real HTTP against a live `streamlit run server.py`
(as `make run` starts it) on the real homelab database and OpenSpec trees, with a password set
and a token made by `pmdata token create`."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from pmdata.ingest.hook_events import HOOK_TYPES
from pmdata.ingest.hook_recorder import HookRecorder
from pmdata.store import migrate
from tests.conftest import copy_fixture_db, rows, wait_for
from tests.server.conftest import FULL, PASSWORD, REPORTS, pmdata
from tests.server.http import bearer, call

# -- the door ------------------------------------------------------------------------------------
GUARDED_GETS = [
    "/",
    "/errors",
    "/sessions?project=shop",
    "/failure?failure=1",
    "/_stcore/host-config",
    "/_stcore/stream",
    "/static/js/index.js",
    "/media/anything.png",
    "/api/work",
    "/api/queries/project_names",
]
GUARDED_POSTS = ["/api/hooks", "/api/reports/playwright?project=shop", "/api/queries/x"]


@pytest.mark.parametrize("path", GUARDED_GETS)
def test_every_route_is_refused_without_the_password_or_a_token(server, path):
    answer = call("GET", server["base"] + path, headers={"Accept": "text/html"})
    assert answer.status in (303, 401), (path, answer.status)
    if answer.status == 303:  # a browser is sent to sign in, and back here after
        assert answer.header("location").startswith("/signin?next=")
    # Whatever the route, nothing of it is in the answer.
    assert b"streamlit" not in answer.body.lower() and b"project" not in answer.body.lower()


@pytest.mark.parametrize("path", GUARDED_POSTS)
def test_writes_are_refused_without_a_token(server, path):
    answer = call("POST", server["base"] + path, FULL[0])
    assert answer.status in (401, 405), path
    assert not rows(server["db"], "SELECT 1 FROM sessions WHERE agent_id LIKE '8f3c2a9e%'")


def test_the_websocket_is_refused_without_a_cookie(server):
    answer = call(
        "GET",
        server["base"] + "/_stcore/stream",
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert answer.status == 403


def sign_in(base: str, password: str, name: str = "ana", next_path: str = "/errors"):
    from urllib.parse import urlencode

    form = urlencode({"password": password, "name": name, "next": next_path})
    return call(
        "POST",
        base + "/signin",
        form,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )


def cookie_of(answer) -> str:
    return answer.header("set-cookie").split(";")[0]


def test_signing_in_gives_a_signed_httponly_cookie_that_opens_pages_and_reads(server):
    base = server["base"]
    answer = sign_in(base, PASSWORD, "Ana María")
    assert answer.status == 303 and answer.header("location") == "/errors"
    set_cookie = answer.header("set-cookie")
    assert "HttpOnly" in set_cookie and "Max-Age=" in set_cookie and "SameSite=lax" in set_cookie
    cookie = {"Cookie": cookie_of(answer)}
    assert cookie["Cookie"].startswith("pmdash_session=")
    assert call("GET", base + "/errors", headers=cookie).status == 200
    names = call("GET", base + "/api/queries/project_names", headers=cookie)
    assert names.status == 200 and {"project": "Hook Test Project"} in names.json()
    # A cookie reads; writing takes a token.
    assert call("POST", base + "/api/hooks", FULL[0], cookie).status == 401
    # Edited into another name (the part before the signature), it is refused.
    value = cookie["Cookie"].split("=", 1)[1]
    forged = base64.urlsafe_b64encode(json.dumps("admin").encode()).decode().rstrip("=")
    edited = {"Cookie": "pmdash_session=" + forged + value[value.index(".") :]}
    assert call("GET", base + "/api/work", headers=edited).status == 401


def test_wrong_passwords_are_slowed_down_and_logged_per_client(server):
    base = server["base"]
    said = [sign_in(base, f"guess {i}") for i in range(5)]
    assert all(a.status == 401 and not a.header("set-cookie") for a in said)
    assert b"Too many wrong passwords" in said[-1].body
    # Even the right password waits its turn once the client is slowed down.
    assert b"Too many wrong passwords" in sign_in(base, PASSWORD).body
    log = (server["state"] / "sign-in.log").read_text()
    assert "failed sign-in from 127.0.0.1" in log


def test_sign_in_never_redirects_to_another_host(server):
    # (another client address would be needed to sign in after the test above: read the form)
    page = call("GET", server["base"] + "/signin?next=//evil.example/x")
    assert page.status == 200 and b'name="next" value="/"' in page.body


def test_a_revoked_token_is_refused_at_once(server):
    made = pmdata(server["state"], "token", "create", "laptop")
    token = made.stdout.strip()
    url = server["base"] + "/api/queries/project_names"
    assert call("GET", url, headers=bearer(token)).status == 200
    listed = pmdata(server["state"], "token", "list").stdout
    assert "laptop" in listed and "ci-runner" in listed and token not in listed
    assert pmdata(server["state"], "token", "revoke", "laptop").returncode == 0
    assert call("GET", url, headers=bearer(token)).status == 401
    assert pmdata(server["state"], "token", "revoke", "laptop").returncode == 2
    assert "tokens.json" in os.listdir(server["state"])
    assert (server["state"] / "tokens.json").stat().st_mode & 0o077 == 0  # this user's alone
    assert token not in (server["state"] / "tokens.json").read_text()


# -- hooks ---------------------------------------------------------------------------------------
def session_rows(db: Path, agent: str):
    return (
        rows(db, "SELECT status, work_item FROM sessions WHERE agent_id = ?", agent),
        rows(
            db,
            "SELECT h.hook_type, h.tool_name, h.tool_use_id, h.success, h.error_message,"
            " h.duration_ms IS NOT NULL FROM hooks h JOIN sessions s ON s.id = h.session_id"
            " WHERE s.agent_id = ? ORDER BY h.id",
            agent,
        ),
    )


def test_hook_events_over_http_are_recorded_as_the_command_hook_records_them(server, tmp_path):
    base, token = server["base"], server["token"]
    agent = "http-" + json.loads(FULL[0])["session_id"]
    for line in FULL:
        event = json.dumps({**json.loads(line), "session_id": agent})
        answer = call(
            "POST",
            base + "/api/hooks",
            event,
            {
                **bearer(token),
                "Content-Type": "application/json",
                "X-Pmdash-Work-Item": "spec:shop/fix-cart-total",
            },
        )
        assert answer.status == 204 and answer.body == b""  # nothing for Claude's context
        assert answer.header("server-timing").startswith("record;dur=")
    # The same events through the command hook's own recorder, into a copy of the database.
    other = copy_fixture_db(tmp_path / "claude.db")
    migrate(other)
    recorder = HookRecorder(str(other), {"PMDASH_WORK_ITEM": "spec:shop/fix-cart-total"})
    for line in FULL:
        assert recorder.handle(json.dumps({**json.loads(line), "session_id": agent})) == "recorded"
    over_http = session_rows(server["db"], agent)
    assert over_http == session_rows(other, agent)
    assert over_http[0] == [("stopped", "spec:shop/fix-cart-total")]
    assert sum(paired for *_, paired in over_http[1]) >= 4  # Pre/Post pairs got durations


def test_a_body_that_is_not_a_hook_event_gets_400_and_the_server_goes_on(server):
    base, token = server["base"], server["token"]
    for bad in ("{not json", "[]", "null", '{"hook_event_name": "Stop"}', "\udcff"):
        answer = call(
            "POST", base + "/api/hooks", bad.encode("utf-8", "surrogateescape"), bearer(token)
        )
        assert answer.status == 400 and "error" in answer.json()
    too_big = call("POST", base + "/api/hooks", b"x" * 5_000_001, bearer(token))
    assert too_big.status == 413 and "at most" in too_big.json()["error"]
    wrong_verb = call("GET", base + "/api/hooks", headers=bearer(token))
    assert wrong_verb.status == 405 and wrong_verb.header("allow") == "POST"
    assert call("GET", base + "/_stcore/health").body == b"ok"


def test_the_forwarding_command_hook_keeps_events_while_the_server_is_down(server, tmp_path):
    """`pmdata hook --url`: sent at once when the server is up; kept in the local spool when it
    is not, and drained to it later, each event once and at the time it happened."""
    base, token = server["base"], server["token"]
    state = tmp_path / "laptop-state"
    env = {**os.environ, "PMDASH_STATE_DIR": str(state), "PMDASH_TOKEN": token}
    env.pop("PMDASH_DB", None)
    agent = "forwarded-" + json.loads(FULL[0])["session_id"]
    events = [json.dumps({**json.loads(line), "session_id": agent}) for line in FULL]

    def hook(url: str, line: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pmdata.cli", "hook", "--url", url],
            input=line, env=env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip

    first = hook(base, events[0])
    assert first.returncode == 0 and first.stdout == ""
    assert wait_for(lambda: session_rows(server["db"], agent)[1], 5)
    down = "http://127.0.0.1:9"  # nothing listens there: the server is "down"
    for line in events[1:6]:
        assert hook(down, line).returncode == 0
    assert len(os.listdir(state / "hook-spool")) == 5
    assert len(session_rows(server["db"], agent)[1]) == 1
    # The next event, with the server back, sends the spool first, in order, then itself.
    assert hook(base, events[6]).returncode == 0
    drained = subprocess.run(
        [sys.executable, "-m", "pmdata.cli", "hook", "--drain", "--url", base],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert drained.returncode == 0, drained.stderr
    recorded = session_rows(server["db"], agent)[1]
    sent = [HOOK_TYPES[json.loads(e)["hook_event_name"]] for e in events[:7]]
    assert [r[0] for r in recorded] == sent  # each once, in the order they happened


def test_an_event_sent_twice_by_the_forwarder_is_recorded_once(server):
    base, token = server["base"], server["token"]
    agent = "twice-" + json.loads(FULL[0])["session_id"]
    event = json.dumps({**json.loads(FULL[0]), "session_id": agent})
    headers = {
        **bearer(token),
        "X-Pmdash-Event-Id": "e" * 32,
        "X-Pmdash-Received-At": "1795000000000",
    }
    for _ in range(2):
        assert call("POST", base + "/api/hooks", event, headers).status == 204
    recorded = rows(
        server["db"],
        "SELECT h.timestamp FROM hooks h JOIN sessions s ON s.id = h.session_id"
        " WHERE s.agent_id = ?",
        agent,
    )
    assert recorded == [(1_795_000_000,)]  # once, at the time it happened on its machine


def test_hook_install_writes_http_hooks_and_merges(tmp_path):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(
        json.dumps(
            {
                "model": "opus",
                "hooks": {
                    "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
                },
            }
        )
    )
    state = tmp_path / "state"
    install = ["hook", "install", "--project", str(tmp_path), "--url", "server:8501"]
    args = [*install, "--token-env", "PMDASH_TOKEN"]
    assert pmdata(state, *args).returncode == 0
    written = json.loads(settings.read_text())
    hook = written["hooks"]["PreToolUse"][0]["hooks"][0]
    assert hook == {
        "type": "http",
        "url": "http://server:8501/api/hooks",
        "timeout": 5,
        "headers": {
            "X-Pmdash-Work-Item": "$PMDASH_WORK_ITEM",
            "Authorization": "Bearer $PMDASH_TOKEN",
        },
        "allowedEnvVars": ["PMDASH_WORK_ITEM", "PMDASH_TOKEN"],
    }
    assert written["model"] == "opus"
    assert {"type": "command", "command": "notify-send done"} in written["hooks"]["Stop"][0][
        "hooks"
    ]
    before = settings.read_bytes()
    again = pmdata(state, *args)
    assert "nothing changed" in again.stdout and settings.read_bytes() == before
    # The forwarding command hook takes the HTTP hook's place: never both, never twice.
    assert pmdata(state, *install, "--command").returncode == 0
    stop = json.loads(settings.read_text())["hooks"]["Stop"]
    ours = [
        h
        for g in stop
        for h in g["hooks"]
        if "pmdata" in h.get("command", "") or h.get("type") == "http"
    ]
    assert len(ours) == 1 and ours[0]["command"].endswith("hook --url http://server:8501")


# -- reports -------------------------------------------------------------------------------------
def test_a_ci_step_uploads_its_report_with_curl(server):
    base, token = server["base"], server["token"]
    url = f"{base}/api/reports/playwright?project=shop&workflow=shop-upload&run=7"
    report = f"@{REPORTS / 'run-1.json'}"
    done = subprocess.run(
        ["curl", "-sS", "-H", f"Authorization: Bearer {token}", "--data-binary", report, url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    answer = json.loads(done.stdout)
    assert answer["recorded"] is True and answer["run"] == 7 and answer["workflow"] == "shop-upload"
    assert answer["failures"] >= 1 and answer["classified"] >= 1
    # Classified on arrival: every failure of the run has its suggestion.
    untriaged = rows(
        server["db"],
        "SELECT count(*) FROM test_failures f JOIN reports r ON r.id = f.report_id"
        " LEFT JOIN error_triage t ON t.test_failure_id = f.id"
        " WHERE r.workflow_name = 'shop-upload' AND t.id IS NULL",
    )
    assert untriaged == [(0,)]
    again = call("POST", url, (REPORTS / "run-1.json").read_bytes(), bearer(token))
    assert again.status == 200 and again.json()["recorded"] is False
    assert "already recorded" in again.json()["message"]


@pytest.mark.parametrize(
    "query, body, said",
    [
        ("project=shop", b"{not json", "not JSON"),
        ("project=shop", b'{"suites": "no"}', "suites"),
        ("", b"{}", "project"),
        ("project=shop&run=seven", b"{}", "run must be a whole number"),
        ("project=shop", b"", "empty"),
    ],
)
def test_a_bad_upload_says_why_and_records_nothing(server, query, body, said):
    before = rows(server["db"], "SELECT count(*) FROM reports")
    answer = call(
        "POST", f"{server['base']}/api/reports/playwright?{query}", body, bearer(server["token"])
    )
    assert answer.status == 400 and answer.json()["recorded"] is False
    assert said.lower() in answer.json()["error"].lower()
    assert str(server["state"]) not in answer.json()["error"]  # the server's folders are its own
    assert rows(server["db"], "SELECT count(*) FROM reports") == before


# -- the read API --------------------------------------------------------------------------------
def test_every_named_query_answers_json_and_csv(server):
    from pmdata.analytics import list_queries

    base, auth = server["base"], bearer(server["token"])
    for query in list_queries():
        assert all(p.name != "format" for p in query.params), query.name
        answer = call("GET", f"{base}/api/queries/{query.name}", headers=auth)
        assert answer.status == 200, (query.name, answer.body[:300])
        assert isinstance(answer.json(), list)
    csv = call("GET", f"{base}/api/queries/project_names?format=csv", headers=auth)
    assert csv.header("content-type").startswith("text/csv") and csv.body.startswith(b"project\n")


def test_query_parameters_are_typed_and_checked_as_pmdata_query_does(server):
    base, auth = server["base"], bearer(server["token"])
    wrong = call("GET", f"{base}/api/queries/failing_tests?since=yesterday", headers=auth)
    cli = pmdata(
        server["state"],
        "query",
        "failing_tests",
        "--param",
        "since=yesterday",
        "--db",
        str(server["db"]),
    )
    assert wrong.status == 400 and cli.returncode == 2
    assert wrong.json()["error"] in cli.stderr
    assert call("GET", f"{base}/api/queries/no_such", headers=auth).status == 400
    assert call("GET", f"{base}/api/queries/failing_tests?bogus=1", headers=auth).status == 400


def test_the_work_list_takes_the_pages_own_filters(server):
    base, auth = server["base"], bearer(server["token"])
    everything = call("GET", f"{base}/api/work", headers=auth).json()
    assert {i["kind"] for i in everything} == {"spec", "error"}
    projects = {i["project"] for i in everything}
    one = sorted(projects)[0]
    narrowed = call("GET", f"{base}/api/work?project={quote(one)}", headers=auth).json()
    assert narrowed and {i["project"] for i in narrowed} == {one}
    drafts = call("GET", f"{base}/api/work?status=draft&status=needs_spec", headers=auth).json()
    assert drafts and {i["status"] for i in drafts} <= {"draft", "needs_spec"}
    bad = call("GET", f"{base}/api/work?dates=soon", headers=auth)
    assert bad.status == 400 and "YYYY-MM-DD" in bad.json()["error"]
    csv = call("GET", f"{base}/api/work?format=csv&project={quote(one)}", headers=auth)
    assert csv.body.decode().splitlines()[0].startswith("kind,project,ref,title,status")
