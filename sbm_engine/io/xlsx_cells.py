"""How an XLSX cell reads, as the record path (openpyxl) has it, and the names of the
format's XML: shared by both columnar readers, `xlsx_columns` (calamine's values,
and the writer) and `xlsx_sheet` (the sheet's XML)."""

from __future__ import annotations

import datetime as dt
import zipfile
from typing import Any, Final

from sbm_engine.io.jsonl_columns import Unsupported
from sbm_engine.io.records import jsonable

__all__ = [
    "ERROR_CELL",
    "MAIN_NS",
    "PKG_NS",
    "REL_NS",
    "WHOLE",
    "excel_value",
    "header_cell",
    "part_holds_error",
]

#: The XML namespaces of a workbook's parts.
MAIN_NS: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_NS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"


def excel_value(value: Any) -> Any:
    """A cell as calamine gives it, as the record path's reader has it (`_excel_cell` on
    openpyxl's value): None for an empty cell."""
    kind = type(value)
    if kind is str:
        return value or None
    if kind is float:
        if value.is_integer():
            if abs(value) < WHOLE:
                return int(value)
            if abs(value) < 10 * WHOLE:
                raise Unsupported(f"a whole number of 16 digits ({value!r})")
        return value
    if kind is bool or kind is int:
        return value
    if kind is dt.datetime:
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if kind is dt.date or kind is dt.time:
        return value.isoformat()
    return jsonable(value)


def header_cell(value: Any) -> Any:
    """A header cell as openpyxl gives it (a date as a date-time at midnight): the
    layout names the column `str(value).strip()`."""
    if type(value) is dt.date:
        return dt.datetime.combine(value, dt.time(0))
    if type(value) is float and value.is_integer() and abs(value) < WHOLE:
        return int(value)
    return None if value == "" else value


#: Whole numbers below this are written by Excel without a decimal point or exponent
#: (Excel keeps 15 digits), which openpyxl reads as an int. One of 16 digits may be
#: either: Excel writes ``1E+15`` (a float to openpyxl), openpyxl itself
#: ``1000000000000000`` (an int, from ``%.16g``), and calamine gives a float for both,
#: so such a cell goes to the record path; larger ones have an exponent either way.
WHOLE: Final = 1e15


#: How an error cell is marked in a sheet's XML (``<c r="B3" t="e"><v>#DIV/0!</v></c>``).
ERROR_CELL: Final = b't="e"'


def part_holds_error(book: zipfile.ZipFile, name: str) -> bool:
    """Whether the workbook's part `name` holds the bytes of an error cell's type (a
    text that merely looks like one also counts: the record path then reads the
    workbook), read a block at a time."""
    with book.open(name) as part:
        tail = b""
        while block := part.read(1 << 22):
            if ERROR_CELL in tail + block:
                return True
            tail = block[-len(ERROR_CELL) :]
    return False
