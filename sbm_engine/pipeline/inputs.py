"""Input files read in chunks of Arrow rows, with the record path's reading rules.

A Parquet file is read by row groups; a CSV file with Arrow's streaming reader set
to the record path's cell semantics (every cell text, only an empty cell null).
What Arrow cannot read as `io.csv_rows` does (a line not in the encoding, a quote
that never closes, a cell longer than the csv module's limit, a row longer than
Arrow's block) is `Inexact`, and the file is read with `io.csv_rows` itself
(`InputFile.exact`): rows and unreadable rows alike. Where a row is in its file
(`file:ROW` for Parquet, `file:LINE` for CSV) is kept with it: a CSV row's line is
its index plus two unless the file says otherwise (quoted line breaks, blank lines,
rows that do not fit the header, lone CRs), in which case `csv_lines` counts them
with the record path's own row reader.

A JSONL or XLSX file is read by the columnar readers (`io.jsonl_columns`,
`io.xlsx_columns`): each chunk carries its `TableChunk` (`Chunk.read`), which knows
the line or sheet row of every table row and the lines no record could be made of,
so the rejects of such a chunk are placed as soon as it is scored
(`rejects.numbered`). What those readers cannot put in a table exactly is
`Unsupported`: the record path reads the inputs instead.
"""

from __future__ import annotations

import codecs
import contextlib
import os
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from ..io import InputError
from ..io.csv_rows import CsvRow, CsvRows, cell_limit, line_terminators, row_of_line
from ..io.pandas_guard import allow_pandas_for
from ..io.readers import blank_row, csv_dialect, csv_record, table_layout
from ..io.records import VISIT_FIELDS, TableLayout
from ..results import RejectedVisit, ScoringSession
from .errors import Inexact, Unsupported

#: Default rows per chunk: large enough to amortize per-chunk overhead, small enough
#: that a chunk's intermediate arrays stay well under 100 MB.
CHUNK_ROWS: Final = 65536
#: Rows per Arrow batch of a CSV file read with `io.csv_rows` (`_exact_batches`).
EXACT_BATCH: Final = 4096


# -- inputs ----------------------------------------------------------------------------------------


@attrs.define
class Chunk:
    """One chunk of one input file, and where its rows are."""

    file: int  # index into the inputs
    start: int  # reader row of its first row in the file (0-based)
    table: Any  # pyarrow Table as read (CSV: all text)
    #: JSONL and XLSX: the reader's `TableChunk` (the line or sheet row of each table
    #: row, the unreadable lines, the records as written); None for other kinds
    read: Any = None

    @property
    def unreadable(self) -> list[tuple[int, Any]]:
        """(line, `SourceRecord`) of the lines of this chunk no record could be made of."""
        return [] if self.read is None else self.read.unreadable


@attrs.define
class InputFile:
    """One input file and what is needed to read it again (for ids) and to place rows."""

    index: int
    path: Path
    kind: str  # "parquet", "csv", "jsonl", "xlsx", or "table" (Arrow batches in memory)
    header: list[str]
    encoding: str = "utf8"
    delimiter: str = ","
    decimal: str = "."
    rows: int = 0  # reader rows so far (CSV: including all-empty rows)
    #: CSV columns dictionary encoded as they are read (the answers: few distinct
    #: texts each), in the reader's thread rather than the scorer's
    dictionary: frozenset[str] = frozenset()
    visit_fields: frozenset[str] = frozenset()  # the standard's declared visit fields
    header_lines: int = 1  # CSV: physical lines up to and including the header
    header_end: int = 0  # CSV: the byte where the data rows start
    #: CSV read with `io.csv_rows` (`_exact_chunks`) rather than Arrow; then the line
    #: of each row read, and the unreadable rows as (line, reject)
    exact: bool = False
    lines: Any = None
    unreadable: list[tuple[int, RejectedVisit]] = attrs.Factory(list)
    #: Arrow tables given in memory (kind "table"), JSONL and XLSX files: the visit_id
    #: column of each batch so far, kept to confirm duplicates as a file's ids are read
    #: again (a JSONL or XLSX file read again would be parsed whole again, for every
    #: chunk with a repeated id: its ids take a few bytes a visit instead)
    ids: list[Any] = attrs.Factory(list)
    #: JSONL: the standard's items (an empty answer to one is an absent one); XLSX: the
    #: sheet to read (None: the first)
    items: frozenset[str] = frozenset()
    sheet: str | None = None
    #: JSONL: the declared fields of a type (number, duration, date, datetime), whose
    #: column may hold numbers and empty texts (N/A), as the engine reads them
    typed_fields: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        return str(self.path)

    @property
    def read_by_chunks(self) -> bool:
        """Read by a columnar reader whose chunks place their own rows (JSONL, XLSX)."""
        return self.kind in ("jsonl", "xlsx")

    @property
    def cell_decimal(self) -> str | None:
        """The decimal mark text cells are converted with (CSV); None: cells are typed."""
        return self.decimal if self.kind == "csv" else None

    def visit_id_column(self) -> str | None:
        for name in self.header:
            if name.strip() == "visit_id":
                return name
        return None


#: Rows per chunk of an XLSX input at most. A chunk's cells are held as arrays while
#: its table is built (as Python values where the reader falls back to calamine, which
#: holds the whole sheet besides): smaller chunks than the reader's default hold less
#: and read no slower.
XLSX_CHUNK: Final = 4096
#: Lines per chunk of a JSONL input at most: a chunk's lines and their parsed objects
#: (a hundred answers a line) are held while it is read, so smaller chunks than the
#: reader's default halve the peak memory and read no slower.
JSONL_CHUNK: Final = 8192
#: Inputs read by the columnar readers of `io.jsonl_columns` and `io.xlsx_columns`.
TABLE_CHUNK_KINDS: Final = {".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}


def open_input(index: int, path: Path, std: Any, options: dict[str, Any]) -> InputFile:
    """Check an input's header the way the record path does (same InputError)."""
    kind = TABLE_CHUNK_KINDS.get(path.suffix.lower())
    if kind is not None:
        return _open_table_chunks(index, path, kind, std, options)
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa

        from ..io.arrow_parquet import ParquetFile

        try:
            schema = ParquetFile(path).schema_arrow
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read {path} as Parquet: {exc}") from exc
        allow_pandas_for(schema)  # before any of its cells is read
        names = schema.names
        table_layout(path, names, std.model.visit_fields, part="columns")
        _check_layout(names, path)
        return InputFile(index, path, "parquet", list(names))

    dialect = csv_dialect(
        path, options.get("encoding"), options.get("delimiter"), options.get("decimal")
    )
    _arrow_encoding(dialect.encoding)  # Unsupported for UTF-16/32
    with CsvRows(path, dialect.encoding, dialect.delimiter) as rows:
        header, header_lines, header_end = rows.header, rows.header_lines, rows.header_end
    if header is None:  # nothing but blank lines: no visits, as on the record path
        size = path.stat().st_size
        return InputFile(index, path, "csv", [], header_lines=0, header_end=size)
    if header_end is None:  # pragma: no cover - only UTF-16/32 files, refused above
        raise Unsupported(f"{path}: {dialect.encoding} input")
    table_layout(path, header, std.model.visit_fields)
    _check_layout(header, path)
    fields = field_names(std)
    answers = frozenset(name for name in header if name.strip() not in fields)
    return InputFile(
        index,
        path,
        "csv",
        header,
        dialect.encoding,
        dialect.delimiter,
        dialect.decimal,
        dictionary=answers,
        visit_fields=frozenset(std.model.visit_fields),
        header_lines=header_lines,
        header_end=header_end,
    )


def _open_table_chunks(
    index: int, path: Path, kind: str, std: Any, options: dict[str, Any]
) -> InputFile:
    """A JSONL or XLSX input: checked as `formats.read_visits` checks it at once (a
    directory or a file that cannot be opened, an unknown encoding: InputError;
    UTF-16/32 JSONL: `Unsupported`). Its header is checked as it is read."""
    from ..io.readers import check_readable

    check_readable(path)
    f = InputFile(
        index,
        path,
        kind,
        ["visit_id"],  # the column of visit_ids in the chunk tables, when a row has one
        encoding=options.get("encoding") or "utf-8",
        visit_fields=frozenset(std.model.visit_fields),
        items=frozenset(std.item_names),
        sheet=options.get("sheet"),
        typed_fields=frozenset(f.key for f in std.model.fields.values() if f.type != "text"),
    )
    if kind == "jsonl":
        table_chunks(f, 1)  # an unknown encoding, UTF-16/32: raised before any read
    return f


def table_chunks(f: InputFile, chunk_rows: int) -> Iterator[Any]:
    """The `TableChunk`s of a JSONL or XLSX file (`jsonl_columns.Unsupported` raised as
    the pipeline's `Unsupported`, at once or while iterating)."""
    from ..io import jsonl_columns

    try:
        if f.kind == "jsonl":
            rows = min(chunk_rows, JSONL_CHUNK)
            chunks = jsonl_columns.read_jsonl_chunks(
                f.path,
                visit_fields=f.visit_fields,
                items=f.items,
                encoding=f.encoding,
                chunk_rows=rows,
                typed_fields=f.typed_fields,
                ahead=_read_ahead,
            )
        else:
            from ..io import xlsx_columns  # zipfile, which a JSONL run does not need

            rows = min(chunk_rows, XLSX_CHUNK)
            chunks = xlsx_columns.read_xlsx_chunks(
                f.path, visit_fields=f.visit_fields, sheet=f.sheet, chunk_rows=rows
            )
    except jsonl_columns.Unsupported as exc:
        raise Unsupported(str(exc)) from exc
    return _unsupported_raised(chunks)


def _read_ahead(blocks: Iterator[Any]) -> Iterator[Any]:
    """A JSONL file's lines read and quoted in a thread of their own while Arrow parses
    the block before (`jsonl_columns.read_jsonl_chunks`' `ahead`): two blocks at most
    in hand, a block's lines and its quoted bytes being tens of megabytes."""
    from .overlap import prefetch

    return prefetch(blocks, depth=0, name="sbm-read-lines")


def _unsupported_raised(chunks: Iterator[Any]) -> Iterator[Any]:
    from ..io.jsonl_columns import Unsupported as ReaderUnsupported

    try:
        yield from chunks
    except ReaderUnsupported as exc:
        raise Unsupported(str(exc)) from exc


def _chunk_ids(table: Any) -> Any:
    """The visit_id column of a JSONL or XLSX chunk (nulls when no row has one)."""
    import pyarrow as pa

    if "visit_id" in table.column_names:
        return table.column("visit_id")
    return pa.nulls(table.num_rows, pa.string())


def _check_layout(names: Sequence[str], path: Path) -> None:
    stripped = [str(n).strip() for n in names]
    if "" in stripped:
        raise Unsupported(f"{path}: a column without a name")
    if "answers" in stripped:
        raise Unsupported(f"{path}: an `answers` column")
    if len(set(names)) != len(names):
        raise Unsupported(f"{path}: repeated column names")


def _arrow_encoding(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    if name in ("utf-8", "utf-8-sig"):
        return "utf8"  # Arrow's own UTF-8 reader; it skips a byte-order mark
    if name.startswith(("utf-16", "utf-32")):
        raise Unsupported(f"{encoding} input")
    return encoding


def _csv_reader(f: InputFile, chunk_rows: int, columns: list[str] | None = None) -> Any:
    """A streaming pyarrow CSV reader of the rows after the header, with the record
    path's cell semantics: every column text, only an empty cell null, no booleans,
    rows that do not fit skipped (they are found again, with their lines, by
    `csv_lines`). None when nothing follows the header."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if f.header_end >= f.path.stat().st_size:
        return None
    block = 1 << 20
    read = pcsv.ReadOptions(
        encoding=_arrow_encoding(f.encoding),
        block_size=block,
        use_threads=False,
        column_names=f.header,
    )
    parse = pcsv.ParseOptions(
        delimiter=f.delimiter,
        quote_char='"',
        double_quote=True,
        newlines_in_values=True,
        ignore_empty_lines=True,
        invalid_row_handler=_skip_row,
    )
    convert = pcsv.ConvertOptions(
        # answers as bytes: `_chunk` checks their few distinct values are UTF-8
        column_types={n: pa.binary() if n in f.dictionary else pa.string() for n in f.header},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        true_values=[],
        false_values=[],
        include_columns=columns,
    )
    stream = pa.OSFile(str(f.path))
    stream.seek(f.header_end)  # the header as `io.csv_rows` read it, however many lines
    return pcsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)


def _skip_row(row: Any) -> str:
    return "skip"


@contextlib.contextmanager
def quiet_skip_row() -> Iterator[None]:
    """Arrow decodes a row that does not fit the header as UTF-8 before it calls
    `_skip_row`; a row that is not UTF-8 makes that fail inside Arrow, which prints
    "Exception ignored in: _skip_row" with a traceback and goes on to fail the read
    (`Inexact`: the file is read with `io.csv_rows`, which rejects that row). The
    message is noise on the terminal: while this is entered, it is dropped."""
    import sys

    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if unraisable.object is _skip_row and isinstance(unraisable.exc_value, UnicodeError):
            return
        previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def iter_chunks(f: InputFile, chunk_rows: int) -> Iterator[Chunk]:
    """The chunks of one file, exactly `chunk_rows` rows each (the last may be short).

    A CSV file is read with Arrow unless that cannot be exact (`Inexact`): then, if
    none of its chunks was given out yet, it is read with `io.csv_rows` from the
    start (`f.exact`); else `Inexact` goes up and the run starts again."""
    import pyarrow as pa

    if f.kind in ("jsonl", "xlsx"):
        for read in table_chunks(f, chunk_rows):
            chunk = Chunk(f.index, f.rows, read.table, read)
            f.rows += read.table.num_rows
            f.ids.append(_chunk_ids(read.table))
            yield chunk
        return
    if f.kind == "csv":
        if not f.exact:
            try:
                yield from _rechunked(f, _arrow_csv_batches(f, chunk_rows), chunk_rows)
                return
            except Inexact:
                if f.rows:
                    raise
                f.exact = True
        yield from _exact_chunks(f, chunk_rows)
        return
    try:
        source = _parquet_batches(f.path, chunk_rows, f.visit_id_column())
        yield from _rechunked(f, source, chunk_rows)
    except pa.ArrowInvalid as exc:
        raise InputError(f"cannot read {f.path} after row {f.rows}: {exc}") from exc
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read {f.path}: {exc}") from exc


def _rechunked(f: InputFile, batches: Iterator[Any], chunk_rows: int) -> Iterator[Chunk]:
    """Record batches regrouped into chunks of `chunk_rows` rows."""
    import pyarrow as pa

    pending: list[Any] = []
    held = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        held += batch.num_rows
        while held >= chunk_rows:
            table = pa.Table.from_batches(pending)
            yield _chunk(f, table.slice(0, chunk_rows))
            rest = table.slice(chunk_rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield _chunk(f, pa.Table.from_batches(pending))


def _arrow_csv_batches(f: InputFile, chunk_rows: int) -> Iterator[Any]:
    """The record batches of Arrow's CSV reader; what it cannot read (bytes not in the
    encoding, a row longer than its block, …) is `Inexact`, as `io.csv_rows` reads
    those rows differently (it rejects them one by one and goes on)."""
    import pyarrow as pa

    try:
        reader = _csv_reader(f, chunk_rows)
        if reader is None:
            return
        yield from reader
    except (pa.ArrowInvalid, UnicodeError) as exc:
        raise Inexact(f.index, f"{f.path}: {exc}") from exc
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read {f.path}: {exc}") from exc


def _exact_chunks(f: InputFile, chunk_rows: int) -> Iterator[Chunk]:
    """A CSV file's rows as the record path reads them (`io.csv_rows`), as all-text
    chunks like Arrow's: a row that fits the header goes to a chunk (its line kept in
    `f.lines`), any other is unreadable and kept, rejected, in `f.unreadable`; rows of
    empty cells are skipped, as the record path skips them."""
    f.lines = array("q")
    f.unreadable = []
    yield from _rechunked(f, _exact_batches(f), chunk_rows)


def _exact_batches(f: InputFile) -> Iterator[Any]:
    """`_exact_rows` as Arrow record batches of EXACT_BATCH rows, text, "" as null.

    Why batches this small: a row is a list of Python strings (50 bytes each, and a
    wave has hundreds of columns), so a whole chunk of them would take a gigabyte."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    null = pa.scalar(None, pa.string())

    def batch(rows: list[list[str]]) -> Any:
        arrays = []
        for column in zip(*rows, strict=True):
            values = pa.array(column, type=pa.string())
            arrays.append(pc.if_else(pc.equal(values, ""), null, values))
        return pa.RecordBatch.from_arrays(arrays, names=f.header)

    rows: list[list[str]] = []
    for line, cells in _exact_rows(f):
        rows.append(cells)
        f.lines.append(line)
        if len(rows) == EXACT_BATCH:
            yield batch(rows)
            rows = []
    if rows:
        yield batch(rows)


def _exact_rows(f: InputFile, rejects: bool = True) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of the rows of a CSV file that fit its header, read with
    `io.csv_rows`; the others go to `f.unreadable` as rejects (when `rejects`)."""
    layout = TableLayout(f.header, f.visit_fields)
    width = len(f.header)
    with CsvRows(f.path, f.encoding, f.delimiter) as reader:
        for row in reader.rows():
            cells = row.cells
            if blank_row(row):
                continue
            if cells is not None and row.error is None and len(cells) == width:
                yield row.line, cells
            elif rejects:
                f.unreadable.append((row.line, row_reject(f, layout, row)))


def row_reject(f: InputFile, layout: TableLayout, row: CsvRow) -> RejectedVisit:
    """The rejection of a CSV row no record can be made of, as the record path makes it
    (`readers.csv_record`, `ScoringSession.unreadable`), its source `file:LINE`."""
    source = f"{f.label}:{row.line}"
    rec = csv_record(source, layout, row)
    return ScoringSession.unreadable(rec.raw, source, rec.error or "unreadable")


def _parquet_batches(path: Path, chunk_rows: int, ids: str | None = None) -> Iterator[Any]:
    """A Parquet file's record batches, text columns as dictionaries but the visit ids
    (`ids`): they hardly repeat, and a dictionary as long as the chunk would only have
    to be checked for repeated values (`batch.columns.ArrowSource`).

    Row group by row group when the groups are no bigger than a few chunks: that is
    faster than `iter_batches`, and its memory stays flat, where `iter_batches`'s
    grows with the rows read. A file of huge row groups is read with `iter_batches` instead, so
    memory stays bounded by the chunk size."""
    import pyarrow as pa

    from ..io.arrow_parquet import ParquetFile

    schema = ParquetFile(path).schema_arrow
    strings = [f.name for f in schema if pa.types.is_string(f.type) and f.name != ids]
    pf = ParquetFile(path, read_dictionary=strings)
    meta = pf.metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    if max(sizes, default=0) > 4 * chunk_rows:
        yield from pf.iter_batches(batch_size=chunk_rows)
        return
    for i in range(meta.num_row_groups):
        yield from pf.read_row_group(i).to_batches()


def _chunk(f: InputFile, table: Any) -> Chunk:
    """The rows read, one Arrow chunk a column; CSV answers dictionary encoded (with
    `arrow_text.dictionary_encode`, which is much faster than the CSV reader's own
    dictionary columns on one-byte codes).

    A CSV chunk read by Arrow with an answer that is not UTF-8, or a cell longer than
    `csv_rows.cell_limit()`, is `Inexact`: the record path rejects those rows."""
    import pyarrow as pa

    from ..batch.arrow_text import dictionary_encode

    columns = [c.combine_chunks() if c.num_chunks != 1 else c.chunk(0) for c in table.columns]
    for i, name in enumerate(table.column_names):
        if name in f.dictionary:
            try:
                columns[i] = dictionary_encode(columns[i])
            except pa.ArrowInvalid:
                raise Inexact(f.index, f"{f.path}: column `{name}` is not UTF-8") from None
    if f.kind == "csv" and not f.exact:
        _check_cell_lengths(f, table.column_names, columns)
    table = pa.Table.from_arrays(columns, names=table.column_names)
    chunk = Chunk(f.index, f.rows, table)
    f.rows += table.num_rows
    return chunk


def _check_cell_lengths(f: InputFile, names: list[str], columns: list[Any]) -> None:
    """`Inexact` when a cell is longer than `csv.reader` reads (`csv_rows.cell_limit`)."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    limit = cell_limit()
    for name, column in zip(names, columns, strict=True):
        values = column.dictionary if pa.types.is_dictionary(column.type) else column
        if len(values) == 0:
            continue
        longest = pc.max(pc.binary_length(values)).as_py()
        if longest is None or longest <= limit:  # bytes: at least as many as characters
            continue
        if pc.max(pc.utf8_length(values)).as_py() > limit:
            raise Inexact(f.index, f"{f.path}: a cell of column `{name}` is too long")


def id_batches(f: InputFile, column: str) -> Iterator[list[Any]]:
    """The visit_ids of a file's rows, numbered as its chunks number them."""
    if f.kind in ("table", "jsonl", "xlsx"):
        for column_ids in list(f.ids):  # a JSONL or XLSX file's: appended as it is read
            yield column_ids.to_pylist()
    elif f.kind == "parquet":
        from ..io.arrow_parquet import ParquetFile

        for batch in ParquetFile(f.path).iter_batches(batch_size=CHUNK_ROWS, columns=[column]):
            yield batch.column(0).to_pylist()
    elif f.exact:
        at = f.header.index(column)
        ids: list[Any] = []
        for _, cells in _exact_rows(f, rejects=False):
            ids.append(cells[at] or None)
            if len(ids) == CHUNK_ROWS:
                yield ids
                ids = []
        if ids:
            yield ids
    else:
        import pyarrow as pa

        try:
            reader = _csv_reader(f, CHUNK_ROWS, [column])
            for batch in reader if reader is not None else ():
                yield batch.column(0).to_pylist()
        except (pa.ArrowInvalid, UnicodeError) as exc:  # in a block beyond the rows read
            raise Inexact(f.index, f"{f.path}: {exc}") from exc


# -- CSV lines ------------------------------------------------------------


@attrs.define
class CsvLines:
    """Where the rows of a CSV file start, as `io.csv_rows` counts lines."""

    lines: Any  # line of each row Arrow reads (all-empty rows included), an array("q")
    misfits: list[CsvRow]  # the rows that do not fit the header (not all empty)
    unreadable: int = 0  # rows `io.csv_rows` cannot read (which Arrow read otherwise)


def csv_lines(f: InputFile) -> CsvLines:
    """One `io.csv_rows` pass: the starting line of every row (the record path's numbers)."""
    width = len(f.header)
    out = CsvLines(array("q"), [])
    with CsvRows(f.path, f.encoding, f.delimiter) as reader:
        for row in reader.rows():
            if row.cells is None or row.error is not None:
                out.unreadable += 1
            elif len(row.cells) == width:
                out.lines.append(row.line)
            elif not blank_row(row):
                out.misfits.append(row)
    return out


def simple_lines(f: InputFile) -> bool:
    """True when every row is one line right after a one-line header: then row k is
    line k + 2. Checked by counting line ends (LF, CRLF, lone CR) against the rows
    read: every row, blank line or row Arrow skipped takes at least one line, so the
    two agree only when each line is one row."""
    count, final = line_terminators(f.path)
    lines = count + (0 if final else 1)
    return f.header_lines == 1 and lines == f.rows + 1


def last_line_reads_alike(f: InputFile) -> bool:
    """Whether `io.csv_rows` reads the file's last line as Arrow did, when each line is
    one row (`simple_lines`): the one place where a quote that never closes can
    hide, since it runs into no other line (`v9,"10` at the end of the file)."""
    line = _last_line(f.path)
    if b'"' not in line:
        return True
    row = row_of_line(line, f.encoding, f.delimiter)
    return row is not None and row.error is None


def _last_line(path: Path) -> bytes:
    """The last line of a file, without its line end."""
    with open(path, "rb") as stream:
        pos = stream.seek(0, os.SEEK_END)
        body = b""
        tail = b""
        while pos > 0:
            step = min(1 << 16, pos)
            pos -= step
            stream.seek(pos)
            tail = stream.read(step) + tail
            body = tail[:-2] if tail.endswith(b"\r\n") else tail
            if body is tail and tail.endswith((b"\n", b"\r")):
                body = tail[:-1]
            cut = max(body.rfind(b"\n"), body.rfind(b"\r"))
            if cut >= 0:
                return body[cut + 1 :]
        return body


def field_names(std: Any) -> frozenset[str]:
    """The names a column may have to be a visit field rather than an answer."""
    return frozenset(VISIT_FIELDS) | frozenset(std.model.visit_fields)
