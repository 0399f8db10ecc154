"""XLSX from scored Arrow tables, the sheet's XML built column by column.

Why not a spreadsheet library: `writers.XlsxWriter` (openpyxl) and xlsxwriter both
take one cell at a time, which for a hundred-item standard is a few hundred Python
calls per visit; xlsxwriter also writes numbers to 16 significant digits, and a
score such as 0.43500000000000005 needs 17 to read back as the same float. A
worksheet of plain values is simple XML, so here every column becomes one array
of cell elements (`<c><v>0.5</v></c>`, spelt once per distinct value where values
repeat) and the rows are assembled from them with `text_columns.assemble`, as the
JSONL lines are. The other parts of the package are fixed texts.

What a cell holds is what `writers.XlsxWriter` writes for the same visits, so that
a workbook read back (openpyxl, calamine, Excel) gives the same values:

* a number is spelt to 16 significant digits (``%.16g``: ``1`` for 1.0, as openpyxl
  spells it), a float as Python's repr where 16 digits would not give the same
  float (`writers.XlsxWriter._exact_number`); a float that is not finite is
  written as its text (``inf``);
* a boolean is a boolean cell; null and the empty text are empty cells;
* text is an inline string (``t="inlineStr"``, as openpyxl writes it too), never a
  formula, with the characters XML 1.0 cannot hold replaced by U+FFFD;
* one sheet named after the file (`writers._sheet_title`), a header row of the
  column names, then one row per visit; more rows than Excel allows is an
  `OutputError`.

Cells carry no ``r`` reference (it is optional; a null is an empty ``<c/>``), rows
do. The zip has fixed timestamps and a fixed part order, so the bytes depend on the
tables only, as `writers.XlsxWriter` promises for its own.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Final

import numpy as np

from sbm_engine.io._deps import require
from sbm_engine.io.errors import InputError, OutputError
from sbm_engine.io.jsonl_columns import (
    JSONL_WRITE_ROWS,
    TableChunk,
    Unsupported,
    arrow_values,
    value_texts,
)
from sbm_engine.io.records import SourceRecord, TableLayout, field_value
from sbm_engine.io.text_columns import LiteralPiece, Piece, VaryingPiece, assemble, coded_piece
from sbm_engine.io.writers import XLSX_MAX_ROWS, _sheet_title
from sbm_engine.io.xlsx_cells import MAIN_NS as _MAIN
from sbm_engine.io.xlsx_cells import PKG_NS as _PKG_REL
from sbm_engine.io.xlsx_cells import REL_NS as _REL
from sbm_engine.io.xlsx_cells import excel_value as _excel_value
from sbm_engine.io.xlsx_cells import header_cell as _header_cell
from sbm_engine.io.xlsx_cells import part_holds_error

__all__ = ["XLSX_CHUNK_ROWS", "XlsxTableWriter", "number_text", "read_xlsx_chunks"]

_ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)
_HEAD: Final = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_OFFICE: Final = "application/vnd.openxmlformats-officedocument"

_CONTENT_TYPES: Final = (
    _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE}.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_OFFICE}.spreadsheetml.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_OFFICE}.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS: Final = (
    _HEAD + f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
    f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS: Final = (
    _HEAD + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
)
_STYLES: Final = (
    _HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START: Final = _HEAD + f'<worksheet xmlns="{_MAIN}"><sheetData>'
_SHEET_END: Final = "</sheetData></worksheet>"

_EMPTY: Final = "<c/>"
_TEXT_START: Final = '<c t="inlineStr"><is><t xml:space="preserve">'
_TEXT_END: Final = "</t></is></c>"
#: The characters `writers.XlsxWriter` replaces (XML 1.0 cannot hold them).
_ILLEGAL_XML: Final = "[\x00-\x08\x0b\x0c\x0e-\x1f]"
_ILLEGAL_RE: Final = re.compile(_ILLEGAL_XML)
#: A column with more distinct values than this share of its rows is spelt value by value.
_FEW: Final = 8
#: Deflate level of the sheet: 3 compresses a sheet of scores 2.5 times faster than the
#: default 6, for a file about a third larger.
ZIP_LEVEL: Final = 3


def number_text(value: float) -> str:
    """A float as `writers.XlsxWriter` writes it: 16 significant digits, or repr when
    those would read back as another float."""
    text = f"{value:.16g}"
    return text if float(text) == value else repr(value)


def _escape(text: str) -> str:
    text = _ILLEGAL_RE.sub("\ufffd", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(value: Any) -> str:
    """One cell element for a value of a scored table."""
    if value is None or value == "":
        return _EMPTY
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return _TEXT_START + repr(value) + _TEXT_END
        return f"<c><v>{number_text(value)}</v></c>"
    if isinstance(value, int):  # openpyxl spells an int to 16 digits too
        return f"<c><v>{value:.16g}</v></c>"
    if isinstance(value, str):
        return _TEXT_START + _escape(value) + _TEXT_END
    raise TypeError(f"no XLSX cell for {type(value).__name__} values")


class XlsxTableWriter:
    """Scored tables into one workbook, written to `stream` (a binary file, e.g. the
    temporary file of an atomic `writers.Writer`) as they come.

    `path` is the target: it names the sheet and the errors. `columns` is the header
    (the flat result columns); every table written must have exactly these columns.
    Use `write` for each table, then `close` (or the writer as a context manager,
    which closes it when the block ends without an exception). Raises OutputError
    for more rows than Excel allows, TypeError for a column type scored tables do
    not have, and OSError from the stream."""

    def __init__(self, stream: IO[bytes], path: str | Path, columns: Sequence[str]) -> None:
        self.path = Path(path)
        self.columns = tuple(columns)
        self.rows = 0
        self._zip = zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._sheet = self._zip.open(_info("xl/worksheets/sheet1.xml"), "w", force_zip64=True)
        header = "".join(_cell(str(name)) for name in self.columns)
        self._sheet.write((_SHEET_START + f'<row r="1">{header}</row>').encode("utf-8"))

    def __enter__(self) -> XlsxTableWriter:
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if et is None:
            self.close()
        else:
            self.discard()

    def write(self, table: Any) -> None:
        """Append the rows of a pyarrow Table whose columns are `columns`."""
        if tuple(table.column_names) != self.columns:
            raise ValueError("the table's columns are not the workbook's header")
        if self.rows + table.num_rows + 1 > XLSX_MAX_ROWS:
            raise OutputError(f"cannot write {self.path}: more rows than Excel allows")
        for start in range(0, table.num_rows, JSONL_WRITE_ROWS):
            part = table.slice(start, JSONL_WRITE_ROWS)
            self._sheet.write(self._rows(part, self.rows + 2))
            self.rows += part.num_rows

    def close(self) -> None:
        """End the sheet and write the other parts; the stream is left open."""
        self._sheet.write(_SHEET_END.encode("utf-8"))
        self._sheet.close()
        title = _escape(_sheet_title(self.path)).replace('"', "&quot;")
        workbook = (
            _HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
            f'<sheet name="{title}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        )
        for name, text in (
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
            ("_rels/.rels", _ROOT_RELS),
            ("[Content_Types].xml", _CONTENT_TYPES),
        ):
            self._zip.writestr(_info(name), text.encode("utf-8"))
        self._zip.close()

    def discard(self) -> None:
        """Give up after a failure: close what is open (the caller drops the file)."""
        for close in (self._sheet.close, self._zip.close):
            try:
                close()
            except Exception:  # the file is dropped anyway
                continue

    def _rows(self, table: Any, first: int) -> memoryview:
        import pyarrow as pa

        from .. import arrow_compute as pc

        n = table.num_rows
        numbers = pc.cast(pa.array(np.arange(first, first + n, dtype=np.int64)), pa.string())
        pieces: list[Piece] = [VaryingPiece(b'<row r="', numbers)]
        prefix = b'">'
        for column in table.columns:
            array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
            pieces.append(_cells(prefix, array))
            prefix = b""
        pieces.append(LiteralPiece(prefix + b"</row>"))
        return assemble(pieces, n)


def _cells(prefix: bytes, column: Any) -> Piece:
    """A column as cell elements: spelt per distinct value when values repeat (scores,
    bands, points), else value by value (ids, coefficients)."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    t = column.type
    if pa.types.is_null(t):
        return LiteralPiece(prefix + _EMPTY.encode())
    encoded = column if pa.types.is_dictionary(t) else pc.dictionary_encode(column)
    distinct = len(encoded.dictionary)
    if distinct * _FEW <= len(column) or distinct <= 64:
        spelt = [_cell(v) for v in encoded.dictionary.to_pylist()]
        spelt.append(_EMPTY)
        return coded_piece(prefix, spelt, encoded.indices, distinct)
    cells = _varying_cells(column)
    if cells is None:
        cells = pa.array([_cell(v) for v in column.to_pylist()], type=pa.string())
    return VaryingPiece(prefix, cells)


def _varying_cells(column: Any) -> Any:
    """Cell elements of a float or text column built by Arrow, None for other types and
    for floats that are not finite (spelt one by one).

    A float's 16-digit spelling is its shortest repr without a trailing ``.0``: the two
    agree on when to use an exponent, and a repr of 16 digits or fewer reads back as
    the same float, as the 16-digit text does (a repr of 17 is what `number_text`
    falls back to)."""
    import pyarrow as pa

    from .. import arrow_compute as pc

    t = column.type
    if pa.types.is_floating(t):
        try:
            texts = value_texts(column)
        except OutputError:
            return None
        texts = pc.replace_substring_regex(texts, r"\.0$", "")
        cells = pc.binary_join_element_wise("<c><v>", texts, "</v></c>", "")
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        texts = pc.replace_substring_regex(column, _ILLEGAL_XML, "\ufffd")
        for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
            texts = pc.replace_substring(texts, char, entity)
        cells = pc.binary_join_element_wise(_TEXT_START, texts, _TEXT_END, "")
        cells = pc.if_else(pc.equal(column, ""), _EMPTY, cells)
    else:
        return None
    return pc.fill_null(pc.if_else(column.is_valid(), cells, _EMPTY), _EMPTY).cast(pa.string())


def _info(name: str) -> zipfile.ZipInfo:
    """A zip entry that depends on nothing but its name (as `writers._rezip_fixed`)."""
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    # The level of an entry opened by its ZipInfo: the attribute Python reads on 3.11
    # and 3.12, kept by 3.13 and later as an alias of `compress_level`.
    setattr(info, "_compresslevel", ZIP_LEVEL)  # noqa: B010 - no public name before 3.13
    info.external_attr = 0o600 << 16
    info.create_system = 3
    return info


# -- reading -------------------------------------------------------------------------------------

#: Rows per chunk of a sheet read with `read_xlsx_chunks`. `xlsx_sheet` holds a block
#: of the sheet's XML and a chunk's cells as arrays; where it falls back, calamine holds
#: the whole sheet's cells (some 40 bytes each) and a chunk adds its rows as Python
#: values.
XLSX_CHUNK_ROWS: Final = 16384


def read_xlsx_chunks(
    path: str | Path,
    *,
    visit_fields: Collection[str] = (),
    sheet: str | None = None,
    chunk_rows: int = XLSX_CHUNK_ROWS,
) -> Iterator[TableChunk]:
    """The visits of a workbook's first worksheet (or `sheet`) as `TableChunk`s, read
    from the sheet's XML by `xlsx_sheet` (with calamine where that cannot decode the
    workbook exactly); the same visits, values and sources as `readers.read_xlsx` gives.

    The header is row 1; each later row that is not empty is a visit, its source
    ``PATH:SHEET:ROW``. Cells read as openpyxl reads them there: a formula as its
    cached value, a date (a date-time at midnight) as ISO text ``2026-11-02``, other
    date-times, times and durations as their ISO text, a whole number as an int
    (Excel writes those without a decimal point, which openpyxl reads as int), an
    error value (``#DIV/0!``) as its text, which calamine does not give: a workbook
    whose sheets hold an error cell raises Unsupported. A row with a value under no header is
    unreadable (`TableChunk.unreadable`), with the record path's message and raw
    row; the raw row ends at its last cell with a value (openpyxl's ends at its last
    stored cell, which is the same cell unless empty cells were stored after it).

    Raises InputError at once when python-calamine is missing; while iterating,
    InputError for a workbook that cannot be read, a missing sheet and a bad header
    (the record path's messages), and `jsonl_columns.Unsupported` for cells a table
    cannot carry exactly (an integer beyond 64 bits, an error cell)."""
    from .xlsx_sheet import stream_chunks

    path = Path(path)
    calamine = require("python_calamine", "excel", InputError, f"reading {path.name}")
    return stream_chunks(
        path,
        visit_fields,
        sheet,
        chunk_rows,
        lambda: _workbook_chunks(calamine, path, visit_fields, sheet, chunk_rows),
    )


def calamine_chunks(
    path: str | Path,
    *,
    visit_fields: Collection[str] = (),
    sheet: str | None = None,
    chunk_rows: int = XLSX_CHUNK_ROWS,
) -> Iterator[TableChunk]:
    """`read_xlsx_chunks` with calamine alone: what `xlsx_sheet`, which reads the sheet's
    XML itself, falls back to, and is checked against."""
    calamine = require("python_calamine", "excel", InputError, f"reading {Path(path).name}")
    return _workbook_chunks(calamine, Path(path), visit_fields, sheet, chunk_rows)


def _has_error_cells(path: Path) -> bool:
    """Whether some worksheet of the workbook holds an error cell (`part_holds_error`)."""
    try:
        with zipfile.ZipFile(path) as book:
            names = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
            return any(part_holds_error(book, name) for name in names)
    except (OSError, zipfile.BadZipFile):
        return False  # calamine says what is wrong with it


def _workbook_chunks(
    calamine: Any, path: Path, visit_fields: Collection[str], sheet: str | None, chunk_rows: int
) -> Iterator[TableChunk]:
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own kinds for a damaged workbook
        raise InputError(f"cannot read {path} as an Excel workbook: {exc}") from exc
    try:
        name = _sheet_name(book, path, sheet)
        if _has_error_cells(path):
            raise Unsupported(
                f"{path}: an error cell (#DIV/0!, #N/A…), which calamine reads as empty"
            )
        yield from _sheet_chunks(book.get_sheet_by_name(name), path, name, visit_fields, chunk_rows)
    finally:
        book.close()


def _sheet_name(book: Any, path: Path, name: str | None) -> str:
    if name is None:
        for meta in book.sheets_metadata:
            if "WorkSheet" in str(meta.typ):
                return str(meta.name)
        raise InputError(f"cannot read {path} as an Excel workbook: it has no worksheet")
    if name not in book.sheet_names:
        names = ", ".join(repr(s) for s in book.sheet_names)
        raise InputError(f"{path}: no sheet {name!r}; the sheets are {names}")
    return name


def _sheet_chunks(
    sheet: Any, path: Path, title: str, visit_fields: Collection[str], chunk_rows: int
) -> Iterator[TableChunk]:
    lead = [""] * sheet.start[1] if sheet.start else []  # iter_rows starts at the used column
    rows = enumerate(sheet.iter_rows(), start=1)
    first = next(rows, None)
    if first is None:
        return
    header = [_header_cell(v) for v in lead + list(first[1])]
    try:
        layout = TableLayout(header, visit_fields)
    except ValueError as exc:
        raise InputError(f"{path}: sheet {title!r}: bad header: {exc}") from exc
    prefix = f"{path}:{title}:"
    numbers: list[int] = []
    batch: list[list[Any]] = []
    for number, values in rows:
        if values.count("") == len(values):  # an empty row (0 and False are values)
            continue
        numbers.append(number)
        batch.append(lead + values if lead else values)
        if len(batch) >= chunk_rows:
            yield _chunk(layout, numbers, batch, prefix)
            numbers, batch = [], []
    if batch:
        yield _chunk(layout, numbers, batch, prefix)


def _chunk(
    layout: TableLayout, numbers: list[int], rows: list[list[Any]], prefix: str
) -> TableChunk:
    """The rows of a chunk, column by column: calamine's rows all have the sheet's width."""
    import pyarrow as pa

    width = max(len(r) for r in rows)
    columns: list[Sequence[Any]] = list(itertools.zip_longest(*rows, fillvalue=""))
    named = [c for c in layout.columns if c.kind != "unnamed" and c.index < width]
    spare = [
        k for k in range(width) if k >= len(layout.columns) or layout.columns[k].kind == "unnamed"
    ]
    bad = sorted({i for k in spare for i, v in enumerate(columns[k]) if v != ""})
    unreadable: list[tuple[int, Any]] = []
    if bad:
        for i in bad:
            cells = [_excel_value(v) for v in rows[i]]
            while cells and cells[-1] is None:  # openpyxl's row ends at its last stored cell
                cells.pop()
            record, error = layout.to_record(cells)
            source = f"{prefix}{numbers[i]}"
            unreadable.append((numbers[i], SourceRecord(source, record, layout.raw(cells), error)))
        keep = sorted(set(range(len(rows))) - set(bad))
        columns = [[col[i] for i in keep] for col in columns]
        numbers = [numbers[i] for i in keep]
    arrays = [_column(columns[c.index], c.kind == "field") for c in named]
    n = len(numbers)
    if named:
        table = pa.table(arrays, names=[c.name for c in named])
    else:  # no named column: rows without columns (every visit lacks its visit_id)
        table = pa.table({"_": pa.nulls(n)}).drop_columns(["_"])
    return TableChunk(table, np.array(numbers, dtype=np.int64), unreadable, prefix)


def _column(raw: Sequence[Any], field: bool) -> Any:
    """One column of calamine values as the record path reads its cells: a visit field
    as text (`field_value`), an answer as its value (`arrow_values`)."""
    kinds = set(map(type, raw))
    if kinds == {str}:
        values: list[Any] = [v or None for v in raw]
    else:
        values = [_excel_value(v) for v in raw]
        if field:
            values = [None if v is None else field_value(v) for v in values]
    return arrow_values(values)
