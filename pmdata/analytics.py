"""DuckDB over the homelab SQLite file (attached read-only); runs the SQL in queries/ by name."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import duckdb_extensions
import pandas as pd

from pmdata.errors import QueryError, StoreError
from pmdata.store.database import check_database

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
ALIAS = "homelab"
_HEADER = re.compile(r"^--\s*(?P<key>name|param|about):\s*(?P<value>.*)$")
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
    about, params = "", []
    for line in text.splitlines():
        m = _HEADER.match(line.strip())
        if not m:
            if line.strip() and not line.strip().startswith("--"):
                break
            continue
        if m["key"] == "about":
            about = m["value"].strip()
        elif m["key"] == "param":
            pm = _PARAM.match(m["value"].strip())
            if not pm:
                raise QueryError(f"queries/{name}.sql: cannot read parameter line {line!r}")
            default = pm["default"]
            default = None if default in (None, "NULL", "null") else default
            params.append(Param(pm["name"], pm["type"], default, (pm["doc"] or "").strip()))
    return Query(name, about, text, tuple(params))


def list_queries(folder: Path = QUERIES_DIR) -> list[Query]:
    return [
        parse_query(p.stem, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.sql"))
    ]


def load_query(name: str, folder: Path = QUERIES_DIR) -> Query:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise QueryError(f"no query named {name!r}: names are lower_snake_case")
    path = folder / f"{name}.sql"
    if not path.is_file():
        names = ", ".join(q.name for q in list_queries(folder))
        raise QueryError(f"no query named {name!r}; `pmdata query --list` shows them ({names})")
    return parse_query(name, path.read_text(encoding="utf-8"))


def connect_duckdb(db_path: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the SQLite file attached READ_ONLY as the default catalog."""
    con = duckdb.connect(":memory:")
    # From the pinned wheel: DuckDB would otherwise try to download the extension.
    duckdb_extensions.import_extension("sqlite_scanner", con=con)
    con.execute(f"ATTACH '{_quote(db_path)}' AS {ALIAS} (TYPE sqlite, READ_ONLY)")
    con.execute(f"USE {ALIAS}")
    return con


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


class Analytics:
    """Runs named queries against one database. Thread-safe: each call uses its own cursor."""

    def __init__(self, db_path: Path | str, queries_dir: Path = QUERIES_DIR):
        self.db_path = check_database(db_path)
        self.queries_dir = queries_dir
        self._lock = threading.Lock()
        try:
            self._con = connect_duckdb(self.db_path)
        except duckdb.Error as exc:
            raise StoreError(f"cannot attach {self.db_path} in DuckDB: {exc}") from exc

    def run(self, name: str, **params: Any) -> pd.DataFrame:
        query = load_query(name, self.queries_dir)
        return self.run_sql(query.sql, query.bind(params), name)

    def run_sql(self, sql: str, params: dict[str, Any], name: str = "query") -> pd.DataFrame:
        with self._lock:
            cursor = self._con.cursor()
        try:
            cursor.execute(f"USE {ALIAS}")  # a cursor does not inherit the parent's USE
            return cursor.execute(sql, params).df()
        except duckdb.CatalogException as exc:
            raise StoreError(
                f"{name}: the database {self.db_path} lacks what it needs ({_first_line(exc)}); "
                f"run `pmdata migrate --db {self.db_path}`"
            ) from exc
        except duckdb.Error as exc:
            raise StoreError(f"{name}: {_first_line(exc)}") from exc
        finally:
            cursor.close()

    def close(self) -> None:
        self._con.close()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
