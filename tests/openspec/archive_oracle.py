"""What the official CLI's `openspec archive <id> --yes` does to each active change of each
fixture tree, kept as files (tests/openspec/oracle/archive-<repo>.json) like the CLI's other
answers, so the comparison runs without Node.

Each record is the archive's effect on the tree: the files it adds and changes (by SHA-256 of
their bytes), the paths it removes, with the archive date as {DATE}; or null when the CLI
refuses. Record again after a CLI upgrade:

    .venv/bin/python -m tests.openspec.archive_oracle   # needs npm (installs the CLI once)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from pmdata.openspec.tree import OpenSpecTree
from tests.openspec.conftest import QUIET

HERE = Path(__file__).parent
ORACLE = HERE / "oracle"


def oracle_file(repo: str) -> Path:
    return ORACLE / f"archive-{repo}.json"


def files(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder`: its SHA-256, or "/" for a folder."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        out[rel] = "/" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def effect(before: dict[str, str], after: dict[str, str], today: date) -> dict:
    """What changed from `before` to `after`, with today's date written as {DATE}."""

    def dated(path: str) -> str:
        return path.replace(today.isoformat(), "{DATE}")

    return {
        "added": {dated(p): h for p, h in after.items() if p not in before},
        "changed": {dated(p): h for p, h in after.items() if p in before and before[p] != h},
        "removed": sorted(dated(p) for p in before if p not in after),
    }


def record(repo_tree: Path, cli: Path) -> dict[str, dict | None]:
    records = {}
    for change_id in sorted(OpenSpecTree(repo_tree).change_ids(include_dot=False)):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "openspec"
            shutil.copytree(repo_tree, copy, symlinks=True)
            before, today = files(copy), date.today()
            out = subprocess.run(
                [str(cli), "archive", change_id, "--yes", "--json"],
                cwd=tmp,
                capture_output=True,
                text=True,
                env={**os.environ, **QUIET},
                timeout=120,
            )
            archived = json.loads(out.stdout)["archive"] is not None
            records[change_id] = effect(before, files(copy), today) if archived else None
    return records


def main() -> None:
    from tests.openspec.conftest import CACHE, VERSION
    from tests.openspec.test_cli_parity import FIXTURES, REPOS

    cli = CACHE / f"openspec-{VERSION}" / "node_modules" / ".bin" / "openspec"
    if not cli.exists():
        folder = cli.parents[2]
        sys.exit(f"first: npm install --prefix {folder} @fission-ai/openspec@{VERSION}")
    for repo in REPOS:
        records = record(FIXTURES / repo / "openspec", cli)
        oracle_file(repo).write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")
        print(f"{repo}: {len(records)} changes recorded")


if __name__ == "__main__":
    main()
