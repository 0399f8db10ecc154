"""The read-ahead and write-behind threads of `sbm score`: order, errors, no leaks."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sbm_engine.pipeline.overlap import Behind, prefetch


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("sbm-")}


def _counting(produced: list[int]) -> Iterator[int]:
    """0, 1, 2, … without end, each noted in `produced` as it is made."""
    i = 0
    while True:
        produced.append(i)
        yield i
        i += 1


@given(st.lists(st.integers()), st.integers(0, 4))
def test_prefetch_keeps_order(items, depth):
    assert list(prefetch(iter(items), depth)) == items
    assert not _threads()


def test_prefetch_raises_where_the_item_failed():
    def source():
        yield 1
        yield 2
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for x in prefetch(source()):
            got.append(x)
    assert got == [1, 2]
    assert not _threads()


def test_prefetch_stops_its_thread_when_the_consumer_stops():
    produced: list[int] = []
    it = prefetch(_counting(produced), depth=2)
    assert next(it) == 0
    it.close()
    assert not _threads()
    assert len(produced) <= 5  # read ahead by at most the depth (plus the one in hand)


def test_prefetch_at_depth_0_produces_the_next_item_once_the_last_is_taken():
    """Depth 0: while the consumer works on an item, the producer makes the next one
    and waits for it to be taken; the consumer's stop ends it even then."""
    produced: list[int] = []
    it = prefetch(_counting(produced), depth=0, name="sbm-test")
    assert next(it) == 0
    time.sleep(0.3)  # the consumer at work: the producer has made item 1, no more
    assert produced == [0, 1]
    assert next(it) == 1
    time.sleep(0.3)
    assert produced == [0, 1, 2]
    it.close()
    assert not _threads()
    with pytest.raises(OSError, match="disk gone"):
        list(prefetch(iter_failing(), depth=0))
    assert not _threads()


def iter_failing():
    yield 1
    raise OSError("disk gone")


@given(st.lists(st.integers()), st.integers(1, 4))
def test_behind_consumes_in_order(items, depth):
    seen = []
    with Behind(seen.append, depth) as sink:
        for x in items:
            sink.submit(x)
    assert seen == items
    assert not _threads()


def test_behind_raises_the_consumers_error_at_the_end_or_at_the_next_submit():
    def consume(x):
        if x == 3:
            raise ValueError("disk full")

    sink = Behind(consume)
    with pytest.raises(ValueError, match="disk full"):
        for x in range(1000):
            sink.submit(x)
            time.sleep(0.001)
        sink.finish()
    sink.abandon()
    assert not _threads()


def test_behind_abandoned_drops_what_waits():
    started, release = threading.Event(), threading.Event()
    seen = []

    def slow(x):
        started.set()
        release.wait()
        seen.append(x)

    with pytest.raises(KeyboardInterrupt), Behind(slow, depth=2) as sink:
        sink.submit(1)
        sink.submit(2)
        assert started.wait(5)
        threading.Timer(0.3, release.set).start()  # after the abandon below has begun
        raise KeyboardInterrupt
    assert seen == [1]  # the item in hand is finished, the waiting one dropped
    assert not _threads()
