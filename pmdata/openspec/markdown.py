"""The Markdown reading rules the OpenSpec CLI applies: BOM/CRLF, code fences, the section tree.

The CLI is JavaScript; where JS and Python disagree on what whitespace is (JS counts U+FEFF as
`\\s` and trims it), the helpers here follow JS so our counts match the CLI's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# JavaScript's \s: Python's str.isspace() leaves out U+FEFF (a BOM).
JS_WS = "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
JS_S = f"[{JS_WS}]"
HEADER = re.compile(r"^(#{1,6})\s+(.+)$")
HEADER_START = re.compile(r"^(#{1,6})\s+")
_FENCE_OPEN = re.compile(r"^\s*(`{3,}|~{3,})")
_FENCE_CLOSE = re.compile(r"^\s*(`{3,}|~{3,})\s*$")
METADATA_LINE = re.compile(r"^\*\*[^*]+\*\*:")
ANY_HEADER = re.compile(r"^#{1,6}\s")


JS_WS_CHARS = (
    "\t\n\v\f\r \u00a0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000\ufeff")
)


def js_trim(text: str) -> str:
    """JavaScript's String.prototype.trim (str.strip with JS's whitespace set: fast, no regex)."""
    return text.strip(JS_WS_CHARS)


def normalize(content: str) -> str:
    """Strip one leading BOM and turn CRLF/CR into LF, as every CLI markdown reader does."""
    if content.startswith("\ufeff"):
        content = content[1:]
    return content.replace("\r\n", "\n").replace("\r", "\n")


def fence_mask(lines: list[str]) -> list[bool]:
    """True for each line inside a fenced code block, fence lines included."""
    mask = [False] * len(lines)
    active: tuple[str, int] | None = None
    for i, line in enumerate(lines):
        if active is None:
            m = _FENCE_OPEN.match(line)
            if m:
                active = (m.group(1)[0], len(m.group(1)))
                mask[i] = True
            continue
        mask[i] = True
        m = _FENCE_CLOSE.match(line)
        if m and m.group(1)[0] == active[0] and len(m.group(1)) >= active[1]:
            active = None
    return mask


@dataclass
class Section:
    level: int
    title: str
    content: str
    children: list[Section] = field(default_factory=list)


def parse_sections(text: str) -> list[Section]:
    """The header tree; a section's content runs to the next header of the same or higher level."""
    lines = normalize(text).split("\n")
    mask = fence_mask(lines)
    # Pass 1: every header line; a content boundary is any line starting like a header
    # (`#{1,6}` and whitespace), which is looser than a header with a title.
    heads: list[tuple[int, int, str]] = []  # (line, level, title)
    bounds: list[tuple[int, int]] = []  # (line, level)
    for i, line in enumerate(lines):
        if mask[i] or not line.startswith("#"):
            continue
        start = HEADER_START.match(line)
        if start:
            bounds.append((i, len(start.group(1))))
            m = HEADER.match(line)
            if m:
                heads.append((i, len(m.group(1)), m.group(2)))
    # Pass 2: a section ends at the next boundary of its level or higher, found with a stack
    # (one pass instead of a scan per header: large specs stay linear).
    ends: dict[int, int] = {}
    open_heads: list[tuple[int, int]] = []
    head_lines = {h[0] for h in heads}
    for i, level in bounds:
        while open_heads and open_heads[-1][1] >= level:
            ends[open_heads.pop()[0]] = i
        if i in head_lines:
            open_heads.append((i, level))
    roots: list[Section] = []
    stack: list[Section] = []
    for i, level, title in heads:
        content = js_trim("\n".join(lines[i + 1 : ends.get(i, len(lines))]))
        section = Section(level, js_trim(title), content)
        while stack and stack[-1].level >= level:
            stack.pop()
        (stack[-1].children if stack else roots).append(section)
        stack.append(section)
    return roots


def find_section(sections: list[Section], title: str) -> Section | None:
    """The first section with this title (case-insensitive), depth first in document order."""
    wanted = title.lower()
    for section in sections:
        if section.title.lower() == wanted:
            return section
        found = find_section(section.children, title)
        if found:
            return found
    return None


def requirement_body(lines: list[str]) -> str:
    """Body text before the first header: trimmed non-blank lines, `**Key**:` lines aside."""
    mask = fence_mask(lines)
    captured, metadata = [], []
    for i, line in enumerate(lines):
        if mask[i]:
            continue
        if ANY_HEADER.match(line):
            break
        trimmed = js_trim(line)
        if not trimmed:
            continue
        (metadata if METADATA_LINE.match(trimmed) else captured).append(trimmed)
    return "\n".join(captured) if captured else "\n".join(metadata)


def requirement_from_section(section: Section) -> dict:
    """{text, scenarios: [{rawText}]} as `show --json` prints a requirement."""
    text = requirement_body(section.content.split("\n")) or js_trim(section.title)
    scenarios = [{"rawText": child.content} for child in section.children if js_trim(child.content)]
    return {"text": text, "scenarios": scenarios}
