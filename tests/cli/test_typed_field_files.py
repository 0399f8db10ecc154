"""Typed visit fields read from spreadsheet and Parquet cells: both engines agree."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sbm_engine.cli import cli

STANDARD = """
standard t.typed {
    version "1"
    field ticket datetime
    field day date
    field wait duration
    item a "A" answer { yes = 1, no = 0 }
    coefficient th = hour(visit.ticket)
    coefficient tm = minutes_between(visit.ticket, "2026-03-14T01:00:00")
    coefficient dm = days_between(visit.day, "2026-03-20")
    coefficient w = visit.wait
}
"""

ROWS = [
    # a date and time at midnight, read as a date by the spreadsheet reader
    (
        "1",
        dt.datetime(2026, 3, 14, 0, 0),
        dt.datetime(2026, 3, 14, 0, 0),
        dt.timedelta(days=1, hours=6),
    ),
    ("2", dt.datetime(2026, 3, 14, 0, 30), dt.datetime(2026, 3, 15), -dt.timedelta(minutes=10)),
]
EXPECTED = [
    {"th": 0.0, "tm": 60.0, "dm": 6.0, "w": 1800.0},
    {"th": 0.0, "tm": 30.0, "dm": 5.0, "w": -10.0},
]


def _score(tmp_path: Path, wave: Path, engine: str) -> list[dict]:
    std = tmp_path / "s.sbm"
    std.write_text(STANDARD, encoding="utf-8")
    out = tmp_path / f"out-{engine}.jsonl"
    result = CliRunner().invoke(
        cli, ["score", str(std), str(wave), "-o", str(out), "--engine", engine]
    )
    assert result.exit_code == 0, result.output
    return [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("engine", ["python", "batch"])
def test_xlsx_midnight_datetimes_and_long_or_negative_durations(
    tmp_path: Path, engine: str
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["visit_id", "ticket", "day", "wait", "a"])
    for row in ROWS:
        sheet.append([*row, "yes"])
    wave = tmp_path / "wave.xlsx"
    book.save(wave)
    rows = _score(tmp_path, wave, engine)
    assert [r["coefficients"] for r in rows] == EXPECTED


@pytest.mark.parametrize("engine", ["python", "batch"])
def test_parquet_timestamps_and_durations_of_a_day_or_negative(tmp_path: Path, engine: str) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "visit_id": [r[0] for r in ROWS],
            "ticket": pa.array([r[1] for r in ROWS], pa.timestamp("us")),
            "day": pa.array([r[2].date() for r in ROWS], pa.date32()),
            "wait": pa.array([r[3] for r in ROWS], pa.duration("us")),
            "a": ["yes", "no"],
        }
    )
    wave = tmp_path / "wave.parquet"
    pq.write_table(table, wave)
    rows = _score(tmp_path, wave, engine)
    assert [r["coefficients"] for r in rows] == EXPECTED


@pytest.mark.parametrize("engine", ["python", "batch"])
def test_jsonl_numbers_and_empty_texts_in_typed_fields(tmp_path: Path, engine: str) -> None:
    records = [
        {"visit_id": "1", "wait": -10, "day": "", "answers": {"a": "yes"}},
        {"visit_id": "2", "wait": "", "ticket": "", "answers": {"a": "no"}},
        {"visit_id": "3", "wait": 2.5, "ticket": "2026-03-14", "answers": {"a": "no"}},
        {"visit_id": "4", "wait": "-PT1H", "day": "2026-03-14", "answers": {"a": "no"}},
    ]
    wave = tmp_path / "wave.jsonl"
    wave.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    rows = _score(tmp_path, wave, engine)
    assert [r["coefficients"] for r in rows] == [
        {"th": None, "tm": None, "dm": None, "w": -10.0},
        {"th": None, "tm": None, "dm": None, "w": None},
        {"th": 0.0, "tm": 60.0, "dm": None, "w": 2.5},
        {"th": None, "tm": None, "dm": 6.0, "w": -60.0},
    ]
