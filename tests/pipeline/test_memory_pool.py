"""A streaming run takes Arrow's buffers from malloc, kept as `keep_freed_memory`
sets it up (glibc), unless the user named Arrow's pool."""

from __future__ import annotations

import platform

import pytest

pa = pytest.importorskip("pyarrow")

from sbm_engine.pipeline.workers import arrow_from_malloc  # noqa: E402


@pytest.fixture
def pool():
    """Arrow's default pool as it was, put back after the test; another pool than
    malloc made the default meanwhile (skipped where the build has none)."""
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


def test_arrow_allocates_from_malloc(pool, monkeypatch):
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    arrow_from_malloc()
    assert pa.default_memory_pool().backend_name == "system"


def test_a_pool_the_user_named_is_kept(pool, monkeypatch):
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", pool)
    arrow_from_malloc()
    assert pa.default_memory_pool().backend_name == pool


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc is tuned on glibc only")
def test_a_streaming_run_sets_it_up(pool, monkeypatch):
    from sbm_engine.pipeline.workers import keep_freed_memory

    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    keep_freed_memory()
    assert pa.default_memory_pool().backend_name == "system"
