"""Duplicate visit_ids across the chunks of a run: `ScoringSession`'s rule, streamed.

`score_table` finds duplicates within one chunk; across chunks the ids seen so far
are kept as sorted 64-bit hashes (8 bytes a visit), and a hash hit is confirmed
against the real ids (a re-read of the visit_id column) before a row is moved to
the rejects with the record path's `duplicate_visit` error (`standard.duplicate`),
ids being compared as `standard.visit_key` compares them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from ..io.detect import number_parser
from ..io.records import TableLayout, is_empty, jsonable
from ..results import RejectedVisit, duplicate, visit_key
from .inputs import Chunk, InputFile, id_batches
from .scoring import Rejects

_DUP_CODE: Final = "duplicate_visit"


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
            hit |= _found(run, hashes)
        return hit

    def any_of(self, ordered: Any) -> bool:
        """Whether any of these sorted hashes was added before: sorted, they are told
        apart in one pass (numpy's binary search starts from the last key's place),
        where `hits` searches the rows in their order."""
        return any(bool(_found(run, ordered).any()) for run in self.runs if ordered.size)

    def add(self, hashes: Any, ordered: bool = False) -> None:
        """Remember these hashes (`ordered`: they are sorted already)."""
        import numpy as np

        if not hashes.size:
            return
        self.runs.append(hashes if ordered else np.sort(hashes))
        while len(self.runs) > 1 and self.runs[-2].size <= 2 * self.runs[-1].size:
            last = self.runs.pop()
            self.runs[-1] = np.sort(np.concatenate([self.runs[-1], last]), kind="stable")


def _found(run: Any, hashes: Any) -> Any:
    """Which of `hashes` are in the sorted `run` (not empty)."""
    import numpy as np

    pos = np.searchsorted(run, hashes)
    np.minimum(pos, run.size - 1, out=pos)
    return run[pos] == hashes


def earlier_ids(files: Sequence[InputFile], chunk: Chunk, candidates: set[str]) -> set[str]:
    """Which candidate ids occur in the rows before `chunk` (the visit_id columns are
    read again; only when a hash hit, so rarely)."""
    found: set[str] = set()
    for f in files[: chunk.file + 1]:
        upto = chunk.start if f.index == chunk.file else None
        column = f.visit_id_column()
        if column is None or upto == 0:
            continue
        seen = 0
        for values in id_batches(f, column):
            if upto is not None:
                values = values[: upto - seen]
            seen += len(values)
            for v in values:
                key = None if is_empty(v) else visit_key(v)
                if key in candidates:
                    found.add(key)
            if upto is not None and seen >= upto:
                break
    return found


def move_duplicates(
    std: Any,
    f: InputFile,
    chunk: Chunk,
    scored: Any,
    chunk_rejects: Rejects,
    seen: SeenIds,
    earlier_of: Callable[[set[str]], set[str]],
) -> tuple[Any, Rejects, Rejects]:
    """Apply `ScoringSession`'s rule across chunks: a visit_id that appeared in an
    earlier chunk is rejected (the duplicate error first), the first stays scored.
    `seen` holds the hashes of the ids before `chunk` (it is given this chunk's);
    `earlier_of(candidates)` says which of some ids really occur before it.

    Returns the scored rows left, the chunk's own rejects (those whose id appeared
    earlier with the duplicate error first) and the scored rows moved to the rejects."""
    import numpy as np
    import pyarrow as pa

    from .. import arrow_compute as pc
    from ..batch.arrow_text import hash_texts
    from ..io.numpy_arrow import arrow_array

    ids = scored.column("visit_id").combine_chunks()
    keys = [visit_key(r.visit_id) for _, r in chunk_rejects]
    reject_ids = [k for k in keys if k is not None]
    hashes = hash_texts(ids)
    reject_hashes = hash_texts(reject_ids)
    ordered = np.sort(np.concatenate([hashes, reject_hashes]))
    candidates: set[str] = set()
    if seen.any_of(ordered):  # rarely: look for the rows
        candidates = set(pc.filter(ids, arrow_array(seen.hits(hashes))).to_pylist())
        hits = seen.hits(reject_hashes)
        candidates |= {v for v, hit in zip(reject_ids, hits, strict=True) if hit}
    earlier = earlier_of(candidates) if candidates else set()
    moved: Rejects = []
    if earlier:
        chunk_rejects = [
            (row, _again(r) if key in earlier else r)
            for (row, r), key in zip(chunk_rejects, keys, strict=True)
        ]
        again = pc.is_in(ids, value_set=pa.array(sorted(earlier), pa.string()))
        keep = ~again.to_numpy(zero_copy_only=False)
        if not keep.all():
            rows = scored.column("__row").to_numpy()[~keep]
            records = _records(std, f, chunk, rows)
            read = chunk.read
            for row, record in zip(rows.tolist(), records, strict=True):
                source = None if read is None else read.source(row)
                moved.append((row, duplicate(record.get("visit_id"), source, record, None)))
            scored = pc.filter(scored, arrow_array(keep))
    seen.add(ordered, ordered=True)
    return scored, chunk_rejects, moved


def _again(r: RejectedVisit) -> RejectedVisit:
    """A rejection whose visit_id appeared earlier: the duplicate error first (once)."""
    if r.errors and r.errors[0].code == _DUP_CODE:
        return r
    return duplicate(r.visit_id, r.source, r.record, r)


def _records(std: Any, f: InputFile, chunk: Chunk, rows: Any) -> list[dict[str, Any]]:
    """The records of some rows, made exactly as the record path makes them (a JSONL
    line's: the object on the line as written)."""
    import numpy as np

    from .. import arrow_compute as pc
    from ..io.numpy_arrow import arrow_array

    if chunk.read is not None and f.kind == "jsonl":
        return [chunk.read.record(row) for row in rows.tolist()]
    table = chunk.table
    convert = number_parser(f.decimal) if f.kind == "csv" else jsonable
    layout = TableLayout(table.column_names, std.model.visit_fields, convert)
    picked = pc.take(table, arrow_array(rows.astype(np.int64)))
    columns = [c.to_pylist() for c in picked.columns]
    out = []
    for cells in zip(*columns, strict=True):
        record, _ = layout.to_record(cells)
        out.append(jsonable(record))
    return out
