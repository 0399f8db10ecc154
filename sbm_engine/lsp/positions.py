"""Between the compiler's positions and the protocol's.

The compiler locates text by character offsets (`Span.start`, `Span.end`) and by
1-based lines and columns counted in characters, with `\\n` alone ending a line. The
protocol counts 0-based lines, ended by `\\n`, `\\r\\n` or `\\r`, and columns in the code
units of the encoding agreed at `initialize`: UTF-16 unless the client asks for
another, so a Cyrillic letter is one unit and an emoji two. Everything goes through a
character offset, the one measure both sides can be converted from without doubt.
"""

from __future__ import annotations

import bisect
import re

from ..spans import Span

_LSP_BREAK = re.compile(r"\r\n|\r|\n")


def _units(ch: str, encoding: str) -> int:
    code = ord(ch)
    if encoding == "utf-8":
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    if encoding == "utf-32":
        return 1
    return 2 if code >= 0x10000 else 1


class LineIndex:
    """Offsets, protocol positions and compiler positions of one text."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        # Where each protocol line starts, and where each compiler (`\n`-only) line starts.
        self._starts = [0] + [m.end() for m in _LSP_BREAK.finditer(text)]
        self._lark: list[int] | None = None  # made when a span without offsets needs it

    # -- offsets and protocol positions --------------------------------------------------

    def position(self, offset: int) -> tuple[int, int]:
        """The protocol's (line, column) of a character offset (clamped into the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        if self.encoding == "utf-32":
            return line, offset - start
        return line, sum(_units(c, self.encoding) for c in self.text[start:offset])

    def offset(self, line: int, column: int) -> int:
        """The character offset of a protocol position; a column past the end of its line
        (or one inside a surrogate pair) stops at the nearest character before it."""
        if line < 0:
            return 0
        if line >= len(self._starts):
            return len(self.text)
        start = self._starts[line]
        end = self._starts[line + 1] if line + 1 < len(self._starts) else len(self.text)
        stop = end
        while stop > start and self.text[stop - 1] in "\r\n":
            stop -= 1
        units = 0
        for i in range(start, stop):
            if units >= column:
                return i
            units += _units(self.text[i], self.encoding)
            if units > column:
                return i
        return stop

    def line_count(self) -> int:
        return len(self._starts)

    def end(self) -> tuple[int, int]:
        return self.position(len(self.text))

    # -- compiler positions --------------------------------------------------------------

    @property
    def _lark_starts(self) -> list[int]:
        if self._lark is None:
            self._lark = [0] + [m.end() for m in re.finditer("\n", self.text)]
        return self._lark

    def compiler_offset(self, line: int, column: int) -> int:
        """The offset of a compiler position (1-based, characters, `\\n` lines)."""
        if line < 1:
            return 0
        if line > len(self._lark_starts):
            return len(self.text)
        start = self._lark_starts[line - 1]
        end = self._lark_starts[line] - 1 if line < len(self._lark_starts) else len(self.text)
        return max(start, min(start + max(column, 1) - 1, end))

    def span_offsets(self, span: Span) -> tuple[int, int]:
        """A span's (start, end) offsets: its own when it has them, else from its lines."""
        if span.end > span.start or (span.start and span.start == span.end):
            return span.start, span.end
        if span.line < 1:
            return 0, 0
        start = self.compiler_offset(span.line, span.column)
        end = self.compiler_offset(span.end_line or span.line, span.end_column or span.column)
        return start, max(start, end)

    def span_range(self, span: Span) -> tuple[tuple[int, int], tuple[int, int]]:
        start, end = self.span_offsets(span)
        return self.position(start), self.position(end)
