"""`io.aside.Aside`: a call in a thread of its own whose result, or error, the caller
collects later, in its own thread."""

from __future__ import annotations

import threading

import pytest

from sbm_engine.io.aside import Aside


def test_the_result_is_what_the_call_returned_in_another_thread():
    seen: list[str] = []

    def work(x: int, y: int) -> int:
        seen.append(threading.current_thread().name)
        return x + y

    aside = Aside(work, 2, 3, name="sbm-test-aside")
    assert aside.result() == 5
    assert aside.result() == 5  # asked twice: the same answer
    assert seen == ["sbm-test-aside"]


def test_an_error_is_raised_by_result_in_the_callers_thread():
    def fails() -> None:
        raise OSError("disk full")

    aside = Aside(fails)
    with pytest.raises(OSError, match="disk full"):
        aside.result()


def test_now_calls_in_this_thread_behind_the_same_result():
    seen: list[str] = []

    def work() -> str:
        seen.append(threading.current_thread().name)
        return "done"

    aside = Aside.now(work)
    assert seen == [threading.current_thread().name]  # called before result() is asked
    assert aside.result() == "done"
    with pytest.raises(ValueError, match="bad"):
        Aside.now(_raise, ValueError("bad")).result()


def _raise(exc: BaseException) -> None:
    raise exc
