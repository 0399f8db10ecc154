"""A streaming run that reads Parquet only takes Arrow's buffers from malloc (kept as
`keep_freed_memory` sets it up on glibc), unless the user named Arrow's pool; a CSV
run keeps Arrow's own allocator, and the pool is put back after the run."""

from __future__ import annotations

import contextlib
import importlib
import platform
from collections.abc import Iterator
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")

import pyarrow.csv as pcsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

import sbm_engine  # noqa: E402
from sbm_engine.pipeline.workers import arrow_from_malloc  # noqa: E402

run_module = importlib.import_module("sbm_engine.pipeline.run")  # the package exports `run`

DEMO = Path(__file__).parents[1] / "conformance" / "demo_branch.sbm"


@pytest.fixture
def pool() -> Iterator[str]:
    """Another pool than malloc made the default for the test (skipped where the build
    has none), and the default put back after it; yields its name."""
    before = pa.default_memory_pool()
    for make in (pa.mimalloc_memory_pool, pa.jemalloc_memory_pool):
        try:
            other = make()
        except NotImplementedError:
            continue
        pa.set_memory_pool(other)
        yield other.backend_name
        pa.set_memory_pool(before)
        return
    pytest.skip("this pyarrow has no allocator of its own")


def test_arrow_allocates_from_malloc_within_the_block(pool, monkeypatch):
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    with arrow_from_malloc():
        assert pa.default_memory_pool().backend_name == "system"
    assert pa.default_memory_pool().backend_name == pool


def test_a_pool_the_user_named_is_kept(pool, monkeypatch):
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", pool)
    with arrow_from_malloc():
        assert pa.default_memory_pool().backend_name == pool


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc is set up on glibc only")
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_only_a_parquet_run_allocates_from_malloc(kind, pool, monkeypatch, tmp_path):
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    seen: list[str] = []

    @contextlib.contextmanager
    def spy() -> Iterator[None]:
        with arrow_from_malloc():
            seen.append(pa.default_memory_pool().backend_name)
            yield

    monkeypatch.setattr(run_module, "arrow_from_malloc", spy)
    table = pa.table(
        {
            "visit_id": ["a", "b"],
            "scenario": ["deposit", "loan"],
            "greeted": ["yes", "no"],
            "secrecy": ["yes", "yes"],
        }
    )
    inp = tmp_path / f"wave.{kind}"
    if kind == "parquet":
        pq.write_table(table, inp)
    else:
        pcsv.write_csv(table, inp)
    std = sbm_engine.load(str(DEMO))
    std.score_files([inp], tmp_path / "out.parquet", engine="batch")
    assert seen == (["system"] if kind == "parquet" else [])
    assert pa.default_memory_pool().backend_name == pool
