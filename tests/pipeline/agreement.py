"""What the property tests of the streaming path assert for any input file: the batch
engine and the record engine write the same bytes, count the same visits, and
`score_batches` gives the record engine's rejects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def record_rejects(std: Any, inp: Path, tmp: Path) -> tuple[Any, list[dict[str, Any]]]:
    """Score `inp` with the record engine into `tmp/record/`: its counts and rejects."""
    (tmp / "record").mkdir()
    ref = std.score_files(inp, tmp / "record" / "out.jsonl", engine="python")
    lines = (tmp / "record" / "out.rejects.jsonl").read_text("utf-8").splitlines()
    return ref, [json.loads(line) for line in lines]


def assert_batch_path_agrees(
    std: Any, inp: Path, tmp: Path, chunk_rows: int, ref: Any, rejects: list[dict[str, Any]]
) -> None:
    """The batch engine, into `tmp/batch/`, and `score_batches` against the record run."""
    (tmp / "batch").mkdir()
    got = std.score_files(inp, tmp / "batch" / "out.jsonl", engine="batch", chunk_rows=chunk_rows)
    assert (got.read, got.scored, got.rejected) == (ref.read, ref.scored, ref.rejected)
    for name in ("out.jsonl", "out.rejects.jsonl"):
        assert (tmp / "batch" / name).read_bytes() == (tmp / "record" / name).read_bytes()
    batches = list(std.score_batches(inp, chunk_rows=chunk_rows))
    assert [r.to_dict() for b in batches for r in b.rejects] == rejects
    assert sum(b.scored.num_rows for b in batches) == ref.scored
