"""Scoring one chunk of rows with the vectorized backend.

CSV cells arrive as text and are converted here with the record path's own
`number_parser` (once per distinct text, then spread), so `5` is 5, `4,5` is 4.5,
`na` and `N/A` stay text and an empty cell is a missing answer; rows of empty cells
are dropped, as the record path skips them. Parquet cells are typed already, and so
are the cells of JSONL and XLSX chunks (`io.jsonl_columns`, `io.xlsx_columns`), whose
rejects are then made again as the record path makes them (`as_read`).
"""

from __future__ import annotations

from typing import Any, Final

from ..io.detect import number_parser
from ..io.pandas_guard import allow_pandas_for
from ..results import RejectedVisit, ScoredVisit, duplicate
from .errors import Unsupported
from .inputs import field_names

#: Rows the batch evaluator scores at a time here. Four times the library's default
#: (`batch.evaluator.CHUNK`): with glibc keeping freed memory (`keep_freed_memory`)
#: its larger arrays do not fault in fresh pages, and fewer Python steps a chunk
#: make the scoring faster for a little more memory (benchmarks/CLI.md).
SCORE_BLOCK: Final = 1 << 15

#: One chunk's rejects: (row of the chunk, the rejection without its source yet).
Rejects = list[tuple[int, RejectedVisit]]


def score_chunk(std: Any, table: Any, decimal: str | None) -> tuple[Any, Rejects]:
    """Score one chunk: the scored table (with a `__row` column, the chunk row of each
    scored visit) and the rejects as (chunk row, `RejectedVisit`), in row order.

    `decimal` is None for Parquet (cells are typed already) and the CSV decimal mark
    for CSV, whose all-text cells are converted here as the record path converts them
    and whose all-empty rows are skipped as the record path skips them."""
    import numpy as np

    # numpy and pyarrow are optional dependencies: imported when a chunk is scored
    from ..batch import evaluator_for
    from ..batch.table import score_table_visits
    from ..io.numpy_arrow import arrow_array

    allow_pandas_for(table.schema)  # nanosecond times convert as they always did
    rows = np.arange(table.num_rows, dtype=np.int64)
    if decimal is not None:
        table, rows = _csv_cells(std, table, decimal)
    scored, rejected = score_table_visits(evaluator_for(std, SCORE_BLOCK), table)
    bad = np.zeros(table.num_rows, dtype=bool)
    rejects: Rejects = []
    if rejected:
        chunk_rows = np.fromiter(rejected, dtype=np.int64, count=len(rejected))
        bad[chunk_rows] = True
        rejects = list(zip(rows[chunk_rows].tolist(), rejected.values(), strict=True))
    scored = scored.append_column("__row", arrow_array(rows[~bad]))
    return scored, rejects


def _csv_cells(std: Any, table: Any, decimal: str) -> tuple[Any, Any]:
    """CSV text cells as the record path reads them: answers through `number_parser`
    (each distinct text converted once), visit fields as text; all-empty rows dropped."""
    import numpy as np
    import pyarrow as pa

    from .. import arrow_compute as pc

    fields = field_names(std)
    convert = number_parser(decimal)
    n = table.num_rows
    empty = np.ones(n, dtype=bool)
    maybe_empty = n > 0  # stop looking once every row has a cell (usually at visit_id)
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if maybe_empty and column.null_count < n:
            empty &= pc.is_null(column).to_numpy(zero_copy_only=False)
            maybe_empty = bool(empty.any())
        if name.strip() in fields:
            columns.append(column)
            continue
        columns.append(_converted(column, convert, pc, pa))
    rows = np.arange(n, dtype=np.int64)
    out = pa.table(columns, names=table.column_names)
    if maybe_empty:
        rows = np.flatnonzero(~empty)
        out = pc.take(out, pa.array(rows, type=pa.int64()))
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


def as_read(std: Any, read: Any, rejects: Rejects) -> Rejects:
    """The rejects of a JSONL or XLSX chunk (`read`, its `TableChunk`) as the record
    path makes them, with their sources (`file:LINE`, `file:SHEET:ROW`).

    XLSX: the table's record is the one read, so only the source is added. JSONL: the
    record path keeps the object on the line as written (every key, a null answer as
    null), so a rejected row is scored again from it, as `ScoringSession.score` does;
    a row the chunk rejected as a repeated visit_id gets the duplicate error first."""
    out: Rejects = []
    for row, r in rejects:
        source = read.source(row)
        record = read.record(row)
        if record is None:  # XLSX
            out.append((row, RejectedVisit(r.visit_id, source, r.errors, r.record)))
            continue
        outcome = std.score(record, source)
        if r.errors and r.errors[0].code == "duplicate_visit":
            outcome = duplicate(record.get("visit_id"), source, record, outcome)
        elif isinstance(outcome, ScoredVisit):  # the table and the line disagree
            raise Unsupported(f"{source}: the table of the line scores otherwise")
        out.append((row, outcome))
    return out
