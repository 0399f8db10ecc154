"""Streaming readers of visit files: JSONL, CSV/TSV, XLSX and Parquet.

Why streaming: a wave can hold millions of visits; every reader yields one
`SourceRecord` at a time and never holds the file (the csv module over a text
stream, openpyxl in read-only mode, Parquet batch by batch).

Why records and not exceptions: a line that cannot be read (bad JSON, a row that
does not fit the header) must still reach the rejects file with its source, so it
is yielded with ``record=None`` and ``error`` set. Only problems with the file as a
whole (unknown format, unreadable, undetectable encoding) raise `InputError`.

`READERS` holds the engine's own formats by extension (`register_reader` adds one);
the engine offers them to the plugin manager through its built-in plugin, and
`sbm_engine.formats.read_visits` chooses among everything the plugins offer. A
reader is called as ``fn(path, options)`` and returns an iterator of `SourceRecord`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Final

import attrs

from sbm_engine.io._deps import require
from sbm_engine.io.csv_rows import CsvRow, CsvRows
from sbm_engine.io.detect import CsvDialect, detect_dialect, number_parser
from sbm_engine.io.errors import InputError
from sbm_engine.io.pandas_guard import allow_pandas_for
from sbm_engine.io.records import SourceRecord, TableLayout, is_empty, jsonable
from sbm_engine.messages import message

__all__ = [
    "PARQUET_BATCH_ROWS",
    "READERS",
    "ReadOptions",
    "Reader",
    "blank_row",
    "check_readable",
    "csv_dialect",
    "csv_record",
    "io_convention",
    "keyword_reader",
    "parse_json_line",
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "read_xlsx",
    "register_reader",
    "table_layout",
]

PARQUET_BATCH_ROWS: Final = 65536


def _names(values: Iterable[str]) -> frozenset[str]:
    """A converter typed for mypy (`converter=frozenset` leaves its type unsolved)."""
    return frozenset(values)


@attrs.frozen
class ReadOptions:
    """What the caller told us about an input file; None means "detect it"."""

    visit_fields: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    sheet: str | None = None


Reader = Callable[[Path, ReadOptions], Iterator[SourceRecord]]

READERS: dict[str, Reader] = {}


def _normalize_extension(ext: str) -> str:
    ext = ext.lower()
    return ext if ext.startswith(".") else "." + ext


# -- the two calling conventions -------------------------------------------------------------
# `sbm_engine.io` calls a reader as ``fn(path, ReadOptions)``; the plugin hook
# `sbm_readers` offers ``reader(path, visit_fields=..., **options)``. The engine's own
# readers travel through the plugin manager like any pack's, so each convention is
# adapted to the other here, and an adapted reader is unwrapped rather than wrapped twice.


@attrs.frozen
class _KeywordReader:
    """An `sbm_engine.io` reader offered in the hook's convention."""

    io_reader: Reader

    def __call__(
        self, path: str | os.PathLike[str], visit_fields: Iterable[str] = (), **options: Any
    ) -> Iterator[SourceRecord]:
        return self.io_reader(Path(path), ReadOptions(visit_fields=visit_fields, **options))


@attrs.frozen
class _OptionsReader:
    """A plugin reader offered in `sbm_engine.io`'s convention: options left unset
    (None) are not passed, so a reader needs to accept only the options users give it."""

    reader: Callable[..., Iterator[SourceRecord]]

    def __call__(self, path: Path, options: ReadOptions) -> Iterator[SourceRecord]:
        values = attrs.asdict(options, recurse=False)
        kwargs = {k: v for k, v in values.items() if v is not None and k != "visit_fields"}
        return self.reader(path, visit_fields=values["visit_fields"], **kwargs)


def keyword_reader(io_reader: Reader) -> Callable[..., Iterator[SourceRecord]]:
    """An `sbm_engine.io` reader (`fn(path, ReadOptions)`) in the hook's convention."""
    return _KeywordReader(io_reader)


def io_convention(reader: Callable[..., Iterator[SourceRecord]]) -> Reader:
    """A hook-convention reader as `fn(path, ReadOptions)` (an adapted io reader unwrapped)."""
    return reader.io_reader if isinstance(reader, _KeywordReader) else _OptionsReader(reader)


def register_reader(ext: str, fn: Reader) -> None:
    """Make `read_visits` read files ending in `ext` (".csv" or "csv") with `fn`."""
    READERS[_normalize_extension(ext)] = fn


def check_readable(path: Path) -> None:
    """Raise `InputError` when `path` is a directory or cannot be opened."""
    if path.is_dir():
        raise InputError(f"cannot read {path}: it is a directory")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc


# JSONL ---------------------------------------------------------------------------


class _JsonProblem(ValueError):
    """A well-formed line that JSON Lines still does not allow."""


def _reject_constant(name: str) -> Any:
    raise _JsonProblem(message("visit.row.json_constant", name=name))


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _JsonProblem(message("visit.row.json_duplicate_key", key=repr(key)))
        result[key] = value
    return result


def parse_json_line(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The object on one JSONL line, or (None, why) for bad JSON or a non-object."""
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        where = message("visit.row.json_at", reason=exc.msg, column=exc.colno)
        return None, message("visit.row.invalid_json", reason=where)
    except ValueError as exc:  # _JsonProblem, or an integer with more digits than Python converts
        return None, message("visit.row.invalid_json", reason=exc)
    except RecursionError:
        return None, message("visit.row.invalid_json", reason=message("visit.row.json_too_deep"))
    if not isinstance(value, dict):
        return None, message("visit.row.not_an_object", kind=_json_kind(value))
    return value, None


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return message("visit.row.kind_boolean")
    if isinstance(value, list):
        return message("visit.row.kind_array")
    if isinstance(value, str):
        return message("visit.row.kind_string")
    if value is None:
        return message("visit.row.kind_null")
    return message("visit.row.kind_number")


def read_jsonl(path: Path, options: ReadOptions) -> Iterator[SourceRecord]:
    """One visit per line; blank lines are skipped, bad lines become error records.

    Lines are decoded one by one (UTF-8 unless told), so a line with broken bytes
    is one rejected record rather than the end of the run; a UTF-8 BOM is ignored.
    """
    encoding = options.encoding or "utf-8"
    try:
        codec = codecs.lookup(encoding)
    except LookupError as exc:
        raise InputError(f"{path}: unknown encoding {encoding!r}") from exc
    if codec.name.startswith(("utf-16", "utf-32")):
        return _jsonl_text_lines(path, encoding)
    return _jsonl_byte_lines(path, encoding)


def _jsonl_byte_lines(path: Path, encoding: str) -> Iterator[SourceRecord]:
    with _open_binary(path) as stream:
        for number, line in enumerate(_lines(path, stream), start=1):
            if number == 1:
                line = line.removeprefix(codecs.BOM_UTF8)
            try:
                text = line.decode(encoding)
            except UnicodeDecodeError as exc:
                text = line.decode(encoding, errors="replace").rstrip("\r\n")
                error = message(
                    "visit.row.line_not_encoded",
                    encoding=encoding,
                    reason=exc.reason,
                    byte=exc.start,
                )
                yield SourceRecord(f"{path}:{number}", None, text, error)
                continue
            yield from _jsonl_record(path, number, text)


def _jsonl_text_lines(path: Path, encoding: str) -> Iterator[SourceRecord]:
    try:
        with open(path, encoding=encoding, newline="") as stream:
            for number, line in enumerate(stream, start=1):
                yield from _jsonl_record(path, number, line.removeprefix("\ufeff"))
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read {path} as {encoding}: {exc.reason}") from exc


def _jsonl_record(path: Path, number: int, text: str) -> Iterator[SourceRecord]:
    text = text.rstrip("\r\n")
    if text.strip() == "":
        return
    record, error = parse_json_line(text)
    yield SourceRecord(f"{path}:{number}", record, text, error)


def _lines(path: Path, stream: IO[bytes]) -> Iterator[bytes]:
    try:
        yield from stream
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _open_binary(path: Path) -> IO[bytes]:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc


# CSV -----------------------------------------------------------------------------


def read_csv(path: Path, options: ReadOptions) -> Iterator[SourceRecord]:
    """One visit per row after the header; the dialect is detected now, rows read later.

    Rows that are empty (no cells or only empty cells) are skipped; a row whose
    cell count differs from the header's is an error record, and so is a row that
    cannot be read (`csv_rows`: a line not in the encoding, a quote that never
    closes, a cell that is too long), and reading goes on. Quoted cells may span
    lines: the source is the line where the row starts.
    """
    dialect = csv_dialect(path, options.encoding, options.delimiter, options.decimal)
    return _csv_records(path, dialect, options.visit_fields)


def csv_dialect(
    path: Path, encoding: str | None, delimiter: str | None, decimal: str | None
) -> CsvDialect:
    """A CSV file's dialect: what the caller gave, the rest detected (`detect_dialect`);
    a `.tsv` file is tab-separated unless told otherwise."""
    if delimiter is None and path.suffix.lower() == ".tsv":
        delimiter = "\t"
    return detect_dialect(path, encoding=encoding, delimiter=delimiter, decimal=decimal)


def table_layout(
    path: Path,
    names: Sequence[str],
    visit_fields: Collection[str],
    convert: Callable[[Any], Any] = jsonable,
    part: str = "header",
) -> TableLayout:
    """The layout of a table file's column names (a CSV `header`, Parquet `columns`),
    or the `InputError` that names the file."""
    try:
        return TableLayout(names, visit_fields, convert)
    except ValueError as exc:
        raise InputError(f"{path}: bad {part}: {exc}") from exc


def blank_row(row: CsvRow) -> bool:
    """A row of empty cells only (a blank line has none): skipped, no visit."""
    return row.cells is not None and all(cell == "" for cell in row.cells)


def _csv_records(
    path: Path, dialect: CsvDialect, visit_fields: Collection[str]
) -> Iterator[SourceRecord]:
    with CsvRows(path, dialect.encoding, dialect.delimiter) as rows:
        if rows.header is None:
            return
        layout = table_layout(path, rows.header, visit_fields, number_parser(dialect.decimal))
        for row in rows.rows():
            if blank_row(row):
                continue
            yield csv_record(f"{path}:{row.line}", layout, row)


def csv_record(source: str, layout: TableLayout, row: CsvRow) -> SourceRecord:
    """The record of one CSV row (`csv_rows.CsvRow`), or why it cannot be read: a row
    the reader could not read (its first line as text), a line not in the file's
    encoding (the row as read), a row whose cell count differs from the header's (its
    cells), a cell without a column."""
    if row.cells is None:
        return SourceRecord(source, None, row.text, row.error)
    cells = row.cells
    fits = len(cells) == len(layout)
    if row.error is not None:
        return SourceRecord(source, None, layout.raw(cells) if fits else list(cells), row.error)
    if not fits:
        misfit = message("visit.row.cells", cells=len(cells), columns=len(layout))
        return SourceRecord(source, None, list(cells), misfit)
    record, error = layout.to_record(cells)
    return SourceRecord(source, record, layout.raw(cells), error)


# XLSX ----------------------------------------------------------------------------


def read_xlsx(path: Path, options: ReadOptions) -> Iterator[SourceRecord]:
    """One visit per row of the first sheet (or `options.sheet`); header in row 1.

    Formulas give their cached values; numbers stay numbers, dates become ISO text
    (a date without a time as ``2026-11-02``). Empty rows are skipped.
    """
    openpyxl = require("openpyxl", "excel", InputError, f"reading {path.name}")
    return _xlsx_records(openpyxl, path, options)


def _xlsx_records(openpyxl: Any, path: Path, options: ReadOptions) -> Iterator[SourceRecord]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise InputError(f"cannot read {path} as an Excel workbook: {exc}") from exc
    try:
        sheet = _xlsx_sheet(workbook, path, options.sheet)
        sheet.reset_dimensions()  # trust the cells, not the stored dimension
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        try:
            layout = TableLayout(header, options.visit_fields)
        except ValueError as exc:
            raise InputError(f"{path}: sheet {sheet.title!r}: bad header: {exc}") from exc
        for number, values in enumerate(rows, start=2):
            cells = [_excel_cell(value) for value in values]
            if all(is_empty(cell) for cell in cells):
                continue
            record, error = layout.to_record(cells)
            source = f"{path}:{sheet.title}:{number}"
            yield SourceRecord(source, record, layout.raw(cells), error)
    finally:
        workbook.close()


def _xlsx_sheet(workbook: Any, path: Path, name: str | None) -> Any:
    if name is None:
        return workbook.worksheets[0]
    if name not in workbook.sheetnames:
        names = ", ".join(repr(sheet) for sheet in workbook.sheetnames)
        raise InputError(f"{path}: no sheet {name!r}; the sheets are {names}")
    return workbook[name]


def _excel_cell(value: Any) -> Any:
    """Excel has no date type, only date-times: midnight means a plain date."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date().isoformat()
    return jsonable(value)


# Parquet -------------------------------------------------------------------------


def read_parquet(path: Path, options: ReadOptions) -> Iterator[SourceRecord]:
    """One visit per row, read in batches of PARQUET_BATCH_ROWS; nulls are absent keys.

    A struct or map column named ``answers`` supplies answers as well.
    """
    parquet = require("pyarrow.parquet", "arrow", InputError, f"reading {path.name}")
    return _parquet_records(parquet, path, options)


def _parquet_records(parquet: Any, path: Path, options: ReadOptions) -> Iterator[SourceRecord]:
    import pyarrow

    try:
        source = parquet.ParquetFile(path)
    except (OSError, pyarrow.ArrowException) as exc:
        raise InputError(f"cannot read {path} as Parquet: {exc}") from exc
    with source:
        allow_pandas_for(source.schema_arrow)  # nanosecond times convert as they always did
        names = source.schema_arrow.names
        layout = table_layout(path, names, options.visit_fields, part="columns")
        number = 0
        try:
            for batch in source.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                columns = [column.to_pylist() for column in batch.columns]
                for cells in zip(*columns, strict=True):
                    number += 1
                    record, error = layout.to_record(cells)
                    yield SourceRecord(f"{path}:{number}", record, layout.raw(cells), error)
        except (OSError, pyarrow.ArrowException) as exc:
            raise InputError(f"cannot read {path} after row {number}: {exc}") from exc


register_reader(".jsonl", read_jsonl)
register_reader(".ndjson", read_jsonl)
register_reader(".csv", read_csv)
register_reader(".tsv", read_csv)
register_reader(".xlsx", read_xlsx)
register_reader(".parquet", read_parquet)
