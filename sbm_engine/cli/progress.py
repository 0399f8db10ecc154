"""Progress on a terminal, silence in a pipe.

With `rich` installed (the `progress` extra) a live line shows the visits read,
scored and rejected and the rate; without it, a plain line is rewritten at most
five times a second. When stderr is not a terminal nothing is drawn at all.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

from ..messages import message


class Progress:
    def __init__(self, enabled: bool | None = None, label: str | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.label = message("score.scoring") if label is None and self.enabled else label or ""
        self.read = self.scored = self.rejected = 0
        self._last = 0.0
        self._rich: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            try:
                from rich.progress import Progress as RichProgress
                from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn
            except ImportError:
                self._rich = None
            else:
                self._rich = RichProgress(
                    SpinnerColumn(),
                    TextColumn("{task.description}"),
                    TimeElapsedColumn(),
                    transient=True,
                )
                self._rich.__enter__()
                self._task = self._rich.add_task(self.label)
        self.start = time.perf_counter()
        return self

    def update(self, scored: int, rejected: int) -> None:
        self.scored += scored
        self.rejected += rejected
        self.read += scored + rejected
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < 0.2:
            return
        self._last = now
        rate = self.read / max(now - self.start, 1e-9)
        text = message(
            "score.progress",
            label=self.label,
            read=f"{self.read:,}",
            scored=f"{self.scored:,}",
            rejected=f"{self.rejected:,}",
            rate=f"{rate:,.0f}",
        )
        if self._rich is not None:
            self._rich.update(self._task, description=text)
        else:
            sys.stderr.write("\r" + text)
            sys.stderr.flush()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._rich is not None:
            self._rich.__exit__(et, ev, tb)
        elif self.enabled and self.read:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
