"""Writers: atomic replacement, byte determinism, flattening and round trips."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sbm_engine.formats import open_writer, read_visits
from sbm_engine.io import OutputError, flatten
from sbm_engine.io import writers as writers_module

FORMATS = ["jsonl", "csv", "xlsx", "parquet"]


class Boom(Exception):
    pass


def _visits(n: int) -> list[dict]:
    return [
        {
            "visit_id": f"v{i:03d}",
            "point": f"P{i % 3}",
            "date": "2026-11-02",
            "answers": {"wait": i % 7, "score": i / 4, "greeted": "да" if i % 2 else "нет"},
        }
        for i in range(n)
    ]


def test_flatten(visit: dict) -> None:
    flat = flatten(visit)
    assert list(flat)[:9] == [
        "visit_id",
        "standard",
        "version",
        "point",
        "specialist",
        "region",
        "date",
        "scenario",
        "shopper",
    ]
    assert flat["coefficients.visit"] == 0.585
    assert flat["coefficients.subjective"] is None
    assert flat["bands.visit"] == "плохо"
    assert flat["critical"] == '["secrecy"]'
    assert flat["warnings"] == '[{"item":"card","message":"нет ответа"}]'


def test_jsonl_line_format(tmp_path: Path, visit: dict) -> None:
    path = tmp_path / "results.jsonl"
    with open_writer(path) as writer:
        writer.write(visit)
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(visit, ensure_ascii=False) + "\n"
    assert '"bands": {"visit": "плохо"}' in text
    assert json.loads(text) == visit


def test_csv_layout(tmp_path: Path, visit: dict) -> None:
    path = tmp_path / "results.csv"
    with open_writer(path) as writer:
        writer.write(visit)
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    assert lines[0].startswith("visit_id,standard,version,point,")
    assert "coefficients.visit,coefficients.subjective,coefficients.point" in lines[0]
    assert lines[1].startswith("v01,demo-branch,1.0,P1,")
    assert ",0.585,,1.0," in lines[1]
    assert lines[2] == ""


@pytest.mark.parametrize("ext", FORMATS)
def test_round_trip_of_visits(tmp_path: Path, ext: str) -> None:
    visits = _visits(30)
    path = tmp_path / f"visits.{ext}"
    with open_writer(path) as writer:
        assert writer.write_many(visits) == 30
    got = list(read_visits(path))
    assert [r.record for r in got] == visits
    assert all(r.error is None for r in got)


@pytest.mark.parametrize("ext", FORMATS)
def test_writing_is_byte_deterministic(tmp_path: Path, ext: str, visit: dict) -> None:
    records = [visit, {**visit, "visit_id": "v02", "critical": [], "bands": {"visit": None}}]
    first, second = tmp_path / f"a.{ext}", tmp_path / "b" / f"a.{ext}"
    second.parent.mkdir()
    for path in (first, second):
        with open_writer(path) as writer:
            writer.write_many(records)
    assert first.read_bytes() == second.read_bytes()


def test_xlsx_carries_no_clock_time(tmp_path: Path, visit: dict) -> None:
    path = tmp_path / "results.xlsx"
    with open_writer(path) as writer:
        writer.write(visit)
    with zipfile.ZipFile(path) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z</dcterms:modified>" in core
    assert "2000-01-01T00:00:00Z</dcterms:created>" in core


@pytest.mark.parametrize("ext", FORMATS)
def test_exception_leaves_no_file(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"results.{ext}"
    with pytest.raises(Boom), open_writer(path) as writer:
        writer.write_many(_visits(3))
        raise Boom
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("ext", FORMATS)
def test_exception_keeps_old_target(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"results.{ext}"
    with open_writer(path) as writer:
        writer.write_many(_visits(2))
    before = path.read_bytes()
    with pytest.raises(Boom), open_writer(path) as writer:
        writer.write_many(_visits(10))
        raise Boom
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]


def test_temp_file_lives_beside_target_until_commit(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    with open_writer(path) as writer:
        writer.write({"visit_id": "v1"})
        names = os.listdir(tmp_path)
        assert len(names) == 1
        assert names[0].startswith(".results.jsonl.") and names[0].endswith(".tmp")
        assert not path.exists()
    assert os.listdir(tmp_path) == ["results.jsonl"]


def test_replacing_keeps_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text("old\n")
    path.chmod(0o640)
    with open_writer(path) as writer:
        writer.write({"visit_id": "v1"})
    assert path.stat().st_mode & 0o777 == 0o640


def test_new_file_mode_follows_umask(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    with open_writer(path) as writer:
        writer.write({"visit_id": "v1"})
    assert path.stat().st_mode & 0o777 == 0o666 & ~writers_module._UMASK


def test_write_outside_with_block_is_refused(tmp_path: Path) -> None:
    writer = open_writer(tmp_path / "results.jsonl")
    with pytest.raises(RuntimeError, match="not open"):
        writer.write({"visit_id": "v1"})


def test_unknown_output_extension(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"supported: \.csv, \.jsonl"):
        open_writer(tmp_path / "results.txt")


def test_missing_directory_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="no directory"), open_writer(tmp_path / "no" / "r.csv"):
        pass


def test_extra_columns_abort_and_leave_nothing(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    with (
        pytest.raises(OutputError, match="columns not in the header: extra"),
        open_writer(path, columns=["visit_id"]) as writer,
    ):
        writer.write({"visit_id": "v1"})
        writer.write({"visit_id": "v2", "extra": 1})
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("ext", ["csv", "xlsx", "parquet"])
def test_columns_fix_the_header_even_without_records(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"results.{ext}"
    with open_writer(path, columns=["visit_id", "coefficients.visit"]):
        pass
    if ext == "csv":
        assert path.read_bytes() == b"visit_id,coefficients.visit\r\n"
    elif ext == "parquet":
        assert pq.read_table(path).column_names == ["visit_id", "coefficients.visit"]
    else:
        sheet = openpyxl.load_workbook(path).worksheets[0]
        assert [cell.value for cell in sheet[1]] == ["visit_id", "coefficients.visit"]


@pytest.mark.parametrize("ext", FORMATS)
def test_no_records_gives_an_empty_but_valid_file(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"results.{ext}"
    with open_writer(path):
        pass
    assert path.exists()
    assert list(read_visits(path)) == []


def test_parquet_types_and_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, visit: dict
) -> None:
    monkeypatch.setattr(writers_module, "PARQUET_CHUNK_ROWS", 3)
    path = tmp_path / "results.parquet"
    records = [{**visit, "visit_id": f"v{i}"} for i in range(8)]
    with open_writer(path) as writer:
        writer.write_many(records)
    table = pq.read_table(path)
    assert table.num_rows == 8
    schema = table.schema
    assert schema.field("visit_id").type == pa.string()
    assert schema.field("coefficients.visit").type == pa.float64()
    assert schema.field("coefficients.subjective").type == pa.float64()  # all null
    assert schema.field("critical").type == pa.string()
    assert table.column("visit_id").to_pylist() == [f"v{i}" for i in range(8)]
    assert pq.ParquetFile(path).metadata.num_row_groups == 3


def test_parquet_text_in_number_column_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writers_module, "PARQUET_CHUNK_ROWS", 1)
    path = tmp_path / "results.parquet"
    with (
        pytest.raises(OutputError, match="'score' holds float64"),
        open_writer(path) as writer,
    ):
        writer.write({"visit_id": "v1", "score": 1.5})
        writer.write({"visit_id": "v2", "score": "n/a"})
    assert os.listdir(tmp_path) == []


def test_xlsx_keeps_formula_like_text_as_text(tmp_path: Path) -> None:
    path = tmp_path / "rejects.xlsx"
    with open_writer(path) as writer:
        writer.write({"visit_id": "=1+1", "note": "bell\x07"})
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert sheet.title == "rejects"
    assert [cell.value for cell in sheet[2]] == ["=1+1", "bell\ufffd"]
    assert sheet["A2"].data_type == "s"


def test_jsonl_refuses_nan(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="JSON"), open_writer(tmp_path / "r.jsonl") as writer:
        writer.write({"visit_id": "v1", "x": float("nan")})
    assert os.listdir(tmp_path) == []


def test_xlsx_keeps_every_float_exactly(tmp_path: Path) -> None:
    """openpyxl writes numbers to 16 significant digits; some floats need 17, and the
    results read back (by rollup, compare) must be the floats that were written."""
    import random

    rng = random.Random(3)
    values = [0.43500000000000005, 1 / 3, 5e-324, 1e308, -2.5, 0.1]
    values += [rng.random() * 10 ** rng.randint(-5, 5) for _ in range(300)]
    out = tmp_path / "x.xlsx"
    with open_writer(out) as w:
        for i, v in enumerate(values):
            w.write({"visit_id": f"v{i}", "x": v})
    book = openpyxl.load_workbook(out, read_only=True)
    cells = [row[1] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert cells == values
    assert all(type(c) is float for c in cells)
