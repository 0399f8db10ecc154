"""The streaming driver: input files in, scored chunks and rejects out, in input order.

`stream` is the one loop every streaming run shares: read chunks (in a background
thread, `overlap.prefetch`), score them (here or in worker processes), move the
visits whose id appeared in an earlier chunk to the rejects (`duplicates`). `run`
writes what it yields to an output file and a rejects file, as `sbm score` does;
`sbm_engine.pipeline.batches` hands it to a caller batch by batch.

A CSV file found to need `io.csv_rows` only after some of its chunks were scored
(`Inexact`) makes `run` start again from nothing, that file read with it: its
outputs are temporary files until the end, so nothing of the first pass remains.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import attrs

from ..formats import open_writer, reader_table, writer_table
from ..io import readers, writers
from ..io.writers import outputs_together
from ..messages import message
from .duplicates import SeenIds, earlier_ids, move_duplicates
from .errors import Inexact, Unsupported
from .inputs import CHUNK_ROWS, Chunk, InputFile, iter_chunks, open_input, quiet_skip_row
from .outputs import TableOutput, bool_columns, result_columns
from .overlap import prefetch
from .rejects import RejectSpool
from .scoring import SCORE_BLOCK, Rejects, as_read, score_chunk
from .workers import (
    Job,
    Workers,
    arrow_from_malloc,
    keep_freed_memory,
    score_in_worker,
    to_ipc,
)

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

_INPUT_SUFFIXES: Final = frozenset({".parquet", ".csv", ".tsv", ".jsonl", ".ndjson", ".xlsx"})
_OUTPUT_SUFFIXES: Final = frozenset({".parquet", ".csv", ".jsonl", ".ndjson", ".xlsx"})


# -- choosing the path -------------------------------------------------------------------------


def arrow_available() -> bool:
    """numpy and pyarrow importable, pyarrow built with Parquet and CSV. Its Parquet and
    CSV modules are looked for, not imported: a run that reads and writes neither
    format does not pay for their import (Parquet's loads pyarrow's file systems)."""
    from importlib.util import find_spec

    try:
        import numpy  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return all(find_spec(f"pyarrow.{name}") is not None for name in ("_parquet", "_csv"))


def why_not(inputs: Sequence[str | Path], output: Path | None, sheet: str | None) -> str | None:
    """Why the streaming path cannot read these files or write `output` (None: it can)."""
    if not arrow_available():
        return "pyarrow and numpy are needed (pip install 'sbm-engine[arrow,fast]')"
    plugin_readers = reader_table()
    plugin_writers = writer_table()
    suffixes = [Path(p).suffix.lower() for p in inputs]
    for p, suffix in zip(inputs, suffixes, strict=True):
        if suffix not in _INPUT_SUFFIXES:
            return f"{p}: only .parquet, .csv, .tsv, .jsonl, .ndjson and .xlsx inputs"
        if plugin_readers.get(suffix) is not readers.READERS.get(suffix):
            return f"{p}: a plugin reads {suffix} files"
        if suffix == ".xlsx" and not _calamine_available():
            return f"{p}: XLSX inputs need python-calamine (pip install 'sbm-engine[excel]')"
    if output is not None:
        suffix = output.suffix.lower()
        if suffix not in _OUTPUT_SUFFIXES:
            return f"{output}: unknown output format"
        if plugin_writers.get(suffix) is not writers.WRITERS.get(suffix):
            return f"{output}: a plugin writes {suffix} files"
    if sheet is not None and any(suffix != ".xlsx" for suffix in suffixes):
        return "--sheet is for XLSX inputs"
    return None


def _calamine_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("python_calamine") is not None


# -- the run -------------------------------------------------------------------------------------


class Tally(Protocol):
    """What a run reports its progress to (`cli.progress.Progress` is one)."""

    read: int
    scored: int
    rejected: int

    def update(self, scored: int, rejected: int) -> None: ...


@attrs.define
class Counts:
    """Visits read, scored and rejected (read = scored + rejected)."""

    read: int = 0
    scored: int = 0
    rejected: int = 0

    def update(self, scored: int, rejected: int) -> None:
        self.scored += scored
        self.rejected += rejected
        self.read += scored + rejected


#: Enters the writers of a run and commits them together at a clean end, dropping
#: their temporary files on any exception (`outputs_together`; `sbm score` passes
#: its own, which also holds signals while it commits).
Together = Callable[..., contextlib.AbstractContextManager[tuple[Any, ...]]]


@attrs.frozen
class Setup:
    """How a streaming run reads and scores: CSV reading options (`encoding`,
    `delimiter`, `decimal`: None to detect), rows per chunk, worker processes and what
    they load (`job`: needed when `jobs` > 1)."""

    options: dict[str, Any] = attrs.field(factory=dict)
    chunk_rows: int = CHUNK_ROWS
    jobs: int = 1
    job: Job | None = None


def run(
    std: Any,
    inputs: Sequence[str | Path],
    out_path: Path,
    rejects_path: Path,
    setup: Setup,
    tally: Tally | None = None,
    together: Together = outputs_together,
) -> Counts:
    """Score every input into `out_path` and `rejects_path`, which appear together at
    the end (`together`); raise `Unsupported` before anything is renamed into place
    when the record path must do it instead.

    Rejects go to a spool (`RejectSpool`) as each chunk is scored, so memory is
    bounded by a chunk however many visits fail; their sources, and the CSV rows that
    did not fit the header, are added when the spool is copied into the rejects file."""
    if getattr(std, "uses_history", False):  # `batches.score_whole` scores it
        raise Unsupported(message("history.not_streamed", standard=std.id))
    kept = keep_freed_memory()
    progress: Tally = tally if tally is not None else Counts()
    files = open_inputs(std, inputs, setup.options)
    parquet = kept and all(f.kind == "parquet" for f in files)
    exact: set[int] = set()
    with (
        arrow_from_malloc() if parquet else contextlib.nullcontext(),
        pool_for(setup) as pool,
        quiet_skip_row(),
    ):
        while True:
            try:
                return _run_once(
                    std, files, out_path, rejects_path, setup, pool, progress, together
                )
            except Inexact as again:
                if again.index in exact:  # pragma: no cover - exact reading never raises it
                    raise RuntimeError(f"cannot read {again}") from again
                # Some chunks of the file were scored from Arrow's rows: start again, with
                # nothing written (the outputs were temporary files) and nothing counted.
                exact.add(again.index)
                progress.read = progress.scored = progress.rejected = 0
                files = open_inputs(std, inputs, setup.options)
                for f in files:
                    f.exact = f.index in exact


def open_inputs(std: Any, inputs: Sequence[str | Path], options: dict[str, Any]) -> list[InputFile]:
    """Every input opened and its header checked, in order."""
    return [open_input(i, Path(p), std, options) for i, p in enumerate(inputs)]


@contextlib.contextmanager
def pool_for(setup: Setup) -> Iterator[ProcessPoolExecutor | None]:
    """The worker pool of `setup.jobs` > 1 (None for one job), ended with the run:
    after a failure or an interrupt at once, without waiting for chunks in flight."""
    if setup.jobs <= 1:
        yield None
        return
    if setup.job is None:
        raise ValueError("more than one job needs a Job naming the standard to load")
    workers = Workers.start(setup.job, setup.jobs)
    finished = False
    try:
        yield workers.pool
        finished = True
    finally:
        workers.stop(finished)


def _run_once(
    std: Any,
    files: list[InputFile],
    out_path: Path,
    rejects_path: Path,
    setup: Setup,
    pool: ProcessPoolExecutor | None,
    progress: Tally,
    together: Together,
) -> Counts:
    """One pass of `run` over the files."""
    load_ahead(std, [f.kind for f in files], out_path.suffix.lower().lstrip("."), pool is None)
    counts = Counts()
    outputs = (
        open_writer(rejects_path),
        TableOutput(out_path, result_columns(std), std.result_template(), bool_columns(std)),
    )
    with together(*outputs) as (bad, out), RejectSpool(bad) as spool:
        for chunk, scored, rejects in stream(std, files, setup, pool, SeenIds()):
            out.write(scored)
            spool.add(chunk, rejects)
            bad_rows = len(rejects) + len(chunk.unreadable)
            counts.update(scored.num_rows, bad_rows)
            progress.update(scored.num_rows, bad_rows)
        misfits = spool.copy_out(files)
        counts.update(0, misfits)
        progress.update(0, misfits)
    return counts


def stream(
    std: Any,
    files: Sequence[InputFile],
    setup: Setup,
    pool: ProcessPoolExecutor | None,
    seen: SeenIds,
    first: int = 0,
    last: int | None = None,
) -> Iterator[tuple[Chunk, Any, Rejects]]:
    """Every chunk of `files[first:last]` scored, in input order: the chunk, its scored
    rows (the output columns) and its rejects (chunk row, `RejectedVisit` without a
    source yet; a JSONL or XLSX chunk's with their sources), the visits whose id
    appeared in an earlier chunk among them (`seen` holds the ids of the chunks
    before). A JSONL or XLSX chunk's unreadable lines are `chunk.unreadable`."""
    load_ahead(std, [f.kind for f in files[first:last]], scores=pool is None)
    chunks = prefetch(c for f in files[first:last] for c in iter_chunks(f, setup.chunk_rows))
    for chunk, (scored, rejects) in _scored_chunks(std, files, chunks, pool, setup.jobs):
        if chunk.read is not None and rejects:  # JSONL, XLSX: rejects as the record path's
            rejects = as_read(std, chunk.read, rejects)

        def earlier(candidates: set[str], chunk: Chunk = chunk) -> set[str]:
            return earlier_ids(files, chunk, candidates)

        scored, rejects, moved = move_duplicates(
            std, files[chunk.file], chunk, scored, rejects, seen, earlier
        )
        yield chunk, scored.drop_columns(["__row"]), [*rejects, *moved]


def load_ahead(
    std: Any, inputs: Sequence[str], output: str | None = None, scores: bool = True
) -> None:
    """Import what the reading and writing threads of a run will use for these input
    kinds and this output format, and compile the standard's batch evaluator when
    this process `scores` (not its workers), in this thread, before those threads
    start.

    Why: CPython 3.11 cannot compile in two threads at once (its AST validator keeps
    one recursion count for the whole interpreter: "SystemError: AST constructor
    recursion depth mismatch"), and a module imported from its source, without a
    bytecode cache or rewritten by pytest, is compiled as it is imported, as the
    evaluator's generated code is when it is made.
    """
    from .. import arrow_compute  # noqa: F401
    from ..batch import evaluator_for

    kinds = {*inputs, output}
    if kinds & {"jsonl", "ndjson"}:
        from ..io import jsonl_columns  # noqa: F401
    if "xlsx" in kinds:
        from ..io import xlsx_columns, xlsx_sheet  # noqa: F401
    if "csv" in kinds:
        from ..io import text_columns  # noqa: F401
    if "parquet" in kinds:
        from ..io import arrow_parquet, parquet_file  # noqa: F401
    if scores:
        evaluator_for(std, SCORE_BLOCK)


def _scored_chunks(
    std: Any,
    files: Sequence[InputFile],
    chunks: Iterator[Chunk],
    pool: ProcessPoolExecutor | None,
    jobs: int,
) -> Iterator[tuple[Chunk, tuple[Any, Rejects]]]:
    """Every chunk with its scoring, in input order (in workers when there is a pool,
    at most 2 × jobs chunks in flight so memory stays bounded)."""
    if pool is None:
        for c in chunks:
            yield c, score_chunk(std, c.table, files[c.file].cell_decimal)
        return
    import pyarrow as pa

    window: deque[tuple[Chunk, Future[Any]]] = deque()

    def result(fut: Future[Any]) -> tuple[Any, Rejects]:
        data, rej = fut.result()
        return pa.ipc.open_stream(data).read_all(), rej

    for c in chunks:
        payload = (to_ipc(c.table), files[c.file].cell_decimal)
        window.append((c, pool.submit(score_in_worker, payload)))
        if len(window) >= 2 * jobs:
            done, fut = window.popleft()
            yield done, result(fut)
    while window:
        done, fut = window.popleft()
        yield done, result(fut)
