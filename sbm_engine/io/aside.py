"""A call run in a thread of its own while the caller goes on, its result collected later."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Aside(Generic[T]):
    """`fn(*args)` run in a thread of its own at once, or in the caller's (`now`);
    `result()` waits for it and gives what it returned or raises what it raised, in
    the thread that asks. The thread is a daemon: a run that fails before asking
    does not wait for it at exit."""

    def __init__(
        self, fn: Callable[..., T], *args: Any, thread: bool = True, name: str = "sbm-aside"
    ) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

        def run() -> None:
            try:
                self._value = fn(*args)
            except BaseException as exc:  # raised again by `result`
                self._error = exc

        if thread:
            self._thread = threading.Thread(target=run, name=name, daemon=True)
            self._thread.start()
        else:
            run()

    @classmethod
    def now(cls, fn: Callable[..., T], *args: Any) -> Aside[T]:
        """`fn(*args)` called at once in this thread, behind the same `result()`."""
        return cls(fn, *args, thread=False)

    def result(self) -> T:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]
