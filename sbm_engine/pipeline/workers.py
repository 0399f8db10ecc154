"""The process pool of a streaming run (`jobs` > 1): workers that load the standard
once and score chunks sent as Arrow IPC bytes, and the process-wide memory setting
the scoring of many chunks wants (`keep_freed_memory`).
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..io.pandas_guard import pandas_left_alone
from ..messages import language as current_language
from ..messages import set_language
from .scoring import Rejects, score_chunk

if TYPE_CHECKING:  # the pool's modules are imported by `Workers.start`: one job needs none
    from concurrent.futures import ProcessPoolExecutor


@attrs.frozen
class Job:
    """What a worker needs to make the standard once: a module-level function and its
    arguments (`CompiledStandard.origin`, set by `api.load`), and the language of the
    messages (a worker does not inherit the choice, `--lang`)."""

    make: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = attrs.field(factory=dict, hash=False)
    language: str = attrs.field(factory=lambda: current_language())


def job_of(std: Any, language: str | None = None) -> Job:
    """The `Job` that makes `std` again in a worker: how it was made (`origin`)."""
    origin = getattr(std, "origin", None)
    if origin is None:
        raise ValueError(
            f"{std!r} was not loaded from a file (`sbm_engine.load`): "
            "worker processes cannot make it again"
        )
    make, args, kwargs = origin
    if language is None:
        return Job(make, tuple(args), dict(kwargs))
    return Job(make, tuple(args), dict(kwargs), language)


_WORKER: dict[str, Any] = {}


def _worker_init(job: Job, lifeline: Any) -> None:
    """Load the standard once per worker. Ctrl-C reaches every process of the terminal's
    group: a worker ignores it (the parent stops the run and ends the workers), and it
    leaves as soon as its parent is gone (`_die_with_parent`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_die_with_parent, args=(lifeline,), daemon=True).start()
    keep_freed_memory()
    set_language(job.language)
    pandas_left_alone().__enter__()  # for the worker's whole life (it only scores)
    _WORKER["std"] = job.make(*job.args, **job.kwargs)


def _die_with_parent(lifeline: Any) -> None:
    """End this worker when the process that started it (`sbm score`, a notebook)
    ends, however it ends.

    Why: a killed parent (SIGKILL, a crash) cannot stop its pool, and an idle
    worker blocked on its task queue would wait there forever (the parent id does not
    help: a worker's parent is the forkserver, which the workers themselves keep
    alive). `lifeline` is the read end of a pipe whose only write end the parent
    holds and never writes to: it reads as closed the moment the parent is gone."""
    with contextlib.suppress(OSError, EOFError):
        lifeline.poll(None)
    os._exit(1)


def score_in_worker(payload: tuple[bytes, str | None]) -> tuple[bytes, Rejects]:
    """Score one chunk in a worker: IPC bytes in, IPC bytes and rejects out."""
    import pyarrow as pa

    data, decimal = payload
    batch = pa.ipc.open_stream(data).read_all()
    scored, rejects = score_chunk(_WORKER["std"], batch, decimal)
    return to_ipc(scored), rejects


def to_ipc(table: Any) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to serve blocks up to 32 MiB from its heap and to keep what
    is freed, for the rest of this process (a streaming run asks it as it starts).

    Why: each chunk allocates and frees the same few hundred numpy arrays of 64 KiB
    to 4 MiB. By default glibc maps the larger ones afresh and gives heap tops back
    to the system, so the kernel zeroes new pages for every chunk. Kept, the pages
    are reused, and peak memory does not move (benchmarks/CLI.md). Elsewhere (musl,
    macOS, Windows) nothing is changed: it returns False, True when set up."""
    if platform.libc_ver()[0] != "glibc":
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - glibc always has it
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest allowed threshold
    mallopt(m_trim_threshold, 1 << 30)
    mallopt(m_top_pad, 64 << 20)
    return True


@contextlib.contextmanager
def arrow_from_malloc() -> Iterator[None]:
    """Within the block, malloc is Arrow's default memory pool, unless
    ARROW_DEFAULT_MEMORY_POOL names one: for a run that reads Parquet only, once
    `keep_freed_memory` has set malloc up. Why: Arrow's own allocator (mimalloc in the
    wheels) hands freed pages back to the system a moment later, so every chunk's
    buffers, in the reading threads and here, were faulted in and zeroed afresh;
    malloc so set up reuses them, which also lowers the peak. Not for CSV: its
    reader's buffers of many sizes would fragment malloc's heap, which is kept, and
    the peak would grow instead."""
    try:
        import pyarrow as pa
    except ImportError:  # the record path: nothing of Arrow's to allocate
        yield
        return
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        yield
        return
    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)


@attrs.define
class Workers:
    """The process pool of `jobs` > 1 and the pipe its workers watch (`_die_with_parent`)."""

    pool: ProcessPoolExecutor
    lifeline: tuple[Any, Any]  # (read end, for the workers; write end, held here)

    @classmethod
    def start(cls, job: Job, jobs: int) -> Workers:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        lifeline = context.Pipe(duplex=False)
        pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=context,
            initializer=_worker_init,
            initargs=(job, lifeline[0]),
        )
        return cls(pool, lifeline)

    def stop(self, finished: bool) -> None:
        """Shut the pool down; after a failure or an interrupt end the workers at once
        rather than wait for the chunks they are scoring, whose results nobody wants."""
        if not finished:
            processes = getattr(self.pool, "_processes", None) or {}  # public only in 3.14
            for process in list(processes.values()):
                with contextlib.suppress(Exception):
                    process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)
        for end in self.lifeline:
            end.close()
