"""Guessing how a CSV file was written: encoding, separator, decimal mark, numbers.

Why: our users' CSV files come out of Excel in whatever locale the machine had.
Russian Excel writes cp1251 (or UTF-8, with or without a BOM), separates cells with
``;`` and writes decimal commas (``4,5``); other exports use ``,`` and ``4.5``.
Asking every analyst to know this is hostile, guessing wrong silently is worse: so
we guess only when the evidence is clear and otherwise stop with a message that
says exactly which options to pass.

Rules (each applies only when the caller did not say):

* encoding: a UTF-8 BOM means ``utf-8-sig`` (a UTF-16 BOM ``utf-16``); a file
  whose first non-ASCII bytes decode as strict UTF-8 is ``utf-8`` (pure ASCII is
  ``utf-8`` too), and so is one where they do not but some line of them is
  multi-byte UTF-8 (mostly UTF-8, a row pasted from elsewhere: that row is rejected,
  never the whole file read as cp1251 mojibake); else ``cp1251`` if the text then
  reads as Cyrillic words; else an InputError asking for ``--encoding``.
* delimiter: among ``;`` ``,`` and tab, the one that splits the header line
  (outside quotes) into the most cells while the first rows split into the same
  number of cells; a tie is an InputError asking for ``--delimiter``.
* decimal: ``,`` after a ``;`` delimiter and ``.`` after ``,``; after a tab,
  ``,`` only when the sample has numbers with a decimal comma and none with a
  decimal point.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Callable
from itertools import islice
from typing import Any, Final

import attrs

from sbm_engine.io.errors import InputError

__all__ = [
    "DELIMITERS",
    "SAMPLE_BYTES",
    "CsvDialect",
    "detect_dialect",
    "detect_encoding",
    "looks_cyrillic",
    "number_parser",
]

SAMPLE_BYTES: Final = 64 * 1024
DELIMITERS: Final = (";", ",", "\t")
_SAMPLE_ROWS: Final = 50
_DELIMITER_NAMES: Final = {";": "';'", ",": "','", "\t": "'\\t'"}


@attrs.frozen
class CsvDialect:
    """How to read one CSV file."""

    encoding: str
    delimiter: str
    decimal: str


def detect_dialect(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
) -> CsvDialect:
    """Work out the dialect of a CSV file from its first bytes; raise InputError if unsure."""
    name = os.fspath(path)
    encoding = encoding or detect_encoding(path)
    _check_encoding(encoding)
    sample, complete = _read_sample(name, encoding)
    delimiter = delimiter or _detect_delimiter(name, sample, complete)
    decimal = decimal or _detect_decimal(sample, delimiter)
    if len(delimiter) != 1 or decimal not in (".", ","):
        raise InputError(f"{name}: the delimiter must be one character and decimal '.' or ','")
    return CsvDialect(encoding=encoding, delimiter=delimiter, decimal=decimal)


def detect_encoding(path: str | os.PathLike[str]) -> str:
    """The encoding of a text file (see the module rules); streams, never loads the file."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as stream:
            head = stream.read(SAMPLE_BYTES)
            if head.startswith(codecs.BOM_UTF8):
                return "utf-8-sig"
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return "utf-16"
            chunk = head
            while chunk.isascii():
                if not chunk:
                    return "utf-8"
                chunk = stream.read(SAMPLE_BYTES)
            # The chunk follows pure-ASCII bytes, so it starts on a character boundary;
            # one more chunk gives enough text after a non-ASCII byte near its end.
            chunk += stream.read(SAMPLE_BYTES)
            final = len(stream.read(1)) == 0
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from exc
    return _classify_bytes(name, chunk, final)


def _classify_bytes(name: str, chunk: bytes, final: bool) -> str:
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(chunk, final)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _has_utf8_line(chunk, final):
        # Mostly UTF-8 with a row in another encoding (an Excel row pasted in): read as
        # UTF-8, and that row is rejected naming its encoding (`csv_rows`). Read as
        # cp1251, every UTF-8 row would turn into mojibake (Москва as РњРѕСЃРєРІР°), silently.
        return "utf-8"
    # A byte cp1251 leaves undefined (0x98) is one bad character, not a reason to
    # give up on the file: its row is rejected (`csv_rows`).
    text = chunk.decode("cp1251", errors="replace")
    if text and looks_cyrillic(text):
        return "cp1251"
    raise InputError(
        f"cannot tell the encoding of {name}: it is not UTF-8 and does not read as Russian "
        f"text in cp1251; pass --encoding (for example --encoding cp1251, --encoding cp866 "
        f"or --encoding latin-1)"
    )


def _has_utf8_line(chunk: bytes, final: bool) -> bool:
    """Whether a whole line of `chunk` holds multi-byte UTF-8 and nothing that is not
    UTF-8. Text in cp1251 practically never does: a letter there is a byte from 0xC0
    up, and two letters in a row are never a valid UTF-8 sequence."""
    lines = chunk.splitlines()
    if not final and lines:
        lines.pop()  # it may be cut short
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


_WORD = re.compile(r"[^\W\d_]+")
_ALLOWED_SYMBOLS: Final = frozenset("№«»–—…“”„‘’•°±€\u00a0\u00ad")


def looks_cyrillic(text: str) -> bool:
    """Does text with non-ASCII letters read as Cyrillic words (not mojibake of Latin ones)?

    Words mixing Latin and Cyrillic letters ("Mьller" is latin-1 "Müller" read as
    cp1251) and stray non-ASCII symbols count against; at most one in ten may be bad.
    """
    good = bad = 0
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        cyrillic = sum(1 for char in word if "\u0400" <= char <= "\u04ff")
        if cyrillic == len(word):
            good += 1
        else:
            bad += 1
    for char in text:
        if not char.isascii() and not char.isalpha() and char not in _ALLOWED_SYMBOLS:
            bad += 1
    return good > 0 and bad * 10 <= good + bad


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InputError(f"unknown encoding {encoding!r}") from exc


def _read_sample(name: str, encoding: str) -> tuple[str, bool]:
    """The first SAMPLE_BYTES (about) of text, and whether that is the whole file.

    Bytes that are not in the encoding are read as U+FFFD: the sample only shows the
    separator and the decimal mark, and the reader rejects the rows of such lines
    (`csv_rows`), or stops at a header it cannot decode."""
    try:
        with open(name, "rb") as stream:
            data = stream.read(SAMPLE_BYTES)
            complete = stream.read(1) == b""
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from exc
    sample = codecs.getincrementaldecoder(encoding)("replace").decode(data, complete)
    return sample.removeprefix("\ufeff"), complete


def _sample_rows(sample: str, complete: bool, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar='"')
    try:
        rows = list(islice(reader, _SAMPLE_ROWS + 1))
    except csv.Error:
        return []
    if not complete and len(rows) > 1:
        rows.pop()  # the sample may end inside the last row
    return rows


@attrs.frozen
class _Candidate:
    delimiter: str
    count: int
    consistent: bool


def _detect_delimiter(name: str, sample: str, complete: bool) -> str:
    candidates: list[_Candidate] = []
    for delimiter in DELIMITERS:
        rows = [row for row in _sample_rows(sample, complete, delimiter) if row]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = all(len(row) == width for row in rows[1:])
        candidates.append(_Candidate(delimiter, width - 1, consistent))
    if not candidates:
        return ","  # a single column: the delimiter does not matter
    pool = [c for c in candidates if c.consistent] or candidates
    best = max(c.count for c in pool)
    winners = [c for c in pool if c.count == best]
    if len(winners) == 1:
        return winners[0].delimiter
    options = " or ".join(f"--delimiter {_DELIMITER_NAMES[c.delimiter]}" for c in winners)
    raise InputError(
        f"cannot tell the delimiter of {name}: the header splits into {best + 1} cells on "
        f"each of {', '.join(_DELIMITER_NAMES[c.delimiter] for c in winners)}; pass {options}"
    )


_COMMA_DECIMAL = re.compile(r"[+-]?[0-9]+,[0-9]+")
_POINT_DECIMAL = re.compile(r"[+-]?[0-9]+\.[0-9]+")


def _detect_decimal(sample: str, delimiter: str) -> str:
    if delimiter == ";":
        return ","
    if delimiter != "\t":
        return "."
    comma = point = 0
    for row in _sample_rows(sample, False, delimiter)[1:]:
        for cell in row:
            comma += _COMMA_DECIMAL.fullmatch(cell) is not None
            point += _POINT_DECIMAL.fullmatch(cell) is not None
    return "," if comma and not point else "."


def number_patterns(decimal: str) -> tuple[str, str]:
    """The regular expressions (unanchored) of a whole cell that reads as an integer and
    as a real number written with `decimal`: what `number_parser` converts."""
    mark = re.escape(decimal)
    exponent = r"[eE][+-]?[0-9]+"
    return r"[+-]?[0-9]+", rf"[+-]?(?:(?:[0-9]*{mark}[0-9]+)(?:{exponent})?|[0-9]+{exponent})"


def number_parser(decimal: str) -> Callable[[Any], Any]:
    """A cell converter: numbers written with `decimal` become int or float, the rest stays.

    Only whole-cell matches count: ``5`` and ``-3`` are ints, ``4,5`` (or ``4.5``
    with a decimal point) and ``1,5E-3`` are floats; ``" 5"``, ``1 234``, ``4.5``
    under a decimal comma, ``NaN`` and ``true`` stay text as read, and so does a
    number beyond the range of a float (``1e400``): as inf it could be written
    nowhere, as text the rejects file shows it as it was read.
    """
    integer_pattern, real_pattern = number_patterns(decimal)
    integer, real = re.compile(integer_pattern), re.compile(real_pattern)

    starts = frozenset("+-0123456789" + decimal)

    def convert(cell: Any) -> Any:
        if type(cell) is not str or not cell or cell[0] not in starts:
            return cell
        try:
            if (cell.isdigit() and cell.isascii()) or integer.fullmatch(cell):
                return int(cell)
            if real.fullmatch(cell):
                number = float(cell.replace(decimal, "."))
                return number if number - number == 0.0 else cell  # inf stays text
        except ValueError:  # more digits than Python converts
            pass
        return cell

    return convert
