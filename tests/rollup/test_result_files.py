"""Reading results back (`sbm_engine.result_files`): every format gives the same records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from demo import DEMO, GOOD

from sbm_engine import result_files
from sbm_engine.cli import cli


def _visits(tmp_path: Path) -> Path:
    rows = []
    for i in range(30):
        answers = dict(GOOD, greeted="yes" if i % 3 else "no", overall=None if i % 4 else 6)
        rows.append(
            {
                "visit_id": f"v{i}",
                "point": 12 if i % 2 else "P2",
                "scenario": "deposit",
                "shopper": "SH-1",
                "answers": answers,
            }
        )
    path = tmp_path / "visits.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


def test_the_parquet_reader_gives_the_visit_readers_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyarrow")
    visits = _visits(tmp_path)
    out = tmp_path / "scored.parquet"
    res = CliRunner().invoke(cli, ["score", str(DEMO), str(visits), "-o", str(out)])
    assert res.exit_code == 0, res.output
    fast = list(result_files.read_results([out]))
    monkeypatch.setattr(result_files, "_parquet_results", lambda path: None)
    generic = list(result_files.read_results([out]))
    assert fast == generic
    assert len(fast) == 30 and fast[1][1]["point"] == "12"


def test_a_table_that_is_not_plain_results_goes_to_the_visit_reader(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "odd.parquet"
    pq.write_table(pa.table({"standard": ["x"], "version": ["1"], "answers": [{"a": 1}]}), path)
    assert result_files._parquet_results(path) is None
    records: list[Any] = list(result_files.read_results([path]))
    assert len(records) == 1
