"""The rejects of a streaming run: `RejectedVisit`s kept in input order, given their
sources (`file:ROW`, `file:LINE`) once each file's rows are placed, and written to
the rejects file at the end.
"""

from __future__ import annotations

import heapq
import itertools
import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

import attrs

from ..io.records import TableLayout
from ..results import RejectedVisit, ScoringSession
from .errors import Inexact
from .inputs import Chunk, InputFile, csv_lines, last_line_reads_alike, row_reject, simple_lines
from .scoring import Rejects

#: Rejects per pickle in the rejects spool: a whole chunk's at once took 3× longer
#: to pickle and read back (a memo of every object) and more memory.
SPOOL_BATCH: Final = 1024


def with_sources(
    f: InputFile, rejects: Iterable[tuple[int, RejectedVisit]]
) -> tuple[Iterator[RejectedVisit], int]:
    """One file's rejects (file row, reject), in row order, with their `source`, and the
    CSV rows no record could be made of (rows that do not fit the header, …) where
    their lines fall; and how many of those there are.

    `Inexact` when the rows Arrow read are not the rows `io.csv_rows` reads (the file
    must then be read again with `io.csv_rows`)."""
    misfits: list[tuple[int, RejectedVisit]] = []
    if f.read_by_chunks:  # placed already, as each chunk was scored (`numbered`)
        return (r for _, r in rejects), 0
    if f.kind != "csv":  # Parquet and tables: rows counted from 1
        placed: Iterator[tuple[int, RejectedVisit]] = ((row + 1, r) for row, r in rejects)
    elif f.exact:
        placed = ((f.lines[row], r) for row, r in rejects)
        misfits = f.unreadable
    elif simple_lines(f):
        if f.rows and not last_line_reads_alike(f):
            raise Inexact(f.index, f"{f.path}: its last line has a quote that never closes")
        placed = ((row + 2, r) for row, r in rejects)
    else:
        lines = csv_lines(f)
        if lines.unreadable or len(lines.lines) != f.rows:
            raise Inexact(f.index, f"{f.path}: Arrow and io.csv_rows read other rows")
        placed = ((lines.lines[row], r) for row, r in rejects)
        layout = TableLayout(f.header, f.visit_fields)
        misfits = [(row.line, row_reject(f, layout, row)) for row in lines.misfits]
    label = f.label
    merged = heapq.merge(placed, misfits, key=lambda e: e[0])
    return (attrs.evolve(r, source=f"{label}:{line}") for line, r in merged), len(misfits)


def numbered(chunk: Chunk, rejects: Rejects) -> list[tuple[int, RejectedVisit]]:
    """A JSONL or XLSX chunk's rejects (chunk row, reject with its source: `as_read`)
    and its unreadable lines, as (line or sheet row, reject) in file order."""
    read = chunk.read
    rows = [(int(read.numbers[row]), r) for row, r in rejects]
    rows += [
        (number, ScoringSession.unreadable(rec.raw, rec.source, rec.error or "unreadable"))
        for number, rec in read.unreadable
    ]
    rows.sort(key=lambda e: e[0])
    return rows


class RejectSpool:
    """The rejects of a batch run, in input order, in a temporary file until the end.

    Why: a wave where most visits fail would otherwise hold every reject (its record
    and errors as Python objects, a few kB each) until the end: 8 GB for 300k. Chunks
    are scored in input order, so sorting each chunk's rejects by row (its own and
    the duplicates moved out of it) keeps the whole spool in the order of the rejects
    file; only the sources wait, because a CSV file's line numbers are known once it
    has been read whole (`with_sources`). The spool is an anonymous temporary file
    beside the rejects file (pickled lists of SPOOL_BATCH rejects: our own file, read
    back once, exact for any value a record holds); a full disk names the rejects file."""

    def __init__(self, rejects: Any) -> None:
        self._rejects = rejects  # the rejects file's writer

    def __enter__(self) -> RejectSpool:
        try:
            self._file = tempfile.TemporaryFile(dir=self._rejects.path.parent)
        except OSError as exc:
            raise self._rejects.error(exc) from exc
        return self

    def __exit__(self, *exc: Any) -> None:
        self._file.close()

    def add(self, chunk: Chunk, rejects: Rejects) -> None:
        """One chunk's rejects (with their chunk row), kept in input order; a JSONL or
        XLSX chunk's with its unreadable lines, placed (`numbered`)."""
        if chunk.read is not None:
            rows = numbered(chunk, rejects)
        else:
            rows = [(chunk.start + row, r) for row, r in sorted(rejects, key=lambda e: e[0])]
        if not rows:
            return
        try:
            for i in range(0, len(rows), SPOOL_BATCH):
                batch = (chunk.file, rows[i : i + SPOOL_BATCH])
                pickle.dump(batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as exc:
            raise self._rejects.error(exc) from exc

    def _entries(self) -> Iterator[tuple[int, int, RejectedVisit]]:
        """(file, row, reject) as added, read back one chunk at a time."""
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
            placed, found = with_sources(f, own)
            for r in placed:
                self._rejects.write(r.to_dict())
            misfits += found
            if mine:
                group = next(groups, None)
        return misfits
