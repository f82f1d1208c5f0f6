"""One project's openspec/ tree: changes, specs and archive read from disk, never stored."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from pmdata.errors import PmdashError
from pmdata.openspec import deltas as delta_reader
from pmdata.openspec.markdown import (
    find_section,
    js_trim,
    parse_sections,
    requirement_from_section,
)
from pmdata.openspec.tasks import status_of, task_progress

MAX_FILE_BYTES = 2_000_000  # a 5 MB "spec" is a mistake: read its start, say so, keep going
# As the CLI's /^#\s+(?:Change:\s+)?(.+)$/im: JS `.` stops at \r and the line separators.
_TITLE = re.compile(r"^#\s+(?:Change:\s+)?([^\n\r\u2028\u2029]+)", re.M | re.I)
_SIMPLE_DELTA = re.compile(r"^\s*-\s*\*\*([^*:]+)(?::\*\*|\*\*:)\s*(.+)$")


class OpenSpecError(PmdashError):
    """An OpenSpec item cannot be read or shown; the message says which and why."""


def read_text(path: Path | str, problems: dict[str, str] | None = None) -> str:
    """A markdown file as text: undecodable bytes replaced, very large files cut.

    What had to be mended is noted in `problems` (path → message) so a page can show it.
    """
    with open(path, "rb") as fh:
        # read(n) allocates n bytes up front: ask for the whole file unless it is huge.
        size = os.fstat(fh.fileno()).st_size
        data = fh.read() if size <= MAX_FILE_BYTES else fh.read(MAX_FILE_BYTES + 1)
    if b"\x00" in data[:8192]:
        raise OpenSpecError(f"{os.path.basename(path)} is a binary file, not markdown")
    note = []
    if len(data) > MAX_FILE_BYTES:
        data = data[:MAX_FILE_BYTES]
        note.append(f"larger than {MAX_FILE_BYTES // 1_000_000} MB: only its start was read")
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        note.append("not valid UTF-8: undecodable bytes were replaced")
    if problems is not None and note:
        problems[str(path)] = "; ".join(note)
    return text


# ICU's root collation puts ASCII punctuation in this order, before digits and letters.
_PUNCTUATION = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"


def locale_key(name: str) -> tuple:
    """The order of JavaScript's `localeCompare` (ICU's root collation), which the CLI sorts
    ids by, for the ids real trees hold: punctuation (`_` before `-`) before digits before
    letters, letters without regard to case, and at equal letters lower case first."""
    primary = tuple(
        (0, _PUNCTUATION.find(c), ord(c))
        if not c.isalnum()
        else (1, 0, c)
        if c.isdigit()
        else (2, 0, c.casefold())
        for c in name
    )
    return primary, name.swapcase()


def discover_spec_files(specs_root: Path) -> list[tuple[str, Path]]:
    """(id, path) for every spec.md below `specs_root` at depth ≥ 1; ids sorted by code point."""
    found: list[tuple[str, Path]] = []

    def walk(folder: Path, segments: list[str]) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                walk(Path(entry.path), [*segments, entry.name])
            elif (
                entry.name == "spec.md"
                and segments
                and Path(entry.path).is_file()
                # Folders are not followed through links, so only a linked spec.md can lead
                # out: resolving every path (a dozen lstat calls each) is kept for those.
                and (not entry.is_symlink() or _inside(Path(entry.path), specs_root))
            ):
                found.append(("/".join(segments), Path(entry.path)))

    walk(specs_root, [])
    return sorted(found, key=lambda item: item[0])


def _inside(path: Path, root: Path) -> bool:
    """Whether `path` (after following links) stays within `root`: links leading out are refused."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except OSError:
        return False


def iso_millis(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{int(round(ts * 1000)) % 1000:03d}Z"
    )


def last_modified(folder: Path | str) -> float:
    """The newest mtime of any file under `folder`, or the folder's own when it holds none."""
    return scan_change(str(folder))[0]


def scan_change(folder: str) -> tuple[float, bool]:
    """(newest file mtime, whether tasks.md is a file at the top) in one scandir walk.

    One walk per change on every cold list, so it works on strings and DirEntry caches, not Paths.
    """
    latest = None
    has_tasks = False
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = os.scandir(current)
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir():
                        stack.append(entry.path)
                        continue
                    mtime = entry.stat().st_mtime
                except OSError:  # vanished, or a dangling link
                    continue
                if current is folder and entry.name == "tasks.md" and entry.is_file():
                    has_tasks = True
                if latest is None or mtime > latest:
                    latest = mtime
    return (latest if latest is not None else os.stat(folder).st_mtime), has_tasks


class OpenSpecTree:
    """Reads `<project>/openspec/`. Every method returns plain data in the CLI's JSON shapes."""

    def __init__(self, openspec_dir: Path | str):
        self.root = Path(openspec_dir)
        self.changes_dir = self.root / "changes"
        self.specs_dir = self.root / "specs"
        self.problems: dict[str, str] = {}  # files read only in part, by path

    # -- discovery -------------------------------------------------------------------------
    def change_ids(self, include_dot: bool = True) -> list[str]:
        try:
            entries = os.scandir(self.changes_dir)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [
            e.name
            for e in entries
            if e.is_dir() and e.name != "archive" and (include_dot or not e.name.startswith("."))
        ]

    def archived_ids(self) -> list[str]:
        try:
            entries = os.scandir(self.changes_dir / "archive")
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))

    def spec_ids(self) -> list[str]:
        return [spec_id for spec_id, _ in discover_spec_files(self.specs_dir)]

    # -- list ------------------------------------------------------------------------------
    def list_changes(self) -> list[dict]:
        """`openspec list --json` changes, newest first (stable for equal times)."""
        items = []
        base = str(self.changes_dir)
        for name in self.change_ids():
            newest, has_tasks = scan_change(os.path.join(base, name))
            done, total = self.task_progress(name) if has_tasks else (0, 0)
            items.append(
                {
                    "name": name,
                    "completedTasks": done,
                    "totalTasks": total,
                    "lastModified": newest,
                    "status": status_of(done, total),
                }
            )
        # Newest first; equal times in code-point order of the ids: the CLI's sort is stable and
        # Node's readdir sorts names as strcmp does (checked: A-thing, Zeta, a_thing, alpha).
        items.sort(key=lambda c: c["name"])
        items.sort(key=lambda c: -c["lastModified"])
        for item in items:
            item["lastModified"] = iso_millis(item["lastModified"])
        return items

    def task_progress(self, change_id: str) -> tuple[int, int]:
        path = os.path.join(self.changes_dir, change_id, "tasks.md")
        try:
            return task_progress(read_text(path, self.problems))
        except (OSError, OpenSpecError):
            return 0, 0

    def list_specs(self) -> list[dict]:
        """`openspec list --specs --json`: a spec that cannot be parsed counts 0 requirements."""
        out = []
        for spec_id, path in discover_spec_files(self.specs_dir):
            try:
                count = len(self._parse_spec(path)["requirements"])
            except (OpenSpecError, OSError):
                count = 0
            out.append({"id": spec_id, "requirementCount": count})
        return out

    # -- show ------------------------------------------------------------------------------
    def show_spec(self, spec_id: str) -> dict:
        path = self._spec_path(spec_id)
        spec = self._parse_spec(path)
        return {
            "id": spec_id,
            "title": spec_id,
            "overview": spec["overview"],
            "requirementCount": len(spec["requirements"]),
            "requirements": spec["requirements"],
            "metadata": {"version": "1.0.0", "format": "openspec"},
        }

    def _spec_path(self, spec_id: str) -> Path:
        for found_id, path in discover_spec_files(self.specs_dir):
            if found_id == spec_id:
                return path
        raise OpenSpecError(f'Spec "{spec_id}" not found')

    def _parse_spec(self, path: Path) -> dict:
        return self.parse_spec_text(read_text(path, self.problems))

    @staticmethod
    def parse_spec_text(text: str) -> dict:
        """{overview, requirements} of a main spec; raises without Purpose or Requirements."""
        sections = parse_sections(text)
        purpose = find_section(sections, "Purpose")
        requirements = find_section(sections, "Requirements")
        if not purpose or not purpose.content:
            raise OpenSpecError("Spec must have a Purpose section")
        if not requirements:
            raise OpenSpecError("Spec must have a Requirements section")
        return {
            "overview": js_trim(purpose.content),
            "requirements": [requirement_from_section(c) for c in requirements.children],
        }

    def change_deltas(self, change_id: str, what_changes: str, names: list | None = None):
        """`show`'s deltas of a change: its delta specs, or (none in any of them) the legacy
        `- **spec:** ...` bullets of What Changes. The pages show the same list; `names` gets
        each one's requirement and scenario names (see `deltas.show_deltas`)."""
        folder = self.changes_dir / change_id
        found, found_names, has_sections = [], [], False
        for spec_id, path in discover_spec_files(folder / "specs"):
            try:
                plan = delta_reader.parse_delta_spec(read_text(path, self.problems))
            except (OSError, OpenSpecError):
                continue
            has_sections = has_sections or plan.has_delta_sections
            found += delta_reader.show_deltas(spec_id, plan, found_names)
        if has_sections:
            if names is not None:
                names.extend(found_names)
            return found
        legacy = simple_deltas(what_changes)
        if names is not None:
            names.extend(("", []) for _ in legacy)
        return legacy

    def show_change(self, change_id: str) -> dict:
        folder = self.changes_dir / change_id
        proposal = folder / "proposal.md"
        if not proposal.is_file():
            if folder.is_dir():
                raise OpenSpecError(
                    f'Change "{change_id}" has no proposal.md yet. Run "openspec status '
                    f'--change {change_id}" to see which artifact comes next.'
                )
            raise OpenSpecError(f'Change "{change_id}" not found')
        text = read_text(proposal, self.problems)
        sections = parse_sections(text)
        why = find_section(sections, "Why")
        what = find_section(sections, "What Changes")
        if not why or not why.content:
            raise OpenSpecError("Change must have a Why section")
        if not what or not what.content:
            raise OpenSpecError("Change must have a What Changes section")
        changes = self.change_deltas(change_id, what.content)
        return {
            "id": change_id,
            "title": change_title(text, change_id),
            "deltaCount": len(changes),
            "deltas": changes,
        }


def change_title(text: str, change_id: str) -> str:
    """The CLI reads the raw text (BOM and all): first `# Title`, `Change: ` stripped."""
    m = _TITLE.search(text)
    title = js_trim(m.group(1)) if m else ""
    return title if title and title.lower() != "proposal" else change_id


def simple_deltas(what_changes: str) -> list[dict]:
    """The legacy form: `- **spec:** description` bullets, operation guessed from the words."""
    out = []
    for line in what_changes.split("\n"):
        m = _SIMPLE_DELTA.match(line)
        if not m:
            continue
        description = js_trim(m.group(2))
        lower = description.lower()
        if re.search(r"\brename(s|d|ing)?\b", lower) or re.search(
            r"\brenamed\s+(to|from)\b", lower
        ):
            op = "RENAMED"
        elif (
            re.search(r"\badd(s|ed|ing)?\b", lower)
            or re.search(r"\bcreate(s|d|ing)?\b", lower)
            or re.search(r"\bnew\b", lower)
        ):
            op = "ADDED"
        elif re.search(r"\bremove(s|d|ing)?\b", lower) or re.search(r"\bdelete(s|d|ing)?\b", lower):
            op = "REMOVED"
        else:
            op = "MODIFIED"
        out.append({"spec": js_trim(m.group(1)), "operation": op, "description": description})
    return out
