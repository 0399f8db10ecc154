"""The chunked Arrow path of `sbm score`: Parquet and CSV waves scored a chunk at a time.

Why a second path: the record path reads, scores and writes one visit at a time,
which costs tens of microseconds of interpreter per visit; a wave of a million
visits wants whole columns. This path reads record batches (Parquet
`iter_batches`, CSV `open_csv`), scores each with the vectorized backend
(`sbm_engine.batch.score_table`) and writes Arrow tables, so memory is bounded by
the chunk size (plus 8 bytes per visit_id seen, for duplicates) and not by the wave.

It keeps the record path's contract exactly, which is what most of this module is
about:

* CSV cells are read as text and converted with the record path's own
  `number_parser` (per distinct value, then spread), so `5` is 5, `4,5` is 4.5,
  `na` and `N/A` stay text and an empty cell is a missing answer;
* duplicates across chunks: `score_table` sees one chunk, so the ids seen so far
  are kept as sorted 64-bit hashes; a hash hit is confirmed against the real ids
  (a re-read of the visit_id column) before a row is moved to the rejects;
* sources of rejects: Parquet `file:ROW`; CSV `file:LINE`, assuming one line per
  row unless the file says otherwise (quoted line breaks, blank lines, rows that
  do not fit the header, lone CRs), in which case the lines are recomputed with
  the record path's own row reader (`io.csv_rows`);
* a CSV file that Arrow cannot read exactly as the record path does (a line not in
  the encoding, a quote that never closes, a cell longer than the csv module's
  limit, a row longer than Arrow's block) is read with `io.csv_rows` instead, rows
  and unreadable rows alike (`_exact_chunks`); when that is found only after some
  of its chunks were scored, the run starts again (`_Inexact`), outputs being
  temporary files until the end;
* output bytes do not depend on the chunk size or on `--jobs` (fixed Parquet row
  groups, results written in input order).

Anything this path cannot read exactly raises `Unsupported`, and the command falls
back to the record path (outputs are temporary files until the end, so nothing
half-written is left).
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import IO, Any, Final

import attrs

from ..messages import message

#: Default rows per chunk: large enough to amortize per-chunk overhead, small enough
#: that a chunk's intermediate arrays stay well under 100 MB.
CHUNK_ROWS: Final = 65536
#: Rows per Parquet row group of the output, fixed so the bytes do not depend on chunking.
ROW_GROUP: Final = 65536
#: Rows the batch evaluator scores at a time here. Four times the library's default
#: (`batch.evaluator.CHUNK`): with glibc keeping freed memory (`keep_freed_memory`)
#: its larger arrays no longer fault in fresh pages, and fewer Python steps a chunk
#: cut the scoring by 12-17 % in-process and ~1 s end to end in paired runs, for
#: 30-70 MB more memory (benchmarks/CLI.md).
SCORE_BLOCK: Final = 1 << 15
#: Rows per write of CSV/JSONL output (only a buffering size; the bytes do not depend on it).
TEXT_WRITE: Final = 65536
#: Rows per Arrow batch of a CSV file read with `io.csv_rows` (`_exact_batches`).
EXACT_BATCH: Final = 4096
#: Rejects per pickle in the rejects spool: a whole chunk's at once took 3× longer
#: to pickle and read back (a memo of every object) and more memory.
SPOOL_BATCH: Final = 1024
_INPUT_SUFFIXES: Final = frozenset({".parquet", ".csv", ".tsv"})
_OUTPUT_SUFFIXES: Final = frozenset({".parquet", ".csv", ".jsonl", ".ndjson", ".xlsx"})
_DUP_CODE: Final = "duplicate_visit"


class Unsupported(Exception):
    """This input or output cannot be handled exactly here: use the record path."""


class _Inexact(Exception):
    """CSV file `index` cannot be read exactly with Arrow: read it with `io.csv_rows`."""

    def __init__(self, index: int, why: str) -> None:
        super().__init__(why)
        self.index = index


# -- choosing the path -------------------------------------------------------------------------


def arrow_available() -> bool:
    """pyarrow (with parquet and csv) and numpy importable."""
    try:
        import numpy  # noqa: F401
        import pyarrow
        import pyarrow.csv
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def why_not(inputs: Sequence[str], output: Path, sheet: str | None) -> str | None:
    """Why the Arrow path cannot run these files (None: it can)."""
    if not arrow_available():
        return "pyarrow and numpy are needed (pip install 'sbm-engine[arrow,fast]')"
    from ..io import readers, writers

    plugin_readers = readers._all_readers()
    plugin_writers = writers._all_writers()
    for p in inputs:
        suffix = Path(p).suffix.lower()
        if suffix not in _INPUT_SUFFIXES:
            return f"{p}: only .parquet, .csv and .tsv inputs"
        if plugin_readers.get(suffix) is not readers.READERS.get(suffix):
            return f"{p}: a plugin reads {suffix} files"
    suffix = output.suffix.lower()
    if suffix not in _OUTPUT_SUFFIXES:
        return f"{output}: unknown output format"
    if plugin_writers.get(suffix) is not writers.WRITERS.get(suffix):
        return f"{output}: a plugin writes {suffix} files"
    if sheet is not None:
        return "--sheet is for XLSX inputs"
    return None


# -- settings shared with the workers ------------------------------------------------------------


@attrs.frozen
class Job:
    """What a worker needs to load the standard once: its id or path, the options, and
    the language of the messages (`--lang`: a worker does not inherit the choice)."""

    standard: str
    allow_unknown: bool
    language: str = attrs.field(factory=lambda: _language())


def _language() -> str:
    from ..messages import language

    return language()


_WORKER: dict[str, Any] = {}


def _worker_init(job: Job, lifeline: Any) -> None:
    """Load the standard once per worker. Ctrl-C reaches every process of the terminal's
    group: a worker ignores it (the parent stops the run and ends the workers), and it
    leaves as soon as its parent is gone (`_die_with_parent`)."""
    import signal
    import threading

    from ..api import load
    from ..messages import set_language

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_die_with_parent, args=(lifeline,), daemon=True).start()
    keep_freed_memory()
    set_language(job.language)
    _WORKER["std"] = load(job.standard, allow_unknown=job.allow_unknown)


def _die_with_parent(lifeline: Any) -> None:
    """End this worker when the `sbm score` that started it ends, however it ends.

    Why: a killed `sbm score` (SIGKILL, a crash) cannot stop its pool, and an idle
    worker blocked on its task queue would wait there forever (the parent id does not
    help: a worker's parent is the forkserver, which the workers themselves keep
    alive). `lifeline` is the read end of a pipe whose only write end the parent
    holds and never writes to: it reads as closed the moment the parent is gone."""
    with contextlib.suppress(OSError, EOFError):
        lifeline.poll(None)
    os._exit(1)


def _worker_score(payload: tuple[bytes, str | None]) -> tuple[bytes, list[dict[str, Any]]]:
    """Score one chunk in a worker: IPC bytes in, IPC bytes and rejects out."""
    import pyarrow as pa

    data, decimal = payload
    batch = pa.ipc.open_stream(data).read_all()
    scored, rejects = score_chunk(_WORKER["std"], batch, decimal)
    return _to_ipc(scored), rejects


def _to_ipc(table: Any) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


# -- scoring one chunk ---------------------------------------------------------------------------


def score_chunk(std: Any, table: Any, decimal: str | None) -> tuple[Any, list[dict[str, Any]]]:
    """Score one chunk: the scored table (with a `__row` column, the chunk row of each
    scored visit) and the rejects as dicts with `row` (chunk row), `visit_id`, `errors`
    and `record` (parsed from `score_table`'s JSON text).

    `decimal` is None for Parquet (cells are typed already) and the CSV decimal mark
    for CSV, whose all-text cells are converted here as the record path converts them
    and whose all-empty rows are skipped as the record path skips them."""
    import numpy as np
    import pyarrow as pa

    from ..batch import evaluator_for, score_table

    rows = np.arange(table.num_rows, dtype=np.int64)
    if decimal is not None:
        table, rows = _csv_cells(std, table, decimal)
    result = score_table(evaluator_for(std, SCORE_BLOCK), table)
    rejected = result.rejects
    rejects = []
    bad = np.zeros(table.num_rows, dtype=bool)
    if rejected.num_rows:
        chunk_rows = rejected.column("row").to_numpy()
        bad[chunk_rows] = True
        for r, vid, errors, record in zip(
            rows[chunk_rows].tolist(),
            rejected.column("visit_id").to_pylist(),
            rejected.column("errors").to_pylist(),
            rejected.column("record").to_pylist(),
            strict=True,
        ):
            rejects.append(
                {
                    "row": r,
                    "visit_id": vid,
                    "errors": json.loads(errors),
                    "record": json.loads(record),
                }
            )
    scored = result.scored.append_column("__row", pa.array(rows[~bad], type=pa.int64()))
    return scored, rejects


def _csv_cells(std: Any, table: Any, decimal: str) -> tuple[Any, Any]:
    """CSV text cells as the record path reads them: answers through `number_parser`
    (each distinct text converted once), visit fields as text; all-empty rows dropped."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..io.detect import number_parser

    fields = _field_names(std)
    convert = number_parser(decimal)
    n = table.num_rows
    empty = np.ones(n, dtype=bool)
    maybe_empty = n > 0  # stop looking once every row has a cell (usually at visit_id)
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if maybe_empty and column.null_count < n:
            empty &= column.is_null().to_numpy(zero_copy_only=False)
            maybe_empty = bool(empty.any())
        if name.strip() in fields:
            columns.append(column)
            continue
        columns.append(_converted(column, convert, pc, pa))
    rows = np.arange(n, dtype=np.int64)
    out = pa.table(columns, names=table.column_names)
    if maybe_empty:
        rows = np.flatnonzero(~empty)
        out = out.take(pa.array(rows, type=pa.int64()))
    return out, rows


def _converted(column: Any, convert: Any, pc: Any, pa: Any) -> Any:
    """A text column with numbers as numbers: a dictionary of the converted distinct
    values (a dense union when texts and numbers mix, as `4` and `na` do)."""
    enc = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
    distinct = enc.dictionary.to_pylist()
    values = [convert(v) for v in distinct]
    kinds = {type(v) for v in values}
    if kinds <= {str}:
        return enc
    for v in values:
        if type(v) is int and not -(2**63) <= v < 2**63:
            raise Unsupported(f"an integer answer with {len(str(v))} digits")
    order = (str, int, float)
    arrays = {str: pa.string(), int: pa.int64(), float: pa.float64()}
    if len(kinds) == 1:
        (kind,) = kinds
        dictionary = pa.array(values, type=arrays[kind])
    else:
        present = [k for k in order if k in kinds]
        tag = {k: i for i, k in enumerate(present)}
        children = {k: [v for v in values if type(v) is k] for k in present}
        seen = dict.fromkeys(present, 0)
        types, offsets = [], []
        for v in values:
            k = type(v)
            types.append(tag[k])
            offsets.append(seen[k])
            seen[k] += 1
        dictionary = pa.UnionArray.from_dense(
            pa.array(types, type=pa.int8()),
            pa.array(offsets, type=pa.int32()),
            [pa.array(children[k], type=arrays[k]) for k in present],
        )
    return pa.DictionaryArray.from_arrays(enc.indices, dictionary)


def _field_names(std: Any) -> frozenset[str]:
    from ..io.records import VISIT_FIELDS

    return frozenset(VISIT_FIELDS) | frozenset(std.model.visit_fields)


# -- inputs ----------------------------------------------------------------------------------------


@attrs.define
class Chunk:
    """One chunk of one input file, and where its rows are."""

    file: int  # index into the inputs
    start: int  # reader row of its first row in the file (0-based)
    table: Any  # pyarrow Table as read (CSV: all text)


@attrs.define
class InputFile:
    """One input file and what is needed to read it again (for ids) and to place rows."""

    index: int
    path: Path
    kind: str  # "parquet" or "csv"
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
    unreadable: list[tuple[int, dict[str, Any]]] = attrs.Factory(list)

    @property
    def label(self) -> str:
        return str(self.path)

    def visit_id_column(self) -> str | None:
        for name in self.header:
            if name.strip() == "visit_id":
                return name
        return None


def open_input(index: int, path: Path, std: Any, options: dict[str, Any]) -> InputFile:
    """Check an input's header the way the record path does (same InputError)."""
    from ..io import InputError
    from ..io.records import TableLayout

    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            names = pq.ParquetFile(path).schema_arrow.names
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read {path} as Parquet: {exc}") from exc
        try:
            TableLayout(names, std.model.visit_fields)
        except ValueError as exc:
            raise InputError(f"{path}: bad columns: {exc}") from exc
        _check_layout(names, path)
        return InputFile(index, path, "parquet", list(names))
    from ..io.csv_rows import CsvRows
    from ..io.detect import detect_dialect

    delimiter = options.get("delimiter")
    if delimiter is None and path.suffix.lower() == ".tsv":
        delimiter = "\t"
    dialect = detect_dialect(
        path, encoding=options.get("encoding"), delimiter=delimiter, decimal=options.get("decimal")
    )
    _arrow_encoding(dialect.encoding)  # Unsupported for UTF-16/32
    with CsvRows(path, dialect.encoding, dialect.delimiter) as rows:
        header, header_lines, header_end = rows.header, rows.header_lines, rows.header_end
    if header is None:  # nothing but blank lines: no visits, as on the record path
        size = path.stat().st_size
        return InputFile(index, path, "csv", [], header_lines=0, header_end=size)
    if header_end is None:  # pragma: no cover - only UTF-16/32 files, refused above
        raise Unsupported(f"{path}: {dialect.encoding} input")
    try:
        TableLayout(header, std.model.visit_fields)
    except ValueError as exc:
        raise InputError(f"{path}: bad header: {exc}") from exc
    _check_layout(header, path)
    fields = _field_names(std)
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
def _quiet_skip_row() -> Iterator[None]:
    """Arrow decodes a row that does not fit the header as UTF-8 before it calls
    `_skip_row`; a row that is not UTF-8 makes that fail inside Arrow, which prints
    "Exception ignored in: _skip_row" with a traceback and goes on to fail the read
    (`_Inexact`: the file is read with `io.csv_rows`, which rejects that row). The
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

    A CSV file is read with Arrow unless that cannot be exact (`_Inexact`): then, if
    none of its chunks was given out yet, it is read with `io.csv_rows` from the
    start (`f.exact`); else `_Inexact` goes up and the run starts again."""
    import pyarrow as pa

    from ..io import InputError

    if f.kind == "csv":
        if not f.exact:
            try:
                yield from _rechunked(f, _arrow_csv_batches(f, chunk_rows), chunk_rows)
                return
            except _Inexact:
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
    encoding, a row longer than its block, …) is `_Inexact`, as `io.csv_rows` reads
    those rows differently (it rejects them one by one and goes on)."""
    import pyarrow as pa

    from ..io import InputError

    try:
        reader = _csv_reader(f, chunk_rows)
        if reader is None:
            return
        yield from reader
    except (pa.ArrowInvalid, UnicodeError) as exc:
        raise _Inexact(f.index, f"{f.path}: {exc}") from exc
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
    import pyarrow.compute as pc

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
    from ..io.csv_rows import CsvRows
    from ..io.readers import csv_record
    from ..io.records import TableLayout
    from ..standard import ScoringSession

    layout = TableLayout(f.header, f.visit_fields)
    width = len(f.header)
    with CsvRows(f.path, f.encoding, f.delimiter) as reader:
        for row in reader.rows():
            cells = row.cells
            if cells is not None and all(cell == "" for cell in cells):
                continue
            if cells is not None and row.error is None and len(cells) == width:
                yield row.line, cells
            elif rejects:
                source = f"{f.label}:{row.line}"
                rec = csv_record(source, layout, row)
                reject = ScoringSession.unreadable(rec.raw, source, rec.error or "unreadable")
                f.unreadable.append((row.line, reject.to_dict()))


def _parquet_batches(path: Path, chunk_rows: int, ids: str | None = None) -> Iterator[Any]:
    """A Parquet file's record batches, text columns as dictionaries but the visit ids
    (`ids`): they hardly repeat, and a dictionary as long as the chunk would only have
    to be checked for repeated values (`batch.columns.ArrowSource`).

    Row group by row group when the groups are no bigger than a few chunks: that is
    faster than `iter_batches`, and its memory stays flat, where `iter_batches` grew
    by ~40 MB per million rows read (measured on the benchmark wave: 310 MB at 1M rows,
    440 MB at 4M). A file of huge row groups is read with `iter_batches` instead, so
    memory stays bounded by the chunk size."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.ParquetFile(path).schema_arrow
    strings = [f.name for f in schema if pa.types.is_string(f.type) and f.name != ids]
    pf = pq.ParquetFile(path, read_dictionary=strings)
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
    `csv_rows.cell_limit()`, is `_Inexact`: the record path rejects those rows."""
    import pyarrow as pa

    from ..batch.arrow_text import dictionary_encode

    columns = [c.combine_chunks() if c.num_chunks != 1 else c.chunk(0) for c in table.columns]
    for i, name in enumerate(table.column_names):
        if name in f.dictionary:
            try:
                columns[i] = dictionary_encode(columns[i])
            except pa.ArrowInvalid:
                raise _Inexact(f.index, f"{f.path}: column `{name}` is not UTF-8") from None
    if f.kind == "csv" and not f.exact:
        _check_cell_lengths(f, table.column_names, columns)
    table = pa.Table.from_arrays(columns, names=table.column_names)
    chunk = Chunk(f.index, f.rows, table)
    f.rows += table.num_rows
    return chunk


def _check_cell_lengths(f: InputFile, names: list[str], columns: list[Any]) -> None:
    """`_Inexact` when a cell is longer than `csv.reader` reads (`csv_rows.cell_limit`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..io.csv_rows import cell_limit

    limit = cell_limit()
    for name, column in zip(names, columns, strict=True):
        values = column.dictionary if pa.types.is_dictionary(column.type) else column
        if len(values) == 0:
            continue
        longest = pc.max(pc.binary_length(values)).as_py()
        if longest is None or longest <= limit:  # bytes: at least as many as characters
            continue
        if pc.max(pc.utf8_length(values)).as_py() > limit:
            raise _Inexact(f.index, f"{f.path}: a cell of column `{name}` is too long")


# -- duplicates across chunks ------------------------------------------------------------------


class SeenIds:
    """The visit_ids of earlier chunks as sorted int64 hashes: 8 bytes a visit.

    The hashes are kept as a few sorted runs of geometrically growing sizes (a
    log-structured merge), so adding a chunk costs amortized O(chunk log n) instead
    of re-sorting everything seen, and a look-up is one binary search per run. A hash
    hit is only a candidate: `earlier_ids` confirms it against the real ids."""

    def __init__(self) -> None:
        self.runs: list[Any] = []

    @property
    def nbytes(self) -> int:
        return sum(r.nbytes for r in self.runs)

    def hits(self, hashes: Any) -> Any:
        """Which of these hashes were added before (a bool array)."""
        import numpy as np

        hit = np.zeros(hashes.size, dtype=bool)
        for run in self.runs:
            pos = np.searchsorted(run, hashes)
            pos[pos == run.size] = run.size - 1
            hit |= run[pos] == hashes
        return hit

    def add(self, hashes: Any) -> None:
        import numpy as np

        if not hashes.size:
            return
        self.runs.append(np.sort(hashes))
        while len(self.runs) > 1 and self.runs[-2].size <= 2 * self.runs[-1].size:
            last = self.runs.pop()
            self.runs[-1] = np.sort(np.concatenate([self.runs[-1], last]), kind="stable")


_FNV_OFFSET: Final = 0xCBF29CE484222325
_FNV_PRIME: Final = 0x100000001B3


def hash_texts(texts: Any) -> Any:
    """64-bit FNV-1a hashes of texts (an Arrow text array or a list of str), as int64.

    Vectorized over the rows, so a chunk of ids is hashed without making a Python
    string of each: the rows are ordered by length once, and pass j updates only the
    rows longer than j, so the work is the bytes hashed (one 10 kB id costs 10,000
    tiny passes, not 10,000 passes over the chunk). Equal texts always hash alike
    whichever form they came in (a list is converted to Arrow first)."""
    import numpy as np
    import pyarrow as pa

    from ..batch.arrow_text import text_layout

    arr = texts if isinstance(texts, pa.Array | pa.ChunkedArray) else pa.array(texts, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    n = len(arr)
    h = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    starts, lengths, data = text_layout(arr)
    if n == 0 or data.size == 0:
        return h.view(np.int64)
    order = np.argsort(-lengths, kind="stable")  # longest first
    ascending = lengths[order][::-1]
    first = starts[order]
    ho = h[order]
    prime = np.uint64(_FNV_PRIME)
    with np.errstate(over="ignore"):
        for j in range(int(ascending[-1])):
            k = n - int(np.searchsorted(ascending, j, side="right"))  # rows longer than j
            ho[:k] = (ho[:k] ^ data[first[:k] + j]) * prime
    h[order] = ho
    return h.view(np.int64)


def earlier_ids(files: Sequence[InputFile], chunk: Chunk, candidates: set[str]) -> set[str]:
    """Which candidate ids occur in the rows before `chunk` (the visit_id columns are
    read again; only when a hash hit, so rarely)."""
    from ..io.records import field_text, is_empty

    found: set[str] = set()
    for f in files[: chunk.file + 1]:
        upto = chunk.start if f.index == chunk.file else None
        column = f.visit_id_column()
        if column is None or upto == 0:
            continue
        seen = 0
        for values in _id_batches(f, column):
            if upto is not None:
                values = values[: upto - seen]
            seen += len(values)
            for v in values:
                if not is_empty(v) and field_text(v) in candidates:
                    found.add(field_text(v))
            if upto is not None and seen >= upto:
                break
    return found


def _id_batches(f: InputFile, column: str) -> Iterator[list[Any]]:
    """The visit_ids of a file's rows, numbered as its chunks number them."""
    if f.kind == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(f.path).iter_batches(batch_size=CHUNK_ROWS, columns=[column]):
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
            raise _Inexact(f.index, f"{f.path}: {exc}") from exc


# -- CSV lines ------------------------------------------------------------


@attrs.define
class CsvLines:
    """Where the rows of a CSV file start, as `io.csv_rows` counts lines."""

    lines: Any  # line of each row Arrow reads (all-empty rows included), an array("q")
    misfits: list[tuple[int, list[str]]]  # (line, cells) of rows that do not fit the header
    unreadable: int = 0  # rows `io.csv_rows` cannot read (which Arrow read otherwise)


def csv_lines(f: InputFile) -> CsvLines:
    """One `io.csv_rows` pass: the starting line of every row (the record path's numbers)."""
    from ..io.csv_rows import CsvRows

    width = len(f.header)
    out = CsvLines(array("q"), [])
    with CsvRows(f.path, f.encoding, f.delimiter) as reader:
        for row in reader.rows():
            if row.cells is None or row.error is not None:
                out.unreadable += 1
            elif len(row.cells) == width:
                out.lines.append(row.line)
            elif not all(c == "" for c in row.cells):
                out.misfits.append((row.line, list(row.cells)))
    return out


def simple_lines(f: InputFile) -> bool:
    """True when every row is one line right after a one-line header: then row k is
    line k + 2. Checked by counting line ends (LF, CRLF, lone CR) against the rows
    read: every row, blank line or row Arrow skipped takes at least one line, so the
    two agree only when each line is one row."""
    from ..io.csv_rows import line_terminators

    count, final = line_terminators(f.path)
    lines = count + (0 if final else 1)
    return f.header_lines == 1 and lines == f.rows + 1


def last_line_reads_alike(f: InputFile) -> bool:
    """Whether `io.csv_rows` reads the file's last line as Arrow did, when each line is
    one row (`simple_lines`): the one place where a quote that never closes can
    hide, since it runs into no other line (`v9,"10` at the end of the file)."""
    from ..io.csv_rows import row_of_line

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


# -- outputs ---------------------------------------------------------------------------------------


def _writer_base() -> type:
    from ..io.writers import Writer

    return Writer


class TableOutput:
    """Scored tables in, one atomic output file out; bytes independent of chunking.

    Parquet: `io.writers.result_parquet_writer`, row groups of exactly ROW_GROUP rows.
    CSV: text built column-wise with Arrow compute. JSONL and XLSX: the record
    writers of `sbm_engine.io`, fed nested records rebuilt from the flat columns
    (slow, exact). The encoding runs in a background thread (`overlap.Behind`), in
    order, while the caller scores the next chunk."""

    def __init__(self, path: Path, columns: list[str], template: dict[str, Any]) -> None:
        from ..io import open_writer
        from ..io.writers import Writer

        self.path = path
        self.columns = columns
        self.template = template
        self.kind = path.suffix.lower().lstrip(".")
        self.count = 0
        self._pending: list[Any] = []
        self._held = 0
        self._arrow: Any = None
        self._behind: Any = None  # the writer thread, while in the with block
        if self.kind in ("parquet", "csv"):
            self._file: Writer = _ArrowFile(path)
        else:
            self._file = open_writer(path, columns=columns, spreadsheet_safe=True)

    def __enter__(self) -> TableOutput:
        from .overlap import Behind

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
                self._arrow.close()
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

        size = ROW_GROUP if self.kind == "parquet" else TEXT_WRITE
        if not self._pending or (self._held < size and not final):
            return
        table = pa.concat_tables(self._pending)
        offset = 0
        while table.num_rows - offset >= size or (final and offset < table.num_rows):
            part = table.slice(offset, size)
            self._behind.submit(part)
            offset += part.num_rows
        if final and table.num_rows == 0:
            self._behind.submit(table)
        rest = table.slice(offset)
        self._pending = [rest] if rest.num_rows else []
        self._held = rest.num_rows

    def _emit(self, table: Any) -> None:
        """Encode one part (in the writer thread); a full disk is an `OutputError`."""
        try:
            self._encode(table)
        except OSError as exc:
            raise self._file.error(exc) from exc

    @property
    def _stream(self) -> IO[bytes]:
        """The temporary file Arrow's writers write to (Parquet and CSV output)."""
        assert isinstance(self._file, _ArrowFile)
        return self._file.stream

    def _encode(self, table: Any) -> None:
        table = table.combine_chunks()
        if self.kind == "parquet":
            if self._arrow is None:
                from ..io.writers import parquet_options, result_parquet_writer

                self._arrow = result_parquet_writer(
                    self._stream, table.schema, parquet_options(table.schema, table)
                )
            self._arrow.write_row_group(table)
        elif self.kind == "csv":
            if self._arrow is None:
                self._arrow = _Closed()
                self._stream.write(csv_text([[_quote(n) for n in table.column_names]]))
            if table.num_rows:
                self._stream.write(csv_table(table))
        else:
            for row in table.to_pylist():
                self._file.write(nest(row, self.template))


class _Closed:
    """Nothing to close (the CSV text goes straight to the temporary file)."""

    def close(self) -> None:
        pass


def _quote(text: str) -> str:
    """A cell as `csv.writer` (QUOTE_MINIMAL, CRLF lines) writes it."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(rows: list[list[str]]) -> bytes:
    return "".join(",".join(r) + "\r\n" for r in rows).encode("utf-8")


def csv_table(table: Any) -> bytes:
    """Rows as the record path's CSV writer spells them (`writers._csv_cell`: floats as
    Python's repr, booleans true/false, None empty, text that starts like a formula
    behind a '; quoted only when needed), built column-wise with Arrow compute instead
    of `csv.writer` row by row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = [
        _cell_texts(c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c, pa, pc)
        for c in table.columns
    ]
    lines = pc.binary_join_element_wise(*columns, ",") if len(columns) > 1 else columns[0]
    return ("\r\n".join(lines.to_pylist()) + "\r\n").encode("utf-8")


def _cell_texts(column: Any, pa: Any, pc: Any) -> Any:
    import numpy as np

    t = column.type
    if pa.types.is_floating(t):
        values = column.to_numpy(zero_copy_only=False)
        text = pc.cast(column, pa.string())
        # Arrow writes 1.0 as "1"; Python's repr "1.0". Add ".0" to plain integers, and
        # let Python spell the rare values where the two may choose different notations.
        plain = pc.match_substring_regex(text, r"^-?[0-9]+$")
        text = pc.if_else(plain, pc.binary_join_element_wise(text, ".0", ""), text)
        with np.errstate(invalid="ignore"):
            odd = (
                ~np.isfinite(values)
                | (np.abs(values) >= 1e15)
                | ((values != 0) & (np.abs(values) < 1e-4))
            )
        odd &= ~np.isnan(values) | ~column.is_null().to_numpy(zero_copy_only=False)
        if odd.any():
            listed = text.to_pylist()
            for i in np.flatnonzero(odd).tolist():
                listed[i] = repr(float(values[i]))
            text = pa.array(listed, type=pa.string())
    elif pa.types.is_boolean(t):
        text = pc.if_else(column, "true", "false")
    else:
        text = pc.cast(column, pa.string())
        # text a spreadsheet would run as a formula gets a leading ' (`writers._csv_cell`)
        formula = pc.match_substring_regex(text, "^[=+\\-@\t\r]")
        if pc.any(formula).as_py():
            text = pc.if_else(formula, pc.binary_join_element_wise("'", text, ""), text)
        needs = pc.match_substring_regex(text, '[,"\r\n]')
        if pc.any(needs).as_py():
            quoted = pc.binary_join_element_wise(
                '"', pc.replace_substring(text, '"', '""'), '"', ""
            )
            text = pc.if_else(needs, quoted, text)
    return pc.fill_null(text, "")


class _ArrowFile(_writer_base()):  # type: ignore[misc]
    """The atomic temporary file of `sbm_engine.io.writers.Writer`, for Arrow's writers."""

    def _begin(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def _write(self, record: Any) -> None:  # pragma: no cover - tables go to Arrow writers
        raise NotImplementedError

    def _finish(self) -> None:
        self.stream.flush()


def nest(flat: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    """A flat output row back in the scored-visit shape (`ScoredVisit.to_dict`)."""
    out: dict[str, Any] = {}
    for key, shape in template.items():
        if isinstance(shape, dict):
            out[key] = {name: flat.get(f"{key}.{name}") for name in shape}
        elif key in ("critical", "warnings"):
            text = flat.get(key)
            out[key] = json.loads(text) if text else []
        else:
            out[key] = flat.get(key)
    return out


# -- the run -------------------------------------------------------------------------------------


@attrs.define
class Counts:
    read: int = 0
    scored: int = 0
    rejected: int = 0


def run(
    std: Any,
    job: Job,
    inputs: Sequence[str],
    out_path: Path,
    rejects_path: Path,
    options: dict[str, Any],
    bar: Any,
    chunk_rows: int = CHUNK_ROWS,
    jobs: int = 1,
) -> Counts:
    """Score every input into `out_path` and `rejects_path`, which appear together at
    the end (`common.outputs_together`); raise `Unsupported` before anything is renamed
    into place when the record path must do it instead.

    Rejects go to a spool (`RejectSpool`) as each chunk is scored, so memory is
    bounded by a chunk however many visits fail; their sources, and the CSV rows that
    did not fit the header, are added when the spool is copied into the rejects file.

    A CSV file found to need `io.csv_rows` only after some of its chunks were scored
    (`_Inexact`) makes the run start again from nothing, that file read with it."""
    from ..cli.score import result_columns

    keep_freed_memory()
    columns = result_columns(std)
    template = std.result_template()
    files = [open_input(i, Path(p), std, options) for i, p in enumerate(inputs)]
    exact: set[int] = set()
    workers = Workers.start(job, jobs) if jobs > 1 else None
    pool = workers.pool if workers is not None else None
    finished = False
    try:
        with _quiet_skip_row():
            while True:
                try:
                    counts = _run_once(
                        std,
                        files,
                        out_path,
                        rejects_path,
                        columns,
                        template,
                        bar,
                        chunk_rows,
                        pool,
                        jobs,
                    )
                    break
                except _Inexact as again:
                    if again.index in exact:  # pragma: no cover - exact reading never raises it
                        raise RuntimeError(f"cannot read {again}") from again
                    # Some chunks of the file were scored from Arrow's rows: start again, with
                    # nothing written (the outputs were temporary files) and nothing counted.
                    exact.add(again.index)
                    bar.read = bar.scored = bar.rejected = 0
                    files = [open_input(i, Path(p), std, options) for i, p in enumerate(inputs)]
                    for f in files:
                        f.exact = f.index in exact
        finished = True
    finally:
        if workers is not None:
            workers.stop(finished)
    return counts


def _run_once(
    std: Any,
    files: list[InputFile],
    out_path: Path,
    rejects_path: Path,
    columns: list[str],
    template: dict[str, Any],
    bar: Any,
    chunk_rows: int,
    pool: ProcessPoolExecutor | None,
    jobs: int,
) -> Counts:
    """One pass of `run` over the files."""
    from ..io import open_writer
    from .common import outputs_together

    seen = SeenIds()
    counts = Counts()
    writers = (open_writer(rejects_path), TableOutput(out_path, columns, template))
    with outputs_together(*writers) as (bad, out), RejectSpool(bad) as spool:
        for chunk, (scored, chunk_rejects) in _scored_chunks(std, files, chunk_rows, pool, jobs):
            scored, moved = _move_duplicates(std, files, chunk, scored, chunk_rejects, seen)
            out.write(scored.drop_columns(["__row"]))
            spool.add(chunk, [*chunk_rejects, *moved])
            n_bad = len(chunk_rejects) + len(moved)
            counts.scored += scored.num_rows
            counts.rejected += n_bad
            counts.read += scored.num_rows + n_bad
            bar.update(scored.num_rows, n_bad)
        misfits = spool.copy_out(files)
        counts.rejected += misfits
        counts.read += misfits
        bar.update(0, misfits)
    return counts


class RejectSpool:
    """The rejects of a batch run, in input order, in a temporary file until the end.

    Why: a wave where most visits fail would otherwise hold every reject (its record
    and errors as Python objects, a few kB each) until the end: 8 GB for 300k. Chunks
    are scored in input order, so sorting each chunk's rejects by row (its own and
    the duplicates moved out of it) keeps the whole spool in the order of the rejects
    file; only the sources wait, because a CSV file's line numbers are known once it
    has been read whole (`_file_rejects`). The spool is an anonymous temporary file
    beside the rejects file (pickled lists of SPOOL_BATCH rejects: our own file, read
    back once, exact for any value a record holds); a full disk names the rejects file."""

    def __init__(self, rejects: Any) -> None:
        self._rejects = rejects  # the rejects file's writer

    def __enter__(self) -> RejectSpool:
        import tempfile

        try:
            self._file = tempfile.TemporaryFile(dir=self._rejects.path.parent)
        except OSError as exc:
            raise self._rejects.error(exc) from exc
        return self

    def __exit__(self, *exc: Any) -> None:
        self._file.close()

    def add(self, chunk: Chunk, rejects: list[dict[str, Any]]) -> None:
        """One chunk's rejects (with their chunk `row`), kept in input order."""
        import pickle

        if not rejects:
            return
        rejects.sort(key=lambda r: r["row"])
        rows = [(chunk.start + r.pop("row"), r) for r in rejects]
        try:
            for i in range(0, len(rows), SPOOL_BATCH):
                batch = (chunk.file, rows[i : i + SPOOL_BATCH])
                pickle.dump(batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as exc:
            raise self._rejects.error(exc) from exc

    def _entries(self) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """(file, row, reject) as added, read back one chunk at a time."""
        import pickle

        self._file.seek(0)
        while True:
            try:
                file, rows = pickle.load(self._file)
            except EOFError:
                return
            for row, r in rows:
                yield file, row, r

    def copy_out(self, files: Sequence[InputFile]) -> int:
        """Write every reject to the rejects file with its source, file by file, and the
        CSV rows that did not fit the header among them; return how many of those."""
        import itertools

        try:
            self._file.flush()
        except OSError as exc:
            raise self._rejects.error(exc) from exc
        groups = itertools.groupby(self._entries(), key=lambda e: e[0])  # by file, in order
        group = next(groups, None)
        misfits = 0
        for f in files:  # a file without rejects may still have rows that do not fit
            mine = group is not None and group[0] == f.index
            own = (e[1:] for e in group[1]) if group is not None and mine else iter(())
            misfits += _file_rejects(f, own, self._rejects)
            if mine:
                group = next(groups, None)
        return misfits


def _file_rejects(f: InputFile, rejects: Iterator[tuple[int, dict[str, Any]]], bad: Any) -> int:
    """Write one file's rejects (row, reject), in row order, with their `source`, and the
    CSV rows that could not be read (as the record path rejects them: rows that do not
    fit the header, …) where their lines fall; return how many of those there were.

    `_Inexact` when the rows Arrow read are not the rows `io.csv_rows` reads (nothing
    is written then: the run starts again, reading this file with `io.csv_rows`)."""
    import heapq

    from ..standard import ScoringSession

    misfits: list[tuple[int, dict[str, Any]]] = []
    if f.kind == "parquet":
        placed: Iterator[tuple[int, dict[str, Any]]] = ((row + 1, r) for row, r in rejects)
    elif f.exact:
        placed = ((f.lines[row], r) for row, r in rejects)
        misfits = f.unreadable
    elif simple_lines(f):
        if f.rows and not last_line_reads_alike(f):
            raise _Inexact(f.index, f"{f.path}: its last line has a quote that never closes")
        placed = ((row + 2, r) for row, r in rejects)
    else:
        lines = csv_lines(f)
        if lines.unreadable or len(lines.lines) != f.rows:
            raise _Inexact(f.index, f"{f.path}: Arrow and io.csv_rows read other rows")
        placed = ((lines.lines[row], r) for row, r in rejects)
        width = len(f.header)
        for line, cells in lines.misfits:
            reason = message("visit.row.cells", cells=len(cells), columns=width)
            misfits.append(
                (line, ScoringSession.unreadable(cells, f"{f.label}:{line}", reason).to_dict())
            )
    for line, r in heapq.merge(placed, misfits, key=lambda e: e[0]):
        bad.write(
            {
                "visit_id": r["visit_id"],
                "source": f"{f.label}:{line}",
                "errors": r["errors"],
                "record": r["record"],
            }
        )
    return len(misfits)


def keep_freed_memory() -> None:
    """Ask glibc's malloc to serve blocks up to 32 MiB from its heap and to keep what
    is freed, for the rest of this (command-line) process.

    Why: each chunk allocates and frees the same few hundred numpy arrays of 64 KiB
    to 4 MiB. By default glibc maps the larger ones afresh and gives heap tops back
    to the system, so the kernel zeroes new pages for every chunk: an eighth of a
    Parquet run's samples. Kept, the pages are reused; system time fell by a third
    and peak memory at 1M visits did not move (benchmarks/CLI.md). Elsewhere (musl,
    macOS, Windows) nothing is changed."""
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - glibc always has it
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest allowed threshold
    mallopt(m_trim_threshold, 1 << 30)
    mallopt(m_top_pad, 64 << 20)


@attrs.define
class Workers:
    """The process pool of `--jobs N` and the pipe its workers watch (`_die_with_parent`)."""

    pool: ProcessPoolExecutor
    lifeline: tuple[Any, Any]  # (read end, for the workers; write end, held here)

    @classmethod
    def start(cls, job: Job, jobs: int) -> Workers:
        import multiprocessing

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        lifeline = context.Pipe(duplex=False)
        pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=context,
            initializer=_worker_init,
            initargs=(job, lifeline[0]),
        )
        return cls(pool, lifeline)

    def stop(self, finished: bool) -> None:
        """Shut the pool down; after a failure or an interrupt end the workers at once
        rather than wait for the chunks they are scoring, whose results nobody wants."""
        if not finished:
            processes = getattr(self.pool, "_processes", None) or {}  # public only in 3.14
            for process in list(processes.values()):
                with contextlib.suppress(Exception):
                    process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)
        for end in self.lifeline:
            end.close()


def _scored_chunks(
    std: Any,
    files: Sequence[InputFile],
    chunk_rows: int,
    pool: ProcessPoolExecutor | None,
    jobs: int,
) -> Iterator[tuple[Chunk, tuple[Any, list[dict[str, Any]]]]]:
    """Every chunk with its scoring, in input order (in workers when there is a pool,
    at most 2 × jobs chunks in flight so memory stays bounded). The files are read
    in a background thread, up to two chunks ahead."""
    from .overlap import prefetch

    chunks = prefetch(c for f in files for c in iter_chunks(f, chunk_rows))
    if pool is None:
        for c in chunks:
            yield c, score_chunk(std, c.table, _decimal(files[c.file]))
        return
    import pyarrow as pa

    window: deque[tuple[Chunk, Future[Any]]] = deque()
    for c in chunks:
        payload = (_to_ipc(c.table), _decimal(files[c.file]))
        window.append((c, pool.submit(_worker_score, payload)))
        if len(window) >= 2 * jobs:
            done, fut = window.popleft()
            data, rej = fut.result()
            yield done, (pa.ipc.open_stream(data).read_all(), rej)
    while window:
        done, fut = window.popleft()
        data, rej = fut.result()
        yield done, (pa.ipc.open_stream(data).read_all(), rej)


def _decimal(f: InputFile) -> str | None:
    return f.decimal if f.kind == "csv" else None


def _move_duplicates(
    std: Any,
    files: Sequence[InputFile],
    chunk: Chunk,
    scored: Any,
    chunk_rejects: list[dict[str, Any]],
    seen: SeenIds,
) -> tuple[Any, list[dict[str, Any]]]:
    """Apply `ScoringSession`'s rule across chunks: a visit_id that appeared in an
    earlier chunk is rejected (the duplicate error first), the first stays scored."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = scored.column("visit_id").combine_chunks()
    reject_ids = [r["visit_id"] for r in chunk_rejects if r["visit_id"] is not None]
    hashes = hash_texts(ids)
    reject_hashes = hash_texts(reject_ids)
    candidates = set(ids.filter(pa.array(seen.hits(hashes))).to_pylist())
    candidates |= {v for v, hit in zip(reject_ids, seen.hits(reject_hashes), strict=True) if hit}
    earlier = earlier_ids(files, chunk, candidates) if candidates else set()
    moved: list[dict[str, Any]] = []
    if earlier:
        for r in chunk_rejects:
            vid = r["visit_id"]
            if vid in earlier and not (r["errors"] and r["errors"][0]["code"] == _DUP_CODE):
                r["errors"].insert(0, _dup_error(vid))
        again = pc.is_in(ids, value_set=pa.array(sorted(earlier), pa.string()))
        keep = ~again.to_numpy(zero_copy_only=False)
        if not keep.all():
            rows = scored.column("__row").to_numpy()[~keep]
            records = _records(std, files[chunk.file], chunk.table, rows)
            for r, record in zip(rows.tolist(), records, strict=True):
                vid = record.get("visit_id")
                moved.append(
                    {"row": r, "visit_id": vid, "errors": [_dup_error(vid)], "record": record}
                )
            scored = scored.filter(pa.array(keep))
    seen.add(np.concatenate([hashes, reject_hashes]))
    return scored, moved


def _dup_error(vid: Any) -> dict[str, str]:
    """The record path's `duplicate_visit` error, as a reject's dict."""
    from ..standard import duplicate_error

    return duplicate_error(vid).to_dict()


def _records(std: Any, f: InputFile, table: Any, rows: Any) -> list[dict[str, Any]]:
    """The canonical records of some rows, made exactly as the record path makes them."""
    import pyarrow as pa

    from ..io.detect import number_parser
    from ..io.records import TableLayout, jsonable
    from ..results import json_safe

    convert = number_parser(f.decimal) if f.kind == "csv" else jsonable
    layout = TableLayout(f.header, std.model.visit_fields, convert)
    picked = table.take(pa.array(rows, type=pa.int64()))
    columns = [c.to_pylist() for c in picked.columns]
    out = []
    for cells in zip(*columns, strict=True):
        record, _ = layout.to_record(cells)
        out.append(json_safe(jsonable(record)))
    return out
