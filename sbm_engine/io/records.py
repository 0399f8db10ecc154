"""Visit records as the readers hand them to the engine.

Why this module exists: every input format (JSONL, CSV, XLSX, Parquet, plugin
formats) must end up in one canonical nested shape, so that the scorer never cares
where a visit came from; and every record keeps where it came from and what was
read, so that nothing is lost: a record the engine cannot use still reaches the
rejects file with its source.

The canonical shape is::

    {"visit_id": ..., "point": ..., "specialist": ..., "region": ..., "date": ...,
     "scenario": ..., "shopper": ..., "submitted": ..., <declared visit fields>...,
     "answers": {item: value}}

For tabular formats one row is one visit: columns named like a visit field go to
the top level, every other column (or a column named ``answers.ITEM``) is an
answer. An empty cell means the key is absent (a missing answer), never present
with an empty value.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from sbm_engine.model import BUILTIN_FIELDS

__all__ = [
    "ANSWERS",
    "ANSWERS_PREFIX",
    "VISIT_FIELDS",
    "Column",
    "SourceRecord",
    "TableLayout",
    "field_text",
    "field_value",
    "is_empty",
    "jsonable",
]

VISIT_FIELDS: Final[tuple[str, ...]] = tuple(BUILTIN_FIELDS.values())
"""The built-in visit fields as records spell them (`model.BUILTIN_FIELDS`, the one list);
a declared standard may add more (``visit_fields``)."""

ANSWERS: Final = "answers"
ANSWERS_PREFIX: Final = "answers."


@attrs.frozen
class SourceRecord:
    """One input record, readable or not, with where it came from.

    `source` is ``file:line`` for JSONL and CSV (the line where the row starts; the
    header is line 1), ``file:sheet:row`` for XLSX and ``file:row`` (1-based data
    row) for Parquet. `record` is the visit in the canonical shape, or None when it
    could not be read, in which case `error` says why. `raw` is what was read (the
    line text, the row as a dict of header to cell, or the list of cells when the
    row does not fit the header) and is kept for the rejects file.
    """

    source: str
    record: dict[str, Any] | None
    raw: Any
    error: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.record is None and self.error is None:
            raise ValueError("a SourceRecord without a record must say why (error)")

    @property
    def ok(self) -> bool:
        """True when the record could be read (it may still be rejected by the engine)."""
        return self.record is not None


def is_empty(value: Any) -> bool:
    """An empty cell: None, the empty string or NaN; such a key is left out."""
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    return isinstance(value, float) and math.isnan(value)


def jsonable(value: Any) -> Any:
    """Turn a cell read by a library into a value JSON can carry.

    Dates become ISO strings, Decimals numbers, bytes text and NaN None, so that
    records and raw rows can always be written to the rejects file.
    """
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if kind is float or isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return iso_duration(value)
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def iso_duration(value: dt.timedelta) -> str:
    """A duration as ISO 8601 text, exact to the microsecond, negative with a leading
    minus: ``P1DT6H``, ``-PT10M``, ``PT1M30.5S``, ``PT0S``; a `duration` field reads it
    back (`field_types`)."""
    micros = abs(value) // dt.timedelta(microseconds=1)
    seconds, fraction = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    clock = "".join(f"{n}{unit}" for n, unit in ((hour, "H"), (minute, "M")) if n)
    if second or fraction:
        clock += f"{second}.{fraction:06d}".rstrip("0").rstrip(".") + "S"
    text = (
        ("P" + (f"{days}D" if days else "") + ("T" + clock if clock else "")) if micros else "PT0S"
    )
    return ("-" if value < dt.timedelta(0) else "") + text


def field_text(value: Any) -> str:
    """A visit field (visit_id, point, ...) is always text: 123 and 123.0 become "123",
    true "true"; an object or a list its compact JSON text (only to name it: the
    engine rejects such a field, see `field_value`)."""
    if type(value) is str:
        return value
    value = jsonable(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def field_value(value: Any) -> Any:
    """A visit-field cell as it goes into the record: its text (`field_text`), but an
    object or a list (a struct, map or list column) as read (`jsonable`), so that the
    engine rejects the visit (`bad_field`: a visit field holds one value) as it does
    the same visit read from JSONL, rather than scoring it under some spelling."""
    if type(value) is str:
        return value
    if isinstance(value, Mapping | list | tuple):
        return jsonable(value)
    return field_text(value)


@attrs.frozen
class Column:
    """Where one column of a table goes: a visit field, an answer, or nowhere."""

    index: int
    name: str
    kind: str  # "field", "answer", "answers" (a mapping of answers) or "unnamed"
    key: str


def _classify(index: int, name: str, fields: Collection[str]) -> Column:
    if name == "":
        return Column(index, name, "unnamed", f"#{index + 1}")
    if name in fields:
        return Column(index, name, "field", name)
    if name == ANSWERS:
        return Column(index, name, "answers", name)
    if name.startswith(ANSWERS_PREFIX):
        item = name[len(ANSWERS_PREFIX) :]
        if not item:
            raise ValueError(f"column {index + 1} {name!r} names no item")
        return Column(index, name, "answer", item)
    return Column(index, name, "answer", name)


class TableLayout:
    """Maps the cells of a row to the canonical record, given the header.

    Built once per table from the header; raises ValueError (which readers turn
    into an InputError naming the file) when two columns land on the same key.
    `convert` is applied to non-empty answer cells (the CSV reader parses numbers
    with it); visit-field cells become text (`field_value`).
    """

    def __init__(
        self,
        header: Sequence[Any],
        visit_fields: Collection[str] = (),
        convert: Callable[[Any], Any] = jsonable,
    ) -> None:
        fields = frozenset(VISIT_FIELDS) | frozenset(visit_fields)
        names = ["" if cell is None else str(cell).strip() for cell in header]
        self.columns: tuple[Column, ...] = tuple(
            _classify(index, name, fields) for index, name in enumerate(names)
        )
        self._convert = convert
        self._check_unique()
        self._plan = [(column.kind, column.key) for column in self.columns]
        self._names = [column.name for column in self.columns]
        self._plain = all(column.kind != "unnamed" for column in self.columns)

    def _check_unique(self) -> None:
        seen: dict[tuple[str, str], Column] = {}
        for column in self.columns:
            if column.kind in ("unnamed", "answers"):
                continue
            target = (column.kind, column.key)
            if target in seen:
                first = seen[target]
                raise ValueError(
                    f"columns {first.index + 1} ({first.name!r}) and {column.index + 1} "
                    f"({column.name!r}) both give {_describe(column)}"
                )
            seen[target] = column

    def __len__(self) -> int:
        return len(self.columns)

    def raw(self, cells: Sequence[Any]) -> dict[str, Any]:
        """The row as read: header name to cell; unnamed columns only when they hold a value."""
        if self._plain and len(cells) == len(self._names):
            return dict(zip(self._names, map(jsonable, cells), strict=True))
        raw: dict[str, Any] = {}
        for column, cell in zip(self.columns, cells, strict=False):
            if column.kind == "unnamed" and is_empty(cell):
                continue
            raw[column.name or column.key] = jsonable(cell)
        for index in range(len(self.columns), len(cells)):
            if not is_empty(cells[index]):
                raw[f"#{index + 1}"] = jsonable(cells[index])
        return raw

    def to_record(self, cells: Sequence[Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The canonical record of a row, or (None, why) when a cell has no column."""
        record: dict[str, Any] = {}
        answers: dict[str, Any] = {}
        convert = self._convert
        for index, cell in enumerate(cells):
            if cell is None or cell == "" or (type(cell) is float and math.isnan(cell)):
                continue
            kind, key = self._plan[index] if index < len(self._plan) else ("unnamed", "")
            if kind == "answer":
                answers[key] = convert(cell)
            elif kind == "field":
                record[key] = field_value(cell)
            elif kind == "answers":
                if _is_answer_map(cell):
                    answers.update(_nested_answers(cell))
                else:
                    answers[key] = convert(cell)
            else:
                from sbm_engine.messages import message

                return None, message("visit.row.no_header", column=index + 1, value=_short(cell))
        record[ANSWERS] = answers
        return record, None


def _is_answer_map(cell: Any) -> bool:
    if isinstance(cell, Mapping):
        return True
    return isinstance(cell, list) and all(
        isinstance(pair, list | tuple) and len(pair) == 2 for pair in cell
    )


def _nested_answers(cell: Mapping[Any, Any] | list[Any]) -> dict[str, Any]:
    """Answers held in one column: an Arrow struct (a dict) or map (a list of pairs)."""
    pairs: Iterable[Any] = cell.items() if isinstance(cell, Mapping) else cell
    nested: dict[str, Any] = {}
    for key, value in pairs:
        if not is_empty(value):
            nested[str(key)] = jsonable(value)
    return nested


def _describe(column: Column) -> str:
    return f"visit field {column.key!r}" if column.kind == "field" else f"answer {column.key!r}"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
