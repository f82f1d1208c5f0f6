"""Copying the homelab's rows into DuckDB whatever their values are.

SQLite keeps any value in any column: another producer may have written "ten" in an INTEGER
column, or 1e30. The DuckDB copy the dashboard reads must never fail on such a row, so a copy
that meets one is done again with every value read as text and cast back to its column's type;
a value that does not fit becomes NULL (shown as missing), and the rest of the table is kept.
The fast path is tried first: clean tables never pay for this.
"""

from __future__ import annotations

import math

import duckdb
import pandas as pd

# What a value of the wrong type raises: from the sqlite scanner, or from a DataFrame insert.
WRONG_TYPE = (
    duckdb.TypeMismatchException,
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    duckdb.OutOfRangeException,
)
_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}


def _cast(name: str, kind: str) -> str:
    column = f'"{name}"'
    if kind.upper() in _INTEGERS:
        # "12", "12.0" and 12.0 are all the integer 12; "ten" and 1e30 are not integers at all.
        return (
            f"coalesce(TRY_CAST({column} AS {kind}), "
            f"TRY_CAST(TRY_CAST({column} AS DOUBLE) AS {kind})) AS {column}"
        )
    return f"TRY_CAST({column} AS {kind}) AS {column}"


def _columns(cursor, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in cursor.execute(f"DESCRIBE {relation}").fetchall()]


def copy_table(cursor, source: str, target: str) -> None:
    """CREATE OR REPLACE `target` with every row of the sqlite-scanned `source`."""
    try:
        cursor.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source}")
        return
    except WRONG_TYPE:
        pass
    columns = _columns(cursor, source)  # the declared types, read before the switch below
    cursor.execute("SET sqlite_all_varchar = true")
    try:
        casts = ", ".join(_cast(name, kind) for name, kind in columns)
        cursor.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {casts} FROM {source}")
    finally:
        cursor.execute("SET sqlite_all_varchar = false")


def _as_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return str(int(value))
    return str(value)


def _fits(column: pd.Series, kind: str) -> bool:
    """Whether DuckDB takes the column as it is (checked, not tried: a failed statement would
    abort the transaction the copy runs in)."""
    kind = kind.upper()
    if kind in _INTEGERS:
        if pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column):
            return True
        if pd.api.types.is_float_dtype(column):
            values = column.dropna()
            return bool(((values.abs() < 2**63) & (values == values.round())).all())
        return column.isna().all()
    if kind in ("DOUBLE", "FLOAT", "REAL"):
        return pd.api.types.is_numeric_dtype(column) or column.isna().all()
    if kind == "VARCHAR":
        return column.map(lambda v: v is None or isinstance(v, str)).all()
    return True


def insert_rows(cursor, target: str, rows: pd.DataFrame) -> None:
    """INSERT `rows` (read from SQLite by pandas) into `target` by column name."""
    kinds = dict(_columns(cursor, target))
    columns = [c for c in rows.columns if c in kinds]
    if all(_fits(rows[c], kinds[c]) for c in columns):
        select, data = "*", rows
    else:
        select = ", ".join(_cast(c, kinds[c]) for c in columns)
        data = pd.DataFrame({c: [_as_text(v) for v in rows[c]] for c in columns}, dtype=object)
    cursor.register("rows_to_copy", data)
    try:
        cursor.execute(f"INSERT INTO {target} BY NAME SELECT {select} FROM rows_to_copy")
    finally:
        cursor.unregister("rows_to_copy")
