"""Worker processes (`jobs` > 1) make the standard again as it was loaded: from its
absolute path, with the search path its base was found on, whatever folder the
caller works in."""

from __future__ import annotations

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
