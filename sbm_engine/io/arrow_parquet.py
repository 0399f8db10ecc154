"""Parquet files read and written through `pyarrow._parquet`, the compiled module
behind `pyarrow.parquet`, for the scoring path.

Why: importing `pyarrow.parquet` imports pyarrow's file systems (S3, GCS, Azure,
HDFS) and with them `ssl`, a noticeable part of the start-up of an `sbm score` of a
small wave, which reads and writes local files only. The reader and the writer here
are the objects `pyarrow.parquet.ParquetFile` and `ParquetWriter` wrap, given the
settings those give them (tests/io/test_arrow_parquet.py checks the same tables and
the same bytes against `pyarrow.parquet`). Everything else (roll-ups, analytics,
Dask) uses `pyarrow.parquet`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["ParquetFile", "parquet_writer"]


class ParquetFile:
    """A local Parquet file, as much of `pyarrow.parquet.ParquetFile` as scoring uses."""

    def __init__(
        self, path: str | os.PathLike[str], read_dictionary: Iterable[str] | None = None
    ) -> None:
        from pyarrow._parquet import ParquetReader

        self._reader = ParquetReader()
        self._reader.open(os.fspath(path), read_dictionary=read_dictionary)

    @property
    def schema_arrow(self) -> Any:
        return self._reader.schema_arrow

    @property
    def metadata(self) -> Any:
        return self._reader.metadata

    def read_row_group(self, i: int) -> Any:
        return self._reader.read_row_group(i)

    def iter_batches(self, batch_size: int, columns: list[str] | None = None) -> Iterator[Any]:
        """The record batches of the whole file, or of the top-level `columns` (each
        with all its leaves: a struct is stored as one Parquet column a field)."""
        indices = None
        if columns is not None:
            paths = self._reader.column_paths
            indices = [i for c in columns for i, path in enumerate(paths) if path[0] == c]
        groups = range(self._reader.num_row_groups)
        return self._reader.iter_batches(batch_size, groups, column_indices=indices)


#: What `pyarrow.parquet.ParquetWriter` passes on by default, where the compiled
#: writer's own defaults differ or are left to Arrow's C++ defaults.
_WRITER_DEFAULTS: dict[str, Any] = {
    "version": "2.6",
    "use_dictionary": True,
    "compression": "snappy",
    "write_statistics": True,
    "writer_engine_version": "V2",
    "data_page_version": "1.0",
}


def parquet_writer(sink: Any, schema: Any, **options: Any) -> Any:
    """`pyarrow.parquet.ParquetWriter(sink, schema, **options)` for a stream `sink`
    (left open by `close`, as that writer leaves a stream it was given): the
    compiled writer, with `write_table(table, row_group_size)` and `close()`."""
    from pyarrow._parquet import ParquetWriter

    return ParquetWriter(sink, schema, **{**_WRITER_DEFAULTS, **options})
