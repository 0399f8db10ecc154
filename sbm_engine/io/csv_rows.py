"""The rows of a CSV file, as both scoring paths read them: one bad line is one bad row.

Why a module of its own: `csv.reader` over a decoded text stream stops the whole run
at the first byte the encoding cannot decode (with a line number that is wherever the
decoder's buffer happened to be), at the first cell longer than
`csv.field_size_limit()`, and it lets a quote that never closes swallow every line
after it into one row. JSONL rejects just the line at fault; so does this reader:

* lines end at LF, CRLF or a lone CR, as `csv.reader` counts them (the numbers in
  `file:line` sources), and each line is decoded on its own: a line that is not in
  the file's encoding makes its row unreadable (with the line, the byte and the
  encoding the line seems to be in), the bad bytes shown as U+FFFD;
* a row whose quoted cell never closes (it runs to the end of the file) and a row
  with a cell longer than `csv.field_size_limit()` are unreadable: the row is its
  first line alone, and reading goes on at the next line;
* everything else is `csv.reader`'s (non-strict, double quotes).

The record path (`readers.read_csv`) and the streaming path (`pipeline.inputs`, for any
file its Arrow reader cannot read exactly) both take their rows from here, so they
agree on every row, every line number and every unreadable row.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

import attrs

from sbm_engine.io.errors import InputError
from sbm_engine.messages import message

__all__ = ["CsvRow", "CsvRows", "cell_limit", "line_terminators", "row_of_line"]

#: A physical line: up to and including LF, CRLF or a lone CR, or to the end.
_PHYSICAL_LINE: Final = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
#: Encodings tried on a line that does not decode, to name the likely one.
_LIKELY: Final = ("utf-8", "cp1251")


def cell_limit() -> int:
    """The longest cell `csv.reader` reads (`csv.field_size_limit()`, 131072 unless
    changed); a longer one makes its row unreadable, on both paths."""
    return int(csv.field_size_limit())


@attrs.frozen
class CsvRow:
    """One row: the line it starts on and its cells, or why it cannot be read.

    `error` set means unreadable: either a line of the row is not in the file's
    encoding (`cells` as read, the bad bytes replaced), or a quote never closes or a
    cell is too long (`cells` None, `text` the row's first line, the only one it
    takes). `lines` is how many physical lines the row spans."""

    line: int
    cells: list[str] | None
    error: str | None = None
    text: str | None = None
    lines: int = 1


class _Feed:
    """The lines `csv.reader` pulls, numbered; the lines of the row being read are kept
    so that a row that cannot be read can give back all but its first line.

    Each line is (number, text, why it did not decode or None, size in bytes)."""

    def __init__(self, lines: Iterator[tuple[str, str | None, int]]) -> None:
        self._lines = lines
        self._back: deque[tuple[int, str, str | None, int]] = deque()
        self._number = 0
        self.offset = 0  # bytes of the lines handed out and not given back
        self.row: list[tuple[int, str, str | None, int]] = []
        self.ran_out = False  # asked for a line past the end in the middle of a row

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        if self._back:
            entry = self._back.popleft()
        else:
            try:
                text, bad, size = next(self._lines)
            except StopIteration:
                if self.row:
                    self.ran_out = True
                raise
            self._number += 1
            entry = (self._number, text, bad, size)
        self.row.append(entry)
        self.offset += entry[3]
        return entry[1]

    def begin(self) -> None:
        self.row = []
        self.ran_out = False

    def give_back(self) -> None:
        """Read the lines of the current row but its first again, as new rows."""
        rest = self.row[1:]
        self._back.extendleft(reversed(rest))
        self.offset -= sum(entry[3] for entry in rest)
        self.row = self.row[:1]


class _Rows:
    """`csv.reader` over a `_Feed`, with the rules of this module."""

    def __init__(self, lines: Iterator[tuple[str, str | None, int]], delimiter: str) -> None:
        self.delimiter = delimiter
        self.feed = _Feed(lines)
        self._reader = self._new_reader()

    def _new_reader(self) -> Any:
        return csv.reader(self.feed, delimiter=self.delimiter, quotechar='"')

    def __iter__(self) -> Iterator[CsvRow]:
        """Every row, a blank line as a row without cells."""
        feed = self.feed
        while True:
            feed.begin()
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield self._first_line_alone(self._too_long(exc))
                continue
            if feed.ran_out:
                yield self._first_line_alone(message("visit.row.unclosed_quote"))
                continue
            first = feed.row[0][0]
            bad = next(
                (
                    message("visit.row.on_line", line=n, reason=why)
                    for n, _, why, _ in feed.row
                    if why
                ),
                None,
            )
            yield CsvRow(first, cells, bad, lines=len(feed.row))

    def _first_line_alone(self, why: str) -> CsvRow:
        """The row being read as unreadable: its first line alone (the others are read
        again as rows of their own), with a new `csv.reader` (the old one's state is
        the broken row's)."""
        feed = self.feed
        number, text, _, _ = feed.row[0]
        feed.give_back()
        self._reader = self._new_reader()
        return CsvRow(number, None, why, text.rstrip("\r\n"))

    def _too_long(self, exc: csv.Error) -> str:
        limit = cell_limit()
        if "field larger than field limit" not in str(exc):
            return message("visit.row.cannot_parse", error=exc)
        if len(self.feed.row) == 1:
            return message("visit.row.cell_too_long", limit=f"{limit:,}")
        return message("visit.row.quoted_cell_too_long", limit=f"{limit:,}")


class CsvRows:
    """A CSV file read row by row: `header` (the first row with cells), then `rows()`.

    Opens the file at once (an `InputError` if it cannot be opened or its header
    read); use as a context manager, or call `close`."""

    def __init__(self, path: Path, encoding: str, delimiter: str) -> None:
        self.path = path
        self.encoding = encoding
        try:
            codec = codecs.lookup(encoding)
        except LookupError as exc:
            raise InputError(f"unknown encoding {encoding!r}") from exc
        #: Lines split as bytes and decoded one by one; not for UTF-16/32, whose
        #: characters hold LF and CR bytes (there a bad byte stops the run).
        self.by_bytes = not codec.name.startswith(("utf-16", "utf-32"))
        self._stream: IO[Any]
        try:
            if self.by_bytes:
                self._stream = open(path, "rb")  # noqa: SIM115 - closed by close()
                lines = _decoded(self._raw(self._stream), codec.name)
            else:
                self._stream = open(path, encoding=encoding, newline="")  # noqa: SIM115
                lines = self._text(self._stream)
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        self._rows = _Rows(lines, delimiter)
        #: Physical lines up to and including the header, and its end in bytes (where
        #: the data rows start; None for UTF-16/32 files).
        self.header_lines = 0
        self.header_end: int | None = None
        try:
            self.header = self._read_header()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> CsvRows:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._stream.close()

    def _raw(self, stream: IO[bytes]) -> Iterator[bytes]:
        try:
            yield from stream
        except OSError as exc:
            raise InputError(f"cannot read {self.path}: {exc.strerror or exc}") from exc

    def _text(self, stream: IO[str]) -> Iterator[tuple[str, str | None, int]]:
        number = 0
        try:
            for number, line in enumerate(stream, start=1):  # noqa: B007 - read in except
                yield line, None, 0
        except UnicodeDecodeError as exc:
            raise InputError(
                f"cannot read {self.path} as {self.encoding} at line {number + 1}: "
                f"{exc.reason}; pass the right --encoding"
            ) from exc
        except OSError as exc:
            raise InputError(f"cannot read {self.path}: {exc.strerror or exc}") from exc

    def _read_header(self) -> list[str] | None:
        for row in self._rows:
            if row.cells == []:
                continue
            if row.error is not None:
                hint = "" if row.cells is None else " (pass the right --encoding)"
                raise InputError(
                    f"{self.path}:{row.line}: cannot read the header: {row.error}{hint}"
                )
            cells = list(row.cells or ())
            cells[0] = cells[0].removeprefix("\ufeff")
            self.header_lines = row.line + row.lines - 1
            self.header_end = self._rows.feed.offset if self.by_bytes else None
            return cells
        return None

    def rows(self) -> Iterator[CsvRow]:
        """The rows after the header, in order; blank lines are left out (a row of
        empty cells is not)."""
        if self.header is None:
            return
        for row in self._rows:
            if row.cells != []:
                yield row


def row_of_line(line: bytes, encoding: str, delimiter: str) -> CsvRow | None:
    """The first row `CsvRows` would read from `line` (bytes in `encoding`, one
    physical line) if it were a file of its own (a blank line: a row without cells);
    None for no bytes at all."""
    codec = codecs.lookup(encoding).name
    return next(iter(_Rows(_decoded(iter([line]), codec), delimiter)), None)


def _decoded(chunks: Iterator[bytes], codec: str) -> Iterator[tuple[str, str | None, int]]:
    """Physical lines (LF, CRLF or a lone CR) of the chunks read up to each LF, decoded
    one at a time, with their size in bytes: a line that is not in the encoding is
    decoded with U+FFFD and marked, and the next line is read as if nothing happened."""
    encoding = "utf-8" if codec == "utf-8-sig" else codec
    first = True
    for chunk in chunks:
        for line in _physical_lines(chunk):
            size = len(line)
            if first:
                first = False
                if codec == "utf-8-sig":
                    line = line.removeprefix(codecs.BOM_UTF8)
            try:
                yield line.decode(encoding), None, size
            except UnicodeDecodeError as exc:
                why = _not_encoded(line, encoding, exc)
                yield line.decode(encoding, errors="replace"), why, size


def _physical_lines(chunk: bytes) -> list[bytes]:
    """A line read up to LF, split at lone CRs too (`csv.reader` ends lines at both)."""
    if b"\r" not in chunk or (chunk.endswith(b"\r\n") and chunk.count(b"\r") == 1):
        return [chunk]
    return _PHYSICAL_LINE.findall(chunk)


def _not_encoded(line: bytes, encoding: str, exc: UnicodeDecodeError) -> str:
    """Why a line does not decode, and the encoding it seems to be in."""
    from sbm_engine.io.detect import looks_cyrillic

    name = codecs.lookup(encoding).name
    why = message("visit.row.not_encoded", encoding=encoding, reason=exc.reason, byte=exc.start + 1)
    for other in _LIKELY:
        if codecs.lookup(other).name == name:
            continue
        try:
            text = line.decode(other)
        except UnicodeDecodeError:
            continue
        if other == "utf-8" or looks_cyrillic(text):
            return message("visit.row.reads_as", why=why, other=other)
    return message("visit.row.pass_encoding", why=why)


def line_terminators(path: Path, block_size: int = 1 << 24) -> tuple[int, bool]:
    """Line ends in a file as `csv.reader` counts them (LF, CRLF, a lone CR), and
    whether the file ends with one.

    CRs are looked for only in a block that has one: counting CRLFs costs more than
    the two other counts together, and most files end their lines with LF alone."""
    count, last = 0, b""
    buffer = bytearray(block_size)
    with open(path, "rb", buffering=0) as stream:
        while size := stream.readinto(buffer):
            block = buffer if size == block_size else buffer[:size]
            count += block.count(b"\n")
            if b"\r" in block:
                count += block.count(b"\r") - block.count(b"\r\n")
            if last == b"\r" and block[:1] == b"\n":
                count -= 1  # a CRLF cut between two blocks was counted twice
            last = bytes(block[-1:])
    return count, last in (b"\n", b"\r")
