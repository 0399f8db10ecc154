"""A run that scores nothing still writes a whole output file, the same on both engines.

No visit scored (a CSV with only its header, or every row rejected) must still give
the header the standard fixes; a zero-byte file would not even be a Parquet file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sbm_engine.cli import cli

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
openpyxl = pytest.importorskip("openpyxl")
pytest.importorskip("numpy")

STANDARD = str(Path(__file__).parent.parent / "conformance" / "demo_branch.sbm")
HEADER = "visit_id,region,scenario,greeted,smile,wait,questions,card,secrecy,clean,overall"
INPUTS = {
    "header only": HEADER + "\n",
    "every row rejected": HEADER + "\nv1,R1,deposit,yes,no,3,4,yes,yes,5,99\n",
}


def _score(folder: Path, engine: str, out: str) -> Path:
    target = folder / engine / out
    target.parent.mkdir(exist_ok=True)
    done = CliRunner().invoke(
        cli, ["score", STANDARD, str(folder / "in.csv"), "-o", str(target), "--engine", engine]
    )
    assert done.exit_code in (0, 1), done.output
    return target


def _cells(path: Path) -> list[list[object]]:
    sheet = openpyxl.load_workbook(path, read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("content", sorted(INPUTS))
@pytest.mark.parametrize("out", ["out.parquet", "out.csv", "out.jsonl", "out.xlsx"])
def test_nothing_scored_gives_the_record_engines_file(
    tmp_path: Path, content: str, out: str
) -> None:
    (tmp_path / "in.csv").write_text(INPUTS[content], encoding="utf-8")
    batch, record = _score(tmp_path, "batch", out), _score(tmp_path, "python", out)
    if out.endswith(".parquet"):
        got = pq.read_table(batch)
        assert got.num_rows == 0
        assert got.schema.equals(pq.read_table(record).schema)
        assert "coefficients.visit" in got.column_names
    elif out.endswith(".xlsx"):
        assert _cells(batch) == _cells(record)
        assert _cells(batch)[0][0] == "visit_id"
    else:
        assert batch.read_bytes() == record.read_bytes()
        assert batch.read_bytes().startswith(b"visit_id,") == out.endswith(".csv")
