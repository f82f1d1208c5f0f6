"""Wall time of one `pmdata hook` event (a real process, as Claude Code runs it) vs bare Python."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pmdata.store import migrate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RUNS = 60
PMDATA = [str(Path(sys.executable).parent / "pmdata"), "hook"]


def wall(cmd, stdin, env):
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(
            cmd,
            input=stdin,
            env=env,
            text=True,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    # As installed (`make setup` compiles the package): with PYTHONDONTWRITEBYTECODE set, as on
    # these machines, a module edited since would otherwise be compiled again by every event.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "pmdata"], check=True, cwd=ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        migrate(db)
        env = {**os.environ, "PMDASH_DB": str(db), "PMDASH_STATE_DIR": tmp}
        payload = json.dumps(
            {
                "session_id": "0b7d0c58-8c0e-4d4b-9f2e-5a1c2b3d4e5f",
                "hook_event_name": "PreToolUse",
                "cwd": "/srv/shop",
                "tool_name": "Read",
                "tool_input": {"file_path": "a.ts"},
                "tool_use_id": "toolu_1",
            }
        )
        bare = wall([sys.executable, "-c", "pass"], "", env)
        hook = wall(PMDATA, payload, env)
    print(f"bare python -c pass : {bare * 1000:6.1f} ms (median of {RUNS})")
    print(f"pmdata hook event   : {hook * 1000:6.1f} ms (median of {RUNS})")
    print(
        f"ratio hook / bare   : {hook / bare:6.2f}x   target: <= 40 ms wall "
        f"({'met' if hook <= 0.040 else 'NOT met'} here)"
    )


if __name__ == "__main__":
    main()
