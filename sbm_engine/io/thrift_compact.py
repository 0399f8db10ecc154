"""Thrift's compact protocol, schema-free: enough to read and rewrite Parquet footers.

Why schema-free: `parquet_file` copies the column chunks pyarrow writes and rewrites
only their file offsets, so it must carry every field pyarrow puts in a footer
(statistics, encoding stats, size statistics, fields of future versions) without
knowing them. The compact protocol names each value's type on the wire, so a
decoded `Struct` keeps every field with its wire type and encodes back to the
same bytes.
"""

from __future__ import annotations

import struct
from typing import Any, Final, NamedTuple

# Wire types of the compact protocol.
TRUE: Final = 1
FALSE: Final = 2
BYTE: Final = 3
I16: Final = 4
I32: Final = 5
I64: Final = 6
DOUBLE: Final = 7
BINARY: Final = 8
LIST: Final = 9
SET: Final = 10
MAP: Final = 11
STRUCT: Final = 12

_INTS: Final = (BYTE, I16, I32, I64)


class List(NamedTuple):
    """A list or set: the element wire type and the elements."""

    kind: int
    items: list[Any]


class Struct:
    """Fields in wire order: id -> (wire type, value). Booleans are kept as TRUE/FALSE
    with the value True/False; integers of every width as int; binary as bytes."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict[int, tuple[int, Any]] | None = None) -> None:
        self.fields: dict[int, tuple[int, Any]] = {} if fields is None else fields

    def __getitem__(self, fid: int) -> Any:
        return self.fields[fid][1]

    def get(self, fid: int, default: Any = None) -> Any:
        entry = self.fields.get(fid)
        return default if entry is None else entry[1]

    def __contains__(self, fid: int) -> bool:
        return fid in self.fields

    def set(self, fid: int, kind: int, value: Any) -> Struct:
        """Set a field (kept in ascending id order, as generated Thrift code writes them)."""
        fields = self.fields
        ordered = fid in fields or not fields or fid > next(reversed(fields))
        fields[fid] = (kind, value)
        if not ordered:
            self.fields = dict(sorted(fields.items()))
        return self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Struct) and self.fields == other.fields

    def __repr__(self) -> str:
        return f"Struct({self.fields!r})"


class Raw(bytes):
    """A struct already encoded (its stop byte included), written as it is: lets a
    writer encode parts of a large struct early, off its critical path."""


class ThriftError(ValueError):
    """Bytes that are not a compact-protocol struct."""


# -- decoding ----------------------------------------------------------------------


def decode(data: bytes | memoryview, pos: int = 0) -> tuple[Struct, int]:
    """The struct starting at `pos`, and the position after it."""
    reader = _Reader(bytes(data), pos)
    value = reader.struct()
    return value, reader.pos


class _Reader:
    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise ThriftError("truncated Thrift data")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise ThriftError("varint too long")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def struct(self) -> Struct:
        fields: dict[int, tuple[int, Any]] = {}
        last = 0
        while True:
            head = self.byte()
            if head == 0:
                return Struct(fields)
            kind, delta = head & 0x0F, head >> 4
            fid = last + delta if delta else self.zigzag()
            if kind in (TRUE, FALSE):
                fields[fid] = (kind, kind == TRUE)
            else:
                fields[fid] = (kind, self.value(kind))
            last = fid

    def value(self, kind: int) -> Any:
        if kind in (TRUE, FALSE):  # a boolean element of a list: one byte
            return self.byte() == TRUE
        if kind == BYTE:
            b = self.byte()
            return b - 256 if b > 127 else b
        if kind in (I16, I32, I64):
            return self.zigzag()
        if kind == DOUBLE:
            return struct.unpack("<d", self.take(8))[0]
        if kind == BINARY:
            return self.take(self.varint())
        if kind in (LIST, SET):
            head = self.byte()
            size, elem = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            return List(elem, [self.value(elem) for _ in range(size)])
        if kind == STRUCT:
            return self.struct()
        raise ThriftError(f"unsupported Thrift wire type {kind}")

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ThriftError("truncated Thrift data")
        raw = self.data[self.pos : self.pos + n]
        self.pos += n
        return raw


# -- encoding ----------------------------------------------------------------------


def encode(value: Struct) -> bytes:
    out = bytearray()
    _struct(out, value)
    return bytes(out)


def varint(n: int) -> bytes:
    out = bytearray()
    _varint(out, n)
    return bytes(out)


def _varint(out: bytearray, n: int) -> None:
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _zigzag(out: bytearray, n: int) -> None:
    _varint(out, (n << 1) ^ (n >> 63))


def _struct(out: bytearray, value: Struct) -> None:
    last = 0
    for fid, (kind, v) in value.fields.items():
        wire = (TRUE if v else FALSE) if kind in (TRUE, FALSE) else kind
        if 0 < fid - last <= 15:
            out.append((fid - last) << 4 | wire)
        else:
            out.append(wire)
            _zigzag(out, fid)
        if kind not in (TRUE, FALSE):
            _value(out, kind, v)
        last = fid
    out.append(0)


def _value(out: bytearray, kind: int, v: Any) -> None:
    if isinstance(v, Raw):
        out += v
    elif kind in (TRUE, FALSE):
        out.append(TRUE if v else FALSE)
    elif kind == BYTE:
        out.append(v & 0xFF)
    elif kind in _INTS:
        _zigzag(out, v)
    elif kind == DOUBLE:
        out += struct.pack("<d", v)
    elif kind == BINARY:
        _varint(out, len(v))
        out += v
    elif kind in (LIST, SET):
        n = len(v.items)
        if n < 15:
            out.append(n << 4 | v.kind)
        else:
            out.append(0xF0 | v.kind)
            _varint(out, n)
        for item in v.items:
            _value(out, v.kind, item)
    elif kind == STRUCT:
        _struct(out, v)
    else:
        raise ThriftError(f"unsupported Thrift wire type {kind}")
