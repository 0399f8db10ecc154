"""Choosing readers and writers by extension, and the errors for what cannot be read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sbm_engine.formats import read_visits
from sbm_engine.io import (
    READERS,
    WRITERS,
    InputError,
    ReadOptions,
    SourceRecord,
    register_reader,
)
from sbm_engine.io._deps import require


def test_builtin_formats_are_registered() -> None:
    assert {".jsonl", ".ndjson", ".csv", ".tsv", ".xlsx", ".parquet"} <= set(READERS)
    assert {".jsonl", ".csv", ".xlsx", ".parquet"} <= set(WRITERS)


def test_unknown_extension_lists_supported(tmp_path: Path) -> None:
    path = tmp_path / "visits.json"
    path.write_text("{}")
    with pytest.raises(InputError, match=r"unknown input format '\.json'; supported: .*\.csv"):
        read_visits(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read .*nope\.jsonl"):
        read_visits(tmp_path / "nope.jsonl")
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    with pytest.raises(InputError, match="is a directory"):
        read_visits(folder)


def test_unknown_encoding(tmp_path: Path) -> None:
    for name in ("visits.jsonl", "visits.csv"):
        path = tmp_path / name
        path.write_text("visit_id\n")
        with pytest.raises(InputError, match="unknown encoding 'klingon'"):
            read_visits(path, encoding="klingon")


def test_plugin_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sbm_engine.io.readers.READERS", dict(READERS))

    def read_lines(path: Path, options: ReadOptions) -> Iterator[SourceRecord]:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            yield SourceRecord(f"{path}:{number}", {"visit_id": line, "answers": {}}, line)

    register_reader("IDS", read_lines)
    path = tmp_path / "visits.ids"
    path.write_text("a\nb\n")
    assert [r.record for r in read_visits(path)] == [
        {"visit_id": "a", "answers": {}},
        {"visit_id": "b", "answers": {}},
    ]


def test_missing_optional_dependency_names_the_extra() -> None:
    with pytest.raises(InputError, match=r"pip install 'sbm-engine\[arrow\]'"):
        require("surely_not_installed_pkg.parquet", "arrow", InputError, "reading x.parquet")


def test_source_record_needs_a_reason_when_unreadable() -> None:
    with pytest.raises(ValueError, match="must say why"):
        SourceRecord("x.jsonl:1", None, "")
    assert not SourceRecord("x.jsonl:1", None, "", "bad").ok
