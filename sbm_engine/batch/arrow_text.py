"""The bytes of an Arrow text array as numpy views, for checks that must not make a
Python string of every row (a chunk's visit_ids: hashing, the blank check)."""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from ..io.dictionary_codes import SEED_ROWS, few_codes, seed, valid_rows


def text_layout(arr: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, lengths, data) of a text (or binary) Arrow array: row i is
    `data[starts[i] : starts[i] + lengths[i]]` (UTF-8). Null rows have whatever span
    Arrow gave them (usually empty); callers look at the validity themselves."""

    data = _data(arr)
    if len(arr) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, data
    offsets = _offsets(arr)
    starts = offsets[:-1].astype(np.int64)
    return starts, offsets[1:] - starts, data


def _offsets(arr: Any) -> np.ndarray:
    """The n + 1 offsets of a non-empty text or binary array (large ones too), as stored."""
    import pyarrow as pa

    large = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    width = np.int64 if large else np.int32
    off_buf = arr.buffers()[1]
    return np.frombuffer(
        off_buf, dtype=width, count=len(arr) + 1, offset=arr.offset * width(0).nbytes
    )


def _data(arr: Any) -> np.ndarray:
    data_buf = arr.buffers()[2]
    return np.zeros(0, np.uint8) if data_buf is None else np.frombuffer(data_buf, np.uint8)


def starts_solid(arr: Any) -> np.ndarray:
    """Rows whose first byte is printable ASCII other than a space (0x21-0x7E): such a
    text is not blank whatever else it holds, the case of nearly every id. Nulls and
    other rows are False (they need a closer look)."""
    from .. import arrow_compute as pc

    starts, lengths, data = text_layout(arr)
    out = np.zeros(len(starts), dtype=bool)
    some = np.flatnonzero(lengths > 0)
    if some.size:
        first = data[starts[some]]
        out[some] = (first >= 0x21) & (first <= 0x7E)
    if arr.null_count:
        out &= pc.is_valid(arr).to_numpy(zero_copy_only=False)
    return out


def dictionary_encode(arr: Any) -> Any:
    """A text or binary Arrow array as a dictionary array of text: what
    `pyarrow.compute.dictionary_encode` gives, null kept null, binary checked to be
    UTF-8 (`pyarrow.ArrowInvalid` if not) and returned as text.

    Why not always Arrow's: a CSV of answer codes (`0`, `1`, `5`, an empty cell)
    has one byte a cell, and for that case numpy finds the dictionary from the data
    buffer alone, with no hashing, three to five times faster; Arrow's hash table costs
    ~25 ns a cell, whether in the CSV reader or in compute, which was half the time
    of reading the benchmark's 1M-visit CSV. Cells of up to 7 bytes (`yes`, `no`,
    `na`, `да`, `нет`) taking at most SHORT_DISTINCT values are keyed by their bytes
    read as one integer and matched with a few comparisons, at about half of Arrow's
    cost. Why binary: the CSV reader can then skip checking that every cell is
    UTF-8, and only the few distinct values are checked here, which covers every
    cell. The numpy dictionaries are sorted by
    bytes rather than in order of appearance; callers only look values up in it."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    encoded = None
    if len(arr):
        encoded = _one_byte_codes(arr)
        if encoded is None:
            encoded = _short_codes(arr)
    if encoded is None:
        encoded = pc.dictionary_encode(arr)
    if not pa.types.is_string(encoded.dictionary.type):
        encoded = pa.DictionaryArray.from_arrays(
            encoded.indices, pc.cast(encoded.dictionary, pa.string()), safe=False
        )
    return encoded


def _one_byte_codes(arr: Any) -> Any:
    """`dictionary_encode` of a text or binary array whose every non-null value is
    one byte, else None."""
    import pyarrow as pa

    if arr.type not in (pa.string(), pa.large_string(), pa.binary(), pa.large_binary()):
        return None
    n = len(arr)
    offsets = _offsets(arr)
    lengths = np.diff(offsets)
    if lengths.max() > 1:
        return None
    filled = lengths.astype(bool)
    valid = valid_rows(arr)
    if not (filled.all() if valid is None else np.array_equal(filled, valid)):
        return None  # "" (a zero-length value), or null slots holding a byte
    first, last = int(offsets[0]), int(offsets[-1])
    if first == last:  # all null
        return pa.DictionaryArray.from_arrays(pa.nulls(n, pa.int32()), pa.array([], pa.string()))
    cells = _data(arr)[first:last]
    lo, hi = int(cells.min()), int(cells.max())
    if hi >= 0x80:  # not ASCII: a lone byte that is not UTF-8 (Arrow's cast says so)
        return None
    if hi - lo < 16:  # digits, say: one comparison a candidate beats a histogram
        present = [v for v in range(lo, hi + 1) if (cells == v).any()]
    else:
        present = (np.flatnonzero(np.bincount(cells, minlength=hi + 1)[lo:]) + lo).tolist()
    # Every row's byte; a null row gets the next cell's (the last one's at the end),
    # so its index is in range too, and masked by the validity.
    row = cells.take(offsets[:-1] - first if first else offsets[:-1], mode="clip")
    if len(present) == hi - lo + 1:
        codes = (row - lo).astype(np.int32)
    else:
        lut = np.zeros(hi - lo + 1, dtype=np.int32)
        lut[np.array(present) - lo] = np.arange(len(present), dtype=np.int32)
        codes = lut.take(row - lo)
    indices = pa.Array.from_buffers(
        pa.int32(),
        n,
        [pa.py_buffer(np.packbits(filled, bitorder="little")), pa.py_buffer(codes)],
        n - len(cells),
    )
    texts = pa.array([chr(v) for v in present], pa.string())
    return pa.DictionaryArray.from_arrays(indices, texts, safe=False)


#: The most distinct values `_short_codes` matches one by one (more go to Arrow's hash).
SHORT_DISTINCT = 16
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)], dtype=np.uint64)


def _short_codes(arr: Any) -> Any:
    """`dictionary_encode` of a text or binary array whose non-null values are at
    most 7 bytes long and at most SHORT_DISTINCT distinct, else None.

    A cell's key is its bytes read as a little-endian integer (bytes past its end
    masked off) with its length in the top byte, so equal keys are equal cells; the
    keys of the first rows seed the dictionary, and every row is then checked to
    match one of them."""
    import pyarrow as pa

    if arr.type not in (pa.string(), pa.large_string(), pa.binary(), pa.large_binary()):
        return None
    n = len(arr)
    offsets = _offsets(arr)
    lengths = np.diff(offsets)
    if lengths.max() > 7:
        return None
    first, last = int(offsets[0]), int(offsets[-1])
    padded = np.zeros(last - first + 8, dtype=np.uint8)
    padded[: last - first] = _data(arr)[first:last]
    # One unaligned 8-byte word starting at every byte.
    words = np.ndarray((last - first + 1,), dtype="<u8", buffer=padded, strides=(1,))

    def keys_of(stop: int) -> np.ndarray:
        keys = words.take(offsets[:stop] - first) & _MASKS.take(lengths[:stop])
        keys |= lengths[:stop].astype(np.uint64) << np.uint64(56)
        return keys

    valid = valid_rows(arr)
    present = n - arr.null_count
    if present == 0:
        return None
    if len(seed(keys_of(min(n, SEED_ROWS)), valid)) > SHORT_DISTINCT:
        return None  # decided from the first rows, before keying them all
    found = few_codes(keys_of(n), valid, SHORT_DISTINCT, np.int32)
    if found is None:
        return None
    codes, dictionary = found
    texts = [int(k).to_bytes(8, "little")[: int(k) >> 56] for k in dictionary.tolist()]
    validity = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    indices = pa.Array.from_buffers(pa.int32(), n, [validity, pa.py_buffer(codes)], n - present)
    return pa.DictionaryArray.from_arrays(indices, pa.array(texts, pa.binary()), safe=False)


_FNV_OFFSET: Final = 0xCBF29CE484222325
_FNV_PRIME: Final = 0x100000001B3


def hash_texts(texts: Any) -> Any:
    """64-bit FNV-1a hashes of texts (an Arrow text array or a list of str), as int64.

    Vectorized over the rows, so a chunk of ids is hashed without making a Python
    string of each: the rows are ordered by length once, and pass j updates only the
    rows longer than j, so the work is the bytes hashed (one 10 kB id costs 10,000
    tiny passes, not 10,000 passes over the chunk). Equal texts always hash alike
    whichever form they came in (a list is converted to Arrow first)."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    arr = texts if isinstance(texts, pa.Array | pa.ChunkedArray) else pa.array(texts, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    n = len(arr)
    h = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    starts, lengths, data = text_layout(arr)
    if n == 0 or data.size == 0:
        return h.view(np.int64)
    order = np.argsort(-lengths, kind="stable")  # longest first
    ascending = lengths[order][::-1]
    first = starts[order]
    ho = h[order]
    prime = np.uint64(_FNV_PRIME)
    with np.errstate(over="ignore"):
        for j in range(int(ascending[-1])):
            k = n - int(np.searchsorted(ascending, j, side="right"))  # rows longer than j
            ho[:k] = (ho[:k] ^ data[first[:k] + j]) * prime
    h[order] = ho
    return h.view(np.int64)
