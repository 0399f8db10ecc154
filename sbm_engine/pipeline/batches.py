"""The streaming API: `score_batches` (scored batches and rejects, one by one) and
`score_files` (an output file and a rejects file, byte for byte what `sbm score`
writes).

`score_batches` takes input files or Arrow tables and record batches; every batch it
gives is the scored rows of some input rows (`ScoredBatch.scored`, the flat output
columns of `sbm score`) and the `RejectedVisit`s among them, with their sources. A
visit_id seen in an earlier batch, of any file, is rejected as `score_many` rejects
it. Sources are `file:ROW` for Parquet and in-memory tables (rows counted from 1
across the batches), `file:LINE` for JSONL and `file:SHEET:ROW` for XLSX (each batch
with its own rejects and unreadable lines), and `file:LINE` for CSV, whose line
numbers are known only once the whole file is read: a CSV file's batches are
therefore held until its end and its rejects come with its last batch (`score_files`
streams them to a spool instead).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from ..formats import open_writer, read_visits, writer_table
from ..history import History
from ..io.writers import outputs_together
from ..messages import message
from ..results import RejectedVisit, ScoringSession
from .duplicates import SeenIds, earlier_ids, move_duplicates
from .errors import Inexact, Unsupported
from .inputs import CHUNK_ROWS, Chunk, InputFile, open_input, quiet_skip_row
from .outputs import record_writer
from .rejects import numbered, with_sources
from .run import (
    Counts,
    Setup,
    Tally,
    Together,
    open_inputs,
    pool_for,
    run,
    why_not,
)
from .run import stream as stream_chunks
from .scoring import Rejects, score_chunk
from .workers import Job, job_of

#: The kinds of input `score_batches` takes.
Paths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


@attrs.frozen
class ScoredBatch:
    """Some input rows scored: `scored`, a `pyarrow.Table` of the scored visits (the
    flat columns `sbm score` writes, in input order), and `rejects`, the rejected
    visits among those rows, in input order, each with its source."""

    scored: Any
    rejects: list[RejectedVisit]


def default_rejects(output: Path) -> Path:
    """`scored.parquet` -> `scored.rejects.jsonl`, beside the output; only a known
    output extension is cut, so `scored.2026-03.csv` -> `scored.2026-03.rejects.jsonl`
    and waves named by date do not share one rejects file."""
    name = output.name
    if output.suffix.lower() in writer_table():
        name = name[: -len(output.suffix)]
    return output.with_name(name + ".rejects.jsonl")


def read_options(
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    sheet: str | None = None,
) -> dict[str, Any]:
    """The reading options of the readers (`formats.read_visits`), `\\t` spelt as a tab."""
    if delimiter == "\\t":
        delimiter = "\t"
    return {"encoding": encoding, "delimiter": delimiter, "decimal": decimal, "sheet": sheet}


# -- files in, files out -------------------------------------------------------------------------


def score_files(
    std: Any,
    inputs: Paths,
    output: str | os.PathLike[str],
    rejects: str | os.PathLike[str] | None = None,
    *,
    options: dict[str, Any] | None = None,
    engine: str = "auto",
    chunk_rows: int = CHUNK_ROWS,
    jobs: int = 1,
    job: Job | None = None,
    tally: Tally | None = None,
    together: Together = outputs_together,
    history: History | None = None,
) -> Counts:
    """Score `inputs` into `output` and `rejects` (default: beside `output`, named as
    `sbm score` names it), which appear together at the end; what `sbm score` writes.

    A standard that uses history is scored whole (`score_whole`): every visit is read
    first, `history` holds earlier results (`sbm score --history`).

    `engine`: "batch" streams Parquet, CSV, JSONL and XLSX inputs (`Unsupported` when
    it cannot read them exactly), "python" scores one record at a time (any format),
    "auto" streams when it can. `options`: CSV `encoding`, `delimiter`, `decimal`
    (JSONL: `encoding`) and XLSX `sheet` (None: detect). `jobs` > 1 scores chunks in
    worker processes, which load the standard as it was loaded (`job`, by default
    `job_of(std)`)."""
    paths = _paths(inputs)
    out = Path(output)
    bad = Path(rejects) if rejects is not None else default_rejects(out)
    opts = read_options(**(options or {}))
    if engine not in ("auto", "batch", "python"):
        raise ValueError(f"engine must be auto, batch or python, not {engine!r}")
    if getattr(std, "uses_history", False):
        return score_whole(std, paths, out, bad, opts, engine, history, tally, together)
    if engine != "python":
        reason = why_not(paths, out, opts.get("sheet"))
        if reason is None:
            if jobs > 1 and job is None:
                job = job_of(std)
            setup = Setup(opts, chunk_rows, jobs, job)
            try:
                return run(std, paths, out, bad, setup, tally, together)
            except Unsupported as exc:
                reason = str(exc)
                if tally is not None:  # what the streaming path counted is written nowhere
                    tally.read = tally.scored = tally.rejected = 0
        if engine == "batch":
            raise Unsupported(reason)
    return score_records(std, paths, out, bad, opts, tally, together)


def score_records(
    std: Any,
    inputs: Sequence[str | Path],
    out_path: Path,
    rejects_path: Path,
    options: dict[str, Any],
    tally: Tally | None = None,
    together: Together = outputs_together,
) -> Counts:
    """The record path: every visit read, scored and written one at a time (any format
    a reader reads, any a writer writes)."""
    counts = Counts()
    session = std.session()
    fields = std.model.visit_fields
    with together(open_writer(rejects_path), record_writer(std, out_path)) as (bad, out):
        for path in inputs:
            for rec in read_visits(path, visit_fields=fields, **options):
                outcome = session.read(rec)
                if outcome.ok:
                    out.write(outcome.to_dict())
                    counts.update(1, 0)
                    if tally is not None:
                        tally.update(1, 0)
                else:
                    bad.write(outcome.to_dict())
                    counts.update(0, 1)
                    if tally is not None:
                        tally.update(0, 1)
    return counts


def score_whole(
    std: Any,
    inputs: Sequence[str | Path],
    out_path: Path,
    rejects_path: Path,
    options: dict[str, Any],
    engine: str = "auto",
    history: History | None = None,
    tally: Tally | None = None,
    together: Together = outputs_together,
) -> Counts:
    """A standard that uses history: every visit read (any format a reader reads),
    then scored point by point in order (`history.score_in_order`; by the batch
    evaluator unless `engine` is "python" or numpy is missing), then written in input
    order. Memory holds every visit read and its outcome."""
    read: list[Any] = []
    fields = std.model.visit_fields
    for path in inputs:
        read.extend(read_visits(path, visit_fields=fields, **options))
    readable = [r for r in read if r.record is not None]
    records = [r.record for r in readable]
    sources = [r.source for r in readable]
    outcomes: list[Any] | None = None
    if engine != "python":
        try:
            from ..batch import evaluator_for
        except ImportError:
            evaluator_for = None  # type: ignore[assignment]
        if evaluator_for is not None:
            outcomes = evaluator_for(std).score_records(records, sources, history)
    if outcomes is None:
        outcomes = list(std.score_many(records, sources, history))
    scored = iter(outcomes)
    counts = Counts()
    with together(open_writer(rejects_path), record_writer(std, out_path)) as (bad, out):
        for rec in read:
            if rec.record is None:
                outcome = ScoringSession.unreadable(rec.raw, rec.source, rec.error or "unreadable")
            else:
                outcome = next(scored)
            (out if outcome.ok else bad).write(outcome.to_dict())
            ok = 1 if outcome.ok else 0
            counts.update(ok, 1 - ok)
            if tally is not None:
                tally.update(ok, 1 - ok)
    return counts


# -- batches out ---------------------------------------------------------------------------------


def score_batches(
    std: Any,
    source: Paths | Any,
    *,
    options: dict[str, Any] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    jobs: int = 1,
    label: str = "table",
) -> Iterator[ScoredBatch]:
    """Score files (Parquet, CSV, JSONL, XLSX) or Arrow data (a `pyarrow.Table`, a
    `RecordBatch`, or an iterable of them) batch by batch; see the module docstring.
    `label` names in-memory data in the sources of its rejects (`table:ROW`). A
    standard that uses history is not scored batch by batch (`Unsupported`): a visit's
    outcome depends on visits of other batches; `score_many` or `score_files` score it."""
    if getattr(std, "uses_history", False):
        raise Unsupported(message("history.not_streamed", standard=std.id))
    if _is_paths(source):
        paths = _paths(source)
        reason = why_not(paths, None, None)
        if reason is not None:
            raise Unsupported(reason)
        job = job_of(std) if jobs > 1 else None
        setup = Setup(read_options(**(options or {})), chunk_rows, jobs, job)
        return _file_batches(std, paths, setup)
    return _table_batches(std, source, label)


def _is_paths(source: Any) -> bool:
    if isinstance(source, str | os.PathLike):
        return True
    return isinstance(source, list | tuple) and all(
        isinstance(p, str | os.PathLike) for p in source
    )


def _paths(inputs: Paths) -> list[str | Path]:
    if isinstance(inputs, str | os.PathLike):
        return [Path(inputs)]
    return [Path(p) for p in inputs]


def _file_batches(std: Any, paths: Sequence[str | Path], setup: Setup) -> Iterator[ScoredBatch]:
    """The batches of each file in turn, as they are scored. A CSV file's are held until
    its rows are placed (`with_sources`); when it turns out to need `io.csv_rows`
    (`Inexact`), it is read again with it, the ids seen before it as they were. The
    generator holds worker processes while it is open: close it (or read it to the
    end) to let them go."""
    files = open_inputs(std, paths, setup.options)
    seen = SeenIds()
    with pool_for(setup) as pool, quiet_skip_row():
        for k in range(len(files)):
            if files[k].kind != "csv":  # rows placed as they are read: stream them
                yield from _one_file(std, files, k, setup, pool, seen)
                continue
            before = list(seen.runs)  # `SeenIds.add` never changes a run in place
            try:
                batches = list(_one_file(std, files, k, setup, pool, seen))
            except Inexact:
                if files[k].exact:  # pragma: no cover - exact reading never raises it
                    raise
                seen.runs = before
                files[k] = open_input(k, files[k].path, std, setup.options)
                files[k].exact = True
                batches = list(_one_file(std, files, k, setup, pool, seen))
            yield from batches


def _one_file(
    std: Any, files: list[InputFile], k: int, setup: Setup, pool: Any, seen: SeenIds
) -> Iterator[ScoredBatch]:
    """The batches of `files[k]`; a Parquet file's as they are scored, a CSV file's
    (held by the caller) with every reject on the last."""
    f = files[k]
    held: list[Any] = []
    rejects: Rejects = []
    for chunk, scored, chunk_rejects in stream_chunks(std, files, setup, pool, seen, k, k + 1):
        if chunk.read is not None:  # JSONL, XLSX: placed as they come
            yield ScoredBatch(scored, [r for _, r in numbered(chunk, chunk_rejects)])
            continue
        mine = sorted(((chunk.start + row, r) for row, r in chunk_rejects), key=_first)
        if f.kind == "csv":
            held.append(scored)
            rejects.extend(mine)
        else:
            yield ScoredBatch(scored, list(with_sources(f, mine)[0]))
    if f.kind != "csv":
        return
    placed = list(with_sources(f, rejects)[0])
    if not held and placed:  # rows of the file, none of them read as a visit
        held.append(_empty_scored(std, f))
    for i, scored in enumerate(held):
        yield ScoredBatch(scored, placed if i == len(held) - 1 else [])


def _first(entry: tuple[int, RejectedVisit]) -> int:
    return entry[0]


def _empty_scored(std: Any, f: InputFile) -> Any:
    """No scored visits, with the columns (and their types) of a scored batch."""
    import pyarrow as pa

    empty = pa.table({name: pa.array([], pa.string()) for name in f.header})
    scored, _ = score_chunk(std, empty, f.cell_decimal)
    return scored.drop_columns(["__row"])


def _table_batches(std: Any, source: Any, label: str) -> Iterator[ScoredBatch]:
    """Arrow tables and record batches given in memory, as one input named `label`."""
    import pyarrow as pa

    if isinstance(source, pa.Table | pa.RecordBatch):
        source = [source]
    f = InputFile(0, Path(label), "table", ["visit_id"])
    seen = SeenIds()
    for batch in source:
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        if not isinstance(table, pa.Table):
            raise TypeError(f"expected Arrow tables or record batches, not {type(batch)}")
        chunk = Chunk(0, f.rows, table)
        f.rows += table.num_rows
        f.ids.append(_visit_ids(table))
        scored, rejects = score_chunk(std, table, None)

        def earlier(candidates: set[str], chunk: Chunk = chunk) -> set[str]:
            return earlier_ids([f], chunk, candidates)

        scored, rejects, moved = move_duplicates(std, f, chunk, scored, rejects, seen, earlier)
        mine = sorted(((chunk.start + row, r) for row, r in [*rejects, *moved]), key=_first)
        yield ScoredBatch(scored.drop_columns(["__row"]), list(with_sources(f, mine)[0]))


def _visit_ids(table: Any) -> Any:
    """A table's visit_id column (a column named so, spaces around ignored), else nulls."""
    import pyarrow as pa

    for name, column in zip(table.column_names, table.columns, strict=True):
        if name.strip() == "visit_id":
            return column
    return pa.nulls(table.num_rows)
