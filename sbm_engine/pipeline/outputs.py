"""Scored tables written as `sbm score` writes them, whatever the chunking.

Parquet: `io.writers.result_parquet_writer`, row groups of exactly ROW_GROUP rows.
CSV: `io.text_columns.CsvEncoder`, JSONL: `io.jsonl_columns.JsonlEncoder`: lines
built column-wise (`io.text_columns.assemble`), the record writers' bytes. XLSX:
`io.xlsx_columns.XlsxTableWriter`, a sheet streamed row by row that reads back as
the record writer's. Every format is written column-wise, no dict per visit (an
extension a plugin writes goes to the record path: `run.why_not`). The
encoding runs in a background thread (`overlap.Behind`), in order, while the caller
scores the next chunk; CSV and JSONL lines are assembled and handed to the file
by two more (`_WriteBehind`), so that work overlaps building the next part. A
run that scores nothing still writes a whole file: the header, or an empty Parquet
file with the standard's columns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import IO, Any, Final

from ..formats import open_writer
from ..io.writers import Writer, flatten, result_parquet_writer
from .overlap import Behind

#: Rows per Parquet row group of the output, fixed so the bytes do not depend on chunking.
ROW_GROUP: Final = 65536
#: Rows per write of CSV output (only a buffering size; the bytes do not depend on it):
#: each part is copied whole and waits in the writer's queue, so a part of the CSV
#: encoder's own slice (`text_columns.TEXT_WRITE_ROWS`) holds a quarter of what a
#: Parquet row group's worth would.
TEXT_WRITE: Final = 16384
#: Rows per write of JSONL output: its lines are long (every item, section and
#: coefficient by name), so a smaller part keeps the text built at once small.
JSONL_WRITE: Final = 8192

#: Result columns that always hold text (or nothing), whatever the first rows hold.
_TEXT_RESULTS: Final = frozenset(
    {
        *("visit_id", "standard", "version", "point", "specialist", "region", "date"),
        *("scenario", "shopper", "critical", "warnings"),
    }
)


def result_columns(std: Any) -> list[str]:
    """The flattened output columns, fixed by the standard so every file has one header."""
    return list(flatten(std.result_template()).keys())


def text_columns(columns: list[str]) -> list[str]:
    """The result columns that are text: typed as text in Parquet even when the first
    rows have none (a wave without `shopper`), as the batch path types them."""
    return [c for c in columns if c in _TEXT_RESULTS or c.startswith(("bands.", "labels."))]


def bool_columns(std: Any) -> list[str]:
    """The result columns that are booleans: the `share(…)` inputs of rollup formulas."""
    return [
        f"rollup_inputs.{term.key}"
        for rollup in std.model.rollups
        for term in rollup.terms
        if term.kind == "share"
    ]


def record_writer(std: Any, path: Path) -> Writer:
    """The writer of scored visits (dicts, `ScoredVisit.to_dict()`) to `path` that
    `sbm score`'s record path uses: the standard's columns, spreadsheet-safe text."""
    columns = result_columns(std)
    return open_writer(
        path,
        columns=columns,
        spreadsheet_safe=True,
        text_columns=text_columns(columns),
        bool_columns=bool_columns(std),
    )


class TableOutput:
    """Scored tables in, one atomic output file out; bytes independent of chunking.

    See the module docstring for how each format is written."""

    def __init__(
        self,
        path: Path,
        columns: list[str],
        template: dict[str, Any],
        booleans: Collection[str] = (),
    ) -> None:
        self.path = path
        self.columns = columns
        self.template = template
        self.booleans = frozenset(booleans)
        self.kind = path.suffix.lower().lstrip(".")
        self.count = 0
        self._pending: list[Any] = []
        self._held = 0
        self._arrow: Any = None
        self._behind: Any = None  # the writer thread, while in the with block
        # `run.why_not` sends a format a plugin writes to the record path instead
        self._file: Writer = _ArrowFile(path)

    def __enter__(self) -> TableOutput:
        self._file.__enter__()
        self._behind = Behind(self._emit)
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if et is None:
            self.prepare()
            self.publish()
        else:
            self.abort()

    def prepare(self) -> None:
        """Write what is still held, wait for the writer thread and finish the temporary
        file, without renaming it (`io.writers.commit_together` does that)."""
        try:
            if self.count == 0 and not self._pending:
                self._pending.append(self._empty())
            self._flush(final=True)
            self._behind.finish()
            if self._arrow is not None:
                self._arrow.close()
        except BaseException as exc:
            self.abort()
            if isinstance(exc, OSError):
                raise self._file.error(exc) from exc
            raise
        self._file.prepare()

    def publish(self) -> None:
        self._file.publish()

    def abort(self) -> None:
        """Stop the writer thread and drop the temporary file (the target stays as it was)."""
        if self._behind is not None:
            self._behind.abandon()
        if self._arrow is not None:
            with contextlib.suppress(Exception):  # the file is dropped anyway
                getattr(self._arrow, "discard", self._arrow.close)()
        self._file.abort()

    def write(self, table: Any) -> None:
        if table.column_names != self.columns:
            raise RuntimeError(
                "the batch backend's columns differ from the standard's result columns"
            )
        if table.num_rows == 0 and self._arrow is not None:
            return
        self._pending.append(table)
        self._held += table.num_rows
        self.count += table.num_rows
        self._flush(final=False)

    def _flush(self, final: bool) -> None:
        import pyarrow as pa

        size = {
            "parquet": ROW_GROUP,
            "xlsx": ROW_GROUP,
            "jsonl": JSONL_WRITE,
            "ndjson": JSONL_WRITE,
        }.get(self.kind, TEXT_WRITE)
        if not self._pending or (self._held < size and not final):
            return
        table = pa.concat_tables(self._pending)
        offset = 0
        while table.num_rows - offset >= size or (final and offset < table.num_rows):
            part = table.slice(offset, size)
            offset += part.num_rows
            self._behind.submit((part, final and offset == table.num_rows))
        if final and table.num_rows == 0:
            self._behind.submit((table, True))
        rest = table.slice(offset)
        self._pending = [rest] if rest.num_rows else []
        self._held = rest.num_rows

    def _emit(self, part: tuple[Any, bool]) -> None:
        """Encode one part, (table, whether it is the run's last), in the writer
        thread; a full disk is an `OutputError`."""
        try:
            self._encode(*part)
        except OSError as exc:
            raise self._file.error(exc) from exc

    @property
    def _stream(self) -> IO[bytes]:
        """The temporary file Arrow's writers write to (Parquet and CSV output)."""
        assert isinstance(self._file, _ArrowFile)
        return self._file.stream

    def _encode(self, table: Any, last: bool) -> None:
        table = table.combine_chunks()
        if self.kind == "parquet":
            if self._arrow is None:
                self._arrow = result_parquet_writer(self._stream, table.schema, table)
            self._arrow.write_row_group(table, last=last)
        elif self.kind == "csv":
            if self._arrow is None:
                from ..io.text_columns import CsvEncoder, csv_quote  # numpy: the streaming path's

                self._arrow = _WriteBehind(self._stream, CsvEncoder())
                header = ",".join(csv_quote(n) for n in table.column_names) + "\r\n"
                self._arrow.write(header.encode("utf-8"))
            self._arrow.inner.write(self._arrow, table)
        elif self.kind in ("jsonl", "ndjson"):
            if self._arrow is None:
                from ..io.jsonl_columns import JsonlEncoder  # numpy: the streaming path's own

                self._arrow = _WriteBehind(self._stream, JsonlEncoder(self.template))
            self._arrow.inner.write(self._arrow, table)
        elif self.kind == "xlsx":
            if self._arrow is None:
                from ..io.xlsx_columns import XlsxTableWriter

                self._arrow = XlsxTableWriter(self._stream, self.path, self.columns)
            self._arrow.write(table)

    def _empty(self) -> Any:
        """No rows, the standard's columns, typed as the record path types a column it
        saw no value in (text for the text results, bool for `booleans`, else float)."""
        import pyarrow as pa

        text = set(text_columns(self.columns))

        def kind(column: str) -> Any:
            if column in text:
                return pa.string()
            return pa.bool_() if column in self.booleans else pa.float64()

        return pa.table({c: pa.array([], kind(c)) for c in self.columns})


class _WriteBehind:
    """The temporary file of CSV or JSONL output, written by two threads of its own, in
    order: one assembles each part's lines ("sbm-assemble", `text_columns.Lines`),
    one writes them ("sbm-flush"); holds the encoder (`inner`).

    Why: the encoder's thread builds a part's pieces, which takes the GIL; filling
    the byte matrix and deleting its padding mostly does not, and the kernel copies
    every byte written into the page cache, which for JSONL takes about as long as
    building the text. In threads of their own these overlap the next part's pieces.
    The encoder hands over each part and never touches it again. An error of either
    thread (an OSError of a write) is raised by a later `write` or by `close`."""

    assembles = True

    def __init__(self, stream: IO[bytes], inner: Any) -> None:
        self.inner = inner
        self._flush: Behind[bytes | memoryview] = Behind(
            self._write_to(stream), depth=1, name="sbm-flush"
        )
        self._assemble: Behind[Any] = Behind(self._assembled, depth=1, name="sbm-assemble")

    @staticmethod
    def _write_to(stream: IO[bytes]) -> Callable[[bytes | memoryview], None]:
        def write(data: bytes | memoryview) -> None:
            stream.write(data)

        return write

    def _assembled(self, part: Any) -> None:
        from ..io.text_columns import Lines

        data = part.assembled() if isinstance(part, Lines) else part
        if len(data):
            self._flush.submit(data)

    def write(self, data: Any) -> int:
        """Take `data` (bytes, or `text_columns.Lines`) to write after what came
        before; returns the bytes taken that are known now (none for `Lines`)."""
        self._assemble.submit(data)
        return 0 if not isinstance(data, bytes | bytearray | memoryview) else len(data)

    def close(self) -> None:
        """Wait for every write; raise the first error of either thread."""
        try:
            self._assemble.finish()
        except BaseException:
            self._flush.abandon()
            raise
        self._flush.finish()

    def discard(self) -> None:
        self._assemble.abandon()
        self._flush.abandon()


class _ArrowFile(Writer):
    """The atomic temporary file of `sbm_engine.io.writers.Writer`, for Arrow's writers."""

    def _begin(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def _write(self, record: Any) -> None:  # pragma: no cover - tables go to Arrow writers
        raise NotImplementedError

    def _finish(self) -> None:
        self.stream.flush()
