"""The XLSX sheet reader of our own (`io.xlsx_sheet`) against the calamine reader.

`xlsx_sheet.stream_chunks` must give exactly the `TableChunk`s of
`xlsx_columns.calamine_chunks` (tables, their types, row numbers, unreadable rows,
errors), and so the records of the record path (openpyxl). Read strictly (no fallback)
it reads what xlsxwriter and openpyxl write of texts, numbers, booleans and formulas'
cached values; what it does not decode falls back to calamine, which the tests of each
such case check, along with the reading of the same sheet in blocks of any size."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
openpyxl = pytest.importorskip("openpyxl")
xlsxwriter = pytest.importorskip("xlsxwriter")
pytest.importorskip("python_calamine")

from sbm_engine.io import InputError  # noqa: E402
from sbm_engine.io.jsonl_columns import Unsupported  # noqa: E402
from sbm_engine.io.xlsx_columns import calamine_chunks, read_xlsx_chunks  # noqa: E402
from sbm_engine.io.xlsx_sheet import Fallback, stream_chunks  # noqa: E402

from .test_xlsx_columns import columnar_records, record_path_records  # noqa: E402

FIELDS = frozenset({"visit_id", "point", "specialist", "region", "date", "scenario"})


def outcome(read: Callable[[], Any]) -> Any:
    """What a reader gives: its chunks spelt out, or the kind and message of its error."""
    try:
        chunks = list(read())
    except (InputError, Unsupported, Fallback) as exc:
        return (type(exc).__name__, str(exc))
    return [
        (
            str(c.table.schema),
            c.table.to_pydict(),
            [(k, repr(v)) for k, v in _typed_columns(c.table).items()],
            c.numbers.tolist(),
            [(n, r.source, r.record, r.raw, r.error) for n, r in c.unreadable],
            c.prefix,
        )
        for c in chunks
    ]


def _typed_columns(table: Any) -> dict[str, list[Any]]:
    """Each column's values with their types, so that 1, 1.0 and True differ."""
    return {
        name: [(type(v).__name__, v) for v in table.column(name).to_pylist()]
        for name in table.column_names
    }


def strict(path: Path, chunk_rows: int = 4096, block_bytes: int = 1 << 20, **options: Any) -> Any:
    return outcome(
        lambda: stream_chunks(
            path, FIELDS, options.get("sheet"), chunk_rows, None, block_bytes=block_bytes
        )
    )


def calamine(path: Path, chunk_rows: int = 4096, **options: Any) -> Any:
    return outcome(
        lambda: calamine_chunks(path, visit_fields=FIELDS, chunk_rows=chunk_rows, **options)
    )


def streamed(path: Path, chunk_rows: int = 4096, block_bytes: int = 1 << 20, **options: Any) -> Any:
    """The reader as the pipeline uses it (calamine where it falls back)."""
    return outcome(
        lambda: stream_chunks(
            path,
            FIELDS,
            options.get("sheet"),
            chunk_rows,
            lambda: calamine_chunks(
                path, visit_fields=FIELDS, chunk_rows=chunk_rows, sheet=options.get("sheet")
            ),
            block_bytes=block_bytes,
        )
    )


# -- generated workbooks ---------------------------------------------------------------------

TEXT = st.text(
    st.one_of(
        st.sampled_from(list("&<>\"' \n\tab12.-é€Жx_")),
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    ),
    max_size=8,
)
PLAIN = st.one_of(
    st.none(),
    TEXT,
    st.integers(-(10**15) + 1, 10**15 - 1),
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(
        lambda v: not (v.is_integer() and 1e15 <= abs(v) < 1e16)
    ),
    st.booleans(),
)
#: Dates from 1900-03-01 (earlier ones are counted with Excel's 29 February 1900).
DATES = st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2200, 1, 1))
DATE_TIMES = st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2200, 1, 1))
#: Date formats of the cells written as dates (xlsxwriter; openpyxl picks its own).
DATE_FORMATS = ["yyyy-mm-dd", "dd.mm.yyyy", 14, 22, "d-mmm-yy", "dd/mm/yyyy hh:mm:ss"]
#: ("formula", cached value) cells; xlsxwriter writes the cached value after the formula.
CELL = st.one_of(
    PLAIN,
    PLAIN.filter(lambda v: v is not None).map(lambda v: ("formula", v)),
    st.tuples(st.sampled_from(range(len(DATE_FORMATS))), st.one_of(DATES, DATE_TIMES)),
)
HEADERS = st.lists(
    st.sampled_from(["visit_id", "point", "greeted", "answers.smile", "wait", "", "3", "date"]),
    min_size=1,
    max_size=6,
    unique=True,
)


def _value(cell: Any) -> Any:
    return cell[1] if isinstance(cell, tuple) else cell


def _with_time(cell: Any) -> bool:
    """A date cell that is not a whole day (calamine gives a date-time: left to it)."""
    value = _value(cell)
    return isinstance(value, dt.datetime) and value.time() != dt.time(0)


def write_xlsxwriter(path: Path, sheets: list[list[list[Any]]], inline: bool) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": inline})
    formats = [book.add_format({"num_format": f}) for f in DATE_FORMATS]
    for number, rows in enumerate(sheets):
        sheet = book.add_worksheet(f"s{number}")
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if isinstance(cell, tuple) and isinstance(cell[0], int):
                    sheet.write_datetime(r, c, cell[1], formats[cell[0]])
                elif isinstance(cell, tuple):
                    value = cell[1]
                    sheet.write_formula(r, c, "=1+1", None, value)
                elif isinstance(cell, str):
                    sheet.write_string(r, c, cell)
                elif isinstance(cell, bool):
                    sheet.write_boolean(r, c, cell)
                elif cell is not None:
                    sheet.write_number(r, c, cell)
    book.close()


def write_openpyxl(path: Path, sheets: list[list[list[Any]]]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for number, rows in enumerate(sheets):
        sheet = book.create_sheet(f"s{number}")
        for r, row in enumerate(rows, start=1):
            for c, cell in enumerate(row, start=1):
                if isinstance(cell, tuple) and isinstance(cell[0], int):
                    sheet.cell(r, c, cell[1])
                elif cell is not None and not isinstance(cell, tuple):
                    sheet.cell(r, c, cell)
    book.save(path)


@st.composite
def workbooks(draw: Any) -> list[list[list[Any]]]:
    sheets = []
    for _ in range(draw(st.integers(1, 2))):
        header = draw(HEADERS)
        width = len(header) + draw(st.integers(0, 1))  # a value beyond the header: unreadable
        rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=width), max_size=10))
        sheets.append([list(header), *rows])
    return sheets


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    sheets=workbooks(),
    writer=st.sampled_from(["shared", "inline", "openpyxl"]),
    chunk_rows=st.integers(1, 6),
    block_bytes=st.sampled_from([1, 97, 1 << 20]),
    second=st.booleans(),
)
def test_generated_workbooks_read_as_calamine_reads_them(
    tmp_path: Path,
    sheets: list[list[list[Any]]],
    writer: str,
    chunk_rows: int,
    block_bytes: int,
    second: bool,
) -> None:
    path = tmp_path / f"gen-{writer}.xlsx"
    if writer == "openpyxl":
        write_openpyxl(path, sheets)
    else:
        write_xlsxwriter(path, sheets, inline=writer == "inline")
    sheet = "s1" if second and len(sheets) > 1 else None
    expected = calamine(path, chunk_rows, sheet=sheet)
    got = strict(path, chunk_rows, block_bytes, sheet=sheet)
    if isinstance(got, tuple) and got[0] == "Fallback":
        # the cases of these workbooks left to calamine: the header row empty, a formula
        # whose cached value is an empty text (xlsxwriter writes it as an empty number),
        # a text spelt like an ``_xHHHH_`` escape (which writers escape in turn)
        rows = sheets[1 if sheet else 0]
        cells = [v for row in rows for v in row]
        assert (
            all(_value(v) in (None, "") for v in rows[0])
            or ("formula", "") in cells
            or any(re.search("_x[0-9A-Fa-f]{4}_", str(_value(v))) for v in cells)
            or any(_with_time(v) for v in cells)
        )
        assert streamed(path, chunk_rows, block_bytes, sheet=sheet) == expected
        return
    assert got == expected


#: Texts the record path reads as calamine does (a text of spaces is an empty cell there).
RECORD_TEXT = TEXT.filter(lambda v: v == "" or v.strip() != "")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.lists(
            st.one_of(
                st.none(),
                RECORD_TEXT,
                st.integers(-(10**15) + 1, 10**15 - 1),
                st.tuples(st.sampled_from(range(len(DATE_FORMATS))), DATES),
            ),
            min_size=4,
            max_size=4,
        ),
        min_size=1,
        max_size=8,
    ),
    inline=st.booleans(),
)
def test_generated_workbooks_read_as_the_record_path(
    tmp_path: Path, rows: list[list[Any]], inline: bool
) -> None:
    path = tmp_path / "gen.xlsx"
    write_xlsxwriter(path, [[["visit_id", "point", "a", "answers.b"], *rows]], inline)
    got = strict(path, 3)
    assert not (isinstance(got, tuple) and got[0] == "Fallback"), got
    assert columnar_records(path, chunk_rows=3) == record_path_records(path)


# -- blocks ----------------------------------------------------------------------------------


def test_blocks_of_any_size_read_alike(tmp_path: Path) -> None:
    rows = [["visit_id", "point", "q1", "answers.q2", ""]]
    for i in range(300):
        rows.append([f"v{i}", f"P{i % 7}", ["yes", 4, 1.5, True][i % 4], i, None])
    rows.append(["late", "P", "x", 1, "beyond"])
    path = tmp_path / "wave.xlsx"
    write_xlsxwriter(path, [rows], inline=True)
    whole = strict(path, 64, block_bytes=1 << 30)
    assert whole == calamine(path, 64)
    for block_bytes in (1, 50, 333, 4096):
        assert strict(path, 64, block_bytes=block_bytes) == whole


# -- what falls back -------------------------------------------------------------------------


def assert_falls_back(path: Path, **options: Any) -> None:
    got = strict(path, **options)
    assert isinstance(got, tuple) and got[0] == "Fallback", got
    assert streamed(path, **options) == calamine(path, **options)


def test_whole_days_are_read_other_dates_fall_back(tmp_path: Path) -> None:
    def one(value: Any, num_format: Any, name: str = "dates.xlsx", header: Any = "date") -> Path:
        path = tmp_path / name
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, ["visit_id"])
        sheet.write(0, 1, header, book.add_format({"num_format": num_format}))
        sheet.write_string(1, 0, "v1")
        sheet.write(1, 1, value, book.add_format({"num_format": num_format}))
        book.close()
        return path

    for num_format in (14, 15, 17, 22, 45, "yyyy-mm-dd", "[$-419]dd.mm.yyyy", "hh:mm"):
        path = one(dt.datetime(2026, 11, 2), num_format)
        got = strict(path)
        assert got == calamine(path)
        assert got[0][1]["date"] == ["2026-11-02"]
    assert_falls_back(one(dt.datetime(2026, 11, 2, 3, 4), 22))  # a date-time
    assert_falls_back(one(dt.time(3, 4), 20))  # a time
    assert_falls_back(one(dt.timedelta(days=3), "[h]:mm"))  # a duration
    assert_falls_back(one(dt.datetime(1900, 2, 1), 14))  # before March 1900
    assert_falls_back(one(46000, 14, header=dt.datetime(2026, 1, 1)))  # a date in the header
    assert_falls_back(one(46000, '0.0 "d"'))  # a format not known to be a number


def test_dates_of_1904_fall_back(tmp_path: Path) -> None:
    path = tmp_path / "1904.xlsx"
    book = xlsxwriter.Workbook(str(path), {"date_1904": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["visit_id", "date"])
    sheet.write_string(1, 0, "v1")
    sheet.write_datetime(1, 1, dt.datetime(2026, 11, 2), book.add_format({"num_format": 14}))
    book.close()
    assert_falls_back(path)


def test_plain_number_formats_are_read(tmp_path: Path) -> None:
    path = tmp_path / "formats.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["visit_id", "a", "b", "c"])
    sheet.write_string(1, 0, "v1")
    sheet.write_number(1, 1, 0.25, book.add_format({"num_format": "0.00%"}))
    sheet.write_number(1, 2, 1234.5, book.add_format({"num_format": "#,##0.00"}))
    sheet.write_number(1, 3, 3, book.add_format({"bold": True}))
    book.close()
    assert strict(path) == calamine(path)


def test_rich_text_falls_back(tmp_path: Path) -> None:
    for inline in (False, True):
        path = tmp_path / f"rich-{inline}.xlsx"
        book = xlsxwriter.Workbook(str(path), {"constant_memory": inline})
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, ["visit_id", "note"])
        sheet.write_string(1, 0, "v1")
        sheet.write_rich_string(1, 1, "plain ", book.add_format({"bold": True}), "bold")
        book.close()
        assert_falls_back(path)


def test_escapes_fall_back(tmp_path: Path) -> None:
    path = tmp_path / "escapes.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["visit_id", "note"])
    sheet.write_row(1, 0, ["v1", "a\x01b"])  # written as _x0001_
    book.close()
    assert_falls_back(path)
    path = hand_made(tmp_path, '<c r="A2" t="inlineStr"><is><t>a&#10;b</t></is></c>')
    assert_falls_back(path)
    path = hand_made(tmp_path, '<c r="A2" t="inlineStr"><is><t>a\rb</t></is></c>')
    assert_falls_back(path)


def hand_made(tmp_path: Path, cells: str, header: str | None = None, rows: str = "") -> Path:
    """A workbook whose sheet's rows are spelt out: the header row (``visit_id``,
    ``note``), then row 2 holding `cells`, then `rows`."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    office = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    if header is None:
        header = (
            '<row r="1"><c r="A1" t="inlineStr"><is><t>visit_id</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>note</t></is></c></row>'
        )
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{office}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{office}.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="wave" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>'
            f'{header}<row r="2">{cells}</row>{rows}</sheetData></worksheet>'
        ),
    }
    path = tmp_path / "hand.xlsx"
    with zipfile.ZipFile(path, "w") as book:
        for name, text in parts.items():
            book.writestr(name, text)
    return path


def test_hand_made_sheet_is_read(tmp_path: Path) -> None:
    """The hand-made workbooks of the fallback tests are read when nothing is odd."""
    path = hand_made(
        tmp_path,
        '<c r="A2" t="inlineStr"><is><t xml:space="preserve"> v1 </t></is></c>'
        '<c r="B2" t="str"><f>A1</f><v>a &amp; b</v></c>',
        rows='<row r="3"/><row r="4"><c r="A4" t="b"><v>0</v></c><c r="B4"><v>2.50</v></c></row>',
    )
    got = strict(path)
    assert got == calamine(path)
    assert got[0][1] == {"visit_id": [" v1 ", "false"], "note": ["a & b", 2.5]}


def test_white_space_as_calamine_trims_it(tmp_path: Path) -> None:
    """A text element's text loses the XML white space at its ends unless it is marked
    ``xml:space="preserve"``; a formula's text (``<v>``) keeps it."""
    path = hand_made(
        tmp_path,
        '<c r="A2" t="inlineStr"><is><t> a\n</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t xml:space="preserve"> b </t></is></c>',
        rows='<row r="3"><c r="A3" t="inlineStr"><is><t>\t </t></is></c></row>'
        '<row r="4"><c r="A4" t="str"><v> c </v></c><c r="B4" t="inlineStr"><is><t> </t></is>'
        "</c></row>",
    )
    got = strict(path)
    assert got == calamine(path)
    assert got[0][1] == {"visit_id": ["a", " c "], "note": [" b ", None]}
    plain = tmp_path / "shared.xlsx"
    book = xlsxwriter.Workbook(str(plain))
    sheet = book.add_worksheet()
    for r, text in enumerate(["visit_id", " a ", " ", "b"]):
        sheet.write_string(r, 0, text)
    book.close()
    path = tmp_path / "trimmed.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/sharedStrings.xml":  # as other writers have it, not preserved
                data = data.replace(b' xml:space="preserve"> a <', b"> a\n<")
                data = data.replace(b' xml:space="preserve"> <', b">\t<")
            target.writestr(name, data)
    got = strict(path)
    assert got == calamine(path)
    assert got[0][1] == {"visit_id": ["a", "b"]}


@pytest.mark.parametrize(
    "cells",
    [
        '<c t="inlineStr"><is><t>x</t></is></c>',  # no reference
        '<c r="A2" t="inlineStr" vm="1"><is><t>x</t></is></c>',  # another attribute
        '<c r="A2" t="d"><v>2026-11-02</v></c>',  # an ISO date cell
        '<c r="B2"><v>1</v></c><c r="A2"><v>2</v></c>',  # out of order
        '<c r="A3"><v>1</v></c>',  # not in its row
        '<c r="A2" s="1"><v>1</v></c>',  # a style without a styles part
        '<c r="A2" t="inlineStr"><is><t>a</t><rPh sb="0" eb="1"><t>b</t></rPh></is></c>',
        '<c r="A2"><v>1</v><!-- a comment --></c>',
        '<c r="A2" t="inlineStr"><is><t><![CDATA[x]]></t></is></c>',
        '<c r="A2"><v>0x10</v></c>',  # not a number calamine reads alike
        '<c r="A2" t="b"><v>true</v></c>',
        '<c r="A2"><f>1+1</f><v /></c>',  # openpyxl's formula without a cached value
    ],
)
def test_odd_cells_fall_back(tmp_path: Path, cells: str) -> None:
    assert_falls_back(hand_made(tmp_path, cells))


def test_empty_first_row_falls_back(tmp_path: Path) -> None:
    header = '<row r="1"><c r="A1" t="inlineStr"><is><t></t></is></c></row>'
    path = hand_made(tmp_path, '<c r="A2" t="inlineStr"><is><t>x</t></is></c>', header=header)
    assert_falls_back(path)


def test_bad_header_and_missing_sheet_as_calamine_says(tmp_path: Path) -> None:
    header = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>visit_id</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>visit_id</t></is></c></row>'
    )
    path = hand_made(tmp_path, '<c r="A2"><v>1</v></c>', header=header)
    assert_falls_back(path)
    assert streamed(path)[0] == "InputError"
    path = hand_made(tmp_path, '<c r="A2"><v>1</v></c>')
    assert_falls_back(path, sheet="nope")
    assert streamed(path, sheet="nope")[0] == "InputError"


def test_a_fallback_after_chunks_were_given(tmp_path: Path) -> None:
    """Rich text far down the sheet: the chunks already given stand, calamine's follow."""
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>v{r}</t></is></c>'
        f'<c r="B{r}"><v>{r}</v></c></row>'
        for r in range(3, 200)
    )
    rows += '<row r="200"><c r="B200" t="inlineStr"><is><r><t>rich</t></r></is></c></row>'
    path = hand_made(tmp_path, '<c r="A2"><v>1</v></c>', rows=rows)
    given: list[Any] = []

    def fallback() -> Any:
        given.append(True)
        return calamine_chunks(path, visit_fields=FIELDS, chunk_rows=10)

    chunks = list(stream_chunks(path, FIELDS, None, 10, fallback, block_bytes=500))
    assert given
    assert outcome(lambda: iter(chunks)) == calamine(path, 10)


def test_error_cells_are_unsupported(tmp_path: Path) -> None:
    path = hand_made(tmp_path, '<c r="A2" t="e"><v>#DIV/0!</v></c>')
    assert strict(path) == calamine(path)
    assert strict(path)[0] == "Unsupported"
    rows = "".join(f'<row r="{r}"><c r="B{r}"><v>{r}</v></c></row>' for r in range(3, 100))
    path = hand_made(
        tmp_path,
        '<c r="A2"><v>1</v></c>',
        rows=rows + '<row r="100"><c r="B100" t="e"><v>#N/A</v></c></row>',
    )
    with pytest.raises(Unsupported, match="error cell"):
        list(stream_chunks(path, FIELDS, None, 10, None, block_bytes=300))
    assert calamine(path, 10)[0] == "Unsupported"


def test_texts_that_look_like_an_error_cell(tmp_path: Path) -> None:
    """The calamine reader takes the bytes ``t="e"`` anywhere in a sheet for an error
    cell; two texts that only spell them together are no such bytes."""
    path = hand_made(tmp_path, '<c r="A2" t="inlineStr"><is><t>t="e"</t></is></c>')
    assert strict(path) == calamine(path)
    assert strict(path)[0] == "Unsupported"
    path = hand_made(
        tmp_path,
        '<c r="A2" t="inlineStr"><is><t>a t=</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>"e"</t></is></c>',
    )
    assert strict(path) == calamine(path)
    assert strict(path)[0][1] == {"visit_id": ["a t="], "note": ['"e"']}


def test_a_whole_number_of_16_digits_is_unsupported(tmp_path: Path) -> None:
    path = hand_made(
        tmp_path, '<c r="A2" t="inlineStr"><is><t>v</t></is></c><c r="B2"><v>1E+15</v></c>'
    )
    assert strict(path) == calamine(path)
    assert strict(path)[0] == "Unsupported"


def test_read_xlsx_chunks_streams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`read_xlsx_chunks` reads the sheet itself, without calamine's workbook."""
    path = hand_made(tmp_path, '<c r="A2" t="inlineStr"><is><t>v1</t></is></c>')
    import sbm_engine.io.xlsx_columns as xlsx_columns

    def no_calamine(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("calamine used")

    monkeypatch.setattr(xlsx_columns, "_workbook_chunks", no_calamine)
    chunks = list(read_xlsx_chunks(path, visit_fields=FIELDS))
    assert chunks[0].table.to_pydict() == {"visit_id": ["v1"], "note": [None]}
