"""The query catalog: one question per `queries/*.sql` file, whose header says what it is
about, what it takes (typed `-- param:` lines) and which tables it reads (`-- reads:`)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmdata.errors import QueryError

QUERIES_DIR = Path(__file__).resolve().parents[2] / "queries"
_HEADER = re.compile(r"^--\s*(?P<key>name|param|about|times|reads):\s*(?P<value>.*)$")
_PARAM = re.compile(
    r"^(?P<name>[a-z_][a-z0-9_]*)\s+(?P<type>text|int|float|bool|date)"
    r"(?:\s*=\s*(?P<default>\S.*?))?\s*(?:#\s*(?P<doc>.*))?$"
)


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Any
    doc: str = ""

    def convert(self, raw: str) -> Any:
        if raw.lower() in ("", "null", "none"):
            return None
        try:
            if self.type == "int" and raw.lower() == "now":
                # Portable SQL takes the clock as a parameter: SQLite and DuckDB spell it apart.
                return int(time.time())
            if self.type == "int":
                return int(raw)
            if self.type == "float":
                return float(raw)
            if self.type == "bool":
                if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError(raw)
                return raw.lower() in ("1", "true", "yes")
        except ValueError:
            raise QueryError(f"parameter {self.name} must be {self.type}, got {raw!r}") from None
        return raw


@dataclass(frozen=True)
class Query:
    """One question, answered by one .sql file; its header declares what it takes."""

    name: str
    about: str
    sql: str
    params: tuple[Param, ...] = field(default_factory=tuple)
    # Columns the SQL returns as epoch seconds (portable SQL has no common timestamp
    # function) and the runner turns into UTC timestamps.
    times: tuple[str, ...] = ()
    # The tables the SQL reads, declared in its header (`-- reads: failures, runs`) and checked
    # against DuckDB's own parse by a test: a cached answer is keyed on exactly these.
    reads: frozenset[str] = frozenset()

    def bind(self, given: dict[str, Any]) -> dict[str, Any]:
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            accepted = ", ".join(known) or "no parameters"
            raise QueryError(
                f"query {self.name} has no parameter {unknown[0]!r} (it takes {accepted})"
            )
        values = {}
        for p in self.params:
            raw = given.get(p.name, p.default)
            values[p.name] = p.convert(raw) if isinstance(raw, str) else raw
        return values


def parse_query(name: str, text: str) -> Query:
    about, params, times, reads = "", [], (), frozenset()
    for line in text.splitlines():
        m = _HEADER.match(line.strip())
        if not m:
            if line.strip() and not line.strip().startswith("--"):
                break
            continue
        if m["key"] == "about":
            about = m["value"].strip()
        elif m["key"] == "reads":
            reads = frozenset(t.strip().lower() for t in m["value"].split(",") if t.strip())
        elif m["key"] == "times":
            times = tuple(c.strip() for c in m["value"].split(",") if c.strip())
        elif m["key"] == "param":
            pm = _PARAM.match(m["value"].strip())
            if not pm:
                raise QueryError(f"queries/{name}.sql: cannot read parameter line {line!r}")
            default = pm["default"]
            default = None if default in (None, "NULL", "null") else default
            params.append(Param(pm["name"], pm["type"], default, (pm["doc"] or "").strip()))
    return Query(name, about, text, tuple(params), times, reads)


def macros(folder: Path = QUERIES_DIR) -> str:
    """The expressions several queries share (`queries/_macros.sql`), as SQL to run first."""
    path = folder / "_macros.sql"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def list_queries(folder: Path = QUERIES_DIR) -> list[Query]:
    return [
        parse_query(p.stem, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("[!_]*.sql"))
    ]


def load_query(name: str, folder: Path = QUERIES_DIR) -> Query:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", name):  # _macros.sql is not a query
        raise QueryError(f"no query named {name!r}: names are lower_snake_case")
    path = folder / f"{name}.sql"
    if not path.is_file():
        names = ", ".join(q.name for q in list_queries(folder))
        raise QueryError(f"no query named {name!r}; `pmdata query --list` shows them ({names})")
    return parse_query(name, path.read_text(encoding="utf-8"))
