"""The server under the home network's load (issue 16): 8 clients posting hook events at 200
events/s each for 60 s to a live `streamlit run server.py`, then an OTLP batch of 1,000 log records.

Prints: events lost and duplicated (targets 0 and 0), the server's time per event from its
Server-Timing header (targets median <= 5 ms, p99 <= 50 ms), the pages' reads (session_activity,
agent_usage_daily, the work list) through the server's own readers, warm, before and every 5 s
during the load (target <= 0.3 s), and the OTLP batch (target <= 100 ms). Baselines, same run:
the command hook (`pmdata hook`, a process per event, as Claude Code runs it) and the same
recording done in-process (HookRecorder.handle), per event.

    .venv/bin/python bench/server_load.py [--seconds 60] [--clients 8] [--rate 200]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pmdata.ingest.hook_recorder import HookRecorder  # noqa: E402
from pmdata.store import migrate  # noqa: E402
from tests.browser.conftest import serve  # noqa: E402
from tests.conftest import SHARED, copy_fixture_db  # noqa: E402
from tests.server.http import bearer, call  # noqa: E402

PASSWORD = "bench"


def event(agent: str, n: int) -> str:
    """The n-th event of a client's session: Pre and Post of one tool call in turn."""
    use = f"toolu_{agent}_{n // 2}"
    name = "PreToolUse" if n % 2 == 0 else "PostToolUse"
    payload = {
        "session_id": agent,
        "hook_event_name": name,
        "cwd": "/home/dev/dev/projects/shop",
        "tool_name": "Read",
        "tool_input": {"file_path": f"src/file_{n}.ts"},
        "tool_use_id": use,
    }
    if name == "PostToolUse":
        payload["tool_response"] = {"content": "x" * 200}
    return json.dumps(payload)


def command_hook_baselines(db: Path, state: Path) -> tuple[float, float]:
    """(a `pmdata hook` process per event, wall; the same recording in-process) in seconds."""
    env = {**os.environ, "PMDASH_DB": str(db), "PMDASH_STATE_DIR": str(state)}
    program = [str(Path(sys.executable).parent / "pmdata"), "hook"]
    walls = []
    for n in range(30):
        start = time.perf_counter()
        subprocess.run(program, input=event("baseline-cmd", n), env=env, text=True, check=True)
        walls.append(time.perf_counter() - start)
    recorder = HookRecorder(str(db), {"PMDASH_STATE_DIR": str(state)})
    inproc = []
    for n in range(400):
        start = time.perf_counter()
        recorder.handle(event("baseline-inproc", n))
        inproc.append(time.perf_counter() - start)
    return statistics.median(walls), statistics.median(inproc)


def client(base, token, agent, rate, seconds, out, errors):
    """One machine's agent: `rate` events a second, on one kept-alive connection."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {**bearer(token), "Content-Type": "application/json"}
    start = time.perf_counter()
    n = 0
    while True:
        due = start + n / rate
        now = time.perf_counter()
        if due - start >= seconds:
            break
        if due > now:
            time.sleep(due - now)
        sent = time.perf_counter()
        try:
            con.request("POST", "/api/hooks", event(agent, n), headers)
            answer = con.getresponse()
            answer.read()
            timing = answer.getheader("Server-Timing", "")
            if answer.status != 204:
                errors.append(answer.status)
            server_ms = float(timing.split("dur=")[1]) if "dur=" in timing else float("nan")
            out.append((server_ms, (time.perf_counter() - sent) * 1000))
        except OSError as exc:
            errors.append(repr(exc))
            con.close()
            con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        n += 1
    con.close()


def warm_reads(base: str, token: str) -> float:
    """The slowest of what the Sessions and All Work pages read, through the server's own
    readers (the same process, cache and kept copy the pages use), warm: the best of 3."""
    paths = ["/api/queries/session_activity", "/api/queries/agent_usage_daily", "/api/work"]
    worst = 0.0
    for path in paths:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            answer = call("GET", base + path, headers=bearer(token))
            assert answer.status == 200, (path, answer.body[:200])
            times.append(time.perf_counter() - start)
        worst = max(worst, min(times))
    return worst


def otlp_batch(base: str, token: str, records: int, batch: int) -> float:
    """Server time (ms) of one OTLP/protobuf export of `records` api_request events."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    def kv(key, value):
        return KeyValue(key=key, value=AnyValue(string_value=str(value)))

    request = ExportLogsServiceRequest()
    scope = request.resource_logs.add().scope_logs.add()
    for i in range(records):
        record = scope.log_records.add()
        record.time_unix_nano = 1_795_000_000_000_000_000 + batch * 10_000_000 + i
        record.body.string_value = "claude_code.api_request"
        record.attributes.extend(
            [kv("event.name", "api_request"), kv("session.id", f"otlp-bench-{i % 8}"),
             kv("model", "claude-sonnet-4-5"), kv("cost_usd", 0.0123), kv("input_tokens", 1200),
             kv("output_tokens", 340), kv("cache_read_tokens", 15000), kv("duration_ms", 2300)]
        )  # fmt: skip
    answer = call(
        "POST",
        base + "/v1/logs",
        request.SerializeToString(),
        {**bearer(token), "Content-Type": "application/x-protobuf"},
    )
    assert answer.status == 200, answer.body
    return float(answer.header("server-timing").split("dur=")[1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200, help="events per second per client")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pmdash-server-load-"))
    try:
        db = copy_fixture_db(folder / "claude.db")
        migrate(db)
        roots = SHARED / "fixtures" / "openspec"
        wall, inproc = command_hook_baselines(db, folder / "baseline-state")
        for base in serve(folder, folder / "server.log", db=db, roots=roots, password=PASSWORD):
            made = subprocess.run(
                [sys.executable, "-m", "pmdata.cli", "token", "create", "bench"],
                env={**os.environ, "PMDASH_STATE_DIR": str(folder / "state")},
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            token = made.stdout.strip()
            warm_reads(base, token)  # the first read makes the kept copy
            page_idle = warm_reads(base, token)
            results: list[tuple[float, float]] = []
            errors: list = []
            agents = [f"load-{i}" for i in range(args.clients)]
            threads = [
                threading.Thread(
                    target=client,
                    args=(base, token, a, args.rate, args.seconds, results, errors),
                )
                for a in agents
            ]
            for t in threads:
                t.start()
            page_loaded = []  # meanwhile, every few seconds: the copy grows with the load
            while any(t.is_alive() for t in threads):
                time.sleep(min(5, args.seconds / 4))
                if any(t.is_alive() for t in threads):
                    page_loaded.append(warm_reads(base, token))
            for t in threads:
                t.join()
            batches = [otlp_batch(base, token, 1000, b) for b in range(5)]
        con = sqlite3.connect(db)
        recorded, distinct = con.execute(
            "SELECT count(*), count(DISTINCT s.agent_id || h.hook_type || h.tool_use_id)"
            " FROM hooks h JOIN sessions s ON s.id = h.session_id WHERE s.agent_id LIKE 'load-%'"
        ).fetchone()
        con.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    sent = len(results) + len(errors)
    server_ms = sorted(r[0] for r in results)
    client_ms = sorted(r[1] for r in results)

    def pct(values, p):
        return values[min(len(values) - 1, int(len(values) * p))]

    median, p99 = statistics.median(server_ms), pct(server_ms, 0.99)
    print(f"{args.clients} clients x {args.rate:.0f} events/s for {args.seconds:.0f} s: "
          f"{sent} sent, {recorded} recorded, lost {sent - recorded}, "
          f"duplicated {recorded - distinct}, errors {len(errors)}")  # fmt: skip
    print(f"server time per event: median {median:.2f} ms (target <= 5), p99 {p99:.2f} ms "
          f"(target <= 50); round trip median {statistics.median(client_ms):.2f} ms, "
          f"p99 {pct(client_ms, 0.99):.2f} ms")  # fmt: skip
    print(f"command hook, a process per event: {wall * 1000:.1f} ms wall; the same recording "
          f"in-process {inproc * 1000:.2f} ms")  # fmt: skip
    print(f"ratio server median / command hook wall: {median / (wall * 1000):.3f}x; "
          f"/ in-process recording: {median / (inproc * 1000):.2f}x")  # fmt: skip
    loaded = statistics.median(page_loaded)
    print(f"the pages' reads, warm, in the server: {page_idle:.3f} s idle; under the load "
          f"{loaded:.3f} s median of {len(page_loaded)} samples, {max(page_loaded):.3f} s worst "
          f"(target <= 0.3 s; ratio {loaded / page_idle:.2f}x)")  # fmt: skip
    batch = statistics.median(batches)
    print(
        f"OTLP batch of 1,000 log records: median {batch:.1f} ms server time (target <= 100); "
        f"{batch / 1000:.3f} ms a record, {batch / 1000 / (wall * 1000):.4f}x the command "
        "hook's time per event"
    )


if __name__ == "__main__":
    main()
