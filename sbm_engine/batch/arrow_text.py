"""The bytes of an Arrow text array as numpy views, for checks that must not make a
Python string of every row (a chunk's visit_ids: hashing, the blank check)."""

from __future__ import annotations

from typing import Any

import numpy as np


def text_layout(arr: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, lengths, data) of a string or large_string Arrow array: row i is
    `data[starts[i] : starts[i] + lengths[i]]` (UTF-8). Null rows have whatever span
    Arrow gave them (usually empty); callers look at the validity themselves."""
    import pyarrow as pa

    n = len(arr)
    _, off_buf, data_buf = arr.buffers()
    data = (
        np.frombuffer(data_buf, dtype=np.uint8)
        if data_buf is not None
        else np.zeros(0, dtype=np.uint8)
    )
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, data
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(off_buf, dtype=width, count=n + 1, offset=arr.offset * width(0).nbytes)
    starts = offsets[:-1].astype(np.int64)
    return starts, offsets[1:] - starts, data


def starts_solid(arr: Any) -> np.ndarray:
    """Rows whose first byte is printable ASCII other than a space (0x21-0x7E): such a
    text is not blank whatever else it holds, the case of nearly every id. Nulls and
    other rows are False (they need a closer look)."""
    starts, lengths, data = text_layout(arr)
    out = np.zeros(len(starts), dtype=bool)
    some = np.flatnonzero(lengths > 0)
    if some.size:
        first = data[starts[some]]
        out[some] = (first >= 0x21) & (first <= 0x7E)
    if arr.null_count:
        out &= arr.is_valid().to_numpy(zero_copy_only=False)
    return out
