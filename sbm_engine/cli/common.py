"""What every command shares: loading a standard, output to the terminal, errors."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="`json` for machines.",
)


def fail(text: str) -> NoReturn:
    """Stop with exit status 2: nothing could be done."""
    click.echo(error_line(text), err=True)
    sys.exit(EXIT_FAILED)


def error_line(text: str) -> str:
    """`error: TEXT`, in the language of messages."""
    from ..messages import message

    return f"{message('diag.error')}: {text}"


def use_color(stream: Any = None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def load_standard(id_or_path: str, allow_unknown: bool = False) -> Any:
    """Load a standard or exit 2 with its diagnostics rendered."""
    from ..api import load
    from ..diagnostics import CompileError
    from ..sources import SourceError

    try:
        return load(id_or_path, allow_unknown=allow_unknown)
    except CompileError as err:
        click.echo(err.render(color=use_color()), err=True)
        sys.exit(EXIT_FAILED)
    except (FileNotFoundError, SourceError) as err:
        fail(str(err))


def write_text_atomic(path: Path, text: str) -> None:
    """`io.writers.write_text_atomic`, imported when a command writes (not at start-up)."""
    from ..io.writers import write_text_atomic as write

    write(path, text)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


# -- stopping cleanly on signals ----------------------------------------------------------------


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: raised in the main thread so that every `with` block
    drops its temporary files on the way out. `late` means the signal was held while
    the outputs were being renamed into place, so they are written, whole."""

    def __init__(self, signum: int, late: bool = False) -> None:
        super().__init__(signum)
        self.signum = signum
        self.late = late

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as shells report a process a signal stopped."""
        return 128 + self.signum


class _SignalState:
    """The state the handler shares with `signals_held` (main thread only)."""

    def __init__(self) -> None:
        self.active = False
        self.reset()

    def reset(self) -> None:
        self.held = 0
        self.pending: int | None = None
        self.fired = False
        self.committed = False  # the outputs are in place: a signal now stops nothing


_SIGNALS = _SignalState()

#: True when `sbm_engine.cli.main` runs as the `sbm` process, not inside a program that
#: called a command (tests, an embedding application): only then may a finished run
#: ignore late signals.
owns_process = False


@contextlib.contextmanager
def stopping_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into `Interrupted` for the duration.

    Why: SIGTERM's default ends the process on the spot, leaving hidden temporary
    files behind, and SIGINT's KeyboardInterrupt exits 1, the code for "some visits
    rejected". Raised instead, the signal unwinds the run like any error. Only the
    first signal raises; later ones are ignored while the run cleans up (which is
    short). Outside the main thread (an embedding program) nothing is installed."""
    if _SIGNALS.active or threading.current_thread() is not threading.main_thread():
        yield
        return
    _SIGNALS.reset()
    _SIGNALS.active = True
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for sig in previous:
            signal.signal(sig, _on_signal)
        yield
    finally:
        for sig, handler in previous.items():
            # Once the outputs are in place the run is done: a signal arriving between
            # here and the exit must not turn a finished run into one killed (exit -2).
            # Only the `sbm` process itself may ignore signals for its last moments.
            late = _SIGNALS.committed and owns_process
            signal.signal(sig, signal.SIG_IGN if late else handler)
        _SIGNALS.active = False


def _on_signal(signum: int, frame: Any) -> None:
    if _SIGNALS.fired or _SIGNALS.committed:  # after the commit the run is done: let it end
        return
    if _SIGNALS.held:
        _SIGNALS.pending = signum
        return
    _SIGNALS.fired = True
    raise Interrupted(signum, late=_SIGNALS.committed)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the outputs are renamed into place, so that the
    files of a run never appear one without the other; a signal that arrived
    meanwhile is raised right after, as a late `Interrupted`."""
    _SIGNALS.held += 1
    try:
        yield
    finally:
        _SIGNALS.held -= 1
    signum = _SIGNALS.pending
    if not _SIGNALS.held and signum is not None and not _SIGNALS.fired:
        _SIGNALS.fired = True
        raise Interrupted(signum, late=True)


def outputs_together(*writers: Any) -> contextlib.AbstractContextManager[tuple[Any, ...]]:
    """`io.writers.outputs_together`, committing with signals held: a Ctrl-C cannot
    fall between the renames of one run's files."""
    from ..io.writers import outputs_together as together

    return together(*writers, commit=_commit_held)


def _commit_held(writers: Sequence[Any]) -> None:
    from ..io.writers import commit_together

    with signals_held():
        commit_together(writers)
        _SIGNALS.committed = True


def standard_paths(args: tuple[str, ...]) -> list[str]:
    """Arguments naming standards, with folders expanded to the `.sbm` files inside them
    (anything else, a file or an installed id, passes through)."""
    out: list[str] = []
    for arg in args:
        p = Path(arg)
        out += [str(f) for f in sorted(p.rglob("*.sbm"))] if p.is_dir() else [arg]
    return out
