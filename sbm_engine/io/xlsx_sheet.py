"""The visits of an XLSX worksheet read from its XML, block by block, column-wise.

Why our own reader: calamine loads the whole sheet into its own cells before the first
row comes out, and each cell then crosses into Python as an object; at a hundred
columns a visit that is most of the time and memory of `sbm score`. A worksheet of
data is regular XML (``<row><c r="B2" s="1" t="s"><v>3</v></c>…</row>``), so here the
sheet part is decompressed a block of rows at a time, and every cell of a block is
found and decoded by numpy over the block's bytes: the positions of ``<``, what tag
follows each, the column letters, row digits, style and type of every ``<c``, and the
bytes of its ``<v>`` or inline ``<t>`` value, gathered into one Arrow string array.
Columns are then made from those arrays; only the distinct values of a column that is
not plain text are looked at in Python (``4``, ``na``, ``1.5``), to type them exactly
as `xlsx_columns` types calamine's values.

What a chunk holds is what `xlsx_columns`' calamine reader gives for the same sheet:
same chunks, rows, values, types, sources and unreadable rows. Whatever this reader
does not decode itself falls back to that reader, which then reads the file from the
start and drops the chunks already given (its chunks are cut at the same rows):

* a workbook it cannot make out (no worksheet part, another sheet type first, a
  missing sheet, a bad header: calamine's messages), a sheet whose first row holds
  no value, a part not in UTF-8, an XML namespace prefix;
* rich text (``<r>`` runs) and phonetic runs, character references and entities beyond
  the five of XML, ``_xHHHH_`` escapes, carriage returns, comments and CDATA;
* a number styled as a date that is not a whole day from 1900-03-01 on (a date-time,
  a time; a whole day is read as its ISO date, as calamine's date), a duration, a
  date in the header or in a workbook counting from 1904, a number in a format not
  known to be a number or a date, ISO date cells (``t="d"``);
* cells without an ``r`` reference, out of order, with attributes other than ``r``,
  ``s`` and ``t``, a shared string that is not plain text, anything else unexpected.

An error cell (``t="e"``) anywhere raises `Unsupported`, as the calamine reader does
(here when the block holding it is read), so a run uses the record path.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any, Final
from xml.etree import ElementTree

import numpy as np

from sbm_engine.io.jsonl_columns import TableChunk, Unsupported, _coded_values, _pa_array
from sbm_engine.io.records import SourceRecord, TableLayout, field_value
from sbm_engine.io.text_columns import _offsets
from sbm_engine.io.xlsx_cells import ERROR_CELL as _ERROR_CELL
from sbm_engine.io.xlsx_cells import MAIN_NS as _MAIN_NS
from sbm_engine.io.xlsx_cells import PKG_NS as _PKG_NS
from sbm_engine.io.xlsx_cells import REL_NS as _REL_NS
from sbm_engine.io.xlsx_cells import excel_value, header_cell, part_holds_error

__all__ = ["BLOCK_BYTES", "Fallback", "stream_chunks"]

#: Decompressed bytes read at a time; a block is these cut back to the last ``</row>``.
#: Its arrays (a position per tag, a few numbers per cell) are some times its size.
BLOCK_BYTES: Final = 8 << 20


#: Cell kinds after decoding; empty cells are dropped.
_TEXT: Final = 1
_NUMBER: Final = 2
_BOOL: Final = 3
#: A whole-day date, as its ISO text: text in a column, not in the header.
_DATE: Final = 4
_TAGS: Final = ("", "s", "n", "b", "s")

#: How a number in a cell style reads: unknown here (falls back), a number, or a date
#: (calamine gives a date for a whole number of days, a date-time or a duration else).
_UNKNOWN_STYLE: Final = 0
_NUMBER_STYLE: Final = 1
_DATE_STYLE: Final = 2
#: Built-in number formats that calamine reads as plain numbers (General, 0, 0.00,
#: #,##0, percentages, scientific, fractions, accounting, text).
_PLAIN_BUILTIN: Final = frozenset([*range(0, 14), *range(37, 45), 48, 49])
#: Built-in date and time formats (not durations) that calamine reads as dates.
_DATE_BUILTIN: Final = frozenset([*range(14, 23), 45, 47])
#: A custom format made only of these reads as a number (no letters of a date).
_PLAIN_CUSTOM: Final = re.compile(r"[0#?.,%E+\- ;@]*|General", re.ASCII)
#: A custom format of days, months, years, hours, minutes and seconds (after a locale
#: tag such as ``[$-419]``), no elapsed time (``[h]``): a date to calamine.
_DATE_CUSTOM: Final = re.compile(
    r"(?:\[\$-[0-9A-Fa-f]+\])?[dmyhsDMYHS.,:/\\ -]*[dmyDMY][dmyhsDMYHS.,:/\\ -]*", re.ASCII
)
#: Whole numbers of days read as dates here: from 1900-03-01 (before it, Excel counts
#: a 29 February 1900) to 9999-12-31.
_FIRST_DAY: Final = 61
_LAST_DAY: Final = 2958465
_NUMBER_TEXT: Final = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)
_ESCAPE: Final = re.compile(rb"_x[0-9A-Fa-f]{4}_")
_ENTITIES: Final = (
    (b"&lt;", "&lt;", "<"),
    (b"&gt;", "&gt;", ">"),
    (b"&quot;", "&quot;", '"'),
    (b"&apos;", "&apos;", "'"),
    (b"&amp;", "&amp;", "&"),
)
_PRESERVE: Final = b'<t xml:space="preserve">'
_INLINE: Final = b'inlineStr"'


class Fallback(Exception):
    """This reader does not decode the workbook exactly; the calamine reader does."""


class _ErrorCell(Exception):
    """Some worksheet holds an error cell: `Unsupported`, as for the calamine reader."""


def stream_chunks(
    path: Path,
    visit_fields: Collection[str],
    sheet: str | None,
    chunk_rows: int,
    fallback: Callable[[], Iterator[TableChunk]] | None,
    block_bytes: int = BLOCK_BYTES,
) -> Iterator[TableChunk]:
    """The sheet's `TableChunk`s as `xlsx_columns.read_xlsx_chunks` documents them.

    `fallback` gives the calamine reader's chunks of the same file; where this reader
    cannot decode the workbook it continues with those, after the chunks it gave.
    None raises `Fallback` instead (for tests)."""
    given = 0
    try:
        for chunk in _chunks(path, visit_fields, sheet, chunk_rows, block_bytes):
            yield chunk
            given += 1
    except (Fallback, zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        # ValueError: a part this reader cannot make out (a style id that is no number, …)
        if fallback is None:
            raise exc if isinstance(exc, Fallback) else Fallback(str(exc)) from exc
        for number, chunk in enumerate(fallback()):
            if number >= given:
                yield chunk


# -- the workbook ------------------------------------------------------------------------


class _Book:
    """What the sheet's cells are read with: its part, shared strings and styles."""

    def __init__(self, zf: zipfile.ZipFile, sheet: str | None) -> None:
        names = set(zf.namelist())
        workbook = _xml(zf, "xl/workbook.xml")
        rels = _rels(zf, "xl/_rels/workbook.xml.rels")
        sheets = workbook.findall(f"{{{_MAIN_NS}}}sheets/{{{_MAIN_NS}}}sheet")
        chosen = None
        for element in sheets:
            if sheet is None or element.get("name") == sheet:
                chosen = element
                break
        if chosen is None:
            raise Fallback("no such sheet")
        kind, target = rels.get(chosen.get(f"{{{_REL_NS}}}id", ""), ("", ""))
        if not kind.endswith("/worksheet"):
            raise Fallback("not a worksheet")
        self.title = str(chosen.get("name"))
        self.part = _target(target)
        if self.part not in names:
            raise Fallback("no sheet part")
        others = [n for n in names if n.startswith("xl/worksheets/") and n != self.part]
        if any(part_holds_error(zf, name) for name in others):
            raise _ErrorCell
        by_kind = {k.rsplit("/", 1)[-1]: _target(t) for k, t in rels.values()}
        styles = by_kind.get("styles")
        self.has_styles = styles in names
        self.styles = (
            _style_kinds(zf, styles) if self.has_styles else np.ones(1, np.uint8) * _NUMBER_STYLE
        )
        properties = workbook.find(f"{{{_MAIN_NS}}}workbookPr")
        date1904 = properties is not None and properties.get("date1904") in ("1", "true")
        if date1904:  # dates from 1904: not read here
            self.styles = np.where(self.styles == _DATE_STYLE, _UNKNOWN_STYLE, self.styles)
        shared = by_kind.get("sharedStrings")
        if shared in names:
            self.shared, self.shared_bad = _shared_strings(zf.read(str(shared)))
        else:
            self.shared, self.shared_bad = None, np.zeros(0, bool)
        self.shared_lengths = (
            np.zeros(0, np.int64) if self.shared is None else np.diff(_offsets(self.shared))
        )


def _xml(zf: zipfile.ZipFile, name: str) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(zf.read(name))
    except (KeyError, ElementTree.ParseError) as exc:
        raise Fallback(f"{name}: {exc}") from exc


def _rels(zf: zipfile.ZipFile, name: str) -> dict[str, tuple[str, str]]:
    root = _xml(zf, name)
    return {
        str(r.get("Id")): (str(r.get("Type", "")), str(r.get("Target", "")))
        for r in root.findall(f"{{{_PKG_NS}}}Relationship")
        if r.get("TargetMode") != "External"
    }


def _target(target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join("xl", target))


def _style_kinds(zf: zipfile.ZipFile, name: str | None) -> np.ndarray:
    """For each cell style (``s``), how a number in it reads (`_NUMBER_STYLE`, …)."""
    root = _xml(zf, str(name))
    custom = {
        int(f.get("numFmtId", "-1")): f.get("formatCode", "")
        for f in root.findall(f"{{{_MAIN_NS}}}numFmts/{{{_MAIN_NS}}}numFmt")
    }
    kinds = []
    for xf in root.findall(f"{{{_MAIN_NS}}}cellXfs/{{{_MAIN_NS}}}xf"):
        number = int(xf.get("numFmtId", "0"))
        kind = _UNKNOWN_STYLE
        if number in custom:
            code = str(custom[number])
            if _PLAIN_CUSTOM.fullmatch(code):
                kind = _NUMBER_STYLE
            elif _DATE_CUSTOM.fullmatch(code):
                kind = _DATE_STYLE
        elif number in _PLAIN_BUILTIN:
            kind = _NUMBER_STYLE
        elif number in _DATE_BUILTIN:
            kind = _DATE_STYLE
        kinds.append(kind)
    return np.array(kinds or [_NUMBER_STYLE], dtype=np.uint8)


def _shared_strings(data: bytes) -> tuple[Any, np.ndarray]:
    """The shared strings as an Arrow array, and which of them this reader cannot
    decode (a cell taking one of those falls back)."""
    import pyarrow as pa

    start = data.find(b"<si")
    if start < 0:
        return pa.array([], pa.string()), np.zeros(0, bool)
    pieces = data[start:].split(b"<si>")
    if pieces[0] or data.count(b"<si") != len(pieces) - 1:
        raise Fallback("shared strings of a form not read here")
    texts: list[str] = []
    bad = np.zeros(len(pieces) - 1, dtype=bool)
    for i, piece in enumerate(pieces[1:]):
        end = piece.find(b"</si>")
        body = piece[:end]
        if body == b"<t/>":
            texts.append("")
            continue
        if body.startswith(b"<t>"):
            inner = body[3:-4].strip(_XML_SPACE) + body[-4:]
        elif body.startswith(_PRESERVE):
            inner = body[len(_PRESERVE) :]
        else:
            inner = b"<"
        if not inner.endswith(b"</t>") or b"<" in inner[:-4] or not _plain_text(inner):
            bad[i] = True
            texts.append("")
            continue
        try:
            texts.append(_unescape(inner[:-4].decode("utf-8")))
        except UnicodeDecodeError:
            bad[i] = True
            texts.append("")
    return pa.array(texts, pa.string()), bad


def _plain_text(data: bytes) -> bool:
    """No escape this reader leaves undecoded (``_x000D_``, ``&#10;``, ``\\r``)."""
    if b"\r" in data or (b"_x" in data and _ESCAPE.search(data)):
        return False
    amps = data.count(b"&")
    return not amps or amps == sum(data.count(e) for e, _, _ in _ENTITIES)


def _unescape(text: str) -> str:
    if "&" in text:
        for _, entity, char in _ENTITIES:
            text = text.replace(entity, char)
    return text


# -- blocks of rows ----------------------------------------------------------------------


#: The most bytes before ``<sheetData>`` looked through (column widths, views, …).
_PROLOG_MOST: Final = 16 << 20
#: Bytes after a block's end that its arrays may read (a word at the last positions).
_PAD: Final = 64


def _row_blocks(stream: Any, block_bytes: int) -> Iterator[tuple[bytes, int]]:
    """The sheet's ``sheetData`` content, cut after a ``</row>`` every `block_bytes`:
    each block with its size, followed by `_PAD` more bytes of the sheet or zeros."""
    buf = b""
    started = False
    while True:
        data = stream.read(block_bytes)
        buf = buf + data if buf else data
        if not started:
            at = buf.find(b"<sheetData>")
            if at < 0:
                if not data or len(buf) > _PROLOG_MOST:
                    raise Fallback("no sheetData")
                continue
            _check_prolog(buf[:at])
            buf = buf[at + len(b"<sheetData>") :]
            started = True
        if not data:
            end = buf.find(b"</sheetData>")
            if end < 0:
                raise Fallback("no end of sheetData")
            if _ERROR_CELL in buf[end:]:
                raise _ErrorCell
            if buf[:end].strip():
                yield buf[:end] + b"\0" * _PAD, end
            return
        cut = buf.rfind(b"</row>", 0, len(buf) - _PAD) if len(buf) > _PAD else -1
        if cut >= 0:
            yield buf[: cut + 6 + _PAD], cut + 6
            buf = buf[cut + 6 :]


def _check_prolog(prolog: bytes) -> None:
    if _ERROR_CELL in prolog:
        raise _ErrorCell
    head = prolog[:200].lower()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if head.startswith(b"<?xml"):
        declaration = head[: head.find(b"?>")]
        found = re.search(rb"encoding=[\"']([^\"']*)", declaration)
        if found and found.group(1) not in (b"utf-8", b"utf8"):
            raise Fallback("not UTF-8")
    if b"<worksheet" not in prolog or b"<!" in prolog:
        raise Fallback("a prefixed or unusual worksheet")


# -- cells of a block ----------------------------------------------------------------------


class _Cells:
    """The cells with a value of some rows: sheet row (1-based), column (0-based), kind,
    and value text (Arrow strings), in sheet order."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, kinds: np.ndarray, values: Any):
        self.rows, self.cols, self.kinds, self.values = rows, cols, kinds, values

    def take(self, index: np.ndarray) -> _Cells:
        import pyarrow as pa

        from .. import arrow_compute as pc

        return _Cells(
            self.rows[index],
            self.cols[index],
            self.kinds[index],
            pc.take(self.values, pa.array(index)),
        )

    def slice(self, start: int, stop: int) -> _Cells:
        return _Cells(
            self.rows[start:stop],
            self.cols[start:stop],
            self.kinds[start:stop],
            self.values.slice(start, stop - start),
        )

    @staticmethod
    def concat(parts: list[_Cells]) -> _Cells:
        import pyarrow as pa

        if len(parts) == 1:
            return parts[0]
        return _Cells(
            np.concatenate([p.rows for p in parts]),
            np.concatenate([p.cols for p in parts]),
            np.concatenate([p.kinds for p in parts]),
            pa.concat_arrays([p.values for p in parts]),
        )


def _digits(a: np.ndarray, at: np.ndarray, most: int) -> tuple[np.ndarray, np.ndarray]:
    """The decimal numbers starting at `at` (at most `most` digits, at least one), and
    the position after each; Fallback where there is no digit."""
    value = np.zeros(len(at), dtype=np.int64)
    length = np.zeros(len(at), dtype=np.int64)
    going = np.ones(len(at), dtype=bool)
    for k in range(most + 1):
        ch = a[at + k]
        digit = going & (ch >= 48) & (ch <= 57)
        value[digit] = value[digit] * 10 + (ch[digit] - 48)
        length += digit
        going &= digit
        if not going.any():
            break
    if going.any() or not length.all():
        raise Fallback("a number too long or missing in a cell's attributes")
    return value, at + length


def _trim(a: np.ndarray, starts: np.ndarray, ends: np.ndarray, which: np.ndarray) -> None:
    """Move the `starts` and `ends` of the texts `which` past XML white space at either
    end, in place (most texts have none: one look at each end)."""
    for step, edge in ((1, 0), (-1, -1)):
        at = which
        while len(at):
            starts_at, ends_at = starts[at], ends[at]
            some = starts_at < ends_at
            space = np.zeros(len(at), dtype=bool)
            space[some] = _SPACE[a[(starts_at if step == 1 else ends_at)[some] + edge]]
            at = at[space]
            if step == 1:
                starts[at] += 1
            else:
                ends[at] -= 1


def _is(a: np.ndarray, at: np.ndarray, text: bytes) -> np.ndarray:
    ok = np.ones(len(at), dtype=bool)
    for k, byte in enumerate(text):
        ok &= a[at + k] == byte
    return ok


def _le(text: bytes) -> int:
    """Bytes as the little-endian integer a view of them gives."""
    return int.from_bytes(text, "little")


#: Tag classes, by the two bytes after a ``<``.
_CELL_TAG: Final = 1
_V_TAG: Final = 2
_T_TAG: Final = 3
_ROW_TAG: Final = 4
_F_TAG: Final = 5
_OTHER_TAG: Final = 6
_TAG_CLASSES: list[np.ndarray] = []
#: ``(1 << 8k) - 1``: the first k bytes of a little-endian view.
_MASKS: Final = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_LETTER: Final = np.zeros(256, dtype=bool)
_LETTER[65:91] = True
#: XML's white space, which calamine trims off both ends of a text element's text
#: unless it has ``xml:space="preserve"`` (not off a ``<v>``'s).
_XML_SPACE: Final = b" \t\n\r"
_SPACE: Final = np.zeros(256, dtype=bool)
_SPACE[list(_XML_SPACE)] = True


def _tag_classes() -> np.ndarray:
    """The class of each tag this reader knows inside ``sheetData`` (0: unknown), by
    the two bytes after its ``<``: the opening tags tell the elements apart (``<r>``
    and ``<rPh`` of rich text are unknown), a closing tag only ends one of them."""
    if not _TAG_CLASSES:
        table = np.zeros(1 << 16, dtype=np.uint8)
        known = {"c ": _CELL_TAG, "v>": _V_TAG, "ro": _ROW_TAG}
        known |= {t: _T_TAG for t in ("t>", "t ", "t/")}
        known |= {t: _F_TAG for t in ("f>", "f ", "f/")}
        known |= {t: _OTHER_TAG for t in ("is", "/c", "/v", "/t", "/f", "/i", "/r")}
        for text, tag in known.items():
            table[_le(text.encode())] = tag
        _TAG_CLASSES.append(table)
    return _TAG_CLASSES[0]


def _block_cells(block: bytes, size: int, book: _Book) -> _Cells:
    """Every cell of a block of whole rows (its first `size` bytes) that holds a value,
    decoded."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    a = np.frombuffer(block, dtype=np.uint8)
    # the bytes at every position read as 2, 4 or 8 byte integers, for comparing words
    u16 = np.ndarray((size + _PAD - 8,), "<u2", a, 0, (1,))
    u32 = np.ndarray((size + _PAD - 8,), "<u4", a, 0, (1,))
    u64 = np.ndarray((size + _PAD - 8,), "<u8", a, 0, (1,))
    lt = np.flatnonzero(a[:size] == 60)
    after_lt = np.ndarray((size + _PAD - 8,), "<u2", a, 1, (1,))  # the two bytes after each
    tag = _tag_classes()[after_lt[lt]]
    if not tag.all():
        raise Fallback("an element this reader does not know (rich text, a comment…)")
    if (tag == _F_TAG).any() and _ERROR_CELL in block[:size]:
        raise _ErrorCell  # in a formula's text, which the calamine reader counts too
    nxt = np.append(lt[1:], size)  # where the text after each tag ends

    # rows: <row r="12" ...>, the cells' references end in the same digits
    is_row = tag == _ROW_TAG
    rpos = lt[is_row]
    if not (u32[rpos + 4] == _le(b' r="')).all():
        raise Fallback("a row without a reference first")
    rownum, rafter = _digits(a, rpos + 8, 7)
    if not (a[rafter] == ord('"')).all() or not (rownum > 0).all():
        raise Fallback("a row reference that is not a row number")
    rlen = rafter + 1 - (rpos + 8)
    rkey = u64[rpos + 8] & _MASKS[rlen]

    is_cell = tag == _CELL_TAG
    at = np.flatnonzero(is_cell)
    starts, ends = lt[at], nxt[at]
    n = len(starts)
    owner = np.cumsum(is_row, dtype=np.int32)[at] - 1
    if (owner < 0).any() or not (u32[starts + 2] == _le(b' r="')).all():
        raise Fallback("a cell without a reference first")
    if not (a[ends - 1] == ord(">")).all():
        raise Fallback("text between a cell's tags")
    p = starts + 6
    b0, b1, b2 = a[p], a[p + 1], a[p + 2]
    two = _LETTER[b1]
    three = two & _LETTER[b2]
    if not _LETTER[b0].all() or (three & _LETTER[a[p + 3]]).any():
        raise Fallback("a reference that is not a cell's")
    col = b0.astype(np.int64) - 65
    col = np.where(two, (col + 1) * 26 + b1 - 65, col)
    col = np.where(three, (col + 1) * 26 + b2 - 65, col)
    p = p + 1 + two + three
    length = rlen[owner]
    if not ((u64[p] & _MASKS[length]) == rkey[owner]).all():
        raise Fallback("a cell whose reference is not in its row")
    p = p + length
    row = rownum[owner]

    style = np.zeros(n, dtype=np.int64)
    kind = np.zeros(n, dtype=np.int8)  # 0 number, 1 shared, 2 str, 3 inline, 4 bool
    for _ in range(3):
        word = u32[p]
        more = np.flatnonzero((word & 0xFF) == 32)
        if len(more) == 0:
            break
        word = word[more]
        q = p[more]
        last = ((word >> 8) & 0xFF == ord(">")) | ((word >> 8) & 0xFFFF == _le(b"/>"))
        p[more[last]] += 1  # a space before the tag's end
        more, word, q = more[~last], word[~last], q[~last]
        s_attr = word == _le(b' s="')
        t_attr = word == _le(b' t="')
        if not (s_attr | t_attr).all():
            raise Fallback("a cell attribute other than r, s and t")
        if s_attr.any():
            si = more[s_attr]
            style[si], after = _digits(a, q[s_attr] + 4, 6)
            if not (a[after] == ord('"')).all():
                raise Fallback("a style that is not a number")
            p[si] = after + 1
        if t_attr.any():
            ti = more[t_attr]
            tq = q[t_attr] + 4
            two_bytes = u16[tq]
            code = np.full(len(ti), -1, dtype=np.int8)
            size_of = np.zeros(len(ti), dtype=np.int64)
            for text, number in ((b'n"', 0), (b's"', 1), (b'b"', 4)):
                hit = two_bytes == _le(text)
                code[hit], size_of[hit] = number, 2
            hit = u32[tq] == _le(b'str"')
            code[hit], size_of[hit] = 2, 4
            hit = (u64[tq] == _le(_INLINE[:8])) & (u16[tq + 8] == _le(_INLINE[8:]))
            code[hit], size_of[hit] = 3, len(_INLINE)
            if (two_bytes[code < 0] == _le(b'e"')).any():
                raise _ErrorCell
            if (code < 0).any():
                raise Fallback('a cell type this reader does not read (t="d"…)')
            kind[ti] = code
            p[ti] = tq + size_of
    closed = (u16[p] == _le(b"/>")) & (p == ends - 2)
    closes = closed | ((a[p] == ord(">")) & (p == ends - 1))
    if not closes.all():
        raise Fallback("a cell attribute this reader does not read")
    row_col = row * 16384 + col
    if (np.diff(row_col) <= 0).any() or (col >= 16384).any():
        raise Fallback("cells out of order")

    # values: each <v> or <t> belongs to the last cell started before it
    cell_of = np.cumsum(is_cell, dtype=np.int32) - 1
    is_v = tag == _V_TAG
    is_t = tag == _T_TAG
    vowner = cell_of[is_v]
    towner = cell_of[is_t]
    vstart = lt[is_v] + 3
    vend = nxt[is_v]
    tpos = lt[is_t]
    tend = nxt[is_t].copy()
    tstart = tpos + 3
    tc2 = a[tpos + 2]
    wide = tc2 == 32
    if wide.any():
        if not _is(a, tpos[wide], _PRESERVE).all():
            raise Fallback("a text element with attributes")
        tstart[wide] = tpos[wide] + len(_PRESERVE)
    empty_t = tc2 == ord("/")
    if empty_t.any():
        if not (a[tpos[empty_t] + 3] == ord(">")).all():
            raise Fallback("a text element with attributes")
        tend[empty_t] = tstart[empty_t]
    _trim(a, tstart, tend, np.flatnonzero(tc2 == ord(">")))
    if (vowner < 0).any() or (towner < 0).any():
        raise Fallback("a value outside a cell")
    if (np.diff(vowner) <= 0).any() or (np.diff(towner) <= 0).any():
        raise Fallback("a cell with more than one value")
    has_v = np.zeros(n, dtype=bool)
    has_v[vowner] = True
    has_t = np.zeros(n, dtype=bool)
    has_t[towner] = True
    inline = kind == 3
    if (has_t & ~inline).any() or (inline & ~has_t & ~closed).any() or (has_v & inline).any():
        raise Fallback("a text element outside an inline string")
    if (~has_v & (kind != 0) & ~inline).any():
        raise Fallback("a typed cell without a value")
    vstart_cell = np.zeros(n, dtype=np.int64)
    vend_cell = np.zeros(n, dtype=np.int64)
    vstart_cell[vowner], vend_cell[vowner] = vstart, vend
    vstart_cell[towner], vend_cell[towner] = tstart, tend
    number = has_v & (kind == 0)
    dated = np.zeros(n, dtype=bool)
    if number.any():
        used = style[number]
        if (used >= len(book.styles)).any() or (not book.has_styles and used.any()):
            raise Fallback("a style this reader does not know")
        how = book.styles[used]
        if (how == _UNKNOWN_STYLE).any():
            raise Fallback("a number in a format not known to be a number or a date")
        dated[number] = how == _DATE_STYLE
    if ((vend_cell == vstart_cell) & has_v & (kind != 2)).any():
        raise Fallback("an empty value")

    cells = np.flatnonzero(has_v | has_t)
    vs, ve = vstart_cell[cells], vend_cell[cells]
    lengths = ve - vs
    offsets = np.zeros(len(cells) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    if total >= 1 << 31:
        raise Fallback("a block too large")
    gather = np.repeat(vs - offsets[:-1], lengths) + np.arange(total, dtype=np.int64)
    data = a[gather]
    texts = data.tobytes()
    if _ERROR_CELL in texts and _ERROR_CELL in block[:size]:
        raise _ErrorCell  # a text that merely looks like one, as the calamine reader has it
    if not _plain_text(texts):
        raise Fallback("an escape or a character reference")
    values = pa.StringArray.from_buffers(
        len(cells), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)
    )
    try:
        values.validate(full=True)
    except pa.ArrowInvalid as exc:
        raise Fallback("text that is not UTF-8") from exc
    if b"&" in texts:
        for _, entity, char in _ENTITIES:
            values = pc.replace_substring(values, entity, char)
    ckind = kind[cells]
    shared = ckind == 1
    if shared.any():
        if book.shared is None:
            raise Fallback("a shared string without the shared strings part")
        index, after = _digits(a, vs[shared], 10)
        if (after != ve[shared]).any() or (index >= len(book.shared)).any():
            raise Fallback("a shared string index this reader does not read")
        if book.shared_bad[index].any():
            raise Fallback("a shared string this reader does not decode")
        full = np.zeros(len(cells), dtype=np.int64)
        full[shared] = index
        taken = pc.take(book.shared, pa.array(full))
        values = pc.if_else(pa.array(shared), taken, values)
    kinds = _KIND_OF[ckind]
    if dated.any():
        values = _dates(a, vs, ve, dated[cells], values)
        kinds[dated[cells]] = _DATE
    filled = lengths > 0
    if shared.any():
        filled[shared] = book.shared_lengths[index] > 0
    out = _Cells(row[cells], col[cells], kinds, values)
    return out if filled.all() else out.take(np.flatnonzero(filled))


def _dates(a: np.ndarray, vs: np.ndarray, ve: np.ndarray, dated: np.ndarray, values: Any) -> Any:
    """`values` with the numbers of date cells (`dated`, their bytes from `vs` to `ve`)
    as ISO dates, as the calamine reader has them; Fallback for a part of a day or a
    day this reader does not count."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    days, after = _digits(a, vs[dated], 7)
    if (after != ve[dated]).any() or (days < _FIRST_DAY).any() or (days > _LAST_DAY).any():
        raise Fallback("a date with a time, or before March 1900")
    iso = (np.datetime64("1899-12-30", "D") + days.astype("timedelta64[D]")).astype(str)
    texts = np.full(len(dated), "", dtype=iso.dtype)
    texts[dated] = iso
    return pc.if_else(pa.array(dated), pa.array(texts, pa.string()), values)


#: A cell's kind by its type (number, shared string, formula text, inline string, bool).
_KIND_OF: Final = np.array([_NUMBER, _TEXT, _TEXT, _TEXT, _BOOL], dtype=np.int8)


# -- chunks ------------------------------------------------------------------------------


def _chunks(
    path: Path, visit_fields: Collection[str], sheet: str | None, chunk_rows: int, block_bytes: int
) -> Iterator[TableChunk]:
    try:
        yield from _sheet_chunks(path, visit_fields, sheet, chunk_rows, block_bytes)
    except _ErrorCell:
        raise Unsupported(
            f"{path}: an error cell (#DIV/0!, #N/A…), which calamine reads as empty"
        ) from None


def _sheet_chunks(
    path: Path, visit_fields: Collection[str], sheet: str | None, chunk_rows: int, block_bytes: int
) -> Iterator[TableChunk]:
    with zipfile.ZipFile(path) as zf:
        book = _Book(zf, sheet)
        prefix = f"{path}:{book.title}:"
        layout: TableLayout | None = None
        pending: list[_Cells] = []
        held = 0
        last = 0
        with zf.open(book.part) as stream:
            for block, size in _row_blocks(stream, block_bytes):
                cells = _block_cells(block, size, book)
                if len(cells.rows):
                    if cells.rows[0] <= last:
                        raise Fallback("rows out of order")
                    last = int(cells.rows[-1])
                if layout is None:
                    if len(cells.rows) == 0:
                        continue
                    layout, cells = _header(cells, visit_fields)
                if len(cells.rows):
                    pending.append(cells)
                    held += _count_rows(cells.rows)
                while held >= chunk_rows:
                    whole = _Cells.concat(pending)
                    stop = _row_end(whole.rows, chunk_rows)
                    yield _chunk(layout, whole.slice(0, stop), prefix)
                    rest = whole.slice(stop, len(whole.rows))
                    pending = [rest] if len(rest.rows) else []
                    held -= chunk_rows
        if pending and layout is not None:
            yield _chunk(layout, _Cells.concat(pending), prefix)


def _count_rows(rows: np.ndarray) -> int:
    return int(np.count_nonzero(rows[1:] != rows[:-1])) + 1 if len(rows) else 0


def _row_end(rows: np.ndarray, count: int) -> int:
    """The index of the first cell after the first `count` rows."""
    firsts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    return int(firsts[count]) if count < len(firsts) else len(rows)


def _py_value(kind: int, text: str) -> Any:
    """A cell as the calamine reader has it (float, bool or str; a date as its ISO text)."""
    if kind in (_TEXT, _DATE):
        return text
    if kind == _NUMBER:
        if _NUMBER_TEXT.fullmatch(text) is None:
            raise Fallback(f"a number this reader does not parse: {text!r}")
        return float(text)
    if text == "1":
        return True
    if text == "0":
        return False
    raise Fallback(f"a boolean this reader does not parse: {text!r}")


def _header(cells: _Cells, visit_fields: Collection[str]) -> tuple[TableLayout, _Cells]:

    if cells.rows[0] != 1:
        raise Fallback("a sheet whose first row is empty")
    stop = _row_end(cells.rows, 1)
    if (cells.kinds[:stop] == _DATE).any():  # a date names its column as a date-time
        raise Fallback("a date in the header")
    cols = cells.cols[:stop].tolist()
    values = cells.values.slice(0, stop).to_pylist()
    header: list[Any] = [""] * (max(cols) + 1)
    for c, k, v in zip(cols, cells.kinds[:stop].tolist(), values, strict=True):
        header[c] = _py_value(k, v)
    try:
        layout = TableLayout([header_cell(v) for v in header], visit_fields)
    except ValueError as exc:  # the calamine reader says what is wrong with it
        raise Fallback(str(exc)) from exc
    return layout, cells.slice(stop, len(cells.rows))


def _chunk(layout: TableLayout, cells: _Cells, prefix: str) -> TableChunk:
    """The chunk of the rows of `cells`, as `xlsx_columns._chunk` makes it of calamine's
    rows: a row with a value under no header is unreadable (built in Python, as there),
    the others are the table, a column per named header cell."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    rows = cells.rows
    new_row = np.r_[True, rows[1:] != rows[:-1]]
    ri = np.cumsum(new_row) - 1
    numbers = rows[new_row]
    named = [c for c in layout.columns if c.kind != "unnamed"]
    place = np.full(max(len(layout.columns), int(cells.cols.max()) + 1), -1, dtype=np.int64)
    for j, c in enumerate(named):
        place[c.index] = j
    pos = place[cells.cols]
    unreadable: list[tuple[int, Any]] = []
    spare = pos < 0
    if spare.any():
        bad = np.unique(ri[spare])
        firsts = np.flatnonzero(new_row)
        ends = np.append(firsts[1:], len(rows))
        for i in bad.tolist():
            lo, hi = int(firsts[i]), int(ends[i])
            row: list[Any] = [None] * (int(cells.cols[hi - 1]) + 1)
            texts = cells.values.slice(lo, hi - lo).to_pylist()
            for c, k, v in zip(
                cells.cols[lo:hi].tolist(), cells.kinds[lo:hi].tolist(), texts, strict=True
            ):
                row[c] = excel_value(_py_value(k, v))
            record, error = layout.to_record(row)
            number = int(numbers[i])
            source = f"{prefix}{number}"
            unreadable.append((number, SourceRecord(source, record, layout.raw(row), error)))
        keep_rows = np.ones(len(numbers), dtype=bool)
        keep_rows[bad] = False
        keep = np.flatnonzero(keep_rows[ri])
        cells = cells.take(keep)
        pos = pos[keep]
        numbers = numbers[keep_rows]
        rows = cells.rows
        ri = np.cumsum(np.r_[True, rows[1:] != rows[:-1]]) - 1 if len(rows) else rows
    n = len(numbers)
    # each column's cells by table row (-1: empty), and their kinds (0: empty)
    grid = np.full((len(named), n), -1, dtype=np.int32)
    grid[pos, ri] = np.arange(len(rows), dtype=np.int32)
    kind_grid = np.zeros((len(named), n), dtype=np.int8)
    kind_grid[pos, ri] = cells.kinds
    flat = grid.ravel()
    texts = pc.take(cells.values, pa.array(flat, mask=flat < 0))  # one take, column by column
    arrays = [
        _column(texts.slice(j * n, n), kind_grid[j], column.kind == "field")
        for j, column in enumerate(named)
    ]
    if named:
        table = pa.table(arrays, names=[c.name for c in named])
    else:
        table = pa.table({"_": pa.nulls(n)}).drop_columns(["_"])
    return TableChunk(table, numbers.astype(np.int64), unreadable, prefix)


def _column(texts: Any, kinds: np.ndarray, field: bool) -> Any:
    """One column from its cells' `texts` (null: empty) of `kinds` (0: empty): text as
    Arrow has it, other kinds typed from their distinct values as
    `xlsx_columns._column` types them."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    if not ((kinds == _NUMBER) | (kinds == _BOOL)).any():
        return texts
    tags = pc.take(pa.array(_TAGS, pa.string()), pa.array(kinds, mask=kinds == 0))
    coded = pc.dictionary_encode(pc.binary_join_element_wise(tags, texts, ""))
    values = [
        excel_value(_py_value(_TAGS.index(t[0]), t[1:])) for t in coded.dictionary.to_pylist()
    ]
    if field:
        values = [None if v is None else field_value(v) for v in values]
    kinds_present = set(map(type, values))
    classy = float in kinds_present or len(kinds_present - {str}) > 1
    keyed: dict[Any, int] = {}
    distinct: list[Any] = []
    remap = np.empty(len(values) + 1, dtype=np.int32)
    for i, v in enumerate(values):
        key = (v.__class__, v, str(v) if v == 0 else None) if classy else v
        code = keyed.setdefault(key, len(keyed))
        if code == len(distinct):
            distinct.append(v)
        remap[i] = code
    remap[len(values)] = len(distinct)
    raw = np.asarray(pc.fill_null(coded.indices, len(values)), dtype=np.int64)
    codes = remap[raw]
    if len(kinds_present) <= 1:
        kind = kinds_present.pop() if kinds_present else str
        return pc.take(_pa_array(distinct, kind), pa.array(codes, mask=codes == len(distinct)))
    return _coded_values([*distinct, None], codes, kinds_present)
