"""`io.arrow_parquet` reads the tables and writes the bytes `pyarrow.parquet` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from sbm_engine.io import writers  # noqa: E402
from sbm_engine.io.arrow_parquet import ParquetFile, parquet_writer  # noqa: E402

TABLE = pa.table(
    {
        "visit_id": ["v1", "v2", None, "v4", "v5"],
        "point": ["P1", "P1", "P2", None, "P2"],
        "items.a": [1.0, None, 0.5, 0.0, 1.0],
        "passed": [True, False, None, True, True],
        "count": pa.array([1, 2, 3, None, 5], pa.int64()),
    }
)
#: With a struct column: one Parquet column a field, all read for the struct's name.
NESTED = TABLE.append_column(
    "nested",
    pa.array(
        [{"a": 1, "b": "x"}, None, {"a": 2, "b": None}, {"a": None, "b": "y"}, None],
        pa.struct([("a", pa.int64()), ("b", pa.string())]),
    ),
)

OPTIONS: list[dict[str, Any]] = [
    {},
    writers.parquet_options(TABLE.schema),
    writers.parquet_options(TABLE.schema, TABLE),
    {"compression": "none", "use_dictionary": False, "write_statistics": False},
]


@pytest.mark.parametrize("options", OPTIONS)
def test_the_writer_writes_pyarrows_bytes(options: dict[str, Any]) -> None:
    written = []
    for make in (lambda sink: pq.ParquetWriter(sink, TABLE.schema, **options), None):
        sink = pa.BufferOutputStream()
        writer = make(sink) if make else parquet_writer(sink, TABLE.schema, **options)
        writer.write_table(TABLE, row_group_size=2)
        writer.write_table(TABLE.slice(1, 3), row_group_size=3)
        writer.close()
        written.append(sink.getvalue().to_pybytes())
    assert written[0] == written[1]


def test_the_reader_reads_what_pyarrow_reads(tmp_path: Path) -> None:
    path = tmp_path / "wave.parquet"
    pq.write_table(NESTED, path, row_group_size=2)
    ours = ParquetFile(path, read_dictionary=["point"])
    theirs = pq.ParquetFile(path, read_dictionary=["point"])
    assert ours.schema_arrow == theirs.schema_arrow
    assert ours.metadata.num_row_groups == theirs.metadata.num_row_groups == 3
    for i in range(3):
        assert ours.read_row_group(i).equals(theirs.read_row_group(i))
    for columns in (None, ["visit_id"], ["items.a", "point"], ["nested"], ["nested", "count"]):
        got = list(ours.iter_batches(batch_size=2, columns=columns))
        want = list(theirs.iter_batches(batch_size=2, columns=columns))
        assert [b.to_pydict() for b in got] == [b.to_pydict() for b in want]
        assert [b.schema for b in got] == [b.schema for b in want]


def test_parquet_output_without_numpy_holds_more_than_one_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyarrow's writer (when numpy is missing) writes every chunk of the record path,
    not only the first: the second one asked it for the schema it had."""

    def arrow_only(stream: Any, schema: Any, first: Any) -> Any:
        return writers._ArrowRowGroups(stream, schema, writers.parquet_options(schema, first))

    monkeypatch.setattr(writers, "result_parquet_writer", arrow_only)
    monkeypatch.setattr(writers, "PARQUET_CHUNK_ROWS", 2)
    path = tmp_path / "out.parquet"
    with writers.ParquetWriter(path) as out:
        for i in range(5):
            out.write({"visit_id": f"v{i}", "score": i / 2})
    table = pq.read_table(path)
    assert table.column("visit_id").to_pylist() == [f"v{i}" for i in range(5)]
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
