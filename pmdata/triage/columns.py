"""A batch's columns as codes: each row's number for its value, and the distinct values.

A batch of 100,000 failures holds a few thousand distinct messages, places and tests; the
classifier works once per distinct value (or combination), and only the codes go row by row.
Texts go through Arrow, so most of them never become Python strings at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pmdata.triage.fingerprint import ZERO_DIGITS, zero_digits

Codes = np.ndarray  # int64, one per row


def distinct_texts(frame: pd.DataFrame, column: str, zeroed: bool = False) -> tuple[Codes, list]:
    """Each row's code and the distinct texts of `column`; NULL, a missing column and any
    value that is not text read as "". `zeroed`: every ASCII digit made 0 first (zero_digits)."""
    if column not in frame:
        return np.zeros(len(frame), dtype=np.int64), [""]
    try:
        texts = _arrow_texts(frame[column])
    except (pa.ArrowException, UnicodeError):
        # Not all text (a number in the column), or text Arrow refuses (a lone surrogate).
        values = [v if isinstance(v, str) else "" for v in frame[column].tolist()]
        if zeroed:
            values = [zero_digits(v) for v in values]
        return encode(values)
    if zeroed:
        texts = _zero_digits(texts)
    encoded = pc.dictionary_encode(texts)
    return encoded.indices.to_numpy().astype(np.int64), encoded.dictionary.to_pylist()


def distinct_values(frame: pd.DataFrame, column: str) -> tuple[Codes, list]:
    """Each row's code and the distinct values of `column` as they are (keys, ids)."""
    codes, uniques = pd.factorize(frame[column], use_na_sentinel=False)
    return codes.astype(np.int64), uniques.tolist()


def encode(values: list) -> tuple[Codes, list]:
    """Each value's code, and the distinct values (any hashable values, in first-seen order)."""
    ids: dict = {}
    codes = [ids.setdefault(v, len(ids)) for v in values]
    return np.array(codes, dtype=np.int64), list(ids)


def pick(values: list, codes: Codes) -> list:
    """The value of each code."""
    table = np.empty(len(values), dtype=object)
    table[:] = values
    return table[codes].tolist()


def combine(*codes: Codes) -> Codes:
    """One code per distinct combination of the given codes (0, 1, ... by first appearance)."""
    out = codes[0]
    for more in codes[1:]:
        # Both are below the row count, so the product fits in 64 bits up to 3e9 rows.
        out, _ = pd.factorize(out * (int(more.max(initial=0)) + 1) + more)
    return out.astype(np.int64)


def first_rows(codes: Codes) -> np.ndarray:
    """For each code 0..n-1, the first row that has it. By hashing, not sorting (np.unique
    sorts: four times as long at 100,000 rows, and a batch asks half a dozen times)."""
    rows = np.flatnonzero(~pd.Series(codes).duplicated().to_numpy())
    first = np.empty(len(rows), dtype=np.int64)
    first[codes[rows]] = rows
    return first


def _arrow_texts(values: pd.Series) -> pa.Array:
    texts = pa.array(values, from_pandas=True)
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if pa.types.is_null(texts.type):
        texts = texts.cast(pa.large_string())
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        raise pa.ArrowTypeError(f"not text: {texts.type}")
    return pc.fill_null(texts, "")


def _zero_digits(texts: pa.Array) -> pa.Array:
    """zero_digits on the whole column at once: one translate of Arrow's UTF-8 buffer (an ASCII
    byte is never part of another character, and the lengths stay as they are)."""
    validity, offsets, data = texts.buffers()
    if data is None:
        return texts
    zeroed = pa.py_buffer(data.to_pybytes().translate(ZERO_DIGITS))
    return pa.Array.from_buffers(
        texts.type, len(texts), [validity, offsets, zeroed], texts.null_count, texts.offset
    )
