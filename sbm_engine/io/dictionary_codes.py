"""Dictionary codes for columns of a few distinct values, without hashing.

Why: answer columns (`yes`/`no`/`na`, grades 1-5) and item scores take a handful of
values, and Arrow's hash table costs 20-30 ns a cell wherever it runs (the CSV
reader's dictionary conversion, the Parquet writer's dictionary encoding). Here a
column is first turned into one 64-bit key a row (`arrow_text` keys short texts by
their bytes, `parquet_file` keys doubles by their bits), the distinct keys of the
first rows are found with a small sort, and every row is matched against them
with one comparison a value: a few ns a cell.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from .numpy_arrow import distinct

#: Rows whose distinct keys seed the dictionary (every row is then checked).
SEED_ROWS: Final = 1024


def valid_rows(array: Any) -> np.ndarray | None:
    """An Arrow array's non-null rows as a bool array (the `valid` of `few_codes`),
    from its validity bitmap; None when no row is null."""
    if array.null_count == 0:
        return None
    bits = np.frombuffer(array.buffers()[0], dtype=np.uint8)
    count = array.offset + len(array)
    return np.unpackbits(bits, count=count, bitorder="little")[array.offset :].view(bool)


def seed(keys: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """The sorted distinct keys of the first non-null rows: what `few_codes` starts
    from, and a cheap way to see that a column holds too many values."""
    first = keys[:SEED_ROWS]
    return distinct(first if valid is None else first[valid[:SEED_ROWS]])


def few_codes(
    keys: np.ndarray,
    valid: np.ndarray | None,
    limit: int,
    dtype: type[np.integer],
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, dictionary): each row's index into the sorted distinct keys of its
    non-null rows (`valid`, None if all are), or None if there are more than `limit`.

    Codes of null rows are meaningless. `known`, a dictionary that covered earlier
    rows, is tried first and kept while everything fits in `limit`, so the
    dictionary of a series of row groups rarely changes. The codes have `dtype`;
    `limit` is at most 256 (they are counted in bytes)."""
    if known is not None and len(known) > limit:
        known = None
    if known is not None:
        codes, missed = _match(keys, valid, known, dtype)
        if missed is None:
            return codes, known
    base = seed(keys, valid)
    if len(base) > limit:
        return None
    dictionary = _union(base, known, limit)
    codes, missed = _match(keys, valid, dictionary, dtype)
    if missed is None:
        return codes, dictionary
    # Values the first rows did not hold.
    full = distinct(np.concatenate([dictionary, keys[missed]]))
    if len(full) <= limit:
        dictionary = full
    elif len(dictionary) == len(base):  # nothing came from `known`: too many values
        return None
    else:  # without the earlier values it may fit
        dictionary = distinct(keys if valid is None else keys[valid])
        if len(dictionary) > limit:
            return None
    codes, missed = _match(keys, valid, dictionary, dtype)
    assert missed is None, "the dictionary holds every non-null key"
    return codes, dictionary


def _union(new: np.ndarray, old: np.ndarray | None, limit: int) -> np.ndarray:
    """`new` and `old` together if they fit in `limit`, else `new` alone."""
    if old is None or len(old) == 0:
        return new
    both = distinct(np.concatenate([new, old]))
    return both if len(both) <= limit else new


def _match(
    keys: np.ndarray, valid: np.ndarray | None, dictionary: np.ndarray, dtype: type[np.integer]
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each row's index in the sorted `dictionary` (counted as the entries after the
    first that it is at least), and the non-null rows that are none of them (None if
    there are none)."""
    assert len(dictionary) <= 256, "codes are counted in bytes"
    codes = np.zeros(len(keys), dtype=np.uint8)
    if len(dictionary) == 0:
        matched = np.zeros(len(keys), dtype=bool)
    else:
        matched = keys == dictionary[0]
        for key in dictionary[1:]:
            codes += (keys >= key).view(np.uint8)
            matched |= keys == key
    missed = ~matched
    if valid is not None:
        missed &= valid
    return codes.astype(dtype, copy=False), (missed if missed.any() else None)
