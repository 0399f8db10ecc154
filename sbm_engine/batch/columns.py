"""Answer columns to arrays: each distinct raw answer resolved once, then spread.

Why this way: the rules for reading an answer (labels and aliases in any case,
numeric labels matching 5, "5" and 5.0, the N/A tokens, missing answers, ranges)
are written once, in `runtime`, and the per-visit code applies them through a
fast lookup table with a slow path behind it. Here every column is dictionary
encoded, each distinct raw value goes through exactly that table-then-slow-path
sequence (and is cached per item), and the per-value results are spread over the
rows with fancy indexing. A column of a million "yes"/"no"/"na" costs three calls
of the runtime and one `take`.

Conventions for raw columns:

* a Python sequence holds values as in JSON records: `runtime.MISSING` for an
  absent key, None for JSON null (an N/A token);
* a pyarrow or numpy array is read as a table cell by cell is: null, NaN and the
  empty string are an empty cell, i.e. a missing answer; other cells are made
  JSON-like first (`tabular_cell`), with the tabular readers' own functions
  (`sbm_engine.io.records`), so a table scored here and the records the Parquet
  reader makes of it agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..compiler import item_info
from ..field_types import FieldValueError, read_value
from ..io.dictionary_codes import valid_rows
from ..io.records import is_empty, jsonable
from ..model import FieldModel, ItemModel
from ..runtime import (
    MISSING,
    VisitError,
    answered,
    fast_table,
    multi_answer,
    number_answer,
    scale_index,
    text_answer,
)
from ..timestamps import blank
from .arrow_text import starts_solid
from .values import NAN, Cat, Unhashable, encode_objects, value_key

#: A numeric column: values as floats, the missing mask, rows for the per-visit path.
Numbers = tuple[np.ndarray, np.ndarray, np.ndarray | None]

#: An item's scores as (codes, table, memo of derived tables): score == table[codes].
Coded = tuple[np.ndarray, np.ndarray, dict[Any, np.ndarray]]

#: One distinct raw answer resolved: (score, scale index, value, error, answered, odd).
Resolved = tuple[float, int, Any, bool, bool, bool]

#: Rows an ArrowSource encodes at once (the CLI's input chunk; 8 evaluator slices).
BLOCK = 1 << 16

#: Integers beyond this lose precision as floats; such answers go to the per-visit path.
EXACT_INT = 2**53

#: An integer column whose values span fewer than this is encoded by offset (codes
#: from value - min), not by hashing: answer codes (0/1, grades 1..5) are such columns.
SMALL_RANGE = 1024


# -- cells as the tabular readers see them ---------------------------------------------------


def tabular_cell(value: Any) -> Any:
    """A table cell as an answer: MISSING when empty, else its JSON-like value."""
    return MISSING if is_empty(value) else jsonable(value)


# -- raw columns ---------------------------------------------------------------------------


class Source:
    """One raw input column, read a chunk of rows at a time."""

    def __len__(self) -> int:
        raise NotImplementedError

    def encoded(self, start: int, stop: int) -> tuple[np.ndarray, list[Any]]:
        """Codes into distinct raw values (answers as the per-visit code would see them)."""
        raise NotImplementedError

    def numbers(self, start: int, stop: int) -> Numbers | None:
        """For numeric columns: (values as float, missing mask, rows to send to the
        per-visit path or None); None when the column is not numeric."""
        return None

    def complete(self, start: int, stop: int) -> bool:
        """True when no row of [start, stop) is missing (an empty cell), so no code of
        `encoded` names MISSING; False when some may be. Asked after `encoded`."""
        return False

    def blank(self, start: int, stop: int) -> np.ndarray:
        """Rows without a usable value: missing, None or a whitespace-only text
        (what `CompiledStandard.score` calls a missing visit_id)."""
        codes, distinct = self.encoded(start, stop)
        bad = [
            v is MISSING or v is None or (isinstance(v, str) and not v.strip()) for v in distinct
        ]
        return np.array(bad, dtype=bool)[codes]

    def nested(self, start: int, stop: int) -> np.ndarray | None:
        """Rows holding an object or a list, None when there is none: in a visit field
        the per-visit path rejects them (`standard.field_errors`)."""
        codes, distinct = self.encoded(start, stop)
        return _mask([isinstance(v, Unhashable | Mapping | list | tuple) for v in distinct], codes)


class ListSource(Source):
    """Python values as in JSON records (MISSING for an absent key, None for null)."""

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def encoded(self, start: int, stop: int) -> tuple[np.ndarray, list[Any]]:
        part = self.values if start == 0 and stop == len(self.values) else self.values[start:stop]
        return encode_objects(part)


class ConstSource(Source):
    """The same value on every row (a column absent from a table: all missing)."""

    def __init__(self, value: Any, n: int) -> None:
        self.value = value
        self.n = n

    def __len__(self) -> int:
        return self.n

    def encoded(self, start: int, stop: int) -> tuple[np.ndarray, list[Any]]:
        return np.zeros(stop - start, dtype=np.intp), [self.value]


class ArrowSource(Source):
    """A pyarrow Array or ChunkedArray, read with table-cell semantics."""

    def __init__(self, array: Any) -> None:
        import pyarrow as pa

        from .. import arrow_compute as pc

        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        self.array = array
        self._block: tuple[int, np.ndarray, list[Any], bool] | None = None
        self._ranges: dict[tuple[int, int], list[Any]] = {}
        t = array.type
        value_type = t.value_type if pa.types.is_dictionary(t) else t
        self.text = pa.types.is_string(value_type) or pa.types.is_large_string(value_type)
        self.nested_type = pa.types.is_nested(value_type)  # struct, list, map or union
        if pa.types.is_dictionary(t):
            self.kind = "dictionary"
            if self.text and len(array.dictionary) != len(pc.unique(array.dictionary)):
                # Arrow allows repeated dictionary values; codes here name distinct ones.
                self.array = array = pc.dictionary_encode(pc.cast(array, value_type))
        elif pa.types.is_integer(t):
            self.kind = "int"
        elif pa.types.is_floating(t):
            self.kind = "float"
        else:
            self.kind = "other"

    def __len__(self) -> int:
        return len(self.array)

    def encoded(self, start: int, stop: int) -> tuple[np.ndarray, list[Any]]:
        """Encoded a block of BLOCK rows at a time, the last block kept: the batch
        evaluator reads a column in slices of a block, and each slice is then a
        view of the block's codes with the same distinct list (which lets the item
        decoder reuse its lookup tables)."""
        block = start // BLOCK
        if stop <= start or (stop - 1) // BLOCK != block:
            return self._encode(start, stop)
        kept = self._kept(block)
        offset = block * BLOCK
        return kept[1][start - offset : stop - offset], kept[2]

    def _kept(self, block: int) -> tuple[int, np.ndarray, list[Any], bool]:
        kept = self._block
        if kept is None or kept[0] != block:
            first = block * BLOCK
            kept = self._block = (block, *self._coded(first, min(len(self), first + BLOCK)))
        return kept

    def complete(self, start: int, stop: int) -> bool:
        block = start // BLOCK
        if stop <= start or (stop - 1) // BLOCK != block:
            return False
        return self._kept(block)[3]

    def _encode(self, start: int, stop: int) -> tuple[np.ndarray, list[Any]]:
        codes, distinct, _ = self._coded(start, stop)
        return codes, distinct

    def _coded(self, start: int, stop: int) -> tuple[np.ndarray, list[Any], bool]:
        """Codes, distinct values, and whether no row is missing (`complete`)."""
        part = self.array.slice(start, stop - start)
        if self.kind == "int":
            small = self._small_ints(part)
            if small is not None:
                return small
        if self.kind == "other" and not _encodable(part.type):
            return (*encode_objects(tabular_cell(v) for v in part.to_pylist()), False)
        if self.kind == "dictionary":
            enc = part
        else:
            from .. import arrow_compute as pc

            enc = pc.dictionary_encode(part)
        if self.text:  # texts are their own JSON value; only "" is an empty cell
            distinct: list[Any] = enc.dictionary.to_pylist()
            if "" in distinct:  # at most once: dictionary values are distinct
                distinct[distinct.index("")] = MISSING
        else:
            distinct = [tabular_cell(v) for v in enc.dictionary.to_pylist()]
        # Only the appended entry and "" (a text) can be MISSING: a dictionary of
        # other values holds no null, and `tabular_cell` of a non-null is a value.
        complete = enc.indices.null_count == 0 and MISSING not in distinct
        distinct.append(MISSING)  # nulls
        indices = enc.indices
        codes = _ints(indices).astype(np.intp)
        valid = valid_rows(indices)
        if valid is not None:  # null slots hold arbitrary values: overwritten here
            codes[~valid] = len(distinct) - 1
        return codes, distinct, complete

    def _small_ints(self, part: Any) -> tuple[np.ndarray, list[Any], bool] | None:
        """Integers of a small range coded by offset, straight from the Arrow buffers:
        ten times faster than Arrow's hash-based dictionary encoding on answer codes
        (Arrow's own min_max, fill_null and is_null each cost more than this whole
        path). Code 0 is a null; code k is the value min - 1 + k. Null slots hold
        arbitrary values, which can only widen the range. The distinct list holds every
        value of the range (those absent are never indexed) and is the same object for
        every block of the same range, so item lookup tables are built once."""
        if len(part) == 0 or part.buffers()[1] is None:
            return None
        raw = _ints(part)
        dtype = raw.dtype
        lo, hi = int(raw.min()), int(raw.max())
        if hi - lo >= SMALL_RANGE or lo < -(2**62) or hi > 2**62:
            return None
        distinct = self._ranges.get((lo, hi))
        if distinct is None:
            distinct = [MISSING, *(tabular_cell(v) for v in range(lo, hi + 1))]
            self._ranges[(lo, hi)] = distinct
        if dtype.itemsize == 1 and hi - lo < 255:  # byte arithmetic wraps into 1..255
            small = raw.view(np.uint8) - np.uint8((lo - 1) & 0xFF)
        else:
            small = raw.astype(np.intp)
            small -= lo - 1
        valid = valid_rows(part)
        if valid is not None:
            small *= valid
        return small.astype(np.intp, copy=False), distinct, valid is None

    def nested(self, start: int, stop: int) -> np.ndarray | None:
        return super().nested(start, stop) if self.nested_type else None

    def numbers(self, start: int, stop: int) -> Numbers | None:
        if self.kind not in ("int", "float"):
            return None
        return numeric_parts(self.array.slice(start, stop - start).to_numpy(zero_copy_only=False))

    def text_codes(self) -> tuple[np.ndarray, Any]:
        """For a text column: codes into its distinct texts (an Arrow array), -1 where
        the cell is empty (null or ""). No text becomes a Python string."""
        from .. import arrow_compute as pc

        enc = self.array if self.kind == "dictionary" else pc.dictionary_encode(self.array)
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.intp)
        empty = pc.index(enc.dictionary, "").as_py()
        if empty >= 0:
            codes[codes == empty] = -1
        return codes, enc.dictionary

    def blank(self, start: int, stop: int) -> np.ndarray:
        from .. import arrow_compute as pc

        if not self.text:
            return super().blank(start, stop)
        part = self.array.slice(start, stop - start)
        if self.kind != "dictionary":
            return _blank_texts(part)
        # Check each distinct text once, then spread (nulls are blank).
        bad = np.append(_blank_texts(part.dictionary), True)
        codes = pc.fill_null(part.indices, len(bad) - 1).to_numpy(zero_copy_only=False)
        return bad[codes]


def _ints(arr: Any) -> np.ndarray:
    """The values of an Arrow integer array as a numpy view of its buffer (null slots
    hold arbitrary values): Arrow's own `fill_null` and `to_numpy` cost several times
    more on a chunk of dictionary indices."""
    dtype = _int_dtype(arr.type)
    data = arr.buffers()[1]
    if data is None or len(arr) == 0:  # Arrow may leave the buffer out of an empty array
        return np.zeros(len(arr), dtype=dtype)
    return np.frombuffer(data, dtype=dtype, count=arr.offset + len(arr))[arr.offset :]


def _int_dtype(arrow_type: Any) -> np.dtype:
    """The numpy dtype of an Arrow integer type's values, from its signedness and width.

    Not `DataType.to_pandas_dtype()`: on pyarrow 14 to 25 that imports pandas, which
    is no dependency of this package (a missing pandas failed every CSV and Parquet
    input)."""
    import pyarrow as pa

    if not pa.types.is_integer(arrow_type):
        raise TypeError(f"not an integer type: {arrow_type}")
    kind = "u" if pa.types.is_unsigned_integer(arrow_type) else "i"
    return np.dtype(f"{kind}{arrow_type.bit_width // 8}")


def _blank_texts(texts: Any) -> np.ndarray:
    """Which texts of an Arrow text array are null or blank as `str.strip` sees it.

    A text that starts with printable ASCII is not blank (a byte test over the
    buffer); of the rest, one with a character Python does not count as whitespace
    is not blank (a regex); only nulls, "", "  " and odd spaces are checked one by
    one."""
    from .. import arrow_compute as pc

    out = np.zeros(len(texts), dtype=bool)
    rest = np.flatnonzero(~starts_solid(texts))  # usually none: ids start with a letter
    if rest.size:
        texts = pc.take(texts, rest)
        solid = pc.fill_null(pc.match_substring_regex(texts, _NOT_SPACE), False)
        unsure = np.flatnonzero(~solid.to_numpy(zero_copy_only=False))
        if unsure.size:
            values = pc.take(texts, unsure).to_pylist()
            out[rest[unsure]] = [v is None or not v.strip() for v in values]
    return out


class NumpySource(Source):
    """A numpy array: numeric dtypes with NaN as an empty cell, others cell by cell."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def encoded(self, start: int, stop: int) -> tuple[np.ndarray, list[Any]]:
        return encode_objects(tabular_cell(v) for v in self.array[start:stop].tolist())

    def nested(self, start: int, stop: int) -> np.ndarray | None:
        return None if self.array.dtype.kind in "iuf" else super().nested(start, stop)

    def numbers(self, start: int, stop: int) -> Numbers | None:
        if self.array.dtype.kind not in "iuf":
            return None
        return numeric_parts(self.array[start:stop])


#: A character Python's `str.strip` keeps (RE2 syntax), for the fast blank check.
_NOT_SPACE = "[^" + "".join(f"\\x{{{c:x}}}" for c in range(0x3001) if chr(c).isspace()) + "]"


def numeric_parts(x: np.ndarray) -> Numbers:
    odd = None
    if x.dtype.kind in "iu":
        big = np.abs(x.astype(float)) > EXACT_INT
        odd = big if big.any() else None
    x = x.astype(float, copy=False)
    return x, np.isnan(x), odd


def _encodable(t: Any) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_boolean(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_null(t)
    )


def as_source(column: Any, n: int | None = None) -> Source:
    """Wrap a raw column: a Source, a pyarrow array, a numpy array or a sequence."""
    if isinstance(column, Source):
        return column
    if isinstance(column, np.ndarray):
        return NumpySource(column) if column.dtype.kind in "iuf" else ListSource(column.tolist())
    mod = type(column).__module__
    if mod.startswith("pyarrow"):
        return ArrowSource(column)
    if isinstance(column, Sequence) and not isinstance(column, str):
        return ListSource(column)
    raise TypeError(f"cannot read a column from {type(column).__name__}")


# -- decoding answers ------------------------------------------------------------------------


class Decoded:
    """One item's answers over a chunk, as the per-visit code would have read them.

    `score` (scale items; NaN for N/A or invalid), `value` (what `answer(x)` and
    `value` read: floats, or a Cat of labels or texts; None when nobody reads
    it), `error` (an invalid answer, if the item applies), `answered` (an answer
    that says something, for the not-applicable warning) and `odd` (rows the
    per-visit path must score whatever happens). Masks are None when all-false.
    `coded` is (codes, table, memo) with `score == table[codes]`, for sums that are
    cheaper as lookups in a table of a few values than as passes over the rows;
    `memo` keeps tables derived from `table` for as long as the decoder reuses it.
    """

    __slots__ = ("answered", "coded", "error", "odd", "options", "score", "value")

    def __init__(self, score: Any, value: Any, error: Any, answered: Any, odd: Any) -> None:
        self.coded: Coded | None = None
        #: a multi-select's options chosen: (rows, options) of 1.0/0.0, NaN rows for N/A
        self.options: np.ndarray | None = None
        self.score = score
        self.value = value
        self.error = error
        self.answered = answered
        self.odd = odd


class ItemDecoder:
    """Reads one item's raw answers exactly as the generated per-visit code does."""

    def __init__(self, item: ItemModel, needs_value: bool, needs_answered: bool) -> None:
        self.item = item
        self.info = item_info(item)
        self.needs_value = needs_value
        self.needs_answered = needs_answered
        self.kind = item.kind
        self.table = fast_table(self.info, lambda k: k) if item.kind == "scale" else {}
        self.cache: dict[Any, Resolved] = {}
        self.multi_cache: dict[Any, tuple[Any, bool, bool]] = {}
        self._memo: tuple[list[Any], tuple[Any, ...], dict[Any, np.ndarray]] | None = None
        self.numeric_scale = bool(item.scale is not None and item.scale.numeric)
        scale = item.scale
        self.scores = [e.score for e in scale.entries] if scale else []
        if scale is not None and self.numeric_scale:
            self.label_values: list[Any] = [float(e.numeric) for e in scale.entries]  # type: ignore[arg-type]
        else:
            self.label_values = [e.label for e in scale.entries] if scale else []

    # one distinct raw value ------------------------------------------------------------------

    def resolve(self, raw: Any) -> Resolved:
        """(score, scale index, value, error, answered, odd) of one raw answer, cached."""
        try:
            key = value_key(raw)
        except TypeError:
            return self._resolve(raw)
        hit = self.cache.get(key)
        if hit is None:
            hit = self.cache[key] = self._resolve(raw)
        return hit

    def _resolve(self, raw: Any) -> Resolved:
        if raw is MISSING:
            return self.missing()
        return self.read(raw)

    def missing(self) -> Resolved:
        """What `read(MISSING)` gives, made without the runtime's error message: every
        chunk's distinct answers hold MISSING whether or not a row lacks the answer,
        and only the error's flag is kept here, so a clean wave reads no catalogue."""
        return (NAN, -1, None, self.info.presence != "optional", False, False)

    def read(self, raw: Any) -> Resolved:
        """(score, scale index, value, error, answered, odd) of one raw answer, read by
        the runtime's functions, as the per-visit code reads it."""
        if isinstance(raw, Unhashable):
            raw = raw.value
        errs: list[VisitError] = []
        said = answered(raw)
        odd = False
        try:
            hash(raw)
        except TypeError:
            odd = True
        if self.kind == "scale":
            try:
                if type(raw) is bool:  # booleans never match numeric labels (True == 1)
                    raise KeyError(raw)
                index: int | None = self.table[raw]
            except (KeyError, TypeError):
                index = scale_index(self.info, raw, errs)
            if index is None:
                return (NAN, -1, None, bool(errs), said, odd)
            return (self.scores[index], index, None, False, said, odd)
        if self.kind == "number":
            info = self.info
            fast = type(raw) is int or type(raw) is float
            if fast and info.low is not None and info.high is not None:
                fast = info.low <= raw <= info.high
            elif fast:
                fast = raw - raw == 0
            if not fast:
                value = number_answer(info, raw, errs)
            else:  # -0.0 read as 0.0, as the per-visit code's `a + 0.0` does
                value = raw + 0.0 if type(raw) is float else raw
            if value is None:
                return (NAN, -1, None, bool(errs), said, odd)
            if isinstance(value, int) and abs(value) > EXACT_INT:
                odd = True
                value = math.inf if value > 0 else -math.inf  # copysign overflows on 1e400
            return (NAN, -1, float(value), bool(errs), said, odd)
        value = text_answer(self.info, raw, errs)
        return (NAN, -1, value, bool(errs), said, odd)

    # a chunk ------------------------------------------------------------------------------------

    def decode(
        self, source: Source, start: int, stop: int, out: np.ndarray | None = None
    ) -> Decoded:
        """The answers of rows [start, stop); a scale item's scores are written into
        `out` (float64, stop - start long) when given, sparing the caller a copy."""
        if self.kind == "number":
            parts = source.numbers(start, stop)
            if parts is not None:
                return self._numbers(*parts)
        codes, distinct = source.encoded(start, stop)
        if self.kind == "multi":
            return self._multi(codes, distinct)
        return self._distinct(codes, distinct, out, source.complete(start, stop))

    def _multi(self, codes: np.ndarray, distinct: list[Any]) -> Decoded:
        """A multi-select's answers: each distinct answer read once by the runtime's
        `multi_answer` (lists, texts of labels separated by `;`), then spread: the
        score, P (the value), a 0/1 column per option, the error and answered masks."""
        memo = self._memo
        if memo is None or memo[0] is not distinct:
            memo = self._memo = (distinct, self._multi_tables(distinct), {})
        score_t, value_t, options_t, error_t, said_t = memo[1]
        dec = Decoded(
            _take(score_t, codes),
            _take(value_t, codes),
            None if error_t is None else _take(error_t, codes),
            None if said_t is None else _take(said_t, codes),
            None,
        )
        dec.options = np.take(options_t, codes, axis=0, mode="clip")
        return dec

    def _multi_tables(self, distinct: list[Any]) -> tuple[Any, ...]:
        scale = self.item.scale
        assert scale is not None
        most = scale.options_max
        penalty = scale.kind == "penalty"
        k = len(scale.entries)
        scores, points, errors, said = [], [], [], []
        options = np.full((len(distinct) + 1, k), NAN)
        for i, raw in enumerate(distinct):
            read, error, says = self.resolve_multi(raw)
            errors.append(error)
            said.append(says)
            if read is None:
                scores.append(NAN)
                points.append(NAN)
                continue
            flags, p = read
            # the very operations of the per-visit code (`PythonCompiler.emit_multi`)
            scores.append((most - p) / most if penalty else p / most)
            points.append(p)
            options[i] = [1.0 if f else 0.0 for f in flags]
        score_t = np.array([*scores, NAN], dtype=float)
        value_t = np.array([*points, NAN], dtype=float)
        error_t = _table([*errors, False])
        said_t = _table([*said, False]) if self.needs_answered else None
        return score_t, value_t, options, error_t, said_t

    def resolve_multi(self, raw: Any) -> tuple[tuple[tuple[bool, ...], float] | None, bool, bool]:
        """(the options chosen and P, or None; error; answered) of one raw answer, cached
        (a list by its labels)."""
        if isinstance(raw, Unhashable):
            raw = raw.value
        try:
            key: Any = (
                ("list", tuple(value_key(v) for v in raw))
                if isinstance(raw, list | tuple)
                else value_key(raw)
            )
        except TypeError:
            key = None
        hit = None if key is None else self.multi_cache.get(key)
        if hit is None and raw is MISSING:  # as `missing`: no message made
            hit = (None, self.info.presence != "optional", False)
        if hit is None:
            errs: list[VisitError] = []
            read = multi_answer(self.info, raw, errs)
            hit = (read, bool(errs), answered(raw))
            if key is not None:
                self.multi_cache[key] = hit
        return hit

    def _distinct(
        self,
        codes: np.ndarray,
        distinct: list[Any],
        out: np.ndarray | None = None,
        complete: bool = False,
    ) -> Decoded:
        """`complete`: no code names MISSING (`Source.complete`), so a missing
        answer's error, the usual one, need not be looked up row by row."""
        memo = self._memo  # one read: another thread may replace it meanwhile
        if memo is None or memo[0] is not distinct:
            memo = self._memo = (distinct, self._tables(distinct), {})
        score_t, error_t, said_t, odd_t, value_t, cat_values, given_error = memo[1]
        if complete and not given_error:
            error_t = None
        value: Any = None
        if value_t is not None:
            value = _take(value_t, codes)
            if cat_values is not None:
                value = Cat(value, cat_values)
        dec = Decoded(
            None if score_t is None else _take(score_t, codes, out),
            value,
            None if error_t is None else _take(error_t, codes),
            None if said_t is None else _take(said_t, codes),
            None if odd_t is None else _take(odd_t, codes),
        )
        if score_t is not None:
            dec.coded = (codes, score_t, memo[2])
        return dec

    def _tables(self, distinct: list[Any]) -> tuple[Any, ...]:
        """Lookup tables from a chunk's distinct raw answers to what `Decoded` holds
        (score, masks, value; a mask is None when no answer sets it), so a column
        whose distinct answers repeat from chunk to chunk (a dictionary column,
        read 8,192 rows at a time) is resolved once and then only indexed."""
        rows = [self.resolve(v) for v in distinct]
        error = _table([r[3] for r in rows])
        given_error = any(r[3] for r, v in zip(rows, distinct, strict=True) if v is not MISSING)
        said = _table([r[4] for r in rows]) if self.needs_answered else None
        odd = _table([r[5] for r in rows])
        score: Any = None
        value: Any = None
        cat_values: list[Any] | None = None
        if self.kind == "scale":
            score = np.array([r[0] for r in rows], dtype=float)
            if self.needs_value:
                value = np.array([r[1] for r in rows], dtype=np.intp)
                if self.numeric_scale:
                    value = np.array([*self.label_values, NAN], dtype=float)[value]
                else:
                    cat_values = self.label_values
        elif self.kind == "number":
            value = np.array([r[2] for r in rows], dtype=float)
        elif self.needs_value:
            value, cat_values = _text_table(rows)
        return score, error, said, odd, value, cat_values, given_error

    def _numbers(self, x: np.ndarray, missing: np.ndarray, odd: np.ndarray | None) -> Decoded:
        info = self.info
        if info.low is not None and info.high is not None:
            ok = (x >= info.low) & (x <= info.high)
        else:
            ok = np.isfinite(x)
        value = np.where(ok, x + 0.0, NAN)  # -0.0 read as 0.0, as the per-visit code does
        bad = ~ok & ~missing
        if info.presence != "optional":
            bad |= missing
        error = bad if bad.any() else None
        said = ~missing if self.needs_answered else None
        return Decoded(None, value, error, said, odd)


def _take(table: np.ndarray, codes: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """table[codes]. Codes index `distinct`, which every table follows: nothing to clip,
    and "clip" skips the bounds check that "raise" makes (a quarter of the time)."""
    return np.take(table, codes, out=out, mode="clip")


def _table(per_value: list[bool]) -> np.ndarray | None:
    return np.array(per_value, dtype=bool) if any(per_value) else None


def _mask(per_value: list[bool], codes: np.ndarray) -> np.ndarray | None:
    table = _table(per_value)
    return None if table is None else table[codes]


def _text_table(rows: list[Resolved]) -> tuple[np.ndarray, list[Any]]:
    """Text answers as Cat codes per distinct raw answer (-1: none), and the Cat's
    values: distinct answers are already distinct values."""
    values: list[Any] = []
    lut = np.empty(len(rows) + 1, dtype=np.intp)
    seen: dict[Any, int] = {}
    for i, r in enumerate(rows):
        v = r[2]
        if v is None:
            lut[i] = -1
            continue
        try:
            key: Any = value_key(v)
        except TypeError:
            key = ("unhashable", id(v))
        code = seen.get(key)
        if code is None:
            code = seen[key] = len(values)
            values.append(v)
        lut[i] = code
    lut[-1] = -1
    return lut, values


# -- visit fields ------------------------------------------------------------------------------


class FieldDecoder:
    """Reads one visit attribute. A declared field with a type, `required` or `one of`
    is read through `field_types.read_value`, as every backend reads it: a typed field
    gives floats (NaN for N/A), `one of` its canonical values; rows whose value is
    not of the field's type, or that lack a required one, are marked for the
    per-visit path, which rejects them."""

    def __init__(self, field: FieldModel | None) -> None:
        self.field = field if field is not None and field.read else None
        self.numeric = self.field is not None and self.field.value_type != "str"

    def absent(self, m: int) -> tuple[Cat | np.ndarray, np.ndarray | None]:
        """The field of a table without its column: N/A, and every row lacking a
        required value."""
        value: Cat | np.ndarray = np.full(m, NAN) if self.numeric else Cat.constant(None, m)
        required = self.field is not None and self.field.required
        return value, (np.ones(m, dtype=bool) if required else None)

    def decode(
        self, source: Source, start: int, stop: int
    ) -> tuple[Cat | np.ndarray, np.ndarray | None]:
        """The field as a Cat (floats for a typed field), and the rows to reject."""
        field = self.field
        codes, distinct = source.encoded(start, stop)
        values: list[Any] = []
        lut = np.empty(len(distinct) + 1, dtype=np.intp)
        numbers = np.full(len(distinct) + 1, NAN)
        bad: list[bool] = []
        for i, raw in enumerate(distinct):
            v = None if raw is MISSING else raw
            is_bad = isinstance(v, Unhashable)
            if field is not None and not is_bad:
                if field.required and blank(v):
                    is_bad = True
                else:
                    try:
                        v = read_value(field, v)
                    except FieldValueError:
                        is_bad = True
            bad.append(is_bad)
            if v is None or is_bad:
                lut[i] = -1
            elif self.numeric:
                numbers[i] = v
            else:
                lut[i] = len(values)
                values.append(v)
        lut[-1] = -1
        bad.append(field is not None and field.required)  # code -1: no value
        mask = _mask(bad, codes)
        if self.numeric:
            return numbers[codes], mask
        return Cat(lut[codes], values), mask
