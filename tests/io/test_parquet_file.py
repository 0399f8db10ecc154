"""The Parquet writer of result files: pyarrow's columns spliced with our item columns.

What must hold: pyarrow (an independent reader of the format) reads back exactly
the values and types written, bit for bit (signs of zero, nulls whatever lies
under them, NaN that is not null), for any split of the rows into row groups; the
bytes depend only on the rows of each row group; the columns pyarrow writes keep
its statistics and compression.
"""

from __future__ import annotations

import contextlib
import io
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sbm_engine.io import thrift_compact as tc
from sbm_engine.io.parquet_file import DICTIONARY_LIMIT, ResultParquetWriter, own_columns
from sbm_engine.io.writers import parquet_options

SPECIAL = [0.0, -0.0, 1.0, 0.5, 1 / 3, -2.5, float("inf"), 1e300, float("nan")]


def _write(table: pa.Table, cuts: list[int], last: bool = True) -> bytes:
    """`table` written with row groups ending at `cuts`; the last one flagged `last`
    (pyarrow's columns then written in a thread of their own) when asked."""
    out = io.BytesIO()
    writer = ResultParquetWriter(out, table.schema, parquet_options(table.schema, table))
    start = 0
    stops = [*cuts, table.num_rows]
    for i, stop in enumerate(stops):
        writer.write_row_group(table.slice(start, stop - start), last=last and i == len(stops) - 1)
        start = stop
    writer.close()
    return out.getvalue()


def _same(a: pa.Table, b: pa.Table) -> None:
    """Equal schemas, nulls and values, floats compared by their bits."""
    assert a.schema == b.schema
    assert a.num_rows == b.num_rows
    for name in a.column_names:
        x, y = a.column(name).combine_chunks(), b.column(name).combine_chunks()
        assert x.is_null().equals(y.is_null()), name
        if pa.types.is_float64(x.type):
            keep = ~x.is_null().to_numpy(zero_copy_only=False)
            xs = x.fill_null(0.0).to_numpy().view(np.uint64)[keep]
            ys = y.fill_null(0.0).to_numpy().view(np.uint64)[keep]
            assert np.array_equal(xs, ys), name
        else:
            assert x.equals(y), name


@st.composite
def tables(draw: st.DrawFn) -> tuple[pa.Table, list[int]]:
    n = draw(st.integers(0, 300))
    columns: dict[str, pa.Array] = {
        "visit_id": pa.array([f"v{i}" for i in range(n)], pa.string()),
        "coefficients.visit": pa.array(
            draw(st.lists(st.none() | st.floats(), min_size=n, max_size=n)), pa.float64()
        ),
    }
    for k in range(draw(st.integers(1, 4))):
        pool_size = draw(st.integers(1, DICTIONARY_LIMIT + 3))
        pool = draw(
            st.lists(st.sampled_from(SPECIAL) | st.floats(), min_size=pool_size, max_size=pool_size)
        )
        picks = draw(st.lists(st.integers(0, pool_size - 1), min_size=n, max_size=n))
        values = np.array([pool[i] for i in picks], dtype=np.float64)
        null = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        # What lies under a null is arbitrary: pyarrow puts 0.0, the batch path NaN.
        columns[f"items.i{k}"] = pa.array(values, mask=null, type=pa.float64())
    table = pa.table(columns)
    cuts = sorted(set(draw(st.lists(st.integers(0, n), max_size=4))))
    return table, cuts


@given(tables())
def test_pyarrow_reads_back_every_bit(case):
    table, cuts = case
    data = _write(table, cuts)
    back = pq.read_table(io.BytesIO(data))
    _same(table, back)
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    sizes = np.diff([0, *cuts, table.num_rows])
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [
        int(s) for s in sizes if s
    ]
    # Reading a few columns, and batch by batch, sees the same.
    names = ["visit_id", *own_columns(table.schema)[:1]]
    _same(pq.read_table(io.BytesIO(data), columns=names), back.select(names))
    batches = list(pq.ParquetFile(io.BytesIO(data)).iter_batches(batch_size=7))
    _same(table, pa.Table.from_batches(batches, schema=back.schema))


@given(tables())
def test_statistics_are_pyarrows(case):
    """Every item column chunk carries the statistics pyarrow writes for the same
    values (null count, minimum and maximum, NaN left out, -0.0 as the minimum of
    zeros), so readers can skip row groups by them."""
    table, cuts = case
    ours = pq.ParquetFile(io.BytesIO(_write(table, cuts))).metadata
    theirs = pq.ParquetFile(io.BytesIO(_pyarrow_file(table, cuts))).metadata
    columns = [table.schema.get_field_index(c) for c in own_columns(table.schema)]
    assert ours.num_row_groups == theirs.num_row_groups
    for g in range(ours.num_row_groups):
        for c in columns:
            a = ours.row_group(g).column(c).statistics
            b = theirs.row_group(g).column(c).statistics
            assert a is not None and b is not None
            assert (a.null_count, a.has_min_max) == (b.null_count, b.has_min_max)
            if a.has_min_max:
                assert struct.pack("<d", a.min) == struct.pack("<d", b.min)
                assert struct.pack("<d", a.max) == struct.pack("<d", b.max)


def _pyarrow_file(table: pa.Table, cuts: list[int]) -> bytes:
    """The table as pyarrow alone writes it, with the same row groups."""
    out = io.BytesIO()
    with pq.ParquetWriter(out, table.schema, compression="none") as writer:
        start = 0
        for end in [*cuts, table.num_rows]:
            if end > start:
                writer.write_table(table.slice(start, end - start))
            start = max(start, end)
    return out.getvalue()


@given(tables())
def test_bytes_depend_only_on_the_row_groups(case):
    table, cuts = case
    pieces = pa.concat_tables([table.slice(0, 1), table.slice(1)]) if table.num_rows else table
    assert _write(table, cuts) == _write(pieces, cuts)


def _table(n: int = 1000, **items: np.ndarray) -> pa.Table:
    columns = {"visit_id": pa.array([f"v{i}" for i in range(n)], pa.string())}
    for name, values in items.items():
        columns[f"items.{name}"] = pa.array(values, mask=np.isnan(values), type=pa.float64())
    return pa.table(columns)


def _chunk(data: bytes, name: str, group: int = 0) -> pq.ColumnChunkMetaData:
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    names = [meta.schema.column(i).path for i in range(meta.num_columns)]
    return meta.row_group(group).column(names.index(name))


def test_items_are_dictionary_encoded_and_continuous_columns_plain():
    rng = np.random.default_rng(7)
    few = rng.choice([0.0, 0.25, 0.5, 1.0, np.nan], size=1000)
    many = rng.random(1000)
    data = _write(_table(few=few, many=many), [])
    assert _chunk(data, "items.few").has_dictionary_page
    assert _chunk(data, "items.few").encodings == ("PLAIN", "RLE", "RLE_DICTIONARY")
    assert not _chunk(data, "items.many").has_dictionary_page
    assert _chunk(data, "items.few").statistics.min == 0.0  # NaN left out
    assert _chunk(data, "items.few").statistics.max == 1.0
    assert _chunk(data, "items.many").is_stats_set
    assert _chunk(data, "visit_id").compression == "SNAPPY"
    assert _chunk(data, "visit_id").is_stats_set
    # A few bits a value: the dictionary indices of 4 scores take 2 bits, plus the levels.
    assert _chunk(data, "items.few").total_compressed_size < 1000 * 3 // 8 + 150


@pytest.mark.parametrize("distinct", [1, 2, 3, 4, 5, 16, 17])
def test_dictionary_sizes_around_the_bit_widths(distinct):
    values = np.resize(np.arange(distinct, dtype=np.float64) / 7, 999)
    values[::10] = np.nan
    table = _table(999, x=values)
    data = _write(table, [500])
    _same(table, pq.read_table(io.BytesIO(data)))
    assert _chunk(data, "items.x").has_dictionary_page == (distinct <= DICTIONARY_LIMIT)


def test_a_score_first_seen_late_or_in_a_later_row_group():
    values = np.zeros(5000)
    values[4999] = 0.5  # after the rows that seed the dictionary
    values[2000:] = np.where(np.arange(3000) % 3 == 0, 1.0, values[2000:])
    table = _table(5000, x=values)
    _same(table, pq.read_table(io.BytesIO(_write(table, [1500, 2500]))))


def test_statistics_are_of_the_row_group_not_of_its_dictionary():
    """A row group's dictionary keeps the scores of the groups before it; its
    minimum and maximum are those of its own rows."""
    values = np.array([0.0, 1.0, 0.5, 0.5, 0.75, 0.5])
    data = _write(_table(6, x=values), [3])
    stats = [_chunk(data, "items.x", g).statistics for g in range(2)]
    assert [(s.min, s.max) for s in stats] == [(0.0, 1.0), (0.5, 0.75)]
    assert "RLE_DICTIONARY" in _chunk(data, "items.x", 1).encodings


def test_dictionary_grows_no_larger_than_the_limit():
    """Scores change from one row group to the next: each group's dictionary holds its
    own scores, with the earlier ones only while they fit."""
    values = np.concatenate([np.arange(i * 10, i * 10 + 10, dtype=np.float64) for i in range(4)])
    values = np.repeat(values, 10)
    table = _table(len(values), x=values)
    data = _write(table, [100, 200, 300])
    _same(table, pq.read_table(io.BytesIO(data)))
    for group in range(4):
        assert _chunk(data, "items.x", group).has_dictionary_page


def test_all_null_no_null_and_sliced_columns():
    n = 77
    table = _table(n, none=np.full(n, np.nan), full=np.ones(n), half=np.tile([np.nan, 2.0], 39)[:n])
    for cuts in ([], [3], [5, 13, 40]):  # slices start at offsets that are not whole bytes
        _same(table, pq.read_table(io.BytesIO(_write(table, cuts))))


def test_no_rows_still_has_the_schema():
    table = _table(0, x=np.array([]))
    back = pq.read_table(io.BytesIO(_write(table, [])))
    assert back.schema == table.schema
    assert back.num_rows == 0


def test_columns_pyarrow_writes_keep_its_metadata():
    """visit_id's chunk (statistics, sizes, encodings) is pyarrow's, only moved."""
    table = _table(300, x=np.resize([0.0, 1.0], 300))
    ours = pq.ParquetFile(io.BytesIO(_write(table, [100])))
    out = io.BytesIO()
    with pq.ParquetWriter(out, table.schema, **parquet_options(table.schema, table)) as writer:
        writer.write_table(table.slice(0, 100))
        writer.write_table(table.slice(100))
    theirs = pq.ParquetFile(io.BytesIO(out.getvalue()))
    for group in range(2):
        a = ours.metadata.row_group(group).column(0).to_dict()
        b = theirs.metadata.row_group(group).column(0).to_dict()
        for key in ("file_offset", "data_page_offset", "dictionary_page_offset"):
            a.pop(key), b.pop(key)
        assert a == b
    assert ours.schema_arrow == theirs.schema_arrow
    assert ours.metadata.created_by == theirs.metadata.created_by


_counts = st.integers(0, 2**40)


@given(
    st.text(min_size=1, max_size=30),
    _counts,
    _counts,
    _counts,
    _counts,
    _counts,
    st.booleans(),
    st.lists(st.none() | st.floats(), max_size=5),
)
def test_item_metadata_bytes_are_what_the_generic_encoder_writes(
    name, n, present, start, data_offset, size, dictionary, values
):
    """`_column_chunk` and `_page_header` write Thrift by hand, for speed: the same
    bytes as `thrift_compact.encode` of the structs pyarrow writes for its columns."""
    from sbm_engine.io.parquet_file import _column_chunk, _page_header, statistics

    i32, i64 = tc.I32, tc.I64
    if dictionary:
        encodings, pages = [0, 3, 8], [(2, 0), (0, 8)]
    else:
        encodings, pages = [0, 3], [(0, 0)]
    meta = (
        tc.Struct()
        .set(1, i32, 5)
        .set(2, tc.LIST, tc.List(i32, encodings))
        .set(3, tc.LIST, tc.List(tc.BINARY, [name.encode()]))
        .set(4, i32, 0)
        .set(5, i64, n)
        .set(6, i64, size)
        .set(7, i64, size)
        .set(9, i64, data_offset)
    )
    if dictionary:
        meta.set(11, i64, start)
    floats = [v for v in values if v is not None]
    nulls = len(values) - len(floats)
    summary = tc.Struct()
    if any(v == v for v in floats):  # not every value NaN
        low, high = min(v for v in floats if v == v), max(v for v in floats if v == v)
        lo = struct.pack("<d", -0.0 if low == 0 else low)
        hi = struct.pack("<d", 0.0 if high == 0 else high)
        summary.set(1, tc.BINARY, hi).set(2, tc.BINARY, lo).set(3, i64, nulls)
        summary.set(5, tc.BINARY, hi).set(6, tc.BINARY, lo)
        summary.set(7, tc.TRUE, True).set(8, tc.TRUE, True)
    else:
        summary.set(3, i64, nulls)
    meta.set(12, tc.STRUCT, summary)
    bits = np.array(floats, dtype="<f8").view("<u8")
    stats = [tc.Struct().set(1, i32, p).set(2, i32, e).set(3, i32, 1) for p, e in pages]
    meta.set(13, tc.LIST, tc.List(tc.STRUCT, stats))
    histogram = tc.List(i64, [n - present, present])
    meta.set(
        16, tc.STRUCT, tc.Struct().set(2, tc.LIST, tc.List(i64, [])).set(3, tc.LIST, histogram)
    )
    chunk = tc.Struct().set(2, i64, 0).set(3, tc.STRUCT, meta)
    written = _column_chunk(
        name, n, present, start, data_offset, size, dictionary, statistics(bits, nulls)
    )
    assert written == tc.encode(chunk)

    count, length = n % 2**31, size % 2**31
    data_page = tc.Struct().set(1, i32, 0).set(2, i32, length).set(3, i32, length)
    inner = tc.Struct().set(1, i32, count).set(2, i32, 8).set(3, i32, 3).set(4, i32, 3)
    data_page.set(5, tc.STRUCT, inner)
    assert _page_header(0, length, count, 8) == tc.encode(data_page)
    dict_page = tc.Struct().set(1, i32, 2).set(2, i32, length).set(3, i32, length)
    dict_page.set(
        7, tc.STRUCT, tc.Struct().set(1, i32, count).set(2, i32, 0).set(3, tc.FALSE, False)
    )
    assert _page_header(2, length, count) == tc.encode(dict_page)


def test_chunks_with_a_page_index_or_bloom_filter_are_refused():
    """Those lie after the row groups, which are not copied: moving their offsets
    would point at nothing."""
    from sbm_engine.io.parquet_file import _shift_chunk

    meta = tc.Struct().set(9, tc.I64, 100)
    _shift_chunk(tc.Struct().set(2, tc.I64, 0).set(3, tc.STRUCT, meta), 10)
    assert meta[9] == 110
    for chunk in (
        tc.Struct().set(3, tc.STRUCT, tc.Struct().set(9, tc.I64, 1)).set(4, tc.I64, 7),
        tc.Struct().set(3, tc.STRUCT, tc.Struct().set(9, tc.I64, 1).set(14, tc.I64, 7)),
    ):
        with pytest.raises(ValueError, match="not copied"):
            _shift_chunk(chunk, 10)


# -- the Thrift codec -----------------------------------------------------------------


def _footer(data: bytes) -> bytes:
    size = struct.unpack("<I", data[-8:-4])[0]
    return data[-8 - size : -8]


def test_pyarrow_footers_decode_and_encode_to_the_same_bytes():
    table = _table(300, x=np.resize([0.0, 1.0, np.nan], 300))
    out = io.BytesIO()
    with pq.ParquetWriter(out, table.schema) as writer:
        writer.write_table(table, row_group_size=100)
    footer = _footer(out.getvalue())
    meta, end = tc.decode(footer)
    assert end == len(footer)
    assert tc.encode(meta) == footer
    assert meta[3] == 300  # num_rows
    assert len(meta[4].items) == 3  # row groups


_ints = st.integers(-(2**63), 2**63 - 1)
_leaf = st.one_of(
    st.tuples(st.just(tc.I32), st.integers(-(2**31), 2**31 - 1)),
    st.tuples(st.just(tc.I64), _ints),
    st.tuples(st.just(tc.I16), st.integers(-(2**15), 2**15 - 1)),
    st.tuples(st.just(tc.BYTE), st.integers(-128, 127)),
    st.tuples(st.just(tc.BINARY), st.binary(max_size=40)),
    st.tuples(st.just(tc.DOUBLE), st.floats(allow_nan=False)),
    st.booleans().map(lambda b: (tc.TRUE if b else tc.FALSE, b)),
    st.lists(_ints, max_size=20).map(lambda xs: (tc.LIST, tc.List(tc.I64, xs))),
)


def _structs(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.dictionaries(st.integers(1, 400), children, max_size=6).map(
        lambda d: tc.Struct(dict(sorted(d.items())))
    )


_values = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        _structs(inner).map(lambda s: (tc.STRUCT, s)),
        st.lists(_structs(inner), max_size=17).map(lambda xs: (tc.LIST, tc.List(tc.STRUCT, xs))),
    ),
    max_leaves=30,
)


@given(_structs(_values))
def test_thrift_structs_round_trip(value):
    data = tc.encode(value)
    back, end = tc.decode(data)
    assert end == len(data)
    assert back == value
    assert tc.encode(back) == data


@given(st.lists(_structs(_values), max_size=5))
def test_pre_encoded_structs_are_written_as_they_are(items):
    whole = tc.Struct().set(4, tc.LIST, tc.List(tc.STRUCT, items))
    raw = tc.Struct().set(4, tc.LIST, tc.List(tc.STRUCT, [tc.Raw(tc.encode(i)) for i in items]))
    assert tc.encode(raw) == tc.encode(whole)


def test_truncated_thrift_is_an_error():
    data = tc.encode(tc.Struct().set(1, tc.BINARY, b"abcdef"))
    with pytest.raises(tc.ThriftError):
        tc.decode(data[:-3])


def test_a_table_of_item_columns_only():
    table = pa.table({"items.x": pa.array([0.0, None, 1.0] * 50, pa.float64())})
    _same(table, pq.read_table(io.BytesIO(_write(table, [100]))))


@settings(max_examples=20, deadline=None)
@given(tables())
def test_polars_and_duckdb_read_what_pyarrow_reads(case):
    """Other readers than pyarrow see the same values, and answer a filter on an item
    column (which they may answer from the statistics) as they answer it on the file
    pyarrow writes for the same rows."""
    polars = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    table, cuts = case
    data = _write(table, cuts)
    back = pq.read_table(io.BytesIO(data))
    item = own_columns(table.schema)[0]
    frame = polars.read_parquet(io.BytesIO(data))
    assert frame.columns == back.column_names
    for name in back.column_names:
        mine, theirs = back.column(name).to_pylist(), frame.get_column(name).to_list()
        assert [struct.pack("<d", v) if isinstance(v, float) else v for v in mine] == [
            struct.pack("<d", v) if isinstance(v, float) else v for v in theirs
        ]
    query = f'SELECT count(*), count("{item}") FROM read_parquet(\'{{}}\') WHERE "{item}" > 0.5'
    with (
        duckdb.connect() as con,
        _temporary(data) as ours,
        _temporary(_pyarrow_file(table, cuts)) as theirs,
    ):
        assert (
            con.execute(query.format(ours)).fetchone()
            == con.execute(query.format(theirs)).fetchone()
        )
        total = con.execute(f"SELECT count(*) FROM read_parquet('{ours}')").fetchone()
        assert total == (table.num_rows,)


@contextlib.contextmanager
def _temporary(data: bytes) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.parquet"
        path.write_bytes(data)
        yield str(path)


@pytest.mark.parametrize("last", [False, True])
def test_an_error_writing_pyarrows_columns_is_raised_by_write_row_group(monkeypatch, last):
    """pyarrow writes the visit columns of the last row group in a thread of its own:
    what it raises there must reach the caller (the run then drops its temporary
    file), not vanish with the thread."""
    from sbm_engine.io import parquet_file

    table = _table(a=np.tile([0.0, 1.0], 500))
    writer = ResultParquetWriter(io.BytesIO(), table.schema, parquet_options(table.schema, table))

    def fails(*args: object) -> bytes:
        raise OSError("no space left on device")

    monkeypatch.setattr(parquet_file, "_parquet_bytes", fails)
    with pytest.raises(OSError, match="no space left"):
        writer.write_row_group(table, last=last)


def test_item_columns_come_first_in_each_row_group_then_pyarrows():
    """Where the column chunks lie: every row group's item chunks, then the chunks
    pyarrow wrote, whether in a thread of their own (the last row group) or not: the
    same bytes."""
    table = _table(a=np.tile([0.0, 1.0], 500), b=np.tile([0.5, np.nan], 500))
    data = _write(table, [400])
    assert data == _write(table, [400], last=False)
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        chunks = [group.column(i) for i in range(group.num_columns)]
        starts = {c.path_in_schema: c.dictionary_page_offset or c.data_page_offset for c in chunks}
        items = [s for name, s in starts.items() if name.startswith("items.")]
        others = [s for name, s in starts.items() if not name.startswith("items.")]
        assert max(items) < min(others)
    _same(pq.read_table(io.BytesIO(data)), table)
