"""The official OpenSpec CLI as a test oracle: installed from npm once, never used by the app."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

VERSION = "1.13.2"
CACHE = Path(os.environ.get("PMDASH_TEST_CACHE", Path.home() / ".cache" / "pmdash-tests"))
QUIET = {"OPENSPEC_TELEMETRY": "0", "DO_NOT_TRACK": "1", "OPENSPEC_NO_UPDATE_CHECK": "1"}


@pytest.fixture(scope="session")
def openspec_cli():
    """A callable running `openspec ARGS` in a folder and returning its parsed JSON."""
    folder = CACHE / f"openspec-{VERSION}"
    exe = folder / "node_modules" / ".bin" / "openspec"
    if not exe.exists():
        if not shutil.which("npm"):
            pytest.skip("npm is not installed, so the OpenSpec CLI oracle cannot be installed")
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                f"@fission-ai/openspec@{VERSION}",
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0 or not exe.exists():
            pytest.skip(
                f"npm could not install @fission-ai/openspec@{VERSION} "
                f"(registry unreachable?): {done.stderr.strip()[:300]}"
            )

    def run(cwd: Path, *args: str) -> dict:
        out = subprocess.run(
            [str(exe), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            env={**os.environ, **QUIET},
            timeout=120,
        )
        try:
            return json.loads(out.stdout)
        except json.JSONDecodeError:
            raise AssertionError(f"openspec {' '.join(args)}: {out.stdout}\n{out.stderr}") from None

    return run
