"""The two ways a streaming run gives up on the Arrow reading of an input."""

from __future__ import annotations


class Unsupported(Exception):
    """This input or output cannot be handled exactly by the streaming path: score it
    one record at a time instead (`sbm score` falls back to its record path)."""


class Inexact(Exception):
    """CSV file `index` cannot be read exactly with Arrow: read it with `io.csv_rows`."""

    def __init__(self, index: int, why: str) -> None:
        super().__init__(why)
        self.index = index
