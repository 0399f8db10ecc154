"""XLSX from scored Arrow tables (`io.xlsx_columns`) against the record writer.

The reference is `writers.XlsxWriter` (openpyxl), fed the same rows: both workbooks
are read back with openpyxl, as the record path's reader reads them, and with
calamine, and must hold the same cells (value and type). A row may end in empty
cells in one and stop early in the other; both read as the same row."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
openpyxl = pytest.importorskip("openpyxl")
pytest.importorskip("numpy")

import sbm_engine  # noqa: E402
from sbm_engine.batch.table import score_table  # noqa: E402
from sbm_engine.formats import open_writer  # noqa: E402
from sbm_engine.io import (  # noqa: E402
    InputError,
    OutputError,
    jsonl_columns,
)
from sbm_engine.io.jsonl_columns import Unsupported  # noqa: E402
from sbm_engine.io.xlsx_columns import (  # noqa: E402
    XlsxTableWriter,
    number_text,
    read_xlsx_chunks,
)

from .test_jsonl_columns import (  # noqa: E402
    PACKS,
    ROOT,
    _records,
    record_reader,
    wave_table,
)


def read_back(path: Path) -> tuple[str, list[list[tuple[str, Any]]]]:
    """The sheet's title and cells (type name, value) as the record path's reader sees
    them, each row padded with empty cells to the header's width."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        title = sheet.title
    finally:
        book.close()
    width = len(rows[0]) if rows else 0
    return title, [[(type(v).__name__, v) for v in r + [None] * (width - len(r))] for r in rows]


def write_both(tmp_path: Path, table: Any, name: str = "scored") -> tuple[Path, Path]:
    reference, columnar = tmp_path / f"{name}.xlsx", tmp_path / "columnar" / f"{name}.xlsx"
    columnar.parent.mkdir(exist_ok=True)
    with open_writer(reference, columns=table.column_names) as writer:
        for row in table.to_pylist():
            writer.write(row)  # flat rows: flatten() leaves them as they are
    with columnar.open("wb") as stream, XlsxTableWriter(stream, columnar, table.column_names) as w:
        w.write(table)
    return reference, columnar


def test_conformance_and_sample_waves_read_back_alike(tmp_path: Path) -> None:
    cases = [(sbm_engine.load(ROOT / "tests" / "conformance" / "demo_branch.sbm"), "demo")]
    for pack, name in PACKS.items():
        try:
            importlib.import_module(f"sbm_{pack}")
        except ImportError:
            continue
        cases.append((sbm_engine.load(name), pack))
    for std, label in cases:
        source = (
            ROOT / "tests" / "conformance" / "demo_visits.jsonl"
            if label == "demo"
            else ROOT / "plugins" / f"sbm-{label}" / "sample" / "wave.jsonl"
        )
        table = score_table(std, wave_table(_records(source))).scored
        assert table.num_rows > 0
        reference, columnar = write_both(tmp_path, table, label)
        assert read_back(columnar) == read_back(reference), label


finite = st.floats(allow_nan=False, allow_infinity=False)
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


@st.composite
def tables(draw: Any) -> Any:
    n = draw(st.integers(1, 120))

    def column(values: Any) -> list[Any]:
        return draw(st.lists(values, min_size=n, max_size=n))

    return pa.table(
        {
            "visit_id": pa.array(column(st.one_of(texts, st.none())), pa.string()),
            "coefficients.visit": pa.array(column(st.one_of(finite, st.none())), pa.float64()),
            "items.a": pa.array(column(st.sampled_from([0.0, 0.5, 1.0, -0.0, None])), pa.float64()),
            "items.b": pa.array(
                column(st.one_of(st.floats(), st.none())), pa.float64(), from_pandas=False
            ),
            "count": pa.array(column(st.one_of(st.integers(-(2**63), 2**63 - 1), st.none()))),
            "flag": pa.array(column(st.one_of(st.booleans(), st.none())), pa.bool_()),
            "=formula": pa.array(column(st.sampled_from(["=1+1", "+x", "plain", ""])), pa.string()),
        }
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=tables())
def test_generated_tables_read_back_alike(tmp_path: Path, table: Any) -> None:
    reference, columnar = write_both(tmp_path, table)
    assert read_back(columnar) == read_back(reference)


@settings(max_examples=300, deadline=None)
@given(value=finite)
def test_numbers_read_back_exactly(value: float) -> None:
    text = number_text(value)
    assert float(text) == value
    assert len(text.replace("-", "").replace(".", "").split("e")[0].lstrip("0")) <= 17


def test_many_distinct_values_and_slices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Columns spelt value by value (many distinct values), rows numbered across
    slices and tables."""
    monkeypatch.setattr(jsonl_columns, "JSONL_WRITE_ROWS", 37)
    n = 500
    table = pa.table(
        {
            "visit_id": [f"v{i} <&>" for i in range(n)],
            "x": [i / 7 if i % 5 else None for i in range(n)],
            "band": ["good" if i % 3 else None for i in range(n)],
        }
    )
    reference = tmp_path / "ref.xlsx"
    with open_writer(reference, columns=table.column_names) as writer:
        writer.write_many(table.to_pylist())
    columnar = tmp_path / "col" / "ref.xlsx"
    columnar.parent.mkdir()
    with columnar.open("wb") as stream, XlsxTableWriter(stream, columnar, table.column_names) as w:
        w.write(table.slice(0, 123))
        w.write(table.slice(123))
        assert w.rows == n
    assert read_back(columnar) == read_back(reference)


def test_calamine_reads_the_same_cells(tmp_path: Path) -> None:
    calamine = pytest.importorskip("python_calamine")
    table = pa.table({"id": ["a", None, "c"], "x": [0.5, None, 1.0], "ok": [True, False, None]})
    _, columnar = write_both(tmp_path, table)
    book = calamine.CalamineWorkbook.from_path(str(columnar))
    assert book.sheet_names == ["scored"]
    assert book.get_sheet_by_index(0).to_python() == [
        ["id", "x", "ok"],
        ["a", 0.5, True],
        ["", "", False],
        ["c", 1.0, ""],
    ]


def test_same_tables_same_bytes(tmp_path: Path) -> None:
    table = pa.table({"id": ["a", "b"], "x": [0.25, None]})

    def once() -> bytes:
        stream = io.BytesIO()
        with XlsxTableWriter(stream, tmp_path / "out.xlsx", table.column_names) as w:
            w.write(table)
        return stream.getvalue()

    first = once()
    assert once() == first
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert names[0] == "xl/worksheets/sheet1.xml" and "[Content_Types].xml" in names
    assert all(
        i.date_time == (1980, 1, 1, 0, 0, 0) for i in zipfile.ZipFile(io.BytesIO(first)).infolist()
    )


def test_too_many_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sbm_engine.io import xlsx_columns

    monkeypatch.setattr(xlsx_columns, "XLSX_MAX_ROWS", 3)
    table = pa.table({"id": ["a", "b", "c"]})
    writer = XlsxTableWriter(io.BytesIO(), tmp_path / "x.xlsx", ["id"])
    with pytest.raises(OutputError, match="more rows than Excel allows"), writer as w:
        w.write(table)


def test_columns_must_match(tmp_path: Path) -> None:
    writer = XlsxTableWriter(io.BytesIO(), tmp_path / "x.xlsx", ["id"])
    with pytest.raises(ValueError, match="header"), writer as w:
        w.write(pa.table({"other": ["a"]}))


def test_sheet_title_escaped(tmp_path: Path) -> None:
    table = pa.table({"id": ["a"]})
    path = tmp_path / 'a&b "c".xlsx'
    with path.open("wb") as stream, XlsxTableWriter(stream, path, ["id"]) as w:
        w.write(table)
    assert read_back(path)[0] == 'a&b "c"'
    assert json.dumps(read_back(path)[1]) == json.dumps([[["str", "id"]], [["str", "a"]]])


# -- the reader ------------------------------------------------------------------------------------

FIELDS = {"visit_id", "point", "specialist", "region", "date", "scenario", "shopper", "submitted"}


def _typed(value: Any) -> Any:
    """A value with its type spelt out, so that 1, 1.0 and True differ."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


def columnar_records(path: Path, **options: Any) -> list[tuple[str, Any]]:
    """(source, record) of every row `read_xlsx_chunks` reads, records rebuilt from the
    table as the tabular layout builds them; unreadable rows as (error, raw)."""
    out: list[tuple[int, str, Any]] = []
    for chunk in read_xlsx_chunks(path, **options):
        for i, row in enumerate(chunk.table.to_pylist()):
            record: dict[str, Any] = {}
            answers: dict[str, Any] = {}
            for key, value in row.items():
                if value is None:
                    continue
                if key in FIELDS:
                    record[key] = value
                else:
                    answers[key.removeprefix("answers.")] = value
            record["answers"] = answers
            out.append((int(chunk.numbers[i]), chunk.source(i), _typed(record)))
        for number, rec in chunk.unreadable:
            out.append((number, rec.source, ("unreadable", rec.error, _typed(rec.raw))))
    return [(source, what) for _, source, what in sorted(out, key=lambda t: t[0])]


def record_path_records(path: Path, **options: Any) -> list[tuple[str, Any]]:
    return [
        (r.source, _typed(r.record) if r.ok else ("unreadable", r.error, _typed(r.raw)))
        for r in record_reader(path, **options)
    ]


def test_reader_edge_cells_as_record_path(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Лист"
    sheet.append(["visit_id", "date", "greeted", "wait", "", "answers.smile", 5, " point "])
    sheet.append(["v1", dt.datetime(2026, 1, 2), "yes", 5, None, "na", None, "P1"])
    sheet.append(["v2", dt.datetime(2026, 1, 2, 3, 4), "no", 5.5, None, 4, None, 12])
    sheet.append([None] * 8)
    sheet.append([7, dt.date(2026, 1, 2), True, "=1/0", "x", None, 3, None])
    sheet.append(["v4", dt.time(3, 4), False, 1e20, None, 2.0, None, None, "beyond"])
    sheet.append([1.5, dt.timedelta(hours=30), "", -0.0, None, 123456789012345678, None, 1.0])
    sheet.append(["v6", "2026-11-02", " spaced ", 0.1 + 0.2, None, 2**40, None, True])
    path = tmp_path / "edge.xlsx"
    book.save(path)
    got = columnar_records(path)
    assert got == record_path_records(path)
    assert [source.rsplit(":", 1)[1] for source, _ in got] == ["2", "3", "5", "6", "7", "8"]
    assert got[3][1][0] == "unreadable"  # a value beyond the header


def test_reader_sheet_option_and_missing_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["visit_id", "x"])
    second = book.create_sheet("wave")
    second.append(["visit_id", "y"])
    second.append(["w1", 3])
    path = tmp_path / "two.xlsx"
    book.save(path)
    assert columnar_records(path, sheet="wave") == record_path_records(path, sheet="wave")
    assert columnar_records(path) == []
    with pytest.raises(InputError, match="no sheet 'nope'"):
        list(read_xlsx_chunks(path, sheet="nope"))
    with pytest.raises(InputError, match="as an Excel workbook"):
        (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
        list(read_xlsx_chunks(tmp_path / "bad.xlsx"))


def test_reader_bad_header(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["visit_id", "x", "answers.x"])
    path = tmp_path / "dup.xlsx"
    book.save(path)
    with pytest.raises(InputError, match="bad header"):
        list(read_xlsx_chunks(path))


#: Whole numbers of 16 digits are left out: openpyxl writes them without an exponent
#: (an int when read back), Excel with one (a float); the reader follows Excel.
cells = st.one_of(
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda v: not (v.is_integer() and 1e15 <= abs(v) < 1e16)
    ),
    st.integers(-(10**15) + 1, 10**15 - 1),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2099, 1, 1)),
    st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2099, 1, 1)),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(cells, min_size=4, max_size=4), min_size=1, max_size=12))
def test_reader_generated_cells_as_record_path(tmp_path: Path, rows: list[list[Any]]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["visit_id", "point", "a", "answers.b"])
    for row in rows:
        sheet.append([v.strip() if isinstance(v, str) and v.strip() == "" else v for v in row])
    path = tmp_path / "gen.xlsx"
    book.save(path)
    try:
        got = columnar_records(path, chunk_rows=5)
    except jsonl_columns.Unsupported:
        # openpyxl writes a float of 16 whole digits as a whole number (`%.16g`), which it
        # reads back as an int; calamine gives a float: such a sheet goes to the record path
        assert any(type(v) is float and 1e15 <= abs(v) < 1e16 for row in rows for v in row)
        return
    assert got == record_path_records(path)


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_sample_wave_from_xlsx_scores_as_record_path(tmp_path: Path, pack: str) -> None:
    pytest.importorskip(f"sbm_{pack}")
    std = sbm_engine.load(PACKS[pack])
    records = _records(ROOT / "plugins" / f"sbm-{pack}" / "sample" / "wave.jsonl")
    table = wave_table(records)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(table.column_names)
    for row in table.to_pylist():
        sheet.append(list(row.values()))
    path = tmp_path / "wave.xlsx"
    book.save(path)
    fields = std.model.visit_fields
    session = std.session()
    scored, rejected = [], []
    for rec in record_reader(path, visit_fields=fields):
        outcome = session.read(rec)
        (scored if outcome.ok else rejected).append(outcome.to_dict())
    encoder = jsonl_columns.JsonlEncoder(std.result_template())
    got, got_rejects = b"", []
    for chunk in read_xlsx_chunks(path, visit_fields=fields, chunk_rows=40):
        result = score_table(std, chunk.table)
        got += encoder.encode(result.scored)
        for row, errors in zip(
            result.rejects.column("row").to_pylist(),
            result.rejects.column("errors").to_pylist(),
            strict=True,
        ):
            got_rejects.append((chunk.source(row), json.loads(errors)))
    assert len(scored) > 10
    expected = b"".join(
        (json.dumps(v, ensure_ascii=False, separators=(", ", ": ")) + "\n").encode() for v in scored
    )
    assert got == expected
    assert got_rejects == [(r["source"], r["errors"]) for r in rejected]


def test_reader_error_cells_go_to_the_record_path(tmp_path: Path) -> None:
    """calamine reads an error cell as empty, the record path as its text: such a
    workbook is Unsupported, whichever sheet holds the error."""
    book = openpyxl.Workbook()
    book.active.append(["visit_id", "greeted"])
    book.active.append(["v1", "yes"])
    other = book.create_sheet("other")
    other.append(["#DIV/0!"])
    path = tmp_path / "errors.xlsx"
    book.save(path)
    assert [r.raw for r in record_reader(path, sheet="other")] == []
    with pytest.raises(Unsupported, match="error cell"):
        list(read_xlsx_chunks(path))


def test_reader_sheet_starting_elsewhere(tmp_path: Path) -> None:
    """Row 1 is the header even when the cells start further down and to the right
    (then no column has a header, as on the record path)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["C3"] = "visit_id"
    sheet["D3"] = "x"
    sheet["C4"] = "v1"
    sheet["D4"] = 5
    sheet["B6"] = "late"
    path = tmp_path / "offset.xlsx"
    book.save(path)
    got = columnar_records(path)
    assert got == record_path_records(path)
    assert [what[0] for _, what in got] == ["unreadable"] * 3


def test_a_whole_number_of_16_digits_goes_to_the_record_path(tmp_path: Path) -> None:
    """openpyxl writes 1e15 as ``1000000000000000`` and reads it back as an int, Excel
    writes ``1E+15`` (a float): calamine's float cannot tell them apart."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["visit_id", "point", "a", "answers.b"])
    sheet.append(["v1", "p", None, 1e15])
    sheet.append(["v2", "p", None, 1e16])
    path = tmp_path / "big.xlsx"
    book.save(path)
    with pytest.raises(jsonl_columns.Unsupported, match="16 digits"):
        columnar_records(path, chunk_rows=5)
    assert [r[1]["answers"]["b"] for r in record_path_records(path)] == [
        ("int", 10**15),
        ("float", 1e16),
    ]
