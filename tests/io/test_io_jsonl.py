"""JSONL reading: records as is, bad lines kept as error records with their line."""

from __future__ import annotations

from pathlib import Path

from sbm_engine.formats import read_visits
from sbm_engine.io import SourceRecord


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def test_objects_are_used_as_is_with_line_sources(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "visits.jsonl",
        '{"visit_id": "v1", "answers": {"wait": 2, "greeted": "да"}}\n'
        "\n"
        '{"visit_id": "v2", "point": "P1", "answers": {}}\n',
    )
    got = list(read_visits(path))
    assert [r.source for r in got] == [f"{path}:1", f"{path}:3"]
    assert got[0].record == {"visit_id": "v1", "answers": {"wait": 2, "greeted": "да"}}
    assert got[0].raw == '{"visit_id": "v1", "answers": {"wait": 2, "greeted": "да"}}'
    assert got[1].error is None
    assert all(r.ok for r in got)


def test_bad_line_becomes_error_record_and_reading_goes_on(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "visits.jsonl",
        '{"visit_id": "v1", "answers": {}}\n'
        '{"visit_id": "v2", "answers": {\n'
        "[1, 2]\n"
        '{"visit_id": "v4", "answers": {"a": NaN}}\n'
        '{"visit_id": "v5", "visit_id": "v5b"}\n'
        '{"visit_id": "v6", "answers": {}}\r\n'
        '{"visit_id": "v7", "answers": {"a": ' + "9" * 5000 + "}}\n",
    )
    got = list(read_visits(path))
    assert [r.source.rsplit(":", 1)[1] for r in got] == ["1", "2", "3", "4", "5", "6", "7"]
    assert [r.ok for r in got] == [True, False, False, False, False, True, False]
    assert got[1].error is not None and got[1].error.startswith("invalid JSON")
    assert got[1].raw == '{"visit_id": "v2", "answers": {'
    assert got[2].error == "expected a JSON object, got an array"
    assert got[3].error is not None and "NaN" in got[3].error
    assert got[4].error is not None and "duplicate key 'visit_id'" in got[4].error
    assert got[5].record == {"visit_id": "v6", "answers": {}}


def test_invalid_utf8_line_is_one_error_record(tmp_path: Path) -> None:
    path = tmp_path / "visits.ndjson"
    path.write_bytes(b'{"visit_id": "v1"}\n{"visit_id": "\xcf\xf0\xe8"}\n{"visit_id": "v3"}\n')
    got = list(read_visits(path))
    assert [r.ok for r in got] == [True, False, True]
    assert got[1].error is not None and "not valid utf-8" in got[1].error
    assert got[1].source == f"{path}:2"


def test_bom_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "visits.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"visit_id": "v1"}\n')
    assert [r.record for r in read_visits(path)] == [{"visit_id": "v1"}]


def test_reading_is_lazy_and_yields_source_records(tmp_path: Path) -> None:
    path = _write(tmp_path / "visits.jsonl", '{"visit_id": "v1"}\n' * 3)
    iterator = read_visits(path)
    first = next(iterator)
    assert isinstance(first, SourceRecord)
    assert first.record == {"visit_id": "v1"}


def test_conformance_sample_reads_cleanly() -> None:
    sample = Path(__file__).resolve().parents[1] / "conformance" / "demo_visits.jsonl"
    got = list(read_visits(sample))
    assert len(got) == 12
    assert all(r.ok for r in got)
    assert got[3].record is not None and got[3].record["answers"]["greeted"] == "да"
