"""Delta specs (changes/<id>/specs/**/spec.md): ADDED / MODIFIED / REMOVED / RENAMED blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pmdata.openspec.markdown import fence_mask, js_trim, normalize, parse_sections
from pmdata.openspec.markdown import requirement_from_section as _requirement

REQUIREMENT_HEADER = re.compile(r"^###\s*Requirement:\s*(.+)\s*$", re.I)
TOP_SECTION = re.compile(r"^(##)\s+(.+)$")
TOP_HEADER = re.compile(r"^##\s+")
_TRAILING_HASHES = re.compile(r"[ \t]+#+[ \t]*$")
_REMOVED_BULLET = re.compile(r"^\s*[-*+]\s*`?###\s*Requirement:\s*(.+?)`?\s*$")
_FROM = re.compile(r"^\s*[-*+]?\s*FROM:\s*`?###\s*Requirement:\s*(.+?)`?\s*$")
_TO = re.compile(r"^\s*[-*+]?\s*TO:\s*`?###\s*Requirement:\s*(.+?)`?\s*$")
OPERATIONS = ("ADDED", "MODIFIED", "REMOVED", "RENAMED")


def requirement_name(name: str) -> str:
    return js_trim(_TRAILING_HASHES.sub("", name))


@dataclass
class Block:
    header_line: str
    name: str
    raw: str


@dataclass
class DeltaPlan:
    added: list[Block] = field(default_factory=list)
    modified: list[Block] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    removed_blocks: list[Block] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    unpaired_renames: list[tuple[str, str, int]] = field(default_factory=list)
    presence: dict[str, bool] = field(default_factory=dict)
    skipped_headers: list[tuple[str, str, int]] = field(default_factory=list)
    # `### Requirement:` blocks outside every delta section: (name, section or None, line)
    orphans: list[tuple[str, str | None, int]] = field(default_factory=list)

    @property
    def has_delta_sections(self) -> bool:
        return any(self.presence.values())


@dataclass
class _Body:
    lines: list[str]
    mask: list[bool]
    start_line: int  # 1-based line number of lines[0]


def parse_delta_spec(content: str) -> DeltaPlan:
    lines = normalize(content).split("\n")
    mask = fence_mask(lines)
    heads = [
        (js_trim(m.group(2)), i)
        for i, line in enumerate(lines)
        if not mask[i] and (m := TOP_SECTION.match(line))
    ]
    sections: dict[str, list[_Body]] = {}
    titles: dict[str, str] = {}
    for n, (title, index) in enumerate(heads):
        end = heads[n + 1][1] if n + 1 < len(heads) else len(lines)
        key = title.lower()
        titles.setdefault(key, title)
        sections.setdefault(key, []).append(
            _Body(lines[index + 1 : end], mask[index + 1 : end], index + 2)
        )
    plan = DeltaPlan()
    for op in OPERATIONS:
        plan.presence[op] = f"{op.lower()} requirements" in sections
    get = lambda op: sections.get(f"{op.lower()} requirements", [])  # noqa: E731
    for body in get("ADDED"):
        plan.added += _blocks(body, titles.get("added requirements", ""), plan.skipped_headers)
    for body in get("MODIFIED"):
        plan.modified += _blocks(
            body, titles.get("modified requirements", ""), plan.skipped_headers
        )
    for body in get("REMOVED"):
        plan.removed += _removed_names(body)
        plan.removed_blocks += _blocks(body)
    for body in get("RENAMED"):
        plan.renamed += _renamed_pairs(body, plan.unpaired_renames)
    plan.unpaired_renames.sort(key=lambda u: u[2])
    plan.skipped_headers.sort(key=lambda s: s[2])
    plan.orphans = _orphans(lines, mask)
    return plan


_DELTA_TITLES = {f"{op.lower()} requirements" for op in OPERATIONS}


def _orphans(lines: list[str], mask: list[bool]) -> list[tuple[str, str | None, int]]:
    found, section = [], None
    for i, line in enumerate(lines):
        if mask[i]:
            continue
        top = TOP_SECTION.match(line)
        if top:
            section = js_trim(top.group(2))
            continue
        if section is not None and section.lower() in _DELTA_TITLES:
            continue
        m = REQUIREMENT_HEADER.match(line)
        if m:
            found.append((requirement_name(m.group(1)), section, i + 1))
    return found


def _blocks(body: _Body, section: str = "", skipped: list | None = None) -> list[Block]:
    lines, mask = body.lines, body.mask
    is_req = lambda i: not mask[i] and REQUIREMENT_HEADER.match(lines[i])  # noqa: E731
    is_top = lambda i: not mask[i] and TOP_HEADER.match(lines[i])  # noqa: E731

    def note_skipped(i: int) -> None:
        if skipped is None or mask[i]:
            return
        h3 = re.match(r"^###\s+(.+?)\s*$", lines[i])
        if h3 and not REQUIREMENT_HEADER.match(lines[i]):
            skipped.append((js_trim(h3.group(1)), section, body.start_line + i))

    blocks, i = [], 0
    while i < len(lines):
        while i < len(lines) and not is_req(i):
            note_skipped(i)
            i += 1
        if i >= len(lines):
            break
        header = lines[i]
        name = requirement_name(REQUIREMENT_HEADER.match(header).group(1))
        buf = [header]
        i += 1
        while i < len(lines) and not is_req(i) and not is_top(i):
            note_skipped(i)
            buf.append(lines[i])
            i += 1
        blocks.append(Block(header, name, "\n".join(buf).rstrip()))
    return blocks


def _removed_names(body: _Body) -> list[str]:
    names = []
    for i, line in enumerate(body.lines):
        if body.mask[i]:
            continue
        m = REQUIREMENT_HEADER.match(line) or _REMOVED_BULLET.match(line)
        if m:
            names.append(requirement_name(m.group(1)))
    return names


def _renamed_pairs(body: _Body, unpaired: list) -> list[tuple[str, str]]:
    pairs, pending = [], None
    for i, line in enumerate(body.lines):
        if body.mask[i]:
            continue
        f, t = _FROM.match(line), _TO.match(line)
        if f:
            if pending:
                unpaired.append(("FROM", *pending))
            pending = (requirement_name(f.group(1)), body.start_line + i)
        elif t:
            to = requirement_name(t.group(1))
            if not pending:
                unpaired.append(("TO", to, body.start_line + i))
                continue
            pairs.append((pending[0], to))
            pending = None
    if pending:
        unpaired.append(("FROM", *pending))
    return pairs


def block_requirement(block: Block) -> dict | None:
    """The {text, scenarios} `show` prints for one block, read by the section parser."""
    header, *body = block.raw.split("\n")
    title = js_trim(re.sub(r"^###\s*", "", header))
    sections = parse_sections("\n".join([f"### {title}", *body]))
    if not sections or not re.match(r"^Requirement:\s*\S", js_trim(sections[0].title), re.I):
        return None
    return _requirement(sections[0])


_SCENARIO_NAME = re.compile(r"^####\s+Scenario:\s*(.*)$", re.M | re.I)


def show_deltas(spec_id: str, plan: DeltaPlan, names: list | None = None) -> list[dict]:
    """Deltas of one spec file in the CLI's order: ADDED, MODIFIED, REMOVED, RENAMED. The
    pages read the same list; `names`, when given, receives each delta's requirement name and
    its scenarios' names, which the CLI's JSON leaves out."""
    out = []
    for op, verb, blocks in (
        ("ADDED", "Add", plan.added),
        ("MODIFIED", "Modify", plan.modified),
        ("REMOVED", "Remove", _removed_in_order(plan)),
    ):
        for block in blocks:
            req = block_requirement(block)
            if req is None:
                continue
            if names is not None:
                scenario_names = [js_trim(n) for n in _SCENARIO_NAME.findall(block.raw)]
                names.append((block.name, scenario_names))
            out.append(
                {
                    "spec": spec_id,
                    "operation": op,
                    "description": f"{verb} requirement: {req['text']}",
                    "requirement": req,
                    "requirements": [req],
                }
            )
    for old, new in plan.renamed:
        if names is not None:
            names.append((new, []))
        out.append(
            {
                "spec": spec_id,
                "operation": "RENAMED",
                "description": f'Rename requirement from "{old}" to "{new}"',
                "rename": {"from": old, "to": new},
            }
        )
    return out


def _removed_in_order(plan: DeltaPlan) -> list[Block]:
    pool = list(plan.removed_blocks)
    out = []
    for name in plan.removed:
        index = next((i for i, b in enumerate(pool) if b.name == name), None)
        if index is None:
            header = f"### Requirement: {name}"
            out.append(Block(header, name, header))
        else:
            out.append(pool.pop(index))
    return out
