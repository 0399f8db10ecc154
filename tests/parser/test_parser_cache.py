"""The parser's LALR tables kept on disk between runs (`parser._cache_file`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sbm_engine import parser

TEXT = """standard cache.test "Cache" {
    version "1"
    item a "A" answer { yes = 1, no = 0 }
}
"""


@pytest.fixture
def fresh_parser() -> Iterator[None]:
    """A parser built anew for the test, and again afterwards for the other tests."""
    parser._parser.cache_clear()
    yield
    parser._parser.cache_clear()


def _parse() -> str:
    return repr(parser.parse(TEXT, "cache.sbm"))


def test_tables_are_written_once_and_read_back(fresh_parser, tmp_path, monkeypatch):
    monkeypatch.setenv("SBM_CACHE_DIR", str(tmp_path / "cache"))
    want = _parse()
    files = list((tmp_path / "cache").iterdir())
    assert len(files) == 1 and files[0].stat().st_size > 0
    assert (tmp_path / "cache").stat().st_mode & 0o077 == 0  # private to the user
    stamp = files[0].stat().st_mtime_ns
    parser._parser.cache_clear()
    assert _parse() == want
    assert files[0].stat().st_mtime_ns == stamp  # read, not rebuilt


def test_a_damaged_cache_is_rebuilt(fresh_parser, tmp_path, monkeypatch):
    monkeypatch.setenv("SBM_CACHE_DIR", str(tmp_path))
    want = _parse()
    (cached,) = tmp_path.iterdir()
    cached.write_bytes(b"not a cache\n\x00\x01")
    parser._parser.cache_clear()
    assert _parse() == want
    assert cached.read_bytes() != b"not a cache\n\x00\x01"


@pytest.mark.parametrize("where", ["", "unwritable"])
def test_no_cache_when_off_or_impossible(where, fresh_parser, tmp_path, monkeypatch):
    target = tmp_path / "file-not-folder"
    target.write_text("x")
    monkeypatch.setenv("SBM_CACHE_DIR", "" if where == "" else str(target / "cache"))
    assert parser._cache_file("grammar") is None
    assert "Item" in _parse()


def test_the_file_name_follows_the_grammar(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SBM_CACHE_DIR", str(tmp_path))
    assert parser._cache_file("a") != parser._cache_file("b")
    monkeypatch.delenv("SBM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert (parser._cache_file("a") or "").startswith(str(tmp_path / "xdg" / "sbm-engine"))


def test_a_folder_others_may_write_in_is_not_used(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("SBM_CACHE_DIR", str(shared))
    assert parser._cache_file("grammar") is None
    shared.chmod(0o700)
    assert parser._cache_file("grammar") is not None


def test_no_home_directory_means_no_cache(monkeypatch):
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("SBM_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert parser._cache_file("grammar") is None
