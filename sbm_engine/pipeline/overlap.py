"""Reading, scoring and writing at the same time, in threads, in order.

Why threads: pyarrow decodes Parquet and CSV and encodes Parquet with the GIL
released, so on a machine with two cores the read of the next chunk and the write
of the previous one can run while numpy scores the current one; for a wave of a
million visits the write alone takes as long as the scoring. Both helpers keep
order (one producer or one consumer thread each) and hold at most `depth` items,
so memory stays bounded by a few chunks whatever the wave. An exception in a
thread is raised again in the caller, at the next item or at the end, so a failed
read or write still aborts the run and its outputs are dropped.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, Generic, TypeVar

T = TypeVar("T")

#: How long a blocked thread waits before it checks whether the run was abandoned.
_POLL: Final = 0.1
_END: Final = object()


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(items: Iterable[T], depth: int = 2, name: str = "sbm-read") -> Iterator[T]:
    """`items`, produced in a background thread (named `name`) up to `depth` ahead of
    the consumer. With `depth` 0, the next item is produced while the consumer works
    on the one it took last, and only then: one item in hand on each side.

    Closing the returned generator (or dropping it) stops the producer at its next
    item; the producer's exception is raised where the consumer would have read
    the item that failed."""
    box: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    taken = threading.Event()  # depth 0: the consumer took the item put last

    def handed(value: Any) -> bool:
        """`value` put, and with depth 0 taken too; False once the run is abandoned."""
        if not put(value):
            return False
        if depth > 0:
            return True
        while not stop.is_set():
            if taken.wait(_POLL):
                taken.clear()
                return True
        return False

    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                box.put(value, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not handed(item):
                    return
        except BaseException as exc:
            put(_Failed(exc))
            return
        put(_END)

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            value = box.get()
            taken.set()
            if value is _END:
                return
            if isinstance(value, _Failed):
                raise value.error
            yield value
    finally:
        stop.set()
        thread.join()


class Behind(Generic[T]):
    """Calls `consume(item)` for each submitted item in one background thread, in order.

    `submit` blocks while `depth` items wait; `finish` waits for the last one and
    raises the first exception `consume` raised (which also makes every later
    `submit` raise it at once). Use as a context manager: leaving with an exception
    abandons the items still waiting."""

    def __init__(
        self, consume: Callable[[T], None], depth: int = 2, name: str = "sbm-write"
    ) -> None:
        self._consume = consume
        self._box: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                item = self._box.get(timeout=_POLL)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if item is _END:
                return
            if self._error is not None or self._stop.is_set():
                continue  # drain: the run failed
            try:
                self._consume(item)
            except BaseException as exc:
                self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, item: T) -> None:
        self._raise()
        while True:
            try:
                self._box.put(item, timeout=_POLL)
                return
            except queue.Full:
                self._raise()

    def finish(self) -> None:
        """Wait until every submitted item is consumed; raise what `consume` raised."""
        self._box.put(_END)
        self._thread.join()
        self._raise()

    def abandon(self) -> None:
        """Stop without consuming what still waits (the run failed elsewhere)."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Behind[T]:
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if et is None:
            self.finish()
        else:
            self.abandon()
