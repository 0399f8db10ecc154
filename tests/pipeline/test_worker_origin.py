"""Worker processes (`jobs` > 1) make the standard again as it was loaded: from its
absolute path, with the search path its base was found on, whatever folder the
caller works in."""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

import pytest

import sbm_engine

pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

CONFORMANCE = Path(__file__).parents[1] / "conformance"
HEADER = "visit_id,region,scenario,greeted,smile,wait,questions,card,secrecy,clean,overall"


def test_workers_load_a_standard_whose_base_is_on_the_search_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "child").mkdir()
    shutil.copy(CONFORMANCE / "demo_branch.sbm", tmp_path / "lib" / "base.sbm")
    (tmp_path / "child" / "child.sbm").write_text(
        'standard demo.child "Child" extends demo.branch {\n}\n', encoding="utf-8"
    )
    rows = [f"v{i},R1,deposit,yes,no,3,4,yes,yes,5,{i % 11}" for i in range(40)]
    (tmp_path / "in.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    std = sbm_engine.load("child/child.sbm", search_path=[Path("lib")])
    one = std.score_files("in.csv", "one.csv", chunk_rows=8)
    os.chdir(tmp_path / "child")  # the workers start elsewhere: relative paths would break
    two = std.score_files(tmp_path / "in.csv", tmp_path / "two.csv", chunk_rows=8, jobs=2)
    assert (one.read, one.scored) == (two.read, two.scored) == (40, 40)
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()


def test_score_batches_gives_a_parquet_files_first_batch_before_scoring_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notebook reading a long Parquet file batch by batch holds a batch or two, not
    the file's results."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # the module (the package's `run` is the function of that name)
    run = importlib.import_module("sbm_engine.pipeline.run")

    std = sbm_engine.load(CONFORMANCE / "demo_branch.sbm")
    names = HEADER.split(",")
    rows = [
        dict(zip(names, f"v{i},R1,deposit,yes,no,3,4,yes,yes,5,7".split(","), strict=True))
        for i in range(50)
    ]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
    scored: list[int] = []
    original = run.score_chunk

    def counting(*args: object, **kwargs: object) -> object:
        scored.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(run, "score_chunk", counting)
    batches = std.score_batches(tmp_path / "in.parquet", chunk_rows=5)
    first = next(batches)
    assert first.scored.num_rows == 5
    assert len(scored) <= 2
    assert first.scored.num_rows + sum(b.scored.num_rows for b in batches) == 50
    assert len(scored) == 10
