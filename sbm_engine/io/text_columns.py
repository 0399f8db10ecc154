"""Lines of text from Arrow columns: the line builder of the JSONL, CSV and XLSX writers.

Why: the batch path gives scored visits as Arrow tables, and the text formats want one
line per visit, spelt exactly as the record path's writers spell each value. Joining
cells row by row in Python, or per column with Arrow's string kernels, costs more
than the scoring; building the lines as slabs of a byte matrix does not.

A line is a list of pieces (`Piece`), each filling a slab of columns of an ``n x W``
byte matrix, one row per line:

* `LiteralPiece`: the same bytes on every row (keys, braces, separators);
* `CodedPiece`: a column of few distinct values, each spelt once by the writer's own
  rule for one value (`distinct_piece`); a row's bytes are the spelling its code picks;
* `VaryingPiece`: a column of many distinct values, spelt column-wise by Arrow (an
  Arrow string array), its bytes scattered into the slab. What goes around each
  text (JSON's quotes, the ``.0`` of a whole float, a null's spelling) is a coded
  piece beside it (`around`, `float_pieces`), so no text is joined row by row.

Before filling, adjacent pieces are joined where that is cheap (a literal into the
piece beside it, two coded pieces of few values into one coded by their pairs), so
there are fewer slabs. Every slab is padded to its widest value, and to a multiple
of 8 bytes so that it is moved as 64-bit words, with NUL bytes; the NULs are then
deleted in one pass (Arrow's filter, `_without_nul`). Spelt text never holds a raw
NUL (JSON escapes it, XML cannot carry it, and the CSV writer sends text holding one
to the record path), so exactly the padding goes.

The parts of one file are given to one encoder, which keeps what repeats from part
to part (`Kept`): each float column's values, found by their bits rather than by
hashing, and their spellings; the joined spellings and their word tables; the
memory of the byte matrix.

CSV (`CsvEncoder`) is spelt as `io.writers.CsvWriter` spells a record with
``spreadsheet_safe``: each cell is `writers._csv_cell` of its value (floats as
Python's repr, booleans ``true``/``false``, null empty, text that starts like a
formula behind a ``'``), quoted as `csv.writer` quotes (`csv_quote`), lines ending
in CRLF.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import IO, Any, Final, NamedTuple

import numpy as np

from sbm_engine.io.dictionary_codes import few_codes, valid_rows
from sbm_engine.io.numpy_arrow import arrow_array, distinct
from sbm_engine.io.writers import FORMULA_START, _csv_cell

__all__ = [
    "TEXT_WRITE_ROWS",
    "CodedPiece",
    "CsvEncoder",
    "Kept",
    "Lines",
    "LiteralPiece",
    "Piece",
    "VaryingPiece",
    "around",
    "assemble",
    "coded_piece",
    "csv_quote",
    "distinct_piece",
    "float_digits",
    "float_pieces",
    "float_texts",
    "rows_holding",
    "write_in_slices",
]

#: Rows made into lines at a time: bounds the byte matrix held at once.
TEXT_WRITE_ROWS: Final = 16384

#: Bytes a slab is padded to a multiple of: slabs are moved as 64-bit words.
_WORD: Final = 8

#: A column whose distinct values are at most one in this many rows (or 64 at most) is
#: spelt once per distinct value; others column-wise by Arrow.
FEW: Final = 8


def _padded(width: int) -> int:
    return -(-width // _WORD) * _WORD


class LiteralPiece(NamedTuple):
    """The same bytes on every line."""

    data: bytes

    @property
    def width(self) -> int:
        return _padded(len(self.data))

    def fill(self, words: np.ndarray, at: int) -> None:
        if self.data:
            row = self.data.ljust(self.width, b"\0")
            words[:, at : at + len(row) // _WORD] = np.frombuffer(row, dtype=np.uint64)


class CodedPiece(NamedTuple):
    """A column of few distinct values: row i's bytes are ``spelt[codes[i]]``."""

    codes: np.ndarray
    spelt: Sequence[bytes]

    @property
    def width(self) -> int:
        return _padded(max(map(len, self.spelt)))

    def table(self) -> np.ndarray:
        """The spellings as rows of 64-bit words, padded with NULs to `width`."""
        width = self.width
        table = np.array(self.spelt, dtype=f"S{width}").view(np.uint64)
        return table.reshape(len(self.spelt), width // _WORD)

    def fill(self, words: np.ndarray, at: int, table: np.ndarray | None = None) -> None:
        if not self.width:
            return
        if table is None:
            table = self.table()
        if table.shape[1] == 1:
            words[:, at] = table[:, 0].take(self.codes, mode="clip")
        else:
            span = table.shape[1]
            words[:, at : at + span] = table.take(self.codes, axis=0, mode="clip")


class VaryingPiece(NamedTuple):
    """A column of many distinct values: an Arrow string array (no nulls), its bytes
    scattered into the matrix; `prefix` goes before each."""

    prefix: bytes
    texts: Any

    @property
    def width(self) -> int:
        lengths = _offsets(self.texts)
        return _padded(len(self.prefix) + int(np.diff(lengths).max(initial=0)))

    def fill(self, words: np.ndarray, at: int) -> None:
        width = self.width
        words[:, at : at + width // _WORD] = 0  # the matrix may hold an earlier part
        matrix = words.view(np.uint8)
        at *= _WORD
        if self.prefix:
            matrix[:, at : at + len(self.prefix)] = np.frombuffer(self.prefix, dtype=np.uint8)
            at += len(self.prefix)
        offsets = _offsets(self.texts).astype(np.int64)
        lengths = np.diff(offsets)
        first, last = int(offsets[0]), int(offsets[-1])
        if last == first:
            return
        n, stride = matrix.shape
        span = width - len(self.prefix)
        if _fill_padded(matrix[:, at : at + span], self.texts, span):
            return
        rows = np.arange(n, dtype=np.int64) * stride + at - offsets[:-1]
        target = np.repeat(rows, lengths) + np.arange(first, last, dtype=np.int64)
        data = np.frombuffer(self.texts.buffers()[2], dtype=np.uint8)
        matrix.reshape(-1)[target] = data[first:last]


def _fill_padded(slab: np.ndarray, texts: Any, span: int) -> bool:
    """Copy each text, NUL-padded to `span` bytes, into its row of `slab` when every
    text is ASCII (Arrow pads by characters, so then every row is `span` bytes and
    the padded texts are one `n x span` block); False, leaving `slab` as it was, if
    not. Arrow pads without the GIL; the bytes are then moved as one block."""
    from .. import arrow_compute as pc

    if not span:
        return False
    padded = pc.utf8_rpad(texts, width=span, padding="\0")
    offsets = _offsets(padded)
    first, last = int(offsets[0]), int(offsets[-1])
    n = len(padded)
    if last - first != n * span:
        return False
    data = np.frombuffer(padded.buffers()[2], dtype=np.uint8)[first:last]
    slab[...] = data.reshape(n, span)
    return True


Piece = LiteralPiece | CodedPiece | VaryingPiece


def _offsets(texts: Any) -> np.ndarray:
    n = len(texts)
    raw = np.frombuffer(texts.buffers()[1], dtype=np.int32, count=texts.offset + n + 1)
    return raw[texts.offset :]


class Lines(NamedTuple):
    """The lines of a slice of rows, not assembled yet: `assembled()` gives their bytes.

    Why: building a slice's pieces takes the GIL (Python, and numpy a column at a
    time), filling the byte matrix and deleting its padding mostly does not. A
    stream that `assembles` them itself (the table output's) does that in a thread
    of its own, while the next slice's pieces are built."""

    pieces: list[Piece]
    n: int
    kept: Kept | None

    def assembled(self) -> memoryview:
        return assemble(self.pieces, self.n, self.kept)


def write_in_slices(
    stream: IO[bytes],
    table: Any,
    rows: int,
    encode: Callable[[Any], bytes | memoryview | Lines],
) -> int:
    """Write `encode` of `table`'s slices of `rows` rows to `stream`, in order (bounding
    the text built at once); returns the bytes written. `Lines` go to a stream whose
    `assembles` is true as they are (its `write` says how many bytes it took then,
    which may be none yet), to any other assembled."""
    written = 0
    hands_on = getattr(stream, "assembles", False)
    for start in range(0, table.num_rows, rows):
        data = encode(table.slice(start, rows))
        if isinstance(data, Lines):
            if hands_on:
                written += stream.write(data)  # type: ignore[call-overload]
                continue
            data = data.assembled()
        stream.write(data)
        written += len(data)
    return written


def assemble(pieces: list[Piece], n: int, kept: Kept | None = None) -> memoryview:
    """The bytes of `n` lines, each the pieces' bytes in order (see the module docstring).
    `kept`: the encoder's `Kept`, whose joins, tables of spellings and byte matrix are
    reused."""
    memo = kept.memo if kept is not None else _Memo()
    pieces = _joined(pieces, memo)
    widths = [piece.width for piece in pieces]
    total = sum(widths)
    flat = kept.matrix(n * total) if kept is not None else np.zeros(n * total, dtype=np.uint8)
    words = flat.view(np.uint64).reshape(n, total // _WORD)
    at = 0
    for piece, width in zip(pieces, widths, strict=True):
        if isinstance(piece, CodedPiece):
            if width:
                piece.fill(words, at, memo.table(piece))
        else:
            piece.fill(words, at)
        at += width // _WORD
    memo.age()
    return _without_nul(flat)


#: Bytes whose NUL mask is found at a time (`_without_nul`): a block stays in cache.
#: A multiple of 8, so that each block's bits start a byte.
_MASK_BLOCK: Final = 1 << 18


def _without_nul(flat: np.ndarray) -> memoryview:
    """The bytes of `flat` (a uint8 array) but its NULs, by Arrow's filter: it runs
    without the GIL, which the reading and scoring threads need, and as fast as
    `bytes.translate`, which holds it. The mask is numpy's (Arrow's comparison
    writes its bits one by one), a block at a time."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    n = len(flat)
    bits = np.empty(-(-n // 8), dtype=np.uint8)
    kept = np.empty(min(n, _MASK_BLOCK), dtype=bool)
    for start in range(0, n, _MASK_BLOCK):
        block = flat[start : start + _MASK_BLOCK]
        mask = kept[: len(block)]
        np.not_equal(block, 0, out=mask)
        bits[start // 8 : (start + len(block) + 7) // 8] = np.packbits(mask, bitorder="little")
    mask_array = pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bits)])
    data = pa.Array.from_buffers(pa.uint8(), n, [None, pa.py_buffer(flat)])
    out = pc.filter(data, mask_array)
    return memoryview(out.buffers()[1])[: len(out)]


#: Distinct values a coded piece may have when adjacent pieces are joined into it.
_JOINED: Final = 256


def _joined(pieces: list[Piece], memo: _Memo) -> list[Piece]:
    """The same lines in fewer pieces: a literal joined to the coded piece beside it,
    and adjacent coded pieces of few values into one coded by their pairs (so fewer
    slabs to fill, and less padding)."""
    out: list[Piece] = []
    for piece in pieces:
        last = out[-1] if out else None
        if isinstance(piece, LiteralPiece) and isinstance(last, LiteralPiece):
            out[-1] = LiteralPiece(last.data + piece.data)
        elif isinstance(piece, LiteralPiece) and isinstance(last, CodedPiece):
            out[-1] = CodedPiece(last.codes, memo.joined(last.spelt, [piece.data]))
        elif isinstance(piece, CodedPiece) and isinstance(last, LiteralPiece):
            out[-1] = CodedPiece(piece.codes, memo.joined([last.data], piece.spelt))
        elif isinstance(piece, VaryingPiece) and isinstance(last, LiteralPiece):
            out[-1] = VaryingPiece(last.data + piece.prefix, piece.texts)
        elif (
            isinstance(piece, CodedPiece)
            and isinstance(last, CodedPiece)
            and len(last.spelt) * len(piece.spelt) <= _JOINED
        ):
            codes = _pair_codes(last.codes, piece.codes, len(piece.spelt))
            out[-1] = CodedPiece(codes, memo.joined(last.spelt, piece.spelt))
        else:
            out.append(piece)
    return out


def _pair_codes(first: np.ndarray, second: np.ndarray, k: int) -> np.ndarray:
    """The codes of the pairs (`first`, `second`), `second` of `k` values; byte codes
    stay bytes (the pairs are at most `_JOINED`)."""
    if first.dtype == np.uint8 and second.dtype == np.uint8 and k < 256:
        codes = first * np.uint8(k)
        codes += second
        return codes
    return first.astype(np.intp) * k + second


class _Memo:
    """Joined spellings and their word tables, by the identity of the lists they come
    from, kept while the parts of a file use them: a column keeps its spellings from
    part to part (`Kept`), so the joins and tables of one part are those of the next.

    An entry holds the lists it was made from, so an identity is not reused while it
    is kept; entries no part used since the last `age` go at the next one."""

    def __init__(self) -> None:
        self._now: dict[Any, tuple[Any, ...]] = {}
        self._before: dict[Any, tuple[Any, ...]] = {}

    def _get(self, key: Any) -> tuple[Any, ...] | None:
        hit = self._now.get(key)
        if hit is None:
            hit = self._before.pop(key, None)
            if hit is not None:
                self._now[key] = hit
        return hit

    def joined(self, first: Sequence[bytes], second: Sequence[bytes]) -> list[bytes]:
        """Every spelling of `first` followed by every one of `second`, `first` major."""
        key = ("join", id(first), id(second))
        hit = self._get(key)
        if hit is not None and hit[0] is first and hit[1] is second:
            return hit[2]  # type: ignore[no-any-return]
        spelt = [a + b for a in first for b in second]
        self._now[key] = (first, second, spelt)
        return spelt

    def table(self, piece: CodedPiece) -> np.ndarray:
        key = ("table", id(piece.spelt))
        hit = self._get(key)
        if hit is not None and hit[0] is piece.spelt:
            return hit[1]  # type: ignore[no-any-return]
        table = piece.table()
        self._now[key] = (piece.spelt, table)
        return table

    def age(self) -> None:
        """End of a part: drop what neither this part nor the one before used."""
        self._before = self._now
        self._now = {}


#: Distinct values a float column may take and still be coded by matching its bits
#: (`dictionary_codes.few_codes`: a pass over the column a value).
FEW_BITS: Final = 32
#: Spellings of floats a column keeps for later parts, at most.
_WORDS_KEPT: Final = 1 << 16


class Kept:
    """What an encoder keeps from one part of a file to the next, by column: the float
    values a column took and their spellings, and the joined spellings (`_Memo`).

    Why: a result column takes the same values in every part (an item's scores, a
    section's fractions). Hashing each part's column to find them, and spelling them
    again in Python, cost more than building the lines."""

    def __init__(self) -> None:
        self.memo = _Memo()
        self._matrix = np.zeros(0, dtype=np.uint8)
        self._known: dict[Any, np.ndarray] = {}
        self._slots: dict[Any, _Slots | None] = {}
        self._spelt: dict[Any, tuple[np.ndarray, bytes, list[bytes]]] = {}
        self._words: dict[Any, dict[Any, bytes]] = {}
        self._last: dict[Any, list[bytes]] = {}

    def matrix(self, size: int) -> np.ndarray:
        """`size` bytes for the byte matrix of a part, not zeroed: the same memory for
        every part of a file (it is rewritten whole: each slab fills its padding)."""
        if len(self._matrix) < size:
            self._matrix = np.empty(size + (size >> 3), dtype=np.uint8)
        return self._matrix[:size]

    def float_piece(
        self, key: Any, prefix: bytes, column: Any, spell: Callable[[Any], str], null: str
    ) -> CodedPiece | None:
        """A float64 column of few distinct values as a coded piece, its codes found by
        matching the bits of each value against the values the column `key` took
        before (so -0.0 and 0.0 stay apart, as repr keeps them); None if the part
        holds more than FEW_BITS values."""
        n = len(column)
        if n == 0 or column.buffers()[1] is None:
            return None
        keys = np.frombuffer(
            column.buffers()[1], dtype=np.uint64, count=n, offset=column.offset * 8
        )
        valid = valid_rows(column)
        slots = self._slots.get(key)
        codes = slots.codes(keys, valid) if slots is not None else None
        if codes is not None:
            dictionary = slots.dictionary  # type: ignore[union-attr]
        else:
            found = few_codes(keys, valid, FEW_BITS, np.uint8, self._known.get(key))
            if found is None:
                return None
            codes, dictionary = found
            if self._known.get(key) is not dictionary:
                self._slots[key] = _Slots.of(dictionary)
            self._known[key] = dictionary
        held = self._spelt.get(key)
        if held is None or held[0] is not dictionary or held[1] != prefix:
            words = self._float_words(key, dictionary.view(np.float64), spell)
            spelt = [prefix + w for w in words]
            spelt.append(prefix + null.encode("utf-8"))
            held = self._spelt[key] = (dictionary, prefix, spelt)
        if valid is not None:
            codes = np.where(valid, codes, np.uint8(len(dictionary)))
        return CodedPiece(codes, held[2])

    def words(self, key: Any, values: Any, spell: Callable[[Any], str]) -> list[bytes] | None:
        """`spell` of each value of `values` (an Arrow float64 or string array, no
        nulls), UTF-8, each distinct value spelt once for the column `key`; None for
        values of another type."""
        import pyarrow as pa

        if pa.types.is_float64(values.type):
            floats = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
            return self._float_words(key, floats, spell)
        if not pa.types.is_string(values.type):
            return None
        cache = self._cache(key)
        texts = values.to_pylist()
        words = list(map(cache.get, texts))
        if None in words:
            for i, word in enumerate(words):
                if word is None:
                    words[i] = cache[texts[i]] = spell(texts[i]).encode("utf-8")
        return words  # type: ignore[return-value]

    def spelt(self, key: Any, prefix: bytes, words: list[bytes], null: str) -> list[bytes]:
        """The spellings of a coded piece of the column `key`: `words` and `null`, after
        `prefix`; the list of the part before when it is the same, so that its joins
        and tables are found again (`_Memo`)."""
        spelt = [prefix + w for w in words]
        spelt.append(prefix + null.encode("utf-8"))
        last = self._last.get(key)
        if last == spelt:
            return last
        self._last[key] = spelt
        return spelt

    def _cache(self, key: Any) -> dict[Any, bytes]:
        cache = self._words.get(key)
        if cache is None or len(cache) > _WORDS_KEPT:
            cache = self._words[key] = {}
        return cache

    def _float_words(
        self, key: Any, floats: np.ndarray, spell: Callable[[Any], str]
    ) -> list[bytes]:
        cache = self._cache(key)
        bits = floats.view(np.uint64).tolist()
        words = list(map(cache.get, bits))
        if None in words:
            values = floats.tolist()
            for i, word in enumerate(words):
                if word is None:
                    words[i] = cache[bits[i]] = spell(values[i]).encode("utf-8")
        return words  # type: ignore[return-value]


#: Bits of the slot a float's bits hash to (`_Slots`).
_SLOT_BITS: Final = 12
#: Odd 64-bit multipliers `_Slots` tries, in turn, until the values' slots differ.
_MULTIPLIERS: Final = tuple((0x9E3779B97F4A7C15 * (2 * k + 1)) % (1 << 64) for k in range(16))


class _Slots(NamedTuple):
    """A float column's known values (their bits, sorted) in a table of 2**_SLOT_BITS
    slots, each value in a slot of its own (multiplicative hashing): a row is coded
    with one multiplication and two lookups, however many values there are, where
    `dictionary_codes.few_codes` compares it with each value in turn.

    A slot no value has holds the first value's bits: a row with those bits hashes to
    that value's own slot, so an empty slot never matches a row."""

    dictionary: np.ndarray
    multiplier: np.uint64
    keys: np.ndarray
    indices: np.ndarray

    @classmethod
    def of(cls, dictionary: np.ndarray) -> _Slots | None:
        """The table of `dictionary` (at most 255 values), None if no multiplier
        puts its values in slots of their own."""
        if not len(dictionary):
            return None
        shift = np.uint64(64 - _SLOT_BITS)
        for m in _MULTIPLIERS:
            multiplier = np.uint64(m)
            slots = ((dictionary * multiplier) >> shift).astype(np.intp)
            if len(distinct(slots)) == len(slots):
                keys = np.full(1 << _SLOT_BITS, dictionary[0], dtype=np.uint64)
                keys[slots] = dictionary
                indices = np.zeros(1 << _SLOT_BITS, dtype=np.uint8)
                indices[slots] = np.arange(len(dictionary), dtype=np.uint8)
                return cls(dictionary, multiplier, keys, indices)
        return None

    def codes(self, keys: np.ndarray, valid: np.ndarray | None) -> np.ndarray | None:
        """Each row's index in the dictionary (meaningless for a null row), or None if
        a non-null row holds a value it has not."""
        slot = ((keys * self.multiplier) >> np.uint64(64 - _SLOT_BITS)).view(np.int64)
        known = self.keys.take(slot) == keys
        if valid is not None:
            known |= ~valid
        if not known.all():
            return None
        return self.indices.take(slot)  # type: ignore[no-any-return]


def coded_piece(prefix: bytes, spelt: Sequence[str], indices: Any, null: int) -> CodedPiece:
    """A coded piece: `spelt[indices[i]]` after `prefix` on row i (`null` for a null
    index); `indices` an Arrow integer array."""
    return CodedPiece(_codes(indices, null), [prefix + text.encode("utf-8") for text in spelt])


def _codes(indices: Any, null: int) -> np.ndarray:
    """An Arrow integer array as codes, `null` where it is null."""
    from .. import arrow_compute as pc

    if indices.null_count:
        indices = pc.fill_null(indices, null)
    return indices.to_numpy(zero_copy_only=False).astype(np.intp)  # type: ignore[no-any-return]


def distinct_piece(
    prefix: bytes,
    column: Any,
    spell: Callable[[Any], str],
    null: str,
    varying: Callable[[bytes, Any], list[Piece]],
    kept: Kept | None = None,
    key: Any = None,
) -> list[Piece]:
    """A column after `prefix` on each line: spelt once per distinct value by `spell`
    (a null as `null`) when values repeat (scores, bands, points), else column-wise
    by `varying` (ids, coefficients), given `prefix` and the column (never dictionary
    encoded). `kept`: what the encoder keeps between parts (`Kept`) for the column
    `key`, so a float column's values are found without hashing and spelt once."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    t = column.type
    if pa.types.is_null(t):
        return [LiteralPiece(prefix + null.encode("utf-8"))]
    if kept is not None and pa.types.is_float64(t):
        piece = kept.float_piece(key, prefix, column, spell, null)
        if piece is not None:
            return [piece]
    if not pa.types.is_dictionary(t) and _mostly_distinct(column):
        return varying(prefix, column)
    encoded = column if pa.types.is_dictionary(t) else pc.dictionary_encode(column)
    distinct = len(encoded.dictionary)
    if distinct * FEW <= len(column) or distinct <= 64:
        words = kept.words(key, encoded.dictionary, spell) if kept is not None else None
        if kept is not None and words is not None:
            coded = kept.spelt(key, prefix, words, null)
            return [CodedPiece(_codes(encoded.indices, distinct), coded)]
        spelt = [spell(v) for v in encoded.dictionary.to_pylist()]
        spelt.append(null)
        return [coded_piece(prefix, spelt, encoded.indices, distinct)]
    if pa.types.is_dictionary(t):
        column = pc.take(column.dictionary, column.indices)
    return varying(prefix, column)


#: Rows whose distinct values tell a column of ids or coefficients (`_mostly_distinct`).
_SAMPLE: Final = 1024


def _mostly_distinct(column: Any) -> bool:
    """Whether the first rows of `column` are nearly all distinct values, more than 64
    and more than 9 in 10 of them (ids, coefficients): it is then spelt column-wise
    at once, without hashing every row to find that it has too many values to spell
    each once (`distinct_piece` would find more than one in FEW rows distinct). A
    column of fewer distinct values is hashed: spelling each value once, or finding
    its spelling kept from earlier parts, costs less than spelling every row."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    sample = column.slice(0, _SAMPLE)
    if len(sample) <= 128:
        return False
    if pa.types.is_float64(column.type) and sample.buffers()[1] is not None:
        keys = np.frombuffer(
            sample.buffers()[1], dtype=np.uint64, count=len(sample), offset=sample.offset * 8
        )
        valid = valid_rows(sample)
        count = len(distinct(keys if valid is None else keys[valid]))
    else:
        count = pc.count_distinct(sample).as_py()
    return bool(count > 64 and 10 * count > 9 * len(sample))


def around(prefix: bytes, texts: Any, before: bytes, after: bytes, null: bytes) -> list[Piece]:
    """Each text of `texts` (an Arrow string array) between `before` and `after`, a
    null as `null`, after `prefix`: the texts are not copied to join them."""
    from .. import arrow_compute as pc

    if not texts.null_count:
        return [LiteralPiece(prefix + before), VaryingPiece(b"", texts), LiteralPiece(after)]
    codes = pc.is_null(texts).to_numpy(zero_copy_only=False).astype(np.intp)
    return [
        CodedPiece(codes, [prefix + before, prefix + null]),
        VaryingPiece(b"", pc.fill_null(texts, "")),
        CodedPiece(codes, [after, b""]),
    ]


def float_pieces(prefix: bytes, column: Any, null: bytes) -> list[Piece]:
    """A float column spelt as Python's repr spells each value (`float_texts`), a null
    as `null`, after `prefix`."""
    digits, whole = float_digits(column)
    suffix = CodedPiece(whole.astype(np.intp), [b"", b".0"])
    return [*around(prefix, digits, b"", b"", null), suffix]


def rows_holding(texts: Any, chars: bytes, first: bytes = b"") -> np.ndarray:
    """Which texts of an Arrow string array hold one of the ASCII `chars`, or start
    with one of `first` (a numpy bool array; False for a null). Read from the data
    buffer at once: UTF-8 spells every other character with bytes of 128 and up."""
    from .. import arrow_compute as pc

    offsets = _offsets(texts).astype(np.int64)
    start, stop = int(offsets[0]), int(offsets[-1])
    found = np.zeros(len(texts), dtype=bool)
    if stop == start:
        return found
    data = np.frombuffer(texts.buffers()[2], dtype=np.uint8)[start:stop]
    at = np.flatnonzero(_among(data, chars))
    if at.size:
        found[np.searchsorted(offsets, at + start, side="right") - 1] = True
    if first:
        lead = data[np.minimum(offsets[:-1] - start, stop - start - 1)]
        found |= _among(lead, first) & (offsets[1:] > offsets[:-1])
    if texts.null_count:
        found &= pc.is_valid(texts).to_numpy(zero_copy_only=False)
    return found


def _among(data: np.ndarray, chars: bytes) -> np.ndarray:
    """Which bytes of `data` (a uint8 array) are among `chars`: compared a run of
    consecutive byte values at a time (a few vector passes), not looked up in a table
    (a gather a byte)."""
    values = sorted(set(chars))
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and runs[-1][1] == v - 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    if len(runs) > 6:
        wanted = np.zeros(256, dtype=bool)
        wanted[values] = True
        return wanted[data]  # type: ignore[no-any-return]
    out = np.zeros(len(data), dtype=bool)
    for lo, hi in runs:
        if lo == hi:
            out |= data == lo
        elif lo == 0:
            out |= data <= hi
        else:
            out |= (data >= lo) & (data <= hi)
    return out


def float_texts(column: Any) -> Any:
    """A float column spelt as Python's repr spells each value, column-wise: an Arrow
    string array, null where the column is null (see `float_digits`)."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    digits, whole = float_digits(column)
    return pc.if_else(pa.array(whole), pc.binary_join_element_wise(digits, ".0", ""), digits)


def float_digits(column: Any) -> tuple[Any, np.ndarray]:
    """A float column spelt column-wise: (texts, whole), where a value's repr is its
    text, followed by ``.0`` where `whole` (a numpy bool array) is true; texts are
    null where the column is.

    Arrow casts a float to the same shortest digits as repr but spells some of them
    otherwise (``1`` for ``1.0``, ``0.00001`` for ``1e-05``, exponents from 1e15):
    whole numbers get ``.0``, and the values Python writes in exponent form, or Arrow
    does, and those that are not finite, are spelt by Python one by one (they are rare
    in scores)."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    if column.type != pa.float64():
        column = pc.cast(column, pa.float64())
    values = column.to_numpy(zero_copy_only=False)  # a null reads as NaN
    valid = pc.is_valid(column).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        odd = valid & (~np.isfinite(values) | ((values != 0) & (np.abs(values) < 1e-4)))
        whole = valid & (np.floor(values) == values)
    texts = pc.cast(column, pa.string())
    odd |= rows_holding(texts, b"e")
    if odd.any():
        spelt = [repr(float(v)) for v in values[odd].tolist()]
        texts = pc.replace_with_mask(texts, arrow_array(odd), pa.array(spelt, type=pa.string()))
        whole &= ~odd
    return texts, whole


# -- CSV ---------------------------------------------------------------------------------------

#: Text `csv_quote` quotes: the delimiter, the quote, a line break.
_QUOTED: Final = ',"\r\n'
#: The first characters of text a spreadsheet would run (`writers.FORMULA_START`).
_FORMULA: Final = "".join(sorted(FORMULA_START)).encode("ascii")


def csv_quote(text: str) -> str:
    """A cell as `csv.writer` (QUOTE_MINIMAL, CRLF lines) writes it in a row of more
    than one cell."""
    if any(c in text for c in _QUOTED):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_text(value: Any) -> str:
    return csv_quote(_csv_cell(value))


class CsvEncoder:
    """Scored tables to the lines `writers.CsvWriter` (``spreadsheet_safe``) writes for
    the same rows, without the header: a cell per column, in the table's order.
    Tables given to one encoder are parts of one file: it keeps what it learnt of
    each column (`Kept`) for the next."""

    def __init__(self) -> None:
        self._kept = Kept()

    def encode(self, table: Any) -> bytes:
        """The CSV lines of every row of `table` (a pyarrow Table), in order."""
        out = io.BytesIO()
        self.write(out, table)
        return out.getvalue()

    def write(self, stream: IO[bytes], table: Any) -> int:
        """Write the lines of `table` to `stream` a slice at a time; returns the bytes
        written. Raises OSError from the stream."""
        if not table.num_columns:  # empty lines (a table of no columns slices oddly)
            stream.write(b"\r\n" * table.num_rows)
            return 2 * table.num_rows
        return write_in_slices(stream, table, TEXT_WRITE_ROWS, self._lines)

    def _lines(self, table: Any) -> bytes | Lines:
        columns = [c.combine_chunks() if c.num_chunks != 1 else c.chunk(0) for c in table.columns]
        if table.num_columns < 2 or not all(map(_csv_kind, columns)):
            return _csv_rows(table)  # the record writer's own rows
        pieces: list[Piece] = []
        prefix = b""
        kept = self._kept
        for i, column in enumerate(columns):
            pieces.extend(distinct_piece(prefix, column, _csv_text, "", _csv_varying, kept, i))
            prefix = b","
        pieces.append(LiteralPiece(b"\r\n"))
        return Lines(pieces, table.num_rows, kept)


def _csv_kind(column: Any) -> bool:
    """Whether the lines can be built column-wise for `column`: a type of scored tables,
    and no text holding a NUL (the line builder's padding)."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    t = column.type
    if pa.types.is_dictionary(t):
        column, t = column.dictionary, t.value_type
    if pa.types.is_string(t):
        return not _holds_nul(column)
    if pa.types.is_large_string(t):
        return not pc.any(pc.match_substring(column, "\0")).as_py()
    return (
        pa.types.is_floating(t)
        or pa.types.is_integer(t)
        or pa.types.is_boolean(t)
        or pa.types.is_null(t)
    )


def _holds_nul(texts: Any) -> bool:
    """Whether some text of an Arrow string array holds a NUL, from its data buffer."""
    if not len(texts):
        return False
    offsets = _offsets(texts)
    start, stop = int(offsets[0]), int(offsets[-1])
    if stop == start:
        return False
    data = np.frombuffer(texts.buffers()[2], dtype=np.uint8)[start:stop]
    return bool((data == 0).any())


def _csv_varying(prefix: bytes, column: Any) -> list[Piece]:
    """A column of many distinct values as CSV cells, column-wise."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    t = column.type
    if pa.types.is_floating(t):
        return float_pieces(prefix, column, b"")
    if pa.types.is_integer(t):
        texts = pc.cast(column, pa.string())
    elif pa.types.is_boolean(t):
        texts = pc.if_else(column, "true", "false")
    else:
        texts = pc.cast(column, pa.string()) if t != pa.string() else column
        odd = rows_holding(texts, _QUOTED.encode("ascii"), first=_FORMULA)
        if odd.any():
            spelt = [_csv_text(s) for s in pc.filter(texts, odd).to_pylist()]
            texts = pc.replace_with_mask(texts, arrow_array(odd), pa.array(spelt, type=pa.string()))
    return around(prefix, texts, b"", b"", b"")


def _csv_rows(table: Any) -> bytes:
    """The rows as `writers.CsvWriter` writes them, row by row with `csv.writer`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in zip(*(column.to_pylist() for column in table.columns), strict=True):
        writer.writerow([_csv_cell(value) for value in row])
    return out.getvalue().encode("utf-8")
