"""JSON Lines and Arrow tables, column by column: scored tables out, visits in.

Why: the batch path (`sbm_engine.batch.score_table`) scores Arrow tables and gives
scored visits as flat columns (`visit_id`, …, `coefficients.visit`, `items.greeted`,
…, `critical` and `warnings` as compact JSON text). The record path reads a JSONL
file a line at a time into records and writes each scored visit as
``json.dumps(visit.to_dict(), separators=(", ", ": "))`` (`writers.JsonlWriter`).
This module does both ends for whole columns, with the record path's results.

Writing (`JsonlEncoder`): every column becomes the JSON fragments of its values
(spelt once per distinct value where values repeat, else column-wise by Arrow), and
the lines are assembled from the fragments and fixed literal texts (the keys,
braces and separators, taken from the standard's `result_template`) as slabs of a
byte matrix (`text_columns.assemble`). Spelling, as `json.dumps` gives it:

* floats: Python's shortest repr (``1.0``, ``-0.0``, ``1e-05``, ``1e+16``). Arrow
  casts a float to the same shortest digits but spells some of them otherwise
  (``1`` for ``1.0``, ``0.00001`` for ``1e-05``, exponents from 1e15): plain
  integers get ``.0``, and the values Python writes in exponent form, or Arrow does,
  are spelt by Python one by one (they are rare in scores: `text_columns.float_texts`);
* a null is ``null``; a float that is not finite cannot be written, as on the
  record path (`OutputError`, with `json.dumps`'s own reason);
* text is quoted; text holding a quote, a backslash or a control character is
  escaped by `json.dumps` itself (``ensure_ascii=False``, as the record writer
  writes UTF-8). Arrow text is UTF-8, so it never holds the lone surrogates for
  which the record writer switches a line to ``ensure_ascii=True``;
* `critical` and `warnings` are re-spelt from their compact text with the line's
  separators, once per distinct value.

Reading (`read_jsonl_chunks`): blocks of lines become `TableChunk`s, tables in the
layout `score_table` takes, with the record path's sources and unreadable lines;
see there for what a table can carry and what raises `Unsupported`.
"""

from __future__ import annotations

import codecs
import contextlib
import gc
import io
import itertools
import json
import math
import re
from collections.abc import (
    Callable,
    Collection,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from pathlib import Path
from typing import IO, Any, Final, NamedTuple

import numpy as np

from sbm_engine.io import dictionary_codes, numpy_arrow
from sbm_engine.io.errors import InputError, OutputError
from sbm_engine.io.readers import parse_json_line
from sbm_engine.io.records import VISIT_FIELDS, SourceRecord
from sbm_engine.io.text_columns import (
    Kept,
    Lines,
    LiteralPiece,
    Piece,
    around,
    coded_piece,
    distinct_piece,
    float_pieces,
    float_texts,
    rows_holding,
    write_in_slices,
)
from sbm_engine.messages import message

__all__ = [
    "JSONL_CHUNK_ROWS",
    "JSONL_WRITE_ROWS",
    "NULL_ANSWER",
    "JsonlEncoder",
    "TableChunk",
    "Unsupported",
    "arrow_values",
    "read_jsonl_chunks",
]

#: Rows joined into lines at a time: bounds the fragments held at once.
JSONL_WRITE_ROWS: Final = 16384

_LIST_KEYS: Final = frozenset({"critical", "warnings"})
#: Text `json.dumps` escapes: control characters, the quote, the backslash.
_NEEDS_ESCAPE: Final = bytes(range(0x20)) + b'"\\'


def _key(name: str) -> str:
    return json.dumps(name, ensure_ascii=False) + ": "


class JsonlEncoder:
    """Scored tables to the bytes `writers.JsonlWriter` writes for the same visits.

    `template` is the scored-visit shape (`CompiledStandard.result_template()`): its
    keys, in order, are the keys of each line; a nested dict's keys name the flat
    columns ``KEY.NAME``. A column the table lacks is written as null (``[]`` for
    `critical` and `warnings`); columns the template does not name are ignored.
    """

    def __init__(self, template: Mapping[str, Any]) -> None:
        # The line as a list of parts: a literal text, or ("column", kind) to fill in.
        parts: list[str | tuple[str, str]] = ["{"]
        for i, (key, shape) in enumerate(template.items()):
            parts.append((", " if i else "") + _key(key))
            if isinstance(shape, Mapping):
                parts.append("{")
                for j, name in enumerate(shape):
                    parts.append((", " if j else "") + _key(name))
                    parts.append((f"{key}.{name}", "value"))
                parts.append("}")
            elif key in _LIST_KEYS:
                parts.append((key, "list"))
            else:
                parts.append((key, "value"))
        parts.append("}\n")
        self._parts = parts
        self._lists: dict[str, str] = {}  # compact JSON text -> the line's spelling
        self._kept = Kept()  # the tables given are parts of one file

    def encode(self, table: Any) -> bytes:
        """The JSONL bytes of every row of `table` (a pyarrow Table), in order.

        Raises OutputError for a float that is not finite (JSON cannot carry it)
        and TypeError for a column of a type scored tables do not have."""
        out = io.BytesIO()
        self.write(out, table)
        return out.getvalue()

    def write(self, stream: IO[bytes], table: Any) -> int:
        """Write the lines of `table` to `stream` a slice at a time; returns the bytes
        written. Raises as `encode` does, and OSError from the stream."""
        return write_in_slices(stream, table, JSONL_WRITE_ROWS, self._lines)

    def _lines(self, table: Any) -> bytes | Lines:
        n = table.num_rows
        if n == 0:
            return b""
        names = set(table.column_names)
        pieces: list[Piece] = []
        literal = ""
        for part in self._parts:
            if isinstance(part, str):
                literal += part
                continue
            name, kind = part
            if name not in names:
                literal += "[]" if kind == "list" else "null"
                continue
            column = table.column(name)
            column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
            prefix = literal.encode("utf-8")
            literal = ""
            if kind == "list":
                pieces.append(self._list_piece(prefix, column))
            else:
                pieces.extend(_value_pieces(prefix, column, self._kept, name))
        pieces.append(LiteralPiece(literal.encode("utf-8")))
        return Lines(pieces, n, self._kept)

    def _list_piece(self, prefix: bytes, column: Any) -> Piece:
        """`critical` or `warnings` (compact JSON lists) as the line spells them."""
        import pyarrow as pa

        from .. import arrow_compute as pc

        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        spelt = [self._list_text(text) for text in column.dictionary.to_pylist()]
        spelt.append("[]")
        return coded_piece(prefix, spelt, column.indices, len(spelt) - 1)

    def _list_text(self, text: str | None) -> str:
        if not text:
            return "[]"
        spelt = self._lists.get(text)
        if spelt is None:
            value = json.loads(text)
            spelt = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
            if len(self._lists) < 4096:
                self._lists[text] = spelt
        return spelt


def _value_pieces(
    prefix: bytes, column: Any, kept: Kept | None = None, key: Any = None
) -> list[Piece]:
    """A value column: spelt once per distinct value when values repeat (scores, bands,
    points), else column-wise by Arrow (`_varying_pieces`: ids, coefficients); `kept`
    and `key` as `distinct_piece` takes them."""
    import pyarrow as pa

    t = column.type
    if not (
        pa.types.is_dictionary(t)
        or pa.types.is_null(t)
        or pa.types.is_floating(t)
        or pa.types.is_integer(t)
        or pa.types.is_boolean(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
    ):
        raise TypeError(f"no JSON spelling for a column of type {t}")
    return distinct_piece(prefix, column, _json_value, "null", _varying_pieces, kept, key)


def _varying_pieces(prefix: bytes, column: Any) -> list[Piece]:
    """A column of many distinct values spelt column-wise, as `value_texts` spells it."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    t = column.type
    if pa.types.is_floating(t):
        _check_finite(column)
        return float_pieces(prefix, column, b"null")
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        texts = pc.cast(column, pa.string()) if t != pa.string() else column
        return around(prefix, _escaped(texts), b'"', b'"', b"null")
    if pa.types.is_integer(t):
        texts = pc.cast(column, pa.string())
    else:
        texts = pc.if_else(column, "true", "false")
    return around(prefix, texts, b"", b"", b"null")


def _json_value(value: Any) -> str:
    """One value as `json.dumps` spells it in a line (a float as its repr); OutputError
    for a float that is not finite, as the record writer raises."""
    if type(value) is float:
        if not math.isfinite(value):
            raise OutputError(f"cannot write a record as JSON: {_json_refusal(value)}")
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def value_texts(column: Any) -> Any:
    """A column's values as JSON fragments, as `json.dumps` spells each (null for a
    null): an Arrow string array without nulls. Raises OutputError for a float
    that is not finite, TypeError for a type other than text, number, bool or null."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    t = column.type
    if pa.types.is_dictionary(t):
        spelt = pa.concat_arrays([value_texts(column.dictionary), pa.array(["null"])])
        return pc.take(spelt, pc.fill_null(column.indices, len(column.dictionary)))
    if pa.types.is_null(t):
        return pa.repeat(pa.scalar("null", pa.string()), len(column))
    if pa.types.is_floating(t):
        texts = _float_texts(pc.cast(column, pa.float64()) if t != pa.float64() else column)
    elif pa.types.is_integer(t):
        texts = pc.cast(column, pa.string())
    elif pa.types.is_boolean(t):
        texts = pc.if_else(column, "true", "false")
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        texts = _string_texts(pc.cast(column, pa.string()) if t != pa.string() else column)
    else:
        raise TypeError(f"no JSON spelling for a column of type {t}")
    return pc.fill_null(texts, "null")


def _string_texts(column: Any) -> Any:
    from .. import arrow_compute as pc

    return pc.binary_join_element_wise('"', _escaped(column), '"', "")


def _escaped(column: Any) -> Any:
    """Texts as `json.dumps` spells them between the quotes."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    escape = rows_holding(column, _NEEDS_ESCAPE)
    if not escape.any():
        return column
    mask = pa.array(escape)
    spelt = [json.dumps(s, ensure_ascii=False)[1:-1] for s in pc.filter(column, mask).to_pylist()]
    return pc.replace_with_mask(column, mask, pa.array(spelt, type=pa.string()))


def _float_texts(column: Any) -> Any:
    """`text_columns.float_texts`, after an OutputError for a value that is not finite."""
    _check_finite(column)
    return float_texts(column)


def _check_finite(column: Any) -> None:
    """OutputError, as the record writer raises it, for the first value of a float
    column that is not finite."""
    from .. import arrow_compute as pc

    values = column.to_numpy(zero_copy_only=False)  # a null reads as NaN
    valid = pc.is_valid(column).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(values)
    if not finite[valid].all():
        bad = float(values[np.flatnonzero(valid & ~finite)[0]])
        raise OutputError(f"cannot write a record as JSON: {_json_refusal(bad)}")


def _json_refusal(value: float) -> str:
    """Why `json.dumps(..., allow_nan=False)` refuses `value` (its own words)."""
    try:
        json.dumps(value, allow_nan=False)
    except ValueError as exc:
        return str(exc)
    return repr(value) if not math.isfinite(value) else ""  # pragma: no cover - finite


# -- reading: chunks of visits as Arrow tables -------------------------------------------------


class Unsupported(Exception):
    """These visits cannot be put in a table that scores exactly as their records do
    (an integer beyond 64 bits, an object in an answer, …): read them with the record
    path (`formats.read_visits`) instead. The message says why."""


class TableChunk(NamedTuple):
    """Visits read from a file, as `batch.score_table` takes them, and what could not
    be read.

    `table`: one row per readable visit, columns as the tabular readers lay them out
    (visit fields at the top level, as text; every other column an answer, typed as
    the record path reads it). `numbers`: for each table row, its line (JSONL) or
    sheet row (XLSX) number, so that the source of table row i is `source(i)`, as
    the record path names it. `unreadable`: each (number, record) that could not be
    read, in file order, its `SourceRecord` exactly as the record path's reader
    gives it (`record` None, `error` the reason, `raw` what was read)."""

    table: Any
    numbers: np.ndarray
    unreadable: list[tuple[int, Any]]
    prefix: str
    raw_record: LineRecords | None = None

    def source(self, i: int) -> str:
        """The source of table row `i`, as the record path names that visit."""
        return f"{self.prefix}{int(self.numbers[i])}"

    def record(self, i: int) -> Any:
        """Table row `i`'s record as the record path read it, for a rejected visit: the
        object on the JSONL line (all its keys, as written); None where the table's
        own record (`score_table`'s rejects) is the one read (XLSX)."""
        return None if self.raw_record is None else self.raw_record(i)


_KIND_ORDER: Final = (str, int, float, bool, list)


def arrow_values(values: Sequence[Any]) -> Any:
    """A column of JSON-like Python values (None: an empty cell) as an Arrow array that
    `score_table` reads back as the same values: one type when the values have one,
    else a dictionary over a dense union (``4`` and ``na`` in one answer column).
    A list of texts (the labels of a multi-select's answer) is a `list<string>`.
    Raises Unsupported for an object, a list of anything else, an integer beyond 64
    bits, or text that is not Unicode Arrow can hold (a lone surrogate, from a JSON
    escape ``\\ud800``)."""
    try:
        return _arrow_values(values)
    except UnicodeEncodeError as exc:
        raise Unsupported("text with a lone surrogate") from exc


def _check_kinds(kinds: set[type], values: Sequence[Any]) -> None:
    """Values of kinds a table column can carry (lists only of texts), else Unsupported."""
    if not kinds <= set(_KIND_ORDER):
        raise Unsupported(message_unsupported(kinds))
    if list in kinds:
        for v in values:
            if type(v) is list and not all(type(x) is str for x in v):
                raise Unsupported("a list of values other than texts in one column")


def _arrow_values(values: Sequence[Any]) -> Any:
    kinds = set(map(type, values))
    kinds.discard(type(None))
    _check_kinds(kinds, values)
    if len(kinds) <= 1:
        if int in kinds:
            _check_ints(values)
        kind = kinds.pop() if kinds else str
        return _pa_array(values, kind)
    index: dict[Any, int] = {}
    if list in kinds:  # a list is keyed by its texts, and kept as it is
        keys = [
            (list, tuple(v), None)
            if type(v) is list
            else (v.__class__, v, str(v) if v == 0 else None)
            for v in values
        ]
        codes = np.array([index.setdefault(k, len(index)) for k in keys], dtype=np.int32)
        first: dict[Any, Any] = {}
        for k, v in zip(keys, values, strict=True):
            first.setdefault(k, v)
        distinct = [first[k] for k in index]
    elif float in kinds or len(kinds - {str}) > 1:  # 1, 1.0 and True, 0.0 and -0.0 kept apart
        keys = [(v.__class__, v, str(v) if v == 0 else None) for v in values]
        codes = np.array([index.setdefault(k, len(index)) for k in keys], dtype=np.int32)
        distinct = [k[1] for k in index]
    else:
        codes = np.array([index.setdefault(v, len(index)) for v in values], dtype=np.int32)
        distinct = list(index)
    return _coded_values(distinct, codes, kinds)


def _check_ints(values: Sequence[Any]) -> None:
    for v in values:
        if type(v) is int and not -(2**63) <= v < 2**63:
            raise Unsupported(f"an integer with {len(str(abs(v)))} digits")


def _pa_array(values: Sequence[Any], kind: type) -> Any:
    import pyarrow as pa

    return pa.array(values, type=_ARROW_KINDS[kind]())


def _coded_values(distinct: list[Any], codes: np.ndarray, kinds: set[type]) -> Any:
    """The column whose row i holds `distinct[codes[i]]` (None: empty), as `arrow_values`
    gives it: one type when the values have one (`kinds`, without None), else a
    dictionary over a dense union. `distinct` holds values `arrow_values` tells apart."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    if int in kinds:
        _check_ints(distinct)
    valid = np.ones(len(codes), dtype=bool)
    if None in distinct:
        null = distinct.index(None)
        valid = codes != null
        codes = codes.copy()
        codes[codes > null] -= 1
        codes[~valid] = 0
        distinct = distinct[:null] + distinct[null + 1 :]
    indices = numpy_arrow.arrow_array(codes, valid)
    if len(kinds) <= 1:
        kind = kinds.pop() if kinds else str
        return pc.take(_pa_array(distinct, kind), indices)
    present = [k for k in _KIND_ORDER if k in kinds]
    tag = {k: i for i, k in enumerate(present)}
    children: dict[type, list[Any]] = {k: [] for k in present}
    types, offsets = [], []
    for v in distinct:
        types.append(tag[type(v)])
        offsets.append(len(children[type(v)]))
        children[type(v)].append(v)
    dictionary = pa.UnionArray.from_dense(
        pa.array(types, type=pa.int8()),
        pa.array(offsets, type=pa.int32()),
        [pa.array(children[k], type=_ARROW_KINDS[k]()) for k in present],
    )
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def message_unsupported(kinds: set[type]) -> str:
    names = sorted(k.__name__ for k in kinds if k not in _KIND_ORDER)
    return f"values of type {', '.join(names)} in one column"


def _arrow_kinds() -> dict[type, Any]:
    import pyarrow as pa

    return {
        str: pa.string,
        int: pa.int64,
        float: pa.float64,
        bool: pa.bool_,
        list: lambda: pa.list_(pa.string()),
    }


class _LazyKinds(dict[type, Any]):
    """Arrow type factories by Python type, filled on first use (pyarrow is optional)."""

    def __missing__(self, key: type) -> Any:
        self.update(_arrow_kinds())
        return dict.__getitem__(self, key)


_ARROW_KINDS: Final = _LazyKinds()


#: Lines per chunk of a JSONL file read with `read_jsonl_chunks`: a chunk's lines, and
#: its answers as Python objects, are held at once (a hundred answers a line make this
#: a few hundred megabytes, scored).
JSONL_CHUNK_ROWS: Final = 32768
#: What a JSON null answer becomes in a table, whose nulls are absent answers: an N/A
#: token, which every reading of an answer takes as JSON null (`runtime.is_na`, the
#: fast tables of `runtime.fast_table`: N/A for an optional item, `na_not_allowed` for
#: a required one, never counted as answered).
NULL_ANSWER: Final = "na"
_BOM: Final = b"\xef\xbb\xbf"
_MISSING: Final = object()


def read_jsonl_chunks(
    path: str | Path,
    *,
    visit_fields: Collection[str] = (),
    items: Collection[str] | None = None,
    encoding: str | None = None,
    chunk_rows: int = JSONL_CHUNK_ROWS,
    typed_fields: Collection[str] = (),
    ahead: Ahead | None = None,
) -> Iterator[TableChunk]:
    """The visits of a JSONL file as `TableChunk`s of `chunk_rows` lines, scoring as the
    record path's (`readers.read_jsonl`) records do, with its sources (``PATH:LINE``)
    and, for lines that are not visits, its unreadable records and messages.

    Table columns: the visit fields (built-in and `visit_fields`) as text (those of
    `typed_fields`, declared with a type, may hold numbers and empty texts too, which
    the engine reads as the record path does), each answer
    as ``answers.ITEM``, typed as read (a column mixing numbers and text is a
    dictionary over a union). Other top-level keys take no part in scoring and are
    left out; `TableChunk.raw_record` gives a row's object as read, for the rejects.
    A JSON null answer becomes `NULL_ANSWER`, which scores as null does. An empty
    text answer is an absent one in a table: that is exact for the standard's
    `items` (an empty answer and a missing one read alike), not for a key the
    standard does not know (the record path rejects it).

    A block of lines is parsed by Arrow's JSON reader when it is plain (UTF-8, no
    null, no duplicate key, types Arrow keeps exactly), else line by line as the
    record path parses it (by orjson where that reads a line as Python's `json` does,
    else by `json`), its answers gathered as codes of distinct values (`_Gather`).
    `ahead`: what runs the reading of the lines and the quoting of a block
    (`_line_blocks`) ahead of Arrow's parsing, in another thread (the pipeline's
    `prefetch`), so that the two overlap; by default they take turns.

    Raises InputError for an unknown encoding and while iterating for a file that
    cannot be read; Unsupported (at once for UTF-16 and UTF-32, whose lines Python
    splits differently; while iterating for a value a table cannot carry exactly:
    a visit field that is not text, an empty visit field but visit_id, an answers
    value that is not an object, an answer that is an object or a list or an
    integer beyond 64 bits, an answer key with surrounding spaces, an empty text
    for an unknown key)."""
    path = Path(path)
    name = encoding or "utf-8"
    try:
        codec = codecs.lookup(name)
    except LookupError as exc:
        raise InputError(f"{path}: unknown encoding {name!r}") from exc
    if codec.name.startswith(("utf-16", "utf-32")):
        raise Unsupported(f"{path}: lines in {codec.name} are read by the record path")
    fields = frozenset(VISIT_FIELDS) | frozenset(visit_fields)
    known = None if items is None else frozenset(items)
    typed = frozenset(typed_fields) & fields
    utf8 = codec.name == "utf-8"
    return _jsonl_chunks(path, name, utf8, fields, known, chunk_rows, typed, ahead)


#: Runs an iterator ahead of its consumer (`read_jsonl_chunks`' `ahead`).
Ahead = Callable[[Iterator[Any]], Iterator[Any]]


class _Paths:
    """Which readings a file's next blocks try, in order: Arrow's parser on the block as
    it is (`plain`), then on the block with its values quoted (`quoted`), else line by
    line. Each is given up for good at the first block it does not take (later blocks
    are unlikely to be taken either). Set by the parsing stage, read by the reading
    stage, which runs ahead: a block it prepared for a reading given up meanwhile is
    read the other way."""

    def __init__(self, utf8: bool) -> None:
        self.plain = utf8
        self.quoted = utf8


class _Block(NamedTuple):
    """Lines of a file joined (`data`; the first line without its byte-order mark), and
    where each ends in it."""

    data: bytes
    ends: np.ndarray

    @classmethod
    def of(cls, lines: list[bytes]) -> _Block:
        lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
        return cls(b"".join(lines), np.cumsum(lengths))

    def lines(self) -> list[bytes]:
        """The lines, as iterating over the file gives them."""
        data = self.data
        return [data[b:e] for b, e in zip(self.begins().tolist(), self.ends.tolist(), strict=True)]

    def begins(self) -> np.ndarray:
        begins = np.zeros_like(self.ends)
        begins[1:] = self.ends[:-1]
        return begins

    def longest(self) -> int:
        return int(np.diff(self.ends, prepend=0).max(initial=0))

    def rows(self, objects: bool) -> list[int] | None:
        """The lines that are not blank (JSON's white space only, which Python's
        `str.strip` takes too); with `objects`, None when one does not start with ``{``
        and end with ``}`` around such white space. Such lines, each parsed by Arrow
        into one row, are each one object: a line starting with ``{`` cannot continue
        a value the line before left open at its ``}``. Most lines are looked at at
        once: those that are ``{`` to ``}`` then a line feed."""
        n = len(self.ends)
        data = np.frombuffer(self.data, dtype=np.uint8)
        if not data.size:
            return []  # one line, a byte-order mark alone
        ends, begins = self.ends, self.begins()
        plain = (data[begins] == ord("{")) & (data[ends - 1] == ord("\n"))
        plain &= data[np.maximum(ends - 2, 0)] == ord("}")
        if plain.all():
            return list(range(n))
        rows = []
        for i in range(n):
            if not plain[i]:
                text = self.data[int(begins[i]) : int(ends[i])].strip(b" \t\r\n")
                if not text:
                    continue
                if objects and (text[:1] != b"{" or text[-1:] != b"}"):
                    return None
            rows.append(i)
        return rows

    def nested_too_deep(self) -> bool:
        """Whether a line opens more than `_MAX_OPEN` objects or arrays (counted with
        brackets inside texts: at worst, a line read by Python that Arrow could have
        read)."""
        data = np.frombuffer(self.data, dtype=np.uint8)
        opening = data == ord("{")
        if b"[" in self.data:
            opening |= data == ord("[")
        at = np.flatnonzero(opening)
        per_line = np.bincount(np.searchsorted(self.ends, at, side="right"))
        return int(per_line.max(initial=0)) > _MAX_OPEN


class _Lines:
    """A block of lines read (`_line_blocks`): the number of its first line, each line's
    byte offset in the file, and, handed over once (`take`), the lines joined and the
    block quoted for Arrow's reader when that was tried and taken (`_quotable`)."""

    __slots__ = ("_block", "_ready", "first", "starts")

    def __init__(
        self, block: _Block, first: int, starts: np.ndarray, ready: _Quoted | None
    ) -> None:
        self.first = first
        self.starts = starts
        self._block: _Block | None = block
        self._ready = ready

    def take(self) -> tuple[_Block, _Quoted | None]:
        """The block and its quoted bytes, forgotten here, so that they are freed once
        parsed (tens of megabytes), whoever still holds this."""
        block, ready = self._block, self._ready
        assert block is not None, "a block is taken once"
        self._block = self._ready = None
        return block, ready


def _jsonl_chunks(
    path: Path,
    encoding: str,
    utf8: bool,
    fields: frozenset[str],
    known: frozenset[str] | None,
    chunk_rows: int,
    typed: frozenset[str] = frozenset(),
    ahead: Ahead | None = None,
) -> Iterator[TableChunk]:
    prefix = f"{path}:"
    try:
        # A large buffer: each refill is a system call, which lets the scoring thread take
        # the GIL, and this one waits for it back before it reads the next line.
        stream = open(path, "rb", buffering=_READ_BUFFER)  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    paths = _Paths(utf8)
    blocks = _line_blocks(stream, path, chunk_rows, fields, paths)
    read = ahead(blocks) if ahead is not None else blocks
    with stream:
        try:
            for lines in read:
                first, starts = lines.first, lines.starts
                block, ready = lines.take()
                chunk = _parsed(block, first, ready, encoding, fields, known, prefix, typed, paths)
                del block, ready
                table, numbers, unreadable = chunk
                yield TableChunk(
                    table,
                    numbers,
                    unreadable,
                    prefix,
                    LineRecords(path, encoding, starts[numbers - first]),
                )
        finally:  # the reading stage stops (its thread, if any, ends) before the file closes
            if isinstance(read, Generator):
                read.close()


def _parsed(
    block: _Block,
    first: int,
    ready: _Quoted | None,
    encoding: str,
    fields: frozenset[str],
    known: frozenset[str] | None,
    prefix: str,
    typed: frozenset[str],
    paths: _Paths,
) -> tuple[Any, np.ndarray, list[tuple[int, Any]]]:
    """A block's table, by the first reading of `paths` that takes it (`ready`: the block
    quoted, when the reading stage did it)."""
    chunk = _plain_chunk(block, first, fields, known, prefix) if paths.plain else None
    if chunk is None:
        paths.plain = False  # the file is not plain: its next blocks are unlikely to be
        if paths.quoted:
            ready = ready or _quotable(block, fields)
            chunk = _quoted_chunk(ready, first, fields, known, typed) if ready else None
    if chunk is None:
        paths.quoted = False  # a line Python reads otherwise, or not at all: so may later ones
        chunk = _exact_chunk(block.lines(), first, encoding, fields, known, prefix, typed)
    return chunk


def _line_blocks(
    stream: IO[bytes], path: Path, chunk_rows: int, fields: frozenset[str], paths: _Paths
) -> Iterator[_Lines]:
    """The file's blocks of `chunk_rows` lines (the first without its byte-order mark),
    each quoted for Arrow's reader while `paths` says that reading is the one to try."""
    first = 1  # the number of the block's first line
    offset = 0
    while True:
        try:
            lines = list(itertools.islice(stream, chunk_rows))
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if not lines:
            return
        lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
        starts = offset + np.cumsum(lengths) - lengths  # in the file
        offset += int(lengths.sum())
        if first == 1 and lines[0].startswith(_BOM):
            lines[0] = lines[0][len(_BOM) :]
            starts[0] += len(_BOM)
        if paths.plain and first == 1 and _mixed_answers(lines[:_SNIFF_LINES]):
            paths.plain = False  # Arrow's reader would refuse the block, or read it otherwise
        block = _Block.of(lines)
        del lines  # held once, joined, while the block is quoted
        ready = _quotable(block, fields) if paths.quoted and not paths.plain else None
        yield _Lines(block, first, starts, ready)
        first += len(starts)


#: Bytes read from a JSONL file at a time.
_READ_BUFFER: Final = 1 << 20


def _holds(block: bytes, *texts: bytes) -> bool:
    """Whether `block` holds one of `texts`, which start with the same byte: that byte
    is looked for first (at memory speed, most blocks hold none), and only then each
    text (a search a few times slower); these scans hold the GIL."""
    return texts[0][:1] in block and any(text in block for text in texts)


#: Lines of a file's first block looked at to tell whether Arrow's reader may read it.
_SNIFF_LINES: Final = 256


def _mixed_answers(lines: list[bytes]) -> bool:
    """Whether some answer key on `lines` has values of two JSON types (``4`` and
    ``"na"``, ``10`` and ``1.5``) or a null: a block holding them is not plain
    (`_plain_chunk`), and Arrow's reader would parse it only to be refused."""
    try:
        import orjson
    except ImportError:
        return False
    kinds: dict[str, set[type]] = {}
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        answers = record.get("answers") if type(record) is dict else None
        if type(answers) is dict:
            for key, value in answers.items():
                kinds.setdefault(key, set()).add(type(value))
    return any(len(k) > 1 or type(None) in k for k in kinds.values())


class LineRecords(NamedTuple):
    """The objects on some lines of a file, read again when asked for (a rejected
    visit's record as read): `starts` holds each line's byte offset. A named tuple of
    plain values, so a chunk can be sent to a worker process."""

    path: Path
    encoding: str
    starts: np.ndarray

    def __call__(self, i: int) -> Any:
        with open(self.path, "rb") as stream:
            stream.seek(int(self.starts[i]))
            text = stream.readline().decode(self.encoding).rstrip("\r\n")
        record, error = parse_json_line(text)
        return record if error is None else text


def _plain_chunk(
    block: _Block,
    first: int,
    fields: frozenset[str],
    known: frozenset[str] | None,
    prefix: str,
) -> tuple[Any, np.ndarray, list[tuple[int, Any]]] | None:
    """A block parsed by Arrow, or None when Arrow might read it otherwise than Python's
    `json` does: a null anywhere (Arrow reads it as an absent key), NaN or Infinity
    anywhere (Arrow reads them as numbers, the record path refuses them), a byte-order mark,
    bytes that are not UTF-8 (Arrow does not check), and any value whose type Arrow
    would change (`_plain_columns`). Arrow refuses duplicate keys, lone surrogates,
    numbers beyond a double and anything that is not one object per line; those
    blocks go line by line too."""
    import pyarrow as pa
    import pyarrow.json as pj

    data = block.data
    if b"null" in data or _holds(data, _BOM) or _holds(data, b"NaN") or _holds(data, b"Infinity"):
        return None  # Arrow reads NaN and Infinity (the record path refuses such a line)
    if block.nested_too_deep():
        return None
    # Visit fields are text: declared so, else Arrow reads "2026-11-02" as a timestamp.
    schema = pa.schema([(name, pa.string()) for name in sorted(fields)])
    try:
        data.decode("utf-8")
        # blocks of a megabyte (whole lines) are parsed in parallel; types agree across them
        options = pj.ReadOptions(block_size=max(1 << 20, block.longest() + 1))
        parse = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
        parsed = pj.read_json(io.BytesIO(data), read_options=options, parse_options=parse)
    except (UnicodeDecodeError, pa.ArrowInvalid):
        return None
    rows = block.rows(objects=False)
    if rows is None or len(rows) != parsed.num_rows:
        return None
    columns = _plain_columns(parsed, fields, known, data)
    if columns is None:
        return None
    numbers = np.array(rows, dtype=np.int64) + first
    table = _table(columns, len(rows))
    return table, numbers, []


def _plain_columns(
    parsed: Any, fields: frozenset[str], known: frozenset[str] | None, block: bytes
) -> dict[str, Any] | None:
    import pyarrow as pa

    from .. import arrow_compute as pc

    columns: dict[str, Any] = {}
    whole: list[str] = []  # float columns with whole numbers: written 10 or 10.0?
    for name, column in zip(parsed.column_names, parsed.columns, strict=True):
        column = column.combine_chunks()
        t = column.type
        if name in fields:
            if not pa.types.is_string(t):
                return None
            if name != "visit_id" and pc.any(pc.equal(column, "")).as_py():
                return None
            if column.null_count < len(column):  # declared, and present on some line
                columns[name] = column
        elif name == "answers":
            if not pa.types.is_struct(t):
                return None
            for k in range(t.num_fields):
                item = t.field(k).name
                child = pc.struct_field(column, [k])
                plain = _plain_answers(item, child, known)
                if plain is None:
                    return None
                if plain is not child or not pa.types.is_float64(child.type):
                    columns["answers." + item] = plain
                    continue
                values = pc.filter(child, pc.is_valid(child)).to_numpy(zero_copy_only=False)
                if (np.trunc(values) == values).any():
                    whole.append(item)
                columns["answers." + item] = child
    if whole and _int_literal(whole, block):
        return None
    return columns


def _plain_answers(item: str, child: Any, known: frozenset[str] | None) -> Any:
    """An answer column as Arrow parsed it, if that is what Python's `json` reads: text,
    whole numbers (int64), booleans, finite floats (not NaN, Infinity). A float column
    with whole numbers is checked by the caller: Arrow reads ``10`` beside ``1.5`` as
    10.0, where Python reads an int (`_int_literal`)."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    if not item or item.strip() != item:
        return None
    t = child.type
    if pa.types.is_string(t):
        if pc.any(pc.equal(child, "")).as_py():
            if known is None or item not in known:
                return None
            child = pc.if_else(pc.equal(child, ""), pa.scalar(None, pa.string()), child)
        return child
    if pa.types.is_int64(t) or pa.types.is_boolean(t):
        return child
    if pa.types.is_float64(t):
        values = child.to_numpy(zero_copy_only=False)
        present = values[pc.is_valid(child).to_numpy(zero_copy_only=False)]
        if not np.isfinite(present).all():
            return None
        return child
    return None


#: Answer keys that JSON writers spell as they are (letters, digits, ``_ . -``), unless
#: with ``\\u`` escapes, which `_int_literal` rules out: such a key can be looked for.
_PLAIN_KEY: Final = re.compile(r"[A-Za-z0-9_.\-]+")
_SPACE: Final = rb"[ \t\r\n]*"


def _int_literal(items: list[str], block: bytes) -> bool:
    """Whether an integer literal may follow one of the keys `items` in `block` (True
    when that cannot be ruled out: a key might be spelt with escapes). A key inside a
    string is spelt ``\\"item\\"``, so an unescaped ``"item":`` is a key. One pass over
    the block for all the keys."""
    if b"\\u" in block or not all(_PLAIN_KEY.fullmatch(item) for item in items):
        return True
    keys = b"|".join(re.escape(item.encode()) for item in items)
    pattern = b'"(?:' + keys + b')"' + _SPACE + b":" + _SPACE + rb"-?[0-9]+" + _SPACE + rb"[,}\]]"
    return re.search(pattern, block) is not None


def _byte_set(chars: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(chars)] = True
    return table


#: White space between a colon and its value (a line holds no LF).
_GAP: Final = _byte_set(b" \t\r")
#: The first byte of a number, ``true``, ``false`` or ``null``.
_LITERAL_START: Final = _byte_set(b"-0123456789tfn")
#: A byte that ends a number or literal (or, on a line Python refuses, whatever it is).
_LITERAL_END: Final = _byte_set(b",}] \t\r\n")
#: Put before a quoted value: a quote, then U+0000 escaped, which a block holding the
#: escape ``\\u0000`` is not quoted for, so that no text of the file starts with it.
_MARK: Final = b'"\\u0000'
_MARKED: Final = "\x00"
#: The bytes put around a value: the mark before it, a quote after it.
_INSERTED: Final = np.frombuffer(_MARK + b'"', dtype=np.uint8)
#: Brackets opened on a line at most for Arrow's reader, which recurses (and crashes the
#: process, where Python's `json` refuses the line) on values nested deep enough.
_MAX_OPEN: Final = 64


def _quoted_values(data: np.ndarray) -> np.ndarray:
    """The block with every number, ``true``, ``false`` and ``null`` that follows a colon
    put in quotes after `_MARK`: each answer is then text to Arrow's reader, whatever
    its JSON type, and the text tells the value (U+0000 then its JSON spelling) from a
    text. Numbers in arrays are left as they are (Arrow types them; such a block is
    not read so, `_quoted_columns`). Only a colon after a quote (a key's) is looked
    at: a colon inside a text (``"10:45"``) mostly is not. One that is (``"a\\": 4"``)
    is quoted after too: the quote put there ends the text, and the escape after it,
    outside a text, makes the line one no JSON reader reads (the block then goes
    line by line). The caller checked that every line starts with ``{`` and ends with
    ``}``, which bounds every scan below."""
    colons = np.flatnonzero(data == ord(":"))
    before = _past_gaps(data, colons - 1, -1)
    starts = colons[data[before] == ord('"')] + 1
    starts += data[starts] == ord(" ")  # the usual single space after a key's colon
    starts = _past_gaps(data, starts, 1)
    starts = starts[_LITERAL_START[data[starts]]]
    ends = starts + 1
    going = np.arange(len(starts))
    while going.size:
        going = going[~_LITERAL_END[data[ends[going]]]]
        ends[going] += 1
    out = np.empty(len(data) + len(starts) * len(_INSERTED), dtype=np.uint8)
    # A part of the values at a time, each with the bytes up to the next part's first
    # value: the positions and the mask of a part are a fraction of the block's size.
    m = len(starts)
    cuts = [0, 0]
    if m:
        cuts = numpy_arrow.distinct(np.linspace(0, m, _QUOTE_PARTS + 1).astype(np.int64)).tolist()
    for lo, hi in itertools.pairwise(cuts):
        begin = int(starts[lo]) if lo else 0
        end = int(starts[hi]) if hi < len(starts) else len(data)
        into = out[begin + lo * len(_INSERTED) : end + hi * len(_INSERTED)]
        _insert_around(data[begin:end], starts[lo:hi] - begin, ends[lo:hi] - begin, into)
    return out


#: Parts of a block's values quoted at a time (`_quoted_values`).
_QUOTE_PARTS: Final = 4


def _insert_around(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, out: np.ndarray) -> None:
    """`out` filled with `data`, `_MARK` put before each byte `starts[i]` and a quote
    before each `ends[i]` (values in order, none within another)."""
    # Each value gains the bytes of _INSERTED: value i is moved on by i times as many.
    m, width = len(starts), len(_INSERTED)
    grid = np.empty((m, width), dtype=np.int64)
    grid[:, :-1] = (starts + np.arange(0, m * width, width))[:, None] + np.arange(width - 1)
    grid[:, -1] = ends + np.arange(width - 1, m * width, width)
    at = grid.ravel()
    out[at] = np.tile(_INSERTED, m)
    kept = np.ones(len(out), dtype=bool)
    kept[at] = False
    out[kept] = data


def _past_gaps(data: np.ndarray, at: np.ndarray, step: int) -> np.ndarray:
    """`at` (changed in place), each position moved by `step` over white space (`_GAP`)
    to the first byte that is not; only the positions on white space are looked at
    again."""
    gap = np.flatnonzero(_GAP[data[at]])
    while gap.size:
        at[gap] += step
        gap = gap[_GAP[data[at[gap]]]]
    return at


class _Quoted(NamedTuple):
    """A block ready for Arrow's reader (`_quotable`): its bytes with every value quoted
    (`_quoted_values`), its lines that are not blank (`_Block.rows`) and the length
    of its longest line."""

    data: np.ndarray
    rows: list[int]
    longest: int


def _quotable(block: _Block, fields: frozenset[str]) -> _Quoted | None:
    """The block quoted for Arrow's reader (`_quoted_chunk`), or None (the block is read
    line by line) for anything Arrow might read otherwise than Python's `json`: NaN
    or Infinity, a byte-order mark, the escape the quoting uses, bytes that are not
    UTF-8, a line that is not an object, values nested deep (`_MAX_OPEN`)."""
    if "answers" in fields:
        return None
    data = block.data
    rows = block.rows(objects=True)
    if rows is None:
        return None
    if _holds(data, _BOM) or _holds(data, b"NaN") or _holds(data, b"Infinity"):
        return None
    if _holds(data, b"\\u0000", b"\\ud", b"\\uD"):
        return None  # Arrow refuses a lone surrogate, Python reads it: let Python say
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if block.nested_too_deep():
        return None
    return _Quoted(_quoted_values(np.frombuffer(data, dtype=np.uint8)), rows, block.longest())


def _quoted_chunk(
    ready: _Quoted,
    first: int,
    fields: frozenset[str],
    known: frozenset[str] | None,
    typed: frozenset[str],
) -> tuple[Any, np.ndarray, list[tuple[int, Any]]] | None:
    """A block parsed by Arrow's reader with its values quoted (`_quotable`), so that
    a key holding ``4`` and ``"na"`` is one column of texts, whose distinct values are
    read back as Python's `json` reads them (`_quoted_columns`). Arrow's reader parses
    with the GIL released, on threads, where `_exact_chunk` holds it throughout.

    None (the block is read line by line) for whatever `_quoted_columns` does not
    take. Arrow refuses duplicate keys, lone surrogates, control characters in texts,
    bad escapes, trailing commas and anything that is not JSON."""
    import pyarrow as pa
    import pyarrow.json as pj

    schema = [(name, pa.string()) for name in sorted(fields)]
    if known:
        schema.append(("answers", pa.struct([(k, pa.string()) for k in sorted(known)])))
    try:
        # blocks of a megabyte (whole lines, a value quoted in at most 5 bytes of the
        # line's) are parsed in parallel; an answer key the standard does not know is
        # typed by Arrow, as text when every value is
        size = max(1 << 20, 5 * ready.longest + 1)
        parsed = pj.read_json(
            pa.BufferReader(pa.py_buffer(ready.data)),
            read_options=pj.ReadOptions(block_size=size),
            parse_options=pj.ParseOptions(
                explicit_schema=pa.schema(schema), unexpected_field_behavior="infer"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    rows = ready.rows
    if parsed.num_rows != len(rows):
        return None
    try:
        columns = _quoted_columns(parsed, fields, known, typed)
    except (Unsupported, ValueError):  # the line by line reading says it in its words
        return None
    if columns is None:
        return None
    return _table(columns, len(rows)), np.array(rows, dtype=np.int64) + first, []


def _quoted_columns(
    parsed: Any, fields: frozenset[str], known: frozenset[str] | None, typed: frozenset[str]
) -> dict[str, Any] | None:
    """The columns `_Gather` makes of the same lines, from a quoted block's table; None
    where `_Gather` would see what this does not read: a visit field that is not text
    (or an empty one, as `_Gather.columns` refuses it), an answer that is not a text,
    number, boolean or null. Raises Unsupported and ValueError (a value that is not
    JSON) where the lines are not read so."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    columns: dict[str, Any] = {}
    read: dict[str, Any] = {}
    for name, column in zip(parsed.column_names, parsed.columns, strict=True):
        column = column.combine_chunks()
        t = column.type
        if name in fields:
            if column.null_count == len(column):  # declared, on no line
                continue
            if not pa.types.is_string(t) or pc.any(pc.starts_with(column, _MARKED)).as_py():
                return None
            if name != "visit_id" and name not in typed and pc.any(pc.equal(column, "")).as_py():
                return None
            columns[name] = column
        elif name == "answers":
            if not pa.types.is_struct(t):
                return None
            for k, child in enumerate(column.flatten()):
                if child.null_count == len(child):  # a known item on no line
                    continue
                item = t.field(k).name
                answers = _quoted_answers(item, child, known, read)
                if answers is None:
                    return None
                columns["answers." + item] = answers
        elif pa.types.is_string(t):  # left out of the table, but read as JSON
            marked = pc.filter(column, pc.fill_null(pc.starts_with(column, _MARKED), False))
            _json_values(pc.unique(marked).to_pylist(), read)
        elif not pa.types.is_timestamp(t):  # Arrow's reading of some texts
            return None
    return columns


def _first_seen(codes: np.ndarray, count: int) -> list[int]:
    """The codes `0 .. count - 1` in the order they first appear in `codes` (each
    appears; `count` stands for a null): the order of a dictionary Arrow's
    `dictionary_encode` would have made, which the record path's columns keep.
    Most columns show every value in their first rows."""
    for head in (codes[: dictionary_codes.SEED_ROWS], codes):
        seen, first = np.unique(head, return_index=True)
        if np.count_nonzero(seen < count) == count:
            break
    ordered = seen[np.argsort(first)]
    return ordered[ordered < count].tolist()  # type: ignore[no-any-return]


def _quoted_answers(
    item: str, child: Any, known: frozenset[str] | None, read: dict[str, Any]
) -> Any:
    """The answers to `item` as `_Coded.array` gives them, from their quoted texts: the
    distinct texts read (`_json_values`, `read` the texts read so far), then told apart
    as `_Coded` tells them."""
    import pyarrow as pa

    from .. import arrow_compute as pc
    from ..batch.arrow_text import dictionary_encode

    if not item or item.strip() != item or not pa.types.is_string(child.type):
        return None
    if _texts_as_read(child):
        return child  # texts only, none empty: `_coded_values` gives them as they are
    encoded = dictionary_encode(child)
    texts = encoded.dictionary.to_pylist()
    values = _json_values(texts, read)
    values = [_answer(v, item, known) for v in values]
    values.append(None)  # an absent answer: the code of a null index
    raw = pc.fill_null(encoded.indices, len(values) - 1).to_numpy()
    index: dict[Any, int] = {}
    distinct: list[Any] = []
    remap = np.empty(len(values), dtype=np.int32)
    for i in [*_first_seen(raw, len(texts)), len(values) - 1]:
        remap[i] = code = index.setdefault(_value_key(values[i]), len(distinct))
        if code == len(distinct):
            distinct.append(values[i])
    codes = remap[raw]
    kinds = set(map(type, distinct))
    kinds.discard(type(None))
    try:
        return _coded_values(distinct, codes, kinds)
    except UnicodeEncodeError as exc:  # pragma: no cover - Arrow refuses lone surrogates
        raise Unsupported("text with a lone surrogate") from exc


def _texts_as_read(column: Any) -> bool:
    """Whether a quoted block's text column holds texts only, none empty: no value is
    ``""`` or starts with U+0000, which only the quoting's mark (`_MARK`) puts first
    in a text. Read from the array's buffers: most answer columns are such texts."""
    from ..batch.arrow_text import text_layout

    starts, lengths, data = text_layout(column)
    valid = dictionary_codes.valid_rows(column)
    if valid is not None:
        starts, lengths = starts[valid], lengths[valid]
    return bool(lengths.all()) and not (data.take(starts) == 0).any()


def _json_values(texts: list[str], read: dict[str, Any] | None = None) -> list[Any]:
    """Texts of a quoted block as the values their lines hold: a text marked by the
    quoting (`_MARK`) is a JSON number or literal, read by `json` as the record path
    reads it (ValueError when it is none: the line is not JSON). `read`: the marked
    texts read so far (the same few numbers recur under many keys)."""
    if read is None:
        read = {}
    values = []
    for text in texts:
        if text[:1] == _MARKED:
            value = read.get(text, _MISSING)
            if value is _MISSING:
                value = read[text] = _LITERALS.decode(text[1:])
            values.append(value)
        else:
            values.append(text)
    return values


def _exact_chunk(
    lines: list[bytes],
    first: int,
    encoding: str,
    fields: frozenset[str],
    known: frozenset[str] | None,
    prefix: str,
    typed: frozenset[str] = frozenset(),
) -> tuple[Any, np.ndarray, list[tuple[int, Any]]]:
    """A block read line by line as `readers.read_jsonl` reads it: each line parsed by
    orjson where that gives what Python's `json` gives (`_quick`), else by `json`."""
    with _no_gc():  # a chunk is millions of new objects and no cycle: spare the collector
        try:
            return _gathered(lines, first, encoding, fields, known, prefix, typed, guard=False)
        except _LongNumber:
            return _gathered(lines, first, encoding, fields, known, prefix, typed, guard=True)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _LongNumber(Exception):
    """A float at least 2**63 in size among the values gathered: perhaps an integer
    beyond 64 bits, which orjson reads as a float."""


def _gathered(
    lines: list[bytes],
    first: int,
    encoding: str,
    fields: frozenset[str],
    known: frozenset[str] | None,
    prefix: str,
    typed: frozenset[str],
    guard: bool,
) -> tuple[Any, np.ndarray, list[tuple[int, Any]]]:
    """The block's table; `guard`: lines with 19 digits in a row are parsed by `json`,
    else such a line may raise `_LongNumber`."""
    quick = _quick_loader(lines, encoding, guard)
    gather = _Gather(fields, known, typed, guard)
    numbers: list[int] = []
    unreadable: list[tuple[int, Any]] = []
    for start in range(0, len(lines), _HOT_LINES):
        records: list[dict[str, Any]] = []
        for k, line in enumerate(lines[start : start + _HOT_LINES], start=start):
            number = first + k
            record = quick(line) if quick is not None else None
            if record is None:
                outcome = _line_record(line, number, encoding, prefix)
                if outcome is None:
                    continue
                if isinstance(outcome, SourceRecord):
                    unreadable.append((number, outcome))
                    continue
                record = outcome
            records.append(record)
            numbers.append(number)
        gather.add(records)
    return _table(gather.columns(), gather.n), np.array(numbers, dtype=np.int64), unreadable


def _line_record(
    line: bytes, number: int, encoding: str, prefix: str
) -> dict[str, Any] | SourceRecord | None:
    """One line as `readers.read_jsonl` reads it: its object, its unreadable record, or
    None for a blank line."""
    try:
        text = line.decode(encoding)
    except UnicodeDecodeError as exc:
        text = line.decode(encoding, errors="replace").rstrip("\r\n")
        error = message(
            "visit.row.line_not_encoded", encoding=encoding, reason=exc.reason, byte=exc.start
        )
        return SourceRecord(f"{prefix}{number}", None, text, error)
    text = text.rstrip("\r\n")
    if text.strip() == "":
        return None
    record = _loads(text)
    if record is not None:
        return record
    parsed, why = parse_json_line(text)
    if parsed is None:
        return SourceRecord(f"{prefix}{number}", None, text, why or "unreadable")
    return parsed


#: 19 digits in a row: possibly an integer beyond 64 bits (from -9223372036854775809 down,
#: from 18446744073709551616 up), which orjson reads as a float.
_LONG_DIGITS: Final = re.compile(rb"[0-9]{19}")
#: Bytes with every digit made ``0``: a block without 19 zeros in a row after it has no
#: long number (one pass, where the regex on every line costs ten times more).
_DIGITS_TO_ZERO: Final = bytes.maketrans(b"123456789", b"000000000")


def _quick_loader(
    lines: list[bytes], encoding: str, guard: bool = True
) -> Callable[[bytes], Any] | None:
    """A parser of one line that gives what `json.loads` gives, or None to say "ask
    `json`": orjson, when installed, for UTF-8 lines.

    orjson refuses what the record path refuses or reads otherwise (NaN, lone
    surrogates, numbers beyond a float, bytes that are not UTF-8). It takes the last of
    duplicate keys silently, where `json` refuses the line: a line whose keys, as
    counted in its text, are more than the parsed ones (`_key_count`) goes to `json`.
    It reads an integer beyond 64 bits as a float: with `guard`, a line with 19 digits
    in a row goes to `json` (else the caller looks for such floats, `_LongNumber`)."""
    if codecs.lookup(encoding).name != "utf-8":
        return None
    try:
        import orjson
    except ImportError:
        return None
    long_digits = guard and b"0" * 19 in b"".join(lines).translate(_DIGITS_TO_ZERO)
    loads = orjson.loads

    def quick(line: bytes) -> Any:
        if long_digits and _LONG_DIGITS.search(line):
            return None
        try:
            value = loads(line)
        except orjson.JSONDecodeError:
            return None
        if type(value) is not dict:
            return None
        keys = _key_count(value)
        if line.count(b":") != keys and _spelt_keys(line) != keys:
            return None
        return value

    return quick


def _spelt_keys(line: bytes) -> int | None:
    """The keys `line` spells, at least, counted more closely than by its colons (every
    key has one; so may a text): a key's closing quote then its colon, ``":`` or ``" :``
    (also such text inside a string). None when a key may be spelt with other white
    space before its colon (white space before a colon, other than in ``" :``)."""
    spaced = line.count(b'" :')
    if line.count(b" :") + line.count(b"\t:") + line.count(b"\r:") != spaced:
        return None
    return line.count(b'":') + spaced


def _key_count(value: dict[str, Any]) -> int:
    """The keys of an object and of the objects it holds (not of those within them: a
    line holding such deeper keys counts more than this, and is read by `json`).

    A count from the text is at least the keys the line has, which are at least the
    parsed keys (fewer by the duplicates) and at least this count: equal counts mean
    no duplicate."""
    count = len(value)
    for v in value.values():
        if type(v) is dict:
            count += len(v)
    return count


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")  # parse_json_line names it
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(name)


#: What `json.loads(text, parse_constant=...)` is, made once (it makes one a call).
_LITERALS: Final = json.JSONDecoder(parse_constant=_no_constant)


def _loads(text: str) -> dict[str, Any] | None:
    """The object on a line, None when it is anything else or not plain JSON (then
    `readers.parse_json_line` says why, in the record path's words)."""
    try:
        value = json.loads(text, object_pairs_hook=_unique, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


#: Lines parsed before their values are gathered into columns: while the objects a
#: parser just made are in the CPU's cache, reading them costs a fraction of what it
#: costs once a whole chunk's are made.
_HOT_LINES: Final = 1024


class _Gather:
    """Columns gathered from parsed records a thousand or so at a time (`_HOT_LINES`).

    Visit fields (a few columns) are kept as their values. Each answer column is kept
    coded (`_Coded`): its distinct values and, per row, the code of its value, so that
    the parsed objects are read once, while in the CPU's cache, and a chunk holds
    codes rather than millions of objects. `guard`: the lines were parsed with
    integers beyond 64 bits read as such (else a float that may be one raises
    `_LongNumber`)."""

    def __init__(
        self,
        fields: frozenset[str],
        known: frozenset[str] | None,
        typed: frozenset[str] = frozenset(),
        guard: bool = True,
    ) -> None:
        self.field_names = fields
        self.typed = typed
        self.known = known
        self.guard = guard
        self.n = 0
        self.fields: dict[str, list[Any]] = {}
        self.answers: dict[str, _Coded] = {}

    def add(self, records: list[dict[str, Any]]) -> None:
        answers: list[Any] = [r.get("answers") for r in records]
        if set(map(type, answers)) != {dict}:
            answers = [_answers_object(a) for a in answers]
        for name in dict.fromkeys(itertools.chain.from_iterable(records)):
            if name in self.field_names:
                column = self.fields.get(name)
                if column is None:
                    column = self.fields[name] = [None] * self.n
                column.extend([r.get(name) for r in records])
        keys = list(dict.fromkeys(itertools.chain.from_iterable(answers)))
        for key in keys:
            if not key or key.strip() != key:
                raise Unsupported(f"an answer key with spaces around it: {key!r}")
        # Row by row, then transposed: each record's dict is read once. An absent
        # answer is `_MISSING`, a null one None: told apart when the column is made.
        absent = itertools.repeat(_MISSING)
        rows = [tuple(map(a.get, keys, absent)) for a in answers]
        for key, cells in zip(keys, zip(*rows, strict=True), strict=True) if rows else ():
            coded = self.answers.get(key)
            if coded is None:
                coded = self.answers[key] = _Coded(self.n)
            coded.add(cells)
        self.n += len(records)
        for gathered in self.fields.values():
            if len(gathered) < self.n:
                gathered.extend([None] * (self.n - len(gathered)))
        for coded in self.answers.values():
            coded.pad(self.n)

    def columns(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, values in self.fields.items():
            kinds = set(map(type, values))
            if float in kinds and not self.guard and _long(values):
                raise _LongNumber
            # a typed field may hold numbers and "" (N/A), read by `field_types`
            if name in self.typed and kinds <= {str, int, float, type(None)}:
                out[name] = arrow_values(values)
                continue
            wrong = kinds - {str, type(None)}
            if wrong or ("" in values and name != "visit_id"):
                shown = next(v for v in values if v is not None and (type(v) is not str or v == ""))
                raise Unsupported(f"visit field {name!r} holds {shown!r}, not a text")
            out[name] = arrow_values(values)
        for key, coded in self.answers.items():
            out["answers." + key] = coded.array(key, self.known, self.guard)
        return out


def _long(values: Iterable[Any]) -> bool:
    """Whether a float among `values` is at least 2**63 in size (`_LongNumber`)."""
    return any(type(v) is float and not -(2.0**63) < v < 2.0**63 for v in values)


def _answers_object(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise Unsupported("an `answers` value that is not an object")
    return value


_NUMBER_KINDS: Final = frozenset({int, float, bool})


class _Coded:
    """A column of answers as `arrow_values` reads it, gathered a block of rows at a
    time: its distinct values in order of first appearance, and each row's code (an
    index into them). Values are as parsed, `_MISSING` for an absent answer: what a
    table holds for each (`_answer`) is settled once, for the distinct values.

    Values are told apart as `arrow_values` tells them apart: by value while the
    column holds at most one kind of number and not both 0.0 and -0.0 (1 and "1" are
    never equal), else by `_value_key` (1, 1.0 and True, 0.0 and -0.0 kept apart; a
    list of texts by its texts)."""

    __slots__ = ("by_value", "codes", "distinct", "index", "kinds", "n", "zeros")

    def __init__(self, n: int) -> None:
        self.kinds: set[type] = set()  # of the values but None and _MISSING
        self.by_value = True
        self.index: dict[Any, int] = {}  # by value: its keys are the distinct values
        self.distinct: list[Any] = []  # by key: the distinct values
        self.codes: list[np.ndarray] = []
        self.zeros: set[float] = set()  # the signs of the float zeros, by value
        self.n = 0
        self.pad(n)

    def pad(self, n: int) -> None:
        """Absent answers up to row `n`."""
        if self.n < n:
            self.add((_MISSING,) * (n - self.n))

    def add(self, values: Sequence[Any]) -> None:
        n = len(values)
        if self.by_value and not self.kinds & _NUMBER_KINDS:
            # Texts (or nothing) so far: a value equal to a known one is of its type.
            try:
                codes = np.fromiter(map(self.index.__getitem__, values), dtype=np.int32, count=n)
            except (KeyError, TypeError):  # a new value (or one that cannot be a key)
                pass
            else:
                self.codes.append(codes)
                self.n += n
                return
        kinds = set(map(type, values))
        kinds.difference_update((type(None), object))  # null, absent (`_MISSING`)
        if not kinds <= self.kinds or list in kinds:
            self._admit(kinds, values)
        if self.by_value and float in kinds and 0.0 in values:
            # by value, 0.0 and -0.0 are one: kept so while the column has one of them
            self.zeros.update(math.copysign(1.0, v) for v in values if v == 0)
            if len(self.zeros) > 1:
                self._by_key()
        if not self.by_value:
            codes = np.array(self._key_codes(values), dtype=np.int32)
        else:
            index = self.index
            try:  # no new value: one pass
                codes = np.fromiter(map(index.__getitem__, values), dtype=np.int32, count=n)
            except KeyError:
                for v in dict.fromkeys(values):  # the new values, in order
                    index.setdefault(v, len(index))
                codes = np.fromiter(map(index.__getitem__, values), dtype=np.int32, count=n)
        self.codes.append(codes)
        self.n += n

    def _admit(self, kinds: set[type], values: Sequence[Any]) -> None:
        _check_kinds(kinds, values)
        self.kinds |= kinds
        if self.by_value and (list in self.kinds or len(self.kinds & _NUMBER_KINDS) > 1):
            self._by_key()

    def _by_key(self) -> None:
        self.distinct = list(self.index)
        self.index = {_value_key(v): i for i, v in enumerate(self.distinct)}
        self.by_value = False

    def _key_codes(self, values: Sequence[Any]) -> list[int]:
        index, distinct = self.index, self.distinct
        codes = []
        for v in values:
            key = _value_key(v)
            code = index.get(key)
            if code is None:
                code = index[key] = len(distinct)
                distinct.append(v)
            codes.append(code)
        return codes

    def _has(self, value: Any) -> bool:
        return (value if self.by_value else _value_key(value)) in self.index

    def array(self, key: str, known: frozenset[str] | None, guard: bool) -> Any:
        """The column as `arrow_values` gives it for the answers to `key` (`_answer`:
        an absent answer or an empty one for a `known` key is empty, a null one
        `NULL_ANSWER`). `guard`: as `_Gather`'s."""
        distinct = list(self.index) if self.by_value else self.distinct
        if float in self.kinds and not guard and _long(distinct):
            raise _LongNumber
        codes = np.concatenate(self.codes) if self.codes else np.zeros(0, dtype=np.int32)
        values = [_answer(v, key, known) for v in distinct]
        if (self._has(_MISSING) and self._has("")) or (
            self._has(None) and self._has(NULL_ANSWER)
        ):  # two distinct values read alike: one code for them
            index: dict[Any, int] = {}
            merged: list[Any] = []
            remap = np.empty(len(values), dtype=np.int32)
            for i, v in enumerate(values):
                remap[i] = index.setdefault(_value_key(v), len(merged))
                if remap[i] == len(merged):
                    merged.append(v)
            values, codes = merged, remap[codes]
        kinds = set(map(type, values))
        kinds.discard(type(None))
        try:
            return _coded_values(values, codes, kinds)
        except UnicodeEncodeError as exc:
            raise Unsupported("text with a lone surrogate") from exc


def _value_key(value: Any) -> Any:
    """What `arrow_values` tells values apart by."""
    if type(value) is list:
        return (list, tuple(value), None)
    return (value.__class__, value, str(value) if value == 0 else None)


def _answer(value: Any, key: str, known: frozenset[str] | None) -> Any:
    if value is _MISSING:
        return None
    if value is None:
        return NULL_ANSWER
    if type(value) is str and value == "":
        if known is None or key not in known:
            raise Unsupported(f"an empty answer to {key!r}, which the standard may not know")
        return None
    return value


def _table(columns: dict[str, Any], n: int) -> Any:
    import pyarrow as pa

    if columns:
        return pa.table(columns)
    return pa.table({"_": pa.nulls(n)}).drop_columns(["_"])
