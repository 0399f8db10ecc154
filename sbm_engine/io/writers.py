"""Atomic, deterministic writers of result and reject files: JSONL, CSV, XLSX, Parquet.

Why atomic: the product promises that output files appear whole or not at all.
Every writer writes to a hidden temporary file in the target's directory and,
when its ``with`` block ends cleanly, flushes, fsyncs and renames it over the
target (``os.replace`` is atomic on one file system). If the block raises, the
temporary file is deleted and an existing target is left untouched. A run that
writes several files (scored visits and their rejects) commits them with
`commit_together`, so they appear together or not at all. Any `OSError` while
writing (a full disk, a lost mount) becomes an `OutputError` naming the target.

Why deterministic: results are compared across runs and machines, so the same
records always give byte-identical files (no timestamps in XLSX, fixed key order,
floats as Python's shortest repr).

Tabular formats flatten nested dicts with dots (``coefficients.visit``) and write
lists (``critical``, ``warnings``) as compact JSON text; see `flatten`. Writers are
looked up by extension in `WRITERS`; plugins add formats with `register_writer`.
"""

from __future__ import annotations

import abc
import contextlib
import csv
import datetime as dt
import io
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, ClassVar, Final, Protocol, Self

from sbm_engine.io._deps import require
from sbm_engine.io.errors import OutputError

__all__ = [
    "PARQUET_CHUNK_ROWS",
    "WRITERS",
    "CsvWriter",
    "JsonlWriter",
    "ParquetWriter",
    "Writer",
    "XlsxWriter",
    "commit_together",
    "flatten",
    "json_line",
    "register_writer",
]

PARQUET_CHUNK_ROWS: Final = 65536
XLSX_MAX_ROWS: Final = 1_048_576


def _current_umask() -> int:
    # Read once at import: os.umask can only be read by setting it, which is not thread-safe.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK: Final = _current_umask()


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """One level of keys: nested dicts joined with dots, lists as compact JSON text.

    ``{"coefficients": {"visit": 0.5}, "critical": ["card"]}`` becomes
    ``{"coefficients.visit": 0.5, "critical": '["card"]'}``; key order is kept.
    """
    flat: dict[str, Any] = {}
    _flatten_into(flat, record, "")
    return flat


_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


def _flatten_into(flat: dict[str, Any], mapping: Mapping[Any, Any], prefix: str) -> None:
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if type(value) in _SCALARS:
            flat[name] = value
        elif isinstance(value, Mapping):
            _flatten_into(flat, value, name + ".")
        elif isinstance(value, list | tuple):
            flat[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            flat[name] = value


#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP's list).
FORMULA_START: Final = frozenset("=+-@\t\r")


def _csv_cell(value: Any) -> str:
    """A flat value as a CSV cell: `_cell_text`, with text that a spreadsheet would run
    as a formula (``=cmd|' /C calc'!A0``, ``@SUM(...)``) prefixed with ``'`` as OWASP
    recommends, so it opens as text. Only text cells: numbers such as -0.5 stay numbers.
    The streaming path's `io.text_columns.CsvEncoder` does the same, column-wise."""
    if type(value) is str:
        return "'" + value if value and value[0] in FORMULA_START else value
    return _cell_text(value)


def _cell_text(value: Any) -> str:
    """A flat value as CSV text, spelled like JSON spells it (None is an empty cell)."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


class Writer(abc.ABC):
    """Base of the atomic writers: a context manager over a temporary file.

    Subclasses implement `_begin` (the temporary file is open), `_write` (one
    record) and `_finish` (everything must be in the file when it returns).
    Ending is two steps, `prepare` (the temporary file complete, synced and closed)
    and `publish` (the rename), so that `commit_together` can make several files
    appear at once; `commit` does both.
    """

    extension: ClassVar[str] = ""
    #: The file is for people who open it in a spreadsheet (`sbm score`'s outputs): a
    #: format without cell types (CSV) then writes text that starts like a formula
    #: behind a ``'``. Off by default, so that data written and read back is exact.
    spreadsheet_safe: bool = False
    #: Columns that hold text, even where the first rows have no value: a format with
    #: column types (Parquet) types them as text rather than guessing from nothing,
    #: as the batch path does (`sbm score`'s visit fields: `shopper` is often absent).
    text_columns: frozenset[str] = frozenset()
    #: Columns that hold booleans (or nothing): typed bool where the first rows have no
    #: value, as the batch path types them (`share(…)` inputs of rollup formulas).
    bool_columns: frozenset[str] = frozenset()

    def __init__(self, path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> None:
        self.path = Path(path)
        self.columns: tuple[str, ...] | None = None if columns is None else tuple(columns)
        self.count = 0
        self._temp: Any = None
        self._state = "new"

    # context manager -----------------------------------------------------------

    def __enter__(self) -> Self:
        if self._state != "new":
            raise RuntimeError(f"the writer of {self.path} can be entered only once")
        directory = self.path.parent
        if not directory.is_dir():
            raise OutputError(f"cannot write {self.path}: no directory {str(directory)!r}")
        try:
            self._temp = tempfile.NamedTemporaryFile(
                dir=directory, delete=False, prefix=f".{self.path.name}.", suffix=".tmp"
            )
        except OSError as exc:
            raise self.error(exc) from exc
        self._state = "open"
        try:
            self._begin(self._temp.file)
        except BaseException as exc:
            self.abort()
            if isinstance(exc, OSError):
                raise self.error(exc) from exc
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def error(self, exc: OSError) -> OutputError:
        """The `OutputError` for an OS failure while writing this file, with the OS's
        reason: `cannot write out.csv: No space left on device`."""
        return OutputError(f"cannot write {self.path}: {exc.strerror or exc}")

    # records -------------------------------------------------------------------

    def write(self, record: Mapping[str, Any]) -> None:
        """Write one record (a dict in the output contract's nested shape)."""
        if self._state != "open":
            raise RuntimeError(f"the writer of {self.path} is not open; use it in a with block")
        try:
            self._write(record)
        except OSError as exc:
            raise self.error(exc) from exc
        self.count += 1

    def write_many(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Write every record of an iterable; returns how many were written."""
        written = 0
        for record in records:
            self.write(record)
            written += 1
        return written

    # ending --------------------------------------------------------------------

    def commit(self) -> None:
        """Finish the file and move it onto the target; on any failure, leave no trace."""
        self.prepare()
        self.publish()

    def prepare(self) -> None:
        """Finish the temporary file (written, flushed, synced, closed) but leave it under
        its temporary name; on any failure drop it. A full disk shows here at the latest."""
        if self._state != "open":
            raise RuntimeError(f"the writer of {self.path} is not open")
        try:
            self._finish()
            stream = self._temp.file
            stream.flush()
            if hasattr(os, "fchmod"):  # not on Windows
                os.fchmod(stream.fileno(), target_mode(self.path))
            os.fsync(stream.fileno())
            self._temp.close()
        except BaseException as exc:
            self.abort()
            if isinstance(exc, OSError):
                raise self.error(exc) from exc
            raise
        self._state = "ready"

    def publish(self) -> None:
        """Rename the prepared temporary file onto the target (atomic on one file system)."""
        if self._state != "ready":
            raise RuntimeError(f"the file {self.path} is not prepared")
        try:
            os.replace(self._temp.name, self.path)
        except OSError as exc:
            self.abort()
            raise self.error(exc) from exc
        self._state = "done"
        _fsync_directory(self.path.parent)

    def abort(self) -> None:
        """Drop the temporary file; the target, if any, is left as it was."""
        if self._state not in ("open", "ready"):
            return
        self._state = "done"
        with contextlib.suppress(Exception):
            self._discard()
        with contextlib.suppress(OSError):
            self._temp.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temp.name)

    # format hooks --------------------------------------------------------------

    @abc.abstractmethod
    def _begin(self, stream: IO[bytes]) -> None: ...

    @abc.abstractmethod
    def _write(self, record: Mapping[str, Any]) -> None: ...

    @abc.abstractmethod
    def _finish(self) -> None: ...

    def _discard(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release what the format holds after a failure (the temporary file goes anyway)."""


def target_mode(path: Path) -> int:
    """The permissions a rewritten file gets: those of the file it replaces, else the
    umask's default (a temporary file is created 0600)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


class Committable(Protocol):
    """What `commit_together` needs of a file: `Writer`, or anything that wraps one."""

    path: Path

    def prepare(self) -> None: ...

    def publish(self) -> None: ...

    def abort(self) -> None: ...


def commit_together(files: Sequence[Committable]) -> None:
    """Make several files of one run appear together, or none of them.

    Every file is prepared first (complete and synced under its temporary name); a
    failure there drops them all, and no target changes. Then they are renamed in
    the order given, so a reader that waits for the last one finds the others in
    place (`sbm score` passes the rejects first and the scored visits last). If a
    rename fails or is interrupted, the renames already done are undone: a new file
    is removed, and an older file it replaced comes back from a hard link taken
    just before (where the file system has none, the older file is lost, never
    mixed with a half run)."""
    try:
        for f in files:
            f.prepare()
    except BaseException:
        for f in files:
            f.abort()
        raise
    done: list[tuple[Path, Path | None]] = []  # renamed: (target, link to its older file)
    links: list[Path] = []
    try:
        for i, f in enumerate(files):
            keep = _link_older(f.path) if i < len(files) - 1 else None
            if keep is not None:
                links.append(keep)
            f.publish()
            done.append((f.path, keep))
    except BaseException:
        for f in files:
            f.abort()  # the temporaries not renamed yet
        for target, keep in reversed(done):
            with contextlib.suppress(OSError):
                if keep is not None:
                    os.replace(keep, target)
                else:
                    os.unlink(target)
        raise
    finally:
        for keep in links:
            with contextlib.suppress(OSError):
                os.unlink(keep)


@contextlib.contextmanager
def outputs_together(
    *outputs: Any, commit: Callable[[Sequence[Any]], None] = commit_together
) -> Iterator[tuple[Any, ...]]:
    """Enter the writers; at a clean end commit them together (`commit`, by default
    `io.writers.commit_together`: in the order given), on any exception drop every
    temporary file. Older files are left untouched either way."""
    entered: list[Any] = []
    try:
        for w in outputs:
            w.__enter__()
            entered.append(w)
        yield outputs
    except BaseException:
        for w in entered:
            w.abort()
        raise
    commit(outputs)


def _link_older(target: Path) -> Path | None:
    """A hard link to `target` under a hidden name beside it (None: no older file, or
    no hard links here)."""
    if not target.exists():
        return None
    keep = target.with_name(f".{target.name}.{os.urandom(4).hex()}.old.tmp")
    try:
        os.link(target, keep)
    except OSError:
        return None
    return keep


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable where the platform allows it."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


class JsonlWriter(Writer):
    """One JSON object per line, UTF-8, keys in the record's order."""

    extension = ".jsonl"

    def _begin(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def _write(self, record: Mapping[str, Any]) -> None:
        self._stream.write(json_line(record))

    def _finish(self) -> None:
        pass


def json_line(record: Mapping[str, Any]) -> bytes:
    """One record as a line of the JSONL output: UTF-8, keys in the record's order,
    `", "` and `": "` between them; a lone surrogate in some text is escaped rather
    than breaking the encoding. Anything JSON cannot carry is an `OutputError`."""
    try:
        return _json_line(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escape it, stay valid UTF-8
        return _json_line(record, ensure_ascii=True).encode("ascii")


def _json_line(record: Mapping[str, Any], *, ensure_ascii: bool) -> str:
    try:
        text = json.dumps(
            record, ensure_ascii=ensure_ascii, separators=(", ", ": "), allow_nan=False
        )
    except ValueError as exc:
        raise OutputError(f"cannot write a record as JSON: {exc}") from exc
    return text + "\n"


class _TableWriter(Writer):
    """Shared by the tabular formats: a fixed header and flat rows that must fit it.

    Subclasses implement `_open_table` (set up, nothing written yet) and may extend
    `_start_table`, called once the header is known (at once when `columns` is
    given, else with the first record or at the end).
    """

    def _begin(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._header: tuple[str, ...] | None = self.columns
        self._index: frozenset[str] | None = None
        self._open_table()
        if self._header is not None:
            self._start_table(self._header)

    @abc.abstractmethod
    def _open_table(self) -> None: ...

    def _row(self, record: Mapping[str, Any]) -> list[Any]:
        flat = flatten(record)
        if self._header is None:
            self._header = tuple(flat)
        if self._index is None:
            self._start_table(self._header)
        assert self._index is not None
        extra = [key for key in flat if key not in self._index]
        if extra:
            raise OutputError(
                f"cannot write {self.path}: record {self.count + 1} has columns not in the "
                f"header: {', '.join(extra)}"
            )
        return [flat.get(name) for name in self._header]

    def _start_table(self, header: tuple[str, ...]) -> None:
        self._index = frozenset(header)

    def _ensure_started(self) -> None:
        if self._index is None:
            self._header = self._header or ()
            self._start_table(self._header)


class CsvWriter(_TableWriter):
    """UTF-8 without BOM, comma-separated, a header line, JSON spelling of values.

    Lines end in CRLF as RFC 4180 says: with that terminator the csv module quotes
    every cell holding a CR or LF, so such text survives the round trip. With
    `spreadsheet_safe`, text that starts like a formula (``=``, ``+``, ``-``, ``@``,
    tab, CR) gets a leading ``'`` (`_csv_cell`), so a spreadsheet runs nothing.
    """

    extension = ".csv"

    def _open_table(self) -> None:
        self._text = io.TextIOWrapper(self._stream, encoding="utf-8", newline="")
        self._csv = csv.writer(self._text, lineterminator="\r\n")

    def _start_table(self, header: tuple[str, ...]) -> None:
        super()._start_table(header)
        if header:
            self._csv.writerow(header)

    def _write(self, record: Mapping[str, Any]) -> None:
        cell = _csv_cell if self.spreadsheet_safe else _cell_text
        self._csv.writerow([cell(value) for value in self._row(record)])

    def _finish(self) -> None:
        self._ensure_started()
        self._text.flush()
        self._text.detach()

    def _discard(self) -> None:
        text = getattr(self, "_text", None)
        if text is not None:
            text.detach()  # so that collecting it later does not touch the closed file


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FIXED_TIME: Final = dt.datetime(2000, 1, 1)  # naive: Excel stores UTC without a zone
_ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)
_XLSX_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


class XlsxWriter(_TableWriter):
    """One sheet named after the file, a header row, then one row per record.

    Written with openpyxl in write-only mode; the zip is then rewritten with fixed
    timestamps so that the bytes depend on the records only. Text that starts with
    ``=`` stays text (never a formula); characters XML cannot hold become U+FFFD.
    """

    extension = ".xlsx"

    def __init__(self, path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> None:
        super().__init__(path, columns)
        self._openpyxl = require("openpyxl", "excel", OutputError, f"writing {self.path.name}")

    def _open_table(self) -> None:
        self._book = self._openpyxl.Workbook(write_only=True)
        self._book.properties.created = _FIXED_TIME
        self._sheet = self._book.create_sheet(_sheet_title(self.path))

    def _start_table(self, header: tuple[str, ...]) -> None:
        super()._start_table(header)
        if header:
            self._sheet.append([self._cell(name) for name in header])

    def _write(self, record: Mapping[str, Any]) -> None:
        if self.count + 2 > XLSX_MAX_ROWS:
            raise OutputError(f"cannot write {self.path}: more rows than Excel allows")
        self._sheet.append([self._cell(value) for value in self._row(record)])

    def _cell(self, value: Any) -> Any:
        if isinstance(value, float):
            if not math.isfinite(value):
                return repr(value)
            if float(f"{value:.16g}") != value:
                return self._exact_number(value)
            return value
        if not isinstance(value, str):
            return value
        value = _ILLEGAL_XML.sub("\ufffd", value)
        if value.startswith("="):
            from openpyxl.cell import WriteOnlyCell

            cell = WriteOnlyCell(self._sheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    def _exact_number(self, value: float) -> Any:
        """A number cell holding the shortest repr of `value`: openpyxl writes numbers
        to 16 significant digits, which loses the last bit of some (0.43500000000000005
        would come back as 0.4350000000000001); 17 are needed to read the same float."""
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self._sheet, value=repr(value))
        cell.data_type = "n"
        return cell

    def _finish(self) -> None:
        self._ensure_started()
        with tempfile.TemporaryFile(dir=self.path.parent) as scratch:
            self._save_book(scratch)
            scratch.seek(0)
            _rezip_fixed(scratch, self._stream)

    def _save_book(self, scratch: IO[bytes]) -> None:
        """`Workbook.save`, with a zip archive of our own that is closed even when the
        save fails (a full disk): openpyxl leaves its archive open then, and collecting
        it later prints a `ZipFile.__del__` traceback about the closed scratch file."""
        import zipfile  # here: a run without XLSX output does not need it

        from openpyxl.writer.excel import ExcelWriter

        self._book.properties.modified = _FIXED_TIME
        archive = zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        try:
            ExcelWriter(self._book, archive).save()  # closes the archive when it succeeds
        except BaseException:
            with contextlib.suppress(Exception):
                archive.close()  # marks it closed even when writing its end fails
            raise

    def _discard(self) -> None:
        sheet = getattr(self, "_sheet", None)
        if sheet is None:
            return
        sheet.close()  # ends openpyxl's row generator and its scratch file cleanly
        writer = getattr(sheet, "_writer", None)
        if writer is not None:
            writer.cleanup()


def _sheet_title(path: Path) -> str:
    title = _XLSX_SHEET_BAD.sub("_", path.stem).strip("'")[:31]
    return title or "Sheet1"


_CORE_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _rezip_fixed(source: IO[bytes], target: IO[bytes]) -> None:
    """Copy a zip entry by entry with fixed timestamps (and a fixed modified date)."""
    import zipfile

    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with (
        zipfile.ZipFile(source) as old,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new,
    ):
        for entry in old.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            info.create_system = 3
            if entry.filename == "docProps/core.xml":
                data = _CORE_MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", old.read(entry))
                new.writestr(info, data)
                continue
            with old.open(entry) as src, new.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


#: Rows of the first part written that decide which columns get a dictionary.
DICTIONARY_SAMPLE: Final = 4096
#: A column with at most this many distinct values in the sample always gets one.
DICTIONARY_MAX: Final = 64


def parquet_options(schema: Any, first: Any = None, skip: Collection[str] = ()) -> dict[str, Any]:
    """How result files are written to Parquet (both scoring paths use this).

    Numbers and booleans are dictionary encoded and left uncompressed: an item's
    scores take a handful of values, so the dictionary indices are already a few
    bits each and snappy gains under a tenth of the size while costing a quarter
    of the write time. Text columns (ids, JSON lists) are compressed. Every column
    has its statistics (null count, minimum, maximum), the per-item scores too,
    whether `io.parquet_file` or pyarrow encodes them.

    A column that hardly repeats in `first` (the first table written: more than
    DICTIONARY_MAX and more than a quarter of its first DICTIONARY_SAMPLE values
    distinct, as visit ids and coefficients over many items are) gets no dictionary:
    Arrow would build one as big as a row group, four times slower to write than
    plain values and larger.
    The sample is the first rows of the output, so the choice does not depend on
    chunking. `skip`: columns whose choice is not needed (`io.parquet_file` encodes
    them with dictionaries of its own); they get none here."""
    import pyarrow as pa

    texts = [f.name for f in schema if pa.types.is_string(f.type)]
    options: dict[str, Any] = {
        "compression": {f.name: "snappy" if f.name in texts else "none" for f in schema},
        "write_statistics": True,
    }
    if first is not None:
        options["use_dictionary"] = [
            name for name in first.column_names if name not in skip and _repeats(first.column(name))
        ]
    return options


def _repeats(column: Any) -> bool:
    from .. import arrow_compute as pc

    sample = column.slice(0, DICTIONARY_SAMPLE)
    distinct = pc.count_distinct(sample, mode="all").as_py()
    return bool(distinct <= DICTIONARY_MAX or distinct * 4 <= len(sample))


class ParquetWriter(_TableWriter):
    """Flat columns, buffered in chunks of PARQUET_CHUNK_ROWS rows.

    Column types come from the first chunk: numbers are float64, booleans bool,
    anything else (or a mix) string; a column empty in the whole first chunk is
    float64, or string if it is one of `text_columns`, or bool if one of
    `bool_columns`. All columns are nullable.
    Later numbers in a string column are written as their JSON text; later text in a
    number column is an OutputError.
    """

    extension = ".parquet"

    def __init__(self, path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> None:
        super().__init__(path, columns)
        require("pyarrow._parquet", "arrow", OutputError, f"writing {self.path.name}")
        import pyarrow

        self._pa = pyarrow

    def _open_table(self) -> None:
        self._rows: list[list[Any]] = []
        self._writer: Any = None
        self._kinds: list[str] = []

    def _write(self, record: Mapping[str, Any]) -> None:
        self._rows.append(self._row(record))
        if len(self._rows) >= PARQUET_CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        self._ensure_started()
        header = self._header or ()
        if self._writer is None:
            self._kinds = [
                _column_kind(
                    (row[i] for row in self._rows),
                    "string"
                    if name in self.text_columns
                    else "bool"
                    if name in self.bool_columns
                    else "float64",
                )
                for i, name in enumerate(header)
            ]
            pairs = zip(header, self._kinds, strict=True)
            schema = self._pa.schema([(name, _ARROW_TYPES[kind](self._pa)) for name, kind in pairs])
        else:
            schema = self._writer.schema
        arrays = [
            self._array(name, kind, [row[i] for row in self._rows])
            for i, (name, kind) in enumerate(zip(header, self._kinds, strict=True))
        ]
        table = self._pa.Table.from_arrays(arrays, schema=schema)
        if self._writer is None:
            self._writer = result_parquet_writer(self._stream, schema, table)
        self._writer.write_row_group(table)
        self._rows = []

    def _array(self, name: str, kind: str, values: list[Any]) -> Any:
        if kind == "string":
            values = [None if value is None else _cell_text(value) for value in values]
        else:
            for value in values:
                if value is not None and _value_kind(value) != kind:
                    raise OutputError(
                        f"cannot write {self.path}: column {name!r} holds {kind} values "
                        f"(from the first rows) but a record has {value!r}"
                    )
            if kind == "float64":
                values = [None if value is None else float(value) for value in values]
        return self._pa.array(values, type=_ARROW_TYPES[kind](self._pa))

    def _finish(self) -> None:
        self._flush()
        self._writer.close()

    def _discard(self) -> None:
        writer = getattr(self, "_writer", None)
        if writer is not None:
            writer.close()


def result_parquet_writer(stream: IO[bytes], schema: Any, first: Any) -> Any:
    """A writer of result row groups (`write_row_group`, `close`) with the options
    `parquet_options` gives for `first`, the first table written: our own item-column
    encoder (`parquet_file.ResultParquetWriter`) when numpy is there, else pyarrow's
    writer. numpy belongs to the `fast` extra, not to `arrow`: Parquet output must work
    without it, only slower, in other (equally valid) bytes."""
    try:
        from sbm_engine.io.parquet_file import ResultParquetWriter, own_columns
    except ModuleNotFoundError as exc:
        if exc.name != "numpy":
            raise
        return _ArrowRowGroups(stream, schema, parquet_options(schema, first))
    options = parquet_options(schema, first, skip=set(own_columns(schema)))
    return ResultParquetWriter(stream, schema, options)


class _ArrowRowGroups:
    """pyarrow's Parquet writer behind `ResultParquetWriter`'s methods: one row group
    per table, the same options; `stream` is left open, as that writer leaves it."""

    def __init__(self, stream: IO[bytes], schema: Any, options: dict[str, Any]) -> None:
        from sbm_engine.io.arrow_parquet import parquet_writer

        self.schema = schema
        self._writer = parquet_writer(stream, schema, **options)

    def write_row_group(self, table: Any, last: bool = False) -> None:
        """One row group (`last` as `ResultParquetWriter` takes it: nothing differs here)."""
        if table.num_rows:
            self._writer.write_table(table, row_group_size=table.num_rows)

    def close(self) -> None:
        self._writer.close()


_ARROW_TYPES: Final = {
    "float64": lambda pa: pa.float64(),
    "bool": lambda pa: pa.bool_(),
    "string": lambda pa: pa.string(),
}


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "float64"
    return "string"


def _column_kind(values: Iterable[Any], empty: str = "float64") -> str:
    """The Arrow kind of a column from its values; `empty` when it has none."""
    kinds = {_value_kind(value) for value in values if value is not None}
    if not kinds:
        return empty
    return kinds.pop() if len(kinds) == 1 else "string"


WRITERS: dict[str, type[Writer]] = {}


def register_writer(ext: str, cls: type[Writer]) -> None:
    """Make `open_writer` write files ending in `ext` (".csv" or "csv") with `cls`."""
    ext = ext.lower()
    WRITERS[ext if ext.startswith(".") else "." + ext] = cls


register_writer(".jsonl", JsonlWriter)
register_writer(".ndjson", JsonlWriter)
register_writer(".csv", CsvWriter)
register_writer(".xlsx", XlsxWriter)
register_writer(".parquet", ParquetWriter)


def write_text_atomic(path: Path, text: str) -> None:
    """Write a whole text file (UTF-8, `\\n` line ends) or nothing; see `write_atomic`."""
    write_atomic(path, lambda f: f.write(text.encode("utf-8")))


def write_atomic(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write a whole file or nothing: `write` fills a temporary file beside `path`, then
    it is renamed into place, keeping the mode of the file it replaces. Raises
    `OutputError` (`cannot write PATH: REASON`) when the folder is missing or not
    writable or the disk is full; on any error the temporary file is removed."""
    from ..messages import message

    if not path.parent.is_dir():
        raise OutputError(message("cli.write.no_folder", path=path, folder=repr(str(path.parent))))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            if hasattr(os, "fchmod"):  # not on Windows
                os.fchmod(f.fileno(), target_mode(path))
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            reason = exc.strerror or exc
            raise OutputError(message("cli.write.failed", path=path, reason=reason)) from exc
        raise
