"""XLSX and Parquet reading: one row per visit, numbers stay numbers, nulls are absent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sbm_engine.formats import read_visits
from sbm_engine.io import InputError
from sbm_engine.io import readers as readers_module


def _workbook(path: Path, rows: list[list[object]], title: str = "Визиты") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.create_sheet("Other").append(["visit_id", "x"])
    book.save(path)
    return path


def test_xlsx_rows_become_records(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "visits.xlsx",
        [
            ["visit_id", "point", "date", "greeted", "wait", "answers.score", "note"],
            [101, "P1", dt.datetime(2026, 11, 2), "да", 4.5, 5, None],
            [None, None, None, None, None, None, None],
            ["v3", "P2", dt.datetime(2026, 11, 3, 10, 30), "", 2, None, "=not a formula"],
        ],
    )
    got = list(read_visits(path))
    assert [r.source for r in got] == [f"{path}:Визиты:2", f"{path}:Визиты:4"]
    assert got[0].record == {
        "visit_id": "101",
        "point": "P1",
        "date": "2026-11-02",
        "answers": {"greeted": "да", "wait": 4.5, "score": 5},
    }
    assert got[1].record is not None
    assert got[1].record["date"] == "2026-11-03T10:30:00"
    assert got[1].record["answers"] == {"wait": 2}  # formula text is not cached: empty


def test_xlsx_named_sheet_and_missing_sheet(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "visits.xlsx", [["visit_id"], ["v1"]])
    assert list(read_visits(path, sheet="Other")) == []
    with pytest.raises(InputError, match="no sheet 'Nope'"):
        list(read_visits(path, sheet="Nope"))


def test_xlsx_value_beyond_header_is_an_error_record(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "visits.xlsx", [["visit_id", "a"], ["v1", 1, "extra"]])
    (got,) = list(read_visits(path))
    assert got.record is None
    assert got.error == "column 3 has a value ('extra') but no header"
    assert got.raw == {"visit_id": "v1", "a": 1, "#3": "extra"}


def test_damaged_xlsx_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "visits.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="Excel workbook"):
        list(read_visits(path))


def test_parquet_rows_become_records(tmp_path: Path) -> None:
    table = pa.table(
        {
            "visit_id": pa.array([1, 2, 3], pa.int64()),
            "date": pa.array([dt.date(2026, 11, 2), None, dt.date(2026, 11, 4)]),
            "wait": pa.array([2.0, float("nan"), None]),
            "greeted": pa.array(["да", "", None]),
            "answers": pa.array(
                [{"smile": "yes", "card": None}, None, {"smile": None, "card": "no"}]
            ),
        }
    )
    path = tmp_path / "visits.parquet"
    pq.write_table(table, path)
    got = list(read_visits(path))
    assert [r.source for r in got] == [f"{path}:1", f"{path}:2", f"{path}:3"]
    assert [r.record for r in got] == [
        {
            "visit_id": "1",
            "date": "2026-11-02",
            "answers": {"wait": 2.0, "greeted": "да", "smile": "yes"},
        },
        {"visit_id": "2", "answers": {}},
        {"visit_id": "3", "date": "2026-11-04", "answers": {"card": "no"}},
    ]


def test_parquet_is_read_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers_module, "PARQUET_BATCH_ROWS", 7)
    path = tmp_path / "visits.parquet"
    pq.write_table(pa.table({"visit_id": [f"v{i}" for i in range(20)], "a": list(range(20))}), path)
    got = list(read_visits(path))
    assert [r.source for r in got] == [f"{path}:{i}" for i in range(1, 21)]
    assert got[19].record == {"visit_id": "v19", "answers": {"a": 19}}


def test_damaged_parquet_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "visits.parquet"
    path.write_bytes(b"PAR1 nonsense")
    with pytest.raises(InputError, match="as Parquet"):
        list(read_visits(path))
