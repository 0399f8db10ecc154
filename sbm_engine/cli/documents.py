"""Writing the analytics commands' outputs: a JSON document, or its tables as CSV or XLSX.

A command's output is one JSON document (analytics.md) holding several tables
(the rows of a comparison, its trend, …). `-o F.json` writes the document; `.csv`
writes the tables as one (a `table` column says which, columns are the union);
`.xlsx` writes a sheet per table. Every file appears whole or not at all, text that
starts like a formula stays text, and a figure that is not finite is empty.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..io import OutputError

FORMATS = (".json", ".csv", ".xlsx")


def document_json(document: Any) -> str:
    """Strict JSON: NaN and infinities as null (analytics.md: plain numbers, null for undefined)."""
    return json.dumps(_finite(document), ensure_ascii=False, indent=2, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write_document(
    out: Path, document: Any, tables: Mapping[str, Sequence[Mapping[str, Any]]]
) -> None:
    """Write `document` (.json) or `tables` (.csv, .xlsx) to `out`, whole or not at all.
    Raises `OutputError` for another extension or a file that cannot be written."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise OutputError(f"cannot write {out}: choose .json, .csv or .xlsx")
    if not out.parent.is_dir():
        raise OutputError(f"cannot write {out}: no folder {str(out.parent)!r}")
    if suffix == ".json":
        _atomic(out, lambda f: f.write(document_json(document).encode() + b"\n"))
    elif suffix == ".csv":
        _atomic(out, lambda f: _write_csv(f, tables))
    else:
        _atomic(out, lambda f: _write_xlsx(f, tables))


def _atomic(out: Path, write: Any) -> None:
    from ..io.writers import write_atomic

    write_atomic(out, write)


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def _cell(value: Any) -> Any:
    """A value as a cell: figures as they are, lists and objects as JSON text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(_finite(value), ensure_ascii=False)
    return value


def _write_csv(f: Any, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    import csv
    import io

    from ..io.writers import _csv_cell

    rows = [{"table": name, **row} for name, table in tables.items() for row in table]
    columns = _columns(rows) or ["table"]
    text = io.StringIO(newline="")
    w = csv.writer(text, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_csv_cell(_cell(row.get(c))) for c in columns])
    f.write(text.getvalue().encode("utf-8"))


def _write_xlsx(f: Any, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    try:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
    except ImportError as err:
        raise OutputError("writing .xlsx needs openpyxl: pip install 'sbm-engine[excel]'") from err
    book = Workbook(write_only=True)
    for name, table in tables.items():
        sheet = book.create_sheet(name[:31])
        columns = _columns(table)
        sheet.append(columns)
        for row in table:
            cells = []
            for c in columns:
                cell = WriteOnlyCell(sheet, value=_cell(row.get(c)))
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula
                cells.append(cell)
            sheet.append(cells)
    if not tables:
        book.create_sheet("empty")
    book.save(f)
