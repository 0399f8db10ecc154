"""Where something was read in a `.sbm` file.

Its own module, apart from the syntax tree (`nodes`), because everything that
reports a place needs it (the IR, the model, diagnostics, generated code), while the
tree's classes are only needed to parse and check a standard: scoring with a cached
standard imports this and not the tree.
"""

from __future__ import annotations

import attrs


@attrs.frozen(order=True)
class Span:
    """Where a node was read: 1-based line and column, end exclusive, and offsets."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NOWHERE = Span("<built-in>", 0, 0, 0, 0)
