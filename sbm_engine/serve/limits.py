"""Request limits: body size, visits per request, time to answer.

Why count while reading: a client may send no Content-Length (chunked transfer) or
a false one, so the declared length only lets us refuse early; the bytes are
counted as they arrive and reading stops at the limit, so an endless body costs at
most `max_body` bytes of memory.

Why a deadline inside the work as well as around it: a thread cannot be stopped
from outside, so the scoring loop asks the `Deadline` between visits and gives up
by itself; the waiting side answers 504 on time either way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

from starlette.requests import Request

from sbm_engine.serve.errors import ApiError

T = TypeVar("T")


async def read_body(request: Request, max_body: int) -> bytes:
    """The whole body, or 413 as soon as it is known to exceed `max_body` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(400, "bad_content_length", "Content-Length is not a number")
        if int(declared) > max_body:
            raise too_large(max_body)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise too_large(max_body)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(max_body: int) -> ApiError:
    return ApiError(
        413, "body_too_large", f"the request body is larger than the limit of {max_body} bytes"
    )


def too_many_visits(max_visits: int) -> ApiError:
    return ApiError(
        413,
        "too_many_visits",
        f"the request holds more than {max_visits} visits; send them in smaller batches",
    )


class TimedOut(Exception):
    """The work passed its deadline and stopped."""


class Deadline:
    """A point in time the work must not pass; `check` raises `TimedOut` after it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise TimedOut


def timed_out(seconds: float) -> ApiError:
    return ApiError(504, "timeout", f"the request took longer than the limit of {seconds:g} s")


async def run_with_deadline(executor: Executor, seconds: float, fn: Callable[[Deadline], T]) -> T:
    """`fn(deadline)` in a worker thread; 504 when it has not finished in `seconds`
    (the work itself stops at its next `deadline.check()`)."""
    deadline = Deadline(seconds)
    future = asyncio.get_running_loop().run_in_executor(executor, fn, deadline)
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout=seconds)
    except (TimeoutError, TimedOut):
        future.add_done_callback(_ignore_result)
        raise timed_out(seconds) from None


def _ignore_result(future: Any) -> None:
    """Collect the late outcome of abandoned work so asyncio does not log it as lost."""
    if not future.cancelled():
        future.exception()
