"""How an XLSX cell reads, as the record path (openpyxl) has it: shared by both columnar
readers, `xlsx_columns` (calamine's values) and `xlsx_sheet` (the sheet's XML)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sbm_engine.io.jsonl_columns import Unsupported
from sbm_engine.io.records import jsonable

__all__ = ["WHOLE", "excel_value", "header_cell"]


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
