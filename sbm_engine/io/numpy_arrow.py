"""numpy arrays as Arrow arrays, and their distinct values, without `numpy.ma`.

Why: `pyarrow.array` of a numpy array looks for a masked array, and `np.unique`
for a masked input, and either check imports `numpy.ma` the first time: longer than
most of the package's own modules take, in every `sbm score`, which for a wave of a
few thousand visits is mostly start-up. The scoring and writing paths build their
arrays and distinct values here instead; tests/test_arrow_compute.py checks that a
run imports no `numpy.ma`.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def arrow_array(values: np.ndarray, valid: np.ndarray | None = None) -> Any:
    """A 1-D numpy array of numbers or booleans as the Arrow array `pyarrow.array`
    gives, null where `valid` (one bool per value) is false; shares the buffer of a
    contiguous array of numbers."""
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    n = len(values)
    if values.dtype == np.bool_:
        kind, data = pa.bool_(), pa.py_buffer(np.packbits(values, bitorder="little"))
    else:
        kind, data = pa.from_numpy_dtype(values.dtype), pa.py_buffer(values)
    if valid is None or valid.all():
        return pa.Array.from_buffers(kind, n, [None, data], 0)
    bits = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(kind, n, [bits, data], n - int(np.count_nonzero(valid)))


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of a 1-D array of integers or bytes, as `np.unique`
    gives them."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]
