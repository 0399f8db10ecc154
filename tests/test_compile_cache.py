"""Compiled standards kept on disk between processes (`api.load`, `cache.stored`/`store`).

A second load of an unchanged standard, in this process after the in-process cache is
forgotten or in a new one, neither parses, checks nor compiles generated code; an edit
of any file the standard was read from, a damaged entry, a folder others may write in
or `SBM_CACHE_DIR=""` each mean the standard is compiled as if there were no cache,
and the scores are the same bytes either way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sbm_engine import api, cache, compiler
from sbm_engine.plugins import make_plugin_manager, using_manager

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "tests" / "conformance"

SCALES = """\
standard acme.scales "Scales" {
    scale grade5 { 1 = 0, 2 = 0.25, 3 = 0.5, 4 = 0.75, 5 = 1 }
    scale yes_no { yes = 1, no = 0 }
}
"""

MAIN = """\
standard acme.main "Main" {
    version "1"
    import "scales.sbm"
    scale unused { a = 1, b = 0 }
    item tidy "Tidy" answer grade5 tags compliance
    item greeted "Greeted" answer yes_no tags compliance
}
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A standard importing a file of scales (and with one warning), a private cache
    folder, and `api`'s in-process cache forgotten before and after."""
    (tmp_path / "scales.sbm").write_text(SCALES, encoding="utf-8")
    (tmp_path / "main.sbm").write_text(MAIN, encoding="utf-8")
    monkeypatch.setenv("SBM_CACHE_DIR", str(tmp_path / "cache"))
    api._cache.clear()
    yield tmp_path
    api._cache.clear()


def _entries(folder: Path) -> list[Path]:
    where = folder / "cache"
    return sorted(where.glob("standard-*")) if where.is_dir() else []


def _forbid_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing and checking (`api.check`) and CPython's compiling of generated code fail."""

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("compiled again")

    monkeypatch.setattr(api, "check", boom)
    monkeypatch.setattr(compiler, "compile_checked", boom)


def _score(std: Any) -> dict[str, Any]:
    outcome = std.score({"visit_id": "v1", "answers": {"tidy": 4, "greeted": "yes"}})
    return outcome.to_dict()  # type: ignore[no-any-return]


def test_a_second_load_reads_the_cache(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = api.load(folder / "main.sbm")
    assert len(_entries(folder)) == 1
    api._cache.clear()
    _forbid_compiling(monkeypatch)
    second = api.load(folder / "main.sbm")
    assert second is not first
    assert second.python_source == first.python_source
    assert [d.code for d in second.warnings] == [d.code for d in first.warnings] == ["W0702"]
    assert second.warnings == first.warnings
    assert _score(second) == _score(first)


CHILD = """
import json, sys
from sbm_engine import api, compiler
if sys.argv[2] == "cached":
    def boom(*args, **kwargs):
        raise AssertionError("compiled again")
    api.check = boom
    compiler.compile_checked = boom
std = api.load(sys.argv[1])
api.load("survey.nps")  # by id: found through the loader, then read from the cache
outcome = std.score({"visit_id": "v1", "answers": {"tidy": 4, "greeted": "yes"}})
if sys.argv[2] == "cached":  # nor does it build the parser: lark is not even imported
    assert "lark" not in sys.modules, "lark imported"
print(json.dumps({"warnings": [d.code for d in std.warnings], "score": outcome.to_dict()}))
"""


def test_a_new_process_reads_the_cache(folder: Path) -> None:
    env = {**os.environ, "SBM_CACHE_DIR": str(folder / "cache")}

    def child(mode: str) -> dict[str, Any]:
        run = subprocess.run(
            [sys.executable, "-c", CHILD, str(folder / "main.sbm"), mode],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)  # type: ignore[no-any-return]

    first = child("compile")
    assert child("cached") == first
    assert first["warnings"] == ["W0702"]


def test_an_edited_import_is_compiled_again(folder: Path) -> None:
    before = api.load(folder / "main.sbm")
    (entry,) = _entries(folder)
    stored = entry.read_bytes()
    (folder / "scales.sbm").write_text(SCALES.replace("4 = 0.75", "4 = 0.5"), encoding="utf-8")
    api._cache.clear()
    after = api.load(folder / "main.sbm")
    assert _score(before)["items"]["tidy"] == 0.75
    assert _score(after)["items"]["tidy"] == 0.5
    assert entry.read_bytes() != stored  # rewritten for the new contents
    api._cache.clear()
    assert _score(api.load(folder / "main.sbm"))["items"]["tidy"] == 0.5


@pytest.mark.parametrize("damage", [b"", b"not a pickle\x00\x01", b"\x80\x05N."])
def test_a_damaged_entry_is_ignored_and_rewritten(folder: Path, damage: bytes) -> None:
    want = _score(api.load(folder / "main.sbm"))
    (entry,) = _entries(folder)
    entry.write_bytes(damage)
    api._cache.clear()
    assert _score(api.load(folder / "main.sbm")) == want
    assert entry.read_bytes() != damage
    assert cache.stored(entry.name) is not None


def test_damaged_code_is_compiled_again(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    want = _score(api.load(folder / "main.sbm"))
    (entry,) = _entries(folder)
    tag, model, diagnostics, digests, codes = cache.stored(entry.name)
    cache.store(entry.name, (tag, model, diagnostics, digests, dict.fromkeys(codes, b"junk")))
    api._cache.clear()
    assert _score(api.load(folder / "main.sbm")) == want
    rewritten = cache.stored(entry.name)[4]
    assert rewritten.keys() == codes.keys() and b"junk" not in rewritten.values()
    api._cache.clear()
    monkeypatch.setattr(compiler, "compile_checked", None)  # not called again
    assert _score(api.load(folder / "main.sbm")) == want


def test_a_folder_others_may_write_in_is_not_used(folder: Path) -> None:
    shared = folder / "cache"
    shared.mkdir()
    shared.chmod(0o777)
    try:
        api.load(folder / "main.sbm")
        assert _entries(folder) == []
    finally:
        shared.chmod(0o700)


def test_no_cache_when_turned_off(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SBM_CACHE_DIR", "")
    api.load(folder / "main.sbm")
    assert not (folder / "cache").exists()


def test_plugins_registered_in_the_program_are_not_cached(folder: Path) -> None:
    """Such a plugin's code cannot be told apart from another's across processes."""

    class Pack:
        """A plugin with no hooks, from no distribution."""

    with using_manager(make_plugin_manager(entrypoints=False)):
        api.load(folder / "main.sbm")
    assert len(_entries(folder)) == 1  # the built-in plugin alone is the engine's
    for entry in _entries(folder):
        entry.unlink()
    with using_manager(make_plugin_manager(Pack(), entrypoints=False)):
        api.load(folder / "main.sbm")
    assert _entries(folder) == []


def test_standards_with_errors_are_not_kept(folder: Path) -> None:
    (folder / "main.sbm").write_text(MAIN.replace("grade5", "grade6"), encoding="utf-8")
    with pytest.raises(api.CompileError):
        api.load(folder / "main.sbm")
    assert _entries(folder) == []


def _sbm(args: list[str], cache_dir: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from sbm_engine.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, "SBM_CACHE_DIR": cache_dir},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_sbm_score_writes_the_same_bytes_with_and_without_the_cache(
    tmp_path: Path, suffix: str
) -> None:
    pytest.importorskip("pyarrow")
    cache_dir = tmp_path / "cache"
    outputs = {}
    for run, where in (("off", ""), ("cold", str(cache_dir)), ("cached", str(cache_dir))):
        out = tmp_path / f"{run}.{suffix}"
        done = _sbm(
            [
                "score",
                str(DEMO / "demo_branch.sbm"),
                str(DEMO / "demo_visits.jsonl"),
                "-o",
                str(out),
            ],
            where,
            tmp_path,
        )
        assert done.returncode in (0, 1), done.stderr
        outputs[run] = (out.read_bytes(), out.with_name(f"{run}.rejects.jsonl").read_bytes())
    assert len(list(cache_dir.glob("standard-*"))) == 1
    assert outputs["off"] == outputs["cold"] == outputs["cached"]


def test_the_least_recently_used_entries_are_deleted(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "_ENTRIES_KEPT", 2)
    paths = []
    for name in ("a", "b", "c"):
        path = folder / f"{name}.sbm"
        path.write_text(MAIN.replace("acme.main", f"acme.{name}"), encoding="utf-8")
        paths.append(path)
    api.load(paths[0])
    api.load(paths[1])
    (first, _) = sorted(_entries(folder), key=lambda p: p.stat().st_mtime_ns)
    os.utime(first, ns=(1, 1))  # long unused …
    api._cache.clear()
    api.load(paths[0])  # … till now
    api.load(paths[2])
    assert len(_entries(folder)) == 2
    api._cache.clear()
    _forbid_compiling(monkeypatch)
    api.load(paths[0])  # kept
    api.load(paths[2])
    with pytest.raises(AssertionError, match="compiled again"):
        api.load(paths[1])  # deleted


_STARTUP = """\
import atexit, sys
from sbm_engine.cli import main

heavy = ("lark", "sbm_engine.nodes", "tomllib", "multiprocessing", "concurrent.futures.process")
atexit.register(lambda: print("IMPORTED", sorted(m for m in heavy if m in sys.modules)))
sys.exit(main(sys.argv[1:]))
"""


def test_a_cached_one_job_score_imports_only_what_scoring_needs(tmp_path: Path) -> None:
    """What each `sbm score` of a small wave pays before scoring: with the standard and
    the message catalogue in the cache, no parser (lark), no syntax tree's classes, no
    TOML parser and no worker pool's modules are imported, even when some visits are
    rejected."""
    pytest.importorskip("pyarrow")
    env = {**os.environ, "SBM_CACHE_DIR": str(tmp_path / "cache")}
    args = ["score", str(DEMO / "demo_branch.sbm"), str(DEMO / "demo_visits.jsonl")]
    runs = []
    for run in ("cold", "cached"):
        done = subprocess.run(
            [sys.executable, "-c", _STARTUP, *args, "-o", str(tmp_path / f"{run}.parquet")],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert done.returncode == 1, done.stderr  # the demo wave has rejected visits
        runs.append(done.stdout.rsplit("IMPORTED ", 1)[1].strip())
    assert runs[0] == "['lark', 'sbm_engine.nodes', 'tomllib']"  # compiled, catalogue parsed
    assert runs[1] == "[]"
