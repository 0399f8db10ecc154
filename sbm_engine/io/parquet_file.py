"""Result files in Parquet: pyarrow writes the visit columns, we encode the item scores.

Why not pyarrow alone: a result file holds one float column per item, a hundred in
the reference workload, and pyarrow spends 20-30 ns a value on them (hashing every
double into a dictionary, building the definition levels), which made its writer
the slowest stage of `sbm score`. An item takes only the few scores its scale
allows, so here each item column is dictionary encoded by `dictionary_codes`
(the bits of each double matched against the scores it took before: about 5 ns
a value; more than DICTIONARY_LIMIT scores are written plain), its definition
levels are the validity bitmap, and its pages are written directly.

Every other column (texts with their statistics and compression, coefficients)
is still pyarrow's: each row group is first written by pyarrow, without the item
columns, to memory; its column chunks are copied into the file as they are and
only the offsets in their metadata are moved (`thrift_compact` keeps every other
footer field as pyarrow wrote it); a row group's item columns come first in the
file, then pyarrow's. The footer's schema, Arrow schema and column orders come
from pyarrow too, so readers see exactly the types pyarrow would have written.

Bytes depend only on the rows of each row group and the row groups before it,
never on how the caller split the rows into tables.
"""

from __future__ import annotations

import struct
from typing import IO, Any, Final

import numpy as np

from .aside import Aside
from .dictionary_codes import few_codes, valid_rows
from .thrift_compact import (
    I64,
    LIST,
    STRUCT,
    List,
    Raw,
    Struct,
    decode,
    encode,
)
from .thrift_compact import varint as _varint

MAGIC: Final = b"PAR1"
#: Item columns with more distinct scores than this in a row group are written plain.
DICTIONARY_LIMIT: Final = 16

# Parquet's enums (parquet.thrift).
_DOUBLE: Final = 5
_PLAIN: Final = 0
_RLE: Final = 3
_RLE_DICTIONARY: Final = 8
_DATA_PAGE: Final = 0
_DICTIONARY_PAGE: Final = 2
_UNCOMPRESSED: Final = 0


def own_columns(schema: Any) -> list[str]:
    """The columns this module encodes itself: per-item scores, float64."""
    import pyarrow as pa

    return [f.name for f in schema if f.name.startswith("items.") and pa.types.is_float64(f.type)]


class ResultParquetWriter:
    """Write tables of one schema to `stream` as Parquet, one row group per call of
    `write_row_group`. `options` are `pyarrow.parquet.ParquetWriter` keyword options
    (as `writers.parquet_options` gives them) for the columns pyarrow writes."""

    def __init__(self, stream: IO[bytes], schema: Any, options: dict[str, Any]) -> None:
        self.stream = stream
        self.schema = schema
        self.own = own_columns(schema)
        own = set(self.own)
        self.rest = [f.name for f in schema if f.name not in own]
        self._rest_schema = _select(schema, self.rest)
        self._options = _restrict(options, set(self.rest))
        self._template, _ = _footer(_parquet_bytes(schema.empty_table(), schema, options))
        self._dictionaries: dict[str, np.ndarray] = {}
        self._row_groups: list[Raw] = []
        self._rows = 0
        self._pos = 0
        self._write(MAGIC)

    def _write(self, data: bytes | memoryview) -> None:
        self.stream.write(data)
        self._pos += len(data)

    def write_row_group(self, table: Any, last: bool = False) -> None:
        """One row group of `table`'s rows (none if it has no rows).

        `last`: no row group follows, so nothing else of the run is left to use the
        second core: pyarrow then writes its columns (without the GIL) in a thread of
        its own while the item columns are encoded here, which shortens the run's
        tail, the whole write of a wave of one row group. Not before: the scoring
        and reading threads need that core, and a run is longer when that thread
        competes with them (`benchmarks/CLI.md`)."""
        n = table.num_rows
        if n == 0:
            return
        start = self._pos
        rest: Aside[memoryview] | None = None
        if self.rest:
            args = (table.select(self.rest), self._rest_schema, self._options)
            if last:
                rest = Aside(_parquet_bytes, *args, name="sbm-parquet-columns")
            else:
                rest = Aside.now(_parquet_bytes, *args)
        chunks: dict[str, Struct | Raw] = {}
        size = 0
        for name in self.own:
            parts, chunk = self._item_chunk(name, table.column(name).combine_chunks())
            for part in parts:
                self._write(part)
            size += sum(len(p) for p in parts)  # uncompressed: as written
            chunks[name] = chunk
        if rest is not None:
            size += self._pyarrow_chunks(rest.result(), chunks)
        ordered = [chunks[f.name] for f in self.schema]
        group = (
            Struct()
            .set(1, LIST, List(STRUCT, ordered))
            .set(2, I64, size)
            .set(3, I64, n)
            .set(5, I64, start)
            .set(6, I64, self._pos - start)
        )
        self._row_groups.append(Raw(encode(group)))  # now, not in `close`: ~5 ms each
        self._rows += n

    def _pyarrow_chunks(self, data: memoryview, chunks: dict[str, Struct | Raw]) -> int:
        """Write the row group's other columns, `data` (pyarrow's file of them): their
        ColumnChunks go into `chunks` by column name; returns their total uncompressed
        size."""
        meta, body_end = _footer(data)
        (group,) = meta[4].items
        size = 0
        for chunk in group[1].items:
            _shift_chunk(chunk, self._pos - len(MAGIC))
            chunks[chunk[3][3].items[0].decode("utf-8")] = chunk
            size += chunk[3][6]
        self._write(data[len(MAGIC) : body_end])
        return size

    def close(self) -> None:
        """Write the footer (the file is a valid Parquet file only after this)."""
        meta = self._template
        meta.set(3, I64, self._rows)
        meta.set(4, LIST, List(STRUCT, self._row_groups))
        footer = encode(meta)
        self._write(footer)
        self._write(struct.pack("<I", len(footer)))
        self._write(MAGIC)

    def _item_chunk(self, name: str, array: Any) -> tuple[list[bytes], Raw]:
        """The pages of one float column chunk and its ColumnChunk metadata."""
        n = len(array)
        values = np.frombuffer(array.buffers()[1], dtype="<u8", count=n, offset=array.offset * 8)
        valid = valid_rows(array)
        present = n if valid is None else int(np.count_nonzero(valid))
        codes, dictionary = self._codes(name, values, valid, present)
        levels = _levels(valid, n)
        start = self._pos
        parts: list[bytes] = []
        if dictionary is None:
            picked = values if valid is None else values[valid]
            body = levels + picked.tobytes()
            encoding = _PLAIN
        else:
            width = _bit_width(len(dictionary))
            given = codes if valid is None else codes[valid]
            body = levels + bytes([width]) + _bit_packed(given, width)
            raw = dictionary.tobytes()
            parts += [_page_header(_DICTIONARY_PAGE, len(raw), len(dictionary)), raw]
            encoding = _RLE_DICTIONARY
            # The statistics need only the distinct values the rows hold (the dictionary
            # may keep values of earlier row groups): no copy of the values is made.
            picked = dictionary[_held(given, len(dictionary))]
        data_offset = start + sum(len(p) for p in parts)
        parts += [_page_header(_DATA_PAGE, len(body), n, encoding), body]
        size = sum(len(p) for p in parts)
        stats = statistics(picked, n - present)
        chunk = _column_chunk(
            name, n, present, start, data_offset, size, dictionary is not None, stats
        )
        return parts, chunk

    def _codes(
        self, name: str, values: np.ndarray, valid: np.ndarray | None, present: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Dictionary codes of every row (those of null rows are meaningless) and the
        dictionary (the raw bits of the doubles, so -0.0 and 0.0 stay apart), or
        (values, None) when the column is written plain."""
        if present == 0:
            return values, None
        found = few_codes(values, valid, DICTIONARY_LIMIT, np.uint8, self._dictionaries.get(name))
        if found is None:
            return values, None
        self._dictionaries[name] = found[1]
        return found


def _held(codes: np.ndarray, size: int) -> np.ndarray:
    """Which of `size` dictionary entries the codes name (a bool per entry): one bit
    per entry OR-ed over the rows, several times faster than `np.bincount`."""
    if size > 64:
        return np.bincount(codes, minlength=size).astype(bool)
    width = np.uint16 if size <= 16 else np.uint64
    bits = int(np.bitwise_or.reduce(np.left_shift(width(1), codes, dtype=width)))
    return np.array([bits >> k & 1 for k in range(size)], dtype=bool)


def _levels(valid: np.ndarray | None, n: int) -> bytes:
    """Definition levels (1 bit each) as a data page v1 holds them: a length, then
    one RLE run of n ones if nothing is null, else the validity bits as one
    bit-packed run."""
    if valid is None:
        levels = _varint(n << 1) + b"\x01"
    else:
        levels = _varint(((n + 7) // 8) << 1 | 1) + np.packbits(valid, bitorder="little").tobytes()
    return struct.pack("<I", len(levels)) + levels


def statistics(bits: np.ndarray, nulls: int) -> bytes:
    """A float column chunk's Statistics struct, encoded, as pyarrow writes it for a
    double column: the null count, and the minimum and maximum of the values that are
    not NaN (both twice: the legacy fields and `min_value`/`max_value`, flagged exact),
    a zero minimum written as -0.0 and a zero maximum as +0.0; no minimum or maximum
    when every value is null or NaN. `bits`: the present values' raw doubles."""
    out = bytearray()
    floats = bits.view("<f8")
    if floats.size and not np.isnan(floats).all():
        low, high = float(np.nanmin(floats)), float(np.nanmax(floats))
        low = -0.0 if low == 0.0 else low
        high = 0.0 if high == 0.0 else high
        lo, hi = struct.pack("<d", low), struct.pack("<d", high)
        out += b"\x18\x08" + hi + b"\x18\x08" + lo  # 1: max, 2: min (legacy)
        out += b"\x16" + _zz(nulls)  # 3: null_count
        out += b"\x28\x08" + hi + b"\x18\x08" + lo  # 5: max_value, 6: min_value
        out += b"\x11\x11"  # 7: is_max_value_exact, 8: is_min_value_exact
    else:
        out += b"\x36" + _zz(nulls)  # 3: null_count
    return bytes(out + b"\x00")


def _column_chunk(
    name: str,
    n: int,
    present: int,
    start: int,
    data_offset: int,
    size: int,
    dictionary: bool,
    stats: bytes,
) -> Raw:
    """The ColumnChunk of one uncompressed float column chunk (its ColumnMetaData with
    the statistics, encoding stats and level histogram pyarrow writes for its own),
    encoded directly: a hundred of these a row group through the generic encoder cost
    more than the pages themselves. `test_parquet_file` checks these bytes against
    `thrift_compact.encode` of the same struct, and the statistics against pyarrow's."""
    path = name.encode("utf-8")
    out = bytearray(b"\x26\x00\x1c")  # 2: file_offset 0; 3: meta_data {
    out += b"\x15" + _zz(_DOUBLE)  # 1: type
    if dictionary:  # 2: encodings
        out += b"\x19\x35" + _zz(_PLAIN) + _zz(_RLE) + _zz(_RLE_DICTIONARY)
    else:
        out += b"\x19\x25" + _zz(_PLAIN) + _zz(_RLE)
    out += b"\x19\x18" + _varint(len(path)) + path  # 3: path_in_schema
    out += b"\x15" + _zz(_UNCOMPRESSED)  # 4: codec
    out += b"\x16" + _zz(n) + b"\x16" + _zz(size) + b"\x16" + _zz(size)  # 5, 6, 7
    out += b"\x26" + _zz(data_offset)  # 9: data_page_offset
    if dictionary:
        out += b"\x26" + _zz(start)  # 11: dictionary_page_offset
        out += b"\x1c" + stats  # 12: statistics
        out += b"\x19\x2c"  # 13: encoding_stats, 2 structs
        out += _page_stats(_DICTIONARY_PAGE, _PLAIN) + _page_stats(_DATA_PAGE, _RLE_DICTIONARY)
    else:
        out += b"\x3c" + stats  # 12: statistics
        out += b"\x19\x1c" + _page_stats(_DATA_PAGE, _PLAIN)  # 13: encoding_stats
    # 16: size_statistics {2: repetition histogram [], 3: definition histogram}
    out += b"\x3c\x29\x06\x19\x26" + _zz(n - present) + _zz(present) + b"\x00"
    out += b"\x00\x00"  # end of meta_data, end of the chunk
    return Raw(out)


def _page_stats(page: int, encoding: int) -> bytes:
    return b"\x15" + _zz(page) + b"\x15" + _zz(encoding) + b"\x15" + _zz(1) + b"\x00"


def _zz(n: int) -> bytes:
    """A Thrift integer: zigzag, then varint."""
    return _varint((n << 1) ^ (n >> 63))


def _bit_width(size: int) -> int:
    """Bits a dictionary index takes: 1, 2, 4 or 8 (whole bytes hold whole groups)."""
    need = max(1, (size - 1).bit_length())
    return next(w for w in (1, 2, 4, 8) if w >= need)


def _bit_packed(codes: np.ndarray, width: int) -> bytes:
    """One bit-packed run of the RLE/bit-packing hybrid (values padded to 8)."""
    count = len(codes)
    if count == 0:
        return b""
    pad = -count % 8
    if pad:
        codes = np.concatenate([codes, np.zeros(pad, dtype=np.uint8)])
    header = _varint((len(codes) // 8) << 1 | 1)
    if width == 1:
        packed = np.packbits(codes, bitorder="little")
    elif width == 2:
        g = codes.reshape(-1, 4)
        packed = g[:, 0] | g[:, 1] << 2 | g[:, 2] << 4 | g[:, 3] << 6
    elif width == 4:
        g = codes.reshape(-1, 2)
        packed = g[:, 0] | g[:, 1] << 4
    else:
        packed = codes
    return header + packed.tobytes()


def _page_header(kind: int, size: int, count: int, encoding: int = _PLAIN) -> bytes:
    """A PageHeader, encoded directly (checked against `thrift_compact` in the tests)."""
    out = b"\x15" + _zz(kind) + b"\x15" + _zz(size) + b"\x15" + _zz(size)
    if kind == _DICTIONARY_PAGE:  # 7: dictionary_page_header {count, PLAIN, unsorted}
        return out + b"\x4c\x15" + _zz(count) + b"\x15" + _zz(_PLAIN) + b"\x12\x00\x00"
    # 5: data_page_header {count, encoding, RLE levels}
    header = b"\x15" + _zz(count) + b"\x15" + _zz(encoding) + (b"\x15" + _zz(_RLE)) * 2
    return out + b"\x2c" + header + b"\x00\x00"


def _shift_chunk(chunk: Struct, shift: int) -> None:
    """Move a column chunk's file offsets by `shift` bytes.

    Page indexes and bloom filters (ColumnChunk 4 and 6, ColumnMetaData 14) would lie
    after the row groups, which are not copied; `writers.parquet_options` asks for
    neither, and a chunk that has one is refused rather than pointed at nothing."""
    meta = chunk[3]
    if chunk.get(4) or chunk.get(6) or 14 in meta:
        raise ValueError("pyarrow wrote a page index or a bloom filter; they are not copied")
    for fid in (9, 10, 11):  # data page, index page, dictionary page
        if fid in meta:
            meta.set(fid, I64, meta[fid] + shift)
    if chunk.get(2):  # file offset (0 from Arrow)
        chunk.set(2, I64, chunk[2] + shift)


def _parquet_bytes(table: Any, schema: Any, options: dict[str, Any]) -> memoryview:
    """The table as a Parquet file in memory, pyarrow's own buffer (a `BytesIO` would
    copy the row group as it grows and again when read out)."""
    import pyarrow as pa

    from sbm_engine.io.arrow_parquet import parquet_writer

    buffer = pa.BufferOutputStream()
    writer = parquet_writer(buffer, schema, **options)
    if table.num_rows:
        writer.write_table(table, row_group_size=table.num_rows)
    writer.close()
    return memoryview(buffer.getvalue())


def _footer(data: bytes | memoryview) -> tuple[Struct, int]:
    """A Parquet file's FileMetaData, and where it starts (where the column chunks end)."""
    start = len(data) - 8 - struct.unpack("<I", data[-8:-4])[0]
    meta, _ = decode(data[start:])
    return meta, start


def _select(schema: Any, names: list[str]) -> Any:
    import pyarrow as pa

    return pa.schema([schema.field(name) for name in names], metadata=schema.metadata)


def _restrict(options: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """pyarrow options for a subset of the columns."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k in names}
        elif isinstance(value, list):
            value = [k for k in value if k in names]
        out[key] = value
    return out
