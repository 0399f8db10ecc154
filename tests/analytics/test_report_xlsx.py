"""The Excel report (`reporting.workbook.render`) on the hand-made sample report: the
tables read back as the analytics computed them, each chart is a native Excel chart of
the table's cells, links to cards land on the cards, and LibreOffice prints it."""

from __future__ import annotations

import math
import os
import posixpath
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

openpyxl = pytest.importorskip("openpyxl")
pytest.importorskip("xlsxwriter")
from debian import artifacts, program  # noqa: E402
from report_sample import sample_report  # noqa: E402
from xlsxwriter.utility import quote_sheetname  # noqa: E402

from sbm_engine.analytics.reporting import workbook  # noqa: E402
from sbm_engine.analytics.reporting.model import (  # noqa: E402
    Chart,
    Column,
    Report,
    Table,
    Topic,
)

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
}
CHART_ELEMENT = {
    "bars": ("barChart", "bar"),
    "columns": ("barChart", "col"),
    "line": ("lineChart", None),
    "heatmap": ("barChart", "col"),
    "funnel": ("scatterChart", None),
    "scatter": ("scatterChart", None),
    "interval": ("barChart", "bar"),
}


@pytest.fixture(scope="module")
def rendered(report: Report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xlsx") / "report.xlsx"
    workbook.render(report, path)
    return path


@pytest.fixture(scope="module")
def book(rendered: Path) -> Any:
    return openpyxl.load_workbook(rendered)


@pytest.fixture(scope="module")
def values(rendered: Path) -> Any:
    """The workbook as a reader that does not calculate sees it (formulas' cached values)."""
    return openpyxl.load_workbook(rendered, data_only=True)


def _topic_sheet(book: Any, topic: Topic) -> Any:
    found = [ws for ws in book.worksheets if ws["A1"].value == topic.title]
    assert len(found) == 1, f"one sheet titled {topic.title!r}"
    return found[0]


def _header_row(ws: Any, table: Table) -> int:
    """The 1-based row of the table's header: the row holding its column titles."""
    titles = [c.title for c in table.columns]
    for row in range(1, ws.max_row + 1):
        if [ws.cell(row, j + 1).value for j in range(len(titles))] == titles:
            return row
    raise AssertionError(f"no header {titles} on {ws.title!r}")


def _shown(report: Report, value: Any, column: Column) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or column.kind == "flag":
        return report.ui["yes"] if value else report.ui["no"]
    return value


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) or isinstance(got, float):
        return (
            isinstance(got, (int, float))
            and not isinstance(got, bool)
            and float(got) == float(want)
            and math.copysign(1, float(got)) == math.copysign(1, float(want))
        )
    return got == want and type(got) is type(want)


# ---- the tables ----------------------------------------------------------------------


def test_every_topic_has_a_sheet_with_a_frozen_header(book: Any, report: Report) -> None:
    assert book.worksheets[0].title == report.ui["contents"]
    for topic in report.topics:
        ws = _topic_sheet(book, topic)
        assert ws["A2"].value == (topic.note or None)
        header = _header_row(ws, topic.table)
        assert ws.freeze_panes is not None
        frozen_row = int(re.sub(r"[A-Z]+", "", ws.freeze_panes))
        if topic.pivot is None:
            assert frozen_row == header + 1 == 5, topic.id
            assert ws.auto_filter.ref.startswith(f"A{header}:")
        else:
            assert frozen_row < header, "the matrix comes first, the long table below"


def test_every_value_reads_back_as_computed(book: Any, report: Report) -> None:
    # The check means something only if some figure needs all 17 digits.
    floats = [v for t in report.topics for r in t.table.rows for v in r.values()]
    assert any(isinstance(v, float) and float(f"{v:.16g}") != v for v in floats)
    for topic in report.topics:
        ws = _topic_sheet(book, topic)
        first = _header_row(ws, topic.table) + 1
        for i, row in enumerate(topic.table.rows):
            for j, column in enumerate(topic.table.columns):
                got = ws.cell(first + i, j + 1).value
                want = _shown(report, row.get(column.key), column)
                assert _same(got, want), (topic.id, i, column.key, got, want)
        assert ws.cell(first + len(topic.table.rows), 1).value is None, "no extra row"


def test_number_formats_follow_the_column_kinds(book: Any, report: Report) -> None:
    seen = set()
    for topic in report.topics:
        ws = _topic_sheet(book, topic)
        first = _header_row(ws, topic.table) + 1
        for j, column in enumerate(topic.table.columns):
            cell = ws.cell(first, j + 1)
            assert cell.number_format == workbook.NUM_FORMATS[column.kind], (topic.id, column)
            seen.add(column.kind)
    assert {"score", "share", "change", "count", "p", "money", "flag", "text"} <= seen
    assert workbook.NUM_FORMATS["p"] == '[<0.0001]"<0.0001";0.0000'


def test_heat_map_is_a_coloured_matrix_with_grey_cells(book: Any, report: Report) -> None:
    topic = next(t for t in report.topics if t.pivot is not None)
    assert topic.chart is not None and topic.pivot is not None
    ws = _topic_sheet(book, topic)
    rkey, ckey, vkey = topic.pivot
    header = 4  # the matrix's header row, frozen with its row labels
    assert ws.freeze_panes == "B5"
    cols = [ws.cell(header, j).value for j in range(2, ws.max_column + 1)]
    points = list(dict.fromkeys(r[ckey] for r in topic.table.rows))
    assert cols[: len(points)] == points
    items = list(dict.fromkeys(r[rkey] for r in topic.table.rows))
    assert [ws.cell(header + 1 + i, 1).value for i in range(len(items))] == items
    for r in topic.table.rows:
        cell = ws.cell(header + 1 + items.index(r[rkey]), 2 + points.index(r[ckey]))
        assert _same(cell.value, r[vkey])
        grey = r[str(topic.chart.n)] < topic.chart.min_n
        assert (cell.fill.fgColor.rgb == "FFD9D9D9") is grey, (r, cell.fill.fgColor.rgb)
    legend = ws.cell(header + 1 + len(items), 1)
    assert legend.value == report.ui["too_few"]
    rules = [rule for cf in ws.conditional_formatting for rule in cf.rules]
    assert [rule.type for rule in rules] == ["colorScale"]
    assert len(rules[0].colorScale.color) == 3


# ---- the charts ----------------------------------------------------------------------


def _xml(zf: zipfile.ZipFile, name: str) -> ElementTree.Element:
    return ElementTree.fromstring(zf.read(name))


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, str]:
    """The relationships of a part: id → the target's path in the package."""
    folder, name = posixpath.split(part)
    rels = f"{folder}/_rels/{name}.rels"
    if rels not in zf.namelist():
        return {}
    return {
        rel.get("Id", ""): posixpath.normpath(posixpath.join(folder, rel.get("Target", "")))
        for rel in _xml(zf, rels).findall("rel:Relationship", NS)
    }


def charts_by_sheet(path: Path) -> dict[str, list[ElementTree.Element]]:
    """Each sheet's charts, found the way Excel does: sheet → drawing → chart parts."""
    out: dict[str, list[ElementTree.Element]] = {}
    with zipfile.ZipFile(path) as zf:
        book_rels = _rels(zf, "xl/workbook.xml")
        for sheet in _xml(zf, "xl/workbook.xml").findall("m:sheets/m:sheet", NS):
            part = book_rels[sheet.get(f"{{{NS['r']}}}id", "")]
            charts = []
            for drawing in _rels(zf, part).values():
                if "/drawings/" not in drawing:
                    continue
                for target in _rels(zf, drawing).values():
                    if "/charts/" in target:
                        charts.append(_xml(zf, target))
            out[sheet.get("name", "")] = charts
    return out


def _cells(values: Any, ref: str) -> list[Any]:
    """The values in a reference such as `'Sheet name'!$B$5:$B$7`."""
    sheet, _, cells = ref.rpartition("!")
    ws = values[sheet.strip("'").replace("''", "'")]
    area = ws[cells.replace("$", "")]
    if not isinstance(area, tuple):
        return [area.value]
    return [c.value for row in area for c in (row if isinstance(row, tuple) else (row,))]


def _table_ref(ws: Any, table: Table, key: str) -> str:
    header = _header_row(ws, table)
    j = [c.key for c in table.columns].index(key)
    letter = openpyxl.utils.get_column_letter(j + 1)
    quoted = quote_sheetname(ws.title)
    return f"{quoted}!${letter}${header + 1}:${letter}${header + len(table.rows)}"


def _figures(topic: Topic) -> set[float]:
    """Every number of the topic's table and of its chart's lines."""
    tables = [topic.table] + ([topic.chart.lines] if topic.chart and topic.chart.lines else [])
    return {
        float(v)
        for t in tables
        for r in t.rows
        for v in r.values()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def test_each_chart_is_native_and_draws_the_table(
    rendered: Path, book: Any, values: Any, report: Report
) -> None:
    charts = charts_by_sheet(rendered)
    for topic in report.topics:
        chart = topic.chart
        if chart is None:
            continue
        ws = _topic_sheet(book, topic)
        drawn = charts[ws.title]
        assert drawn, f"{topic.id}: no native chart"
        element, direction = CHART_ELEMENT[chart.kind]
        plots = [p for c in drawn for p in c.iter(f"{{{NS['c']}}}{element}")]
        assert plots, f"{topic.id}: no {element}"
        if direction is not None:
            assert _val(plots[0], "c:barDir") == direction, topic.id
        refs = [f.text or "" for c in drawn for f in c.iter(f"{{{NS['c']}}}f")]
        quoted = quote_sheetname(ws.title)  # quoted only when the name needs it
        assert refs and all(r.startswith(quoted + "!") for r in refs), (topic.id, refs)
        # Every number a chart draws is a number of its table.
        numbers = [
            f.text or ""
            for c in drawn
            for tag in ("val", "xVal", "yVal")
            for el in c.iter(f"{{{NS['c']}}}{tag}")
            for f in el.iter(f"{{{NS['c']}}}f")
        ]
        figures = _figures(topic)
        for ref in numbers:
            for v in _cells(values, ref):
                if v is not None and not (chart.kind == "scatter" and ref in _rule_refs(ws)):
                    assert float(v) in figures, (topic.id, ref, v)
        # Charts of one series per row read the table's own cells.
        direct = {
            "bars": (chart.x, chart.y),
            "columns": (chart.x, chart.y),
            "interval": (chart.x, chart.y),
            "funnel": (chart.x,),
            "scatter": (chart.x,),
        }.get(chart.kind, ())
        for key in direct:
            assert key is not None
            assert _table_ref(ws, topic.table, key) in refs, (topic.id, key, refs)
        if chart.label is not None:
            a_t = "{http://schemas.openxmlformats.org/drawingml/2006/main}t"
            labels = {
                t.text for c in drawn for lbl in c.iter(f"{{{NS['c']}}}dLbl") for t in lbl.iter(a_t)
            }
            assert labels == {str(r[chart.label]) for r in topic.table.rows}, topic.id
        if chart.kind == "interval":
            bars = [e for c in drawn for e in c.iter(f"{{{NS['c']}}}errBars")]
            assert bars and _val(bars[0], "c:errValType") == "cust"
        if chart.kind == "bars" and chart.target:
            assert _table_ref(ws, topic.table, chart.target) in refs


def _val(element: ElementTree.Element, path: str) -> str | None:
    found = element.find(path, NS)
    return None if found is None else found.get("val")


def _rule_refs(ws: Any) -> set[str]:
    """The scatter's reference rules are drawn from two-point ranges of their own."""
    quoted = quote_sheetname(ws.title)
    out = set()
    for row in range(1, ws.max_row + 1):
        for col in ("A", "B"):
            out.add(f"{quoted}!${col}${row}:${col}${row + 1}")
    return out


def test_a_long_table_keeps_all_rows_while_its_chart_shows_the_first(tmp_path: Path) -> None:
    rows = tuple({"name": f"point {i:03}", "mean": i / 300} for i in range(300))
    table = Table((Column("name", "Point"), Column("mean", "Mean", "score")), rows)
    topic = Topic("many", "Many points", "", table, Chart("bars", x="mean", y="name"))
    report = _report(topics=(topic,))
    path = tmp_path / "many.xlsx"
    workbook.render(report, path)
    ws = openpyxl.load_workbook(path)["Many points"]
    assert ws.cell(5 + 299, 2).value == 299 / 300
    refs = [f.text for c in charts_by_sheet(path)["Many points"] for f in c.iter(f"{{{NS['c']}}}f")]
    assert f"'Many points'!$B$5:$B${4 + workbook.MAX_CATEGORIES}" in refs


# ---- links, widths, names ------------------------------------------------------------


def _target(book: Any, location: str) -> Any:
    sheet, _, cell = location.rpartition("!")
    name = sheet.strip("'").replace("''", "'")
    assert name in book.sheetnames, location
    return book[name][cell.replace("$", "")]


def test_card_keys_link_to_their_cards(book: Any, report: Report) -> None:
    titles = {(c.level, c.key): c.title for c in report.cards}
    linked = 0
    for topic in report.topics:
        ws = _topic_sheet(book, topic)
        first = _header_row(ws, topic.table) + 1
        for j, column in enumerate(topic.table.columns):
            if column.card is None:
                continue
            for i, row in enumerate(topic.table.rows):
                cell = ws.cell(first + i, j + 1)
                title = titles.get((column.card, row[column.key]))
                if title is None:
                    assert cell.hyperlink is None
                    continue
                assert cell.hyperlink is not None, (topic.id, row)
                assert _target(book, cell.hyperlink.location).value == title
                linked += 1
    assert linked >= 6


def test_contents_link_to_every_sheet(book: Any, report: Report) -> None:
    summary = book.worksheets[0]
    assert summary["A1"].value == report.title
    targets = [
        _target(book, c.hyperlink.location).parent.title
        for row in summary.iter_rows()
        for c in row
        if c.hyperlink is not None
    ]
    topic_sheets = [_topic_sheet(book, t).title for t in report.topics]
    assert targets[: len(topic_sheets)] == topic_sheets
    assert report.ui["points"] in targets and report.ui["specialists"] in targets
    cards = book[report.ui["points"]]
    card_titles = [c.title for c in report.cards if c.level == "point"]
    column_a = [cards.cell(r, 1).value for r in range(1, cards.max_row + 1)]
    assert all(t in column_a for t in card_titles)
    assert book.properties.title == report.title
    assert book.properties.keywords == report.lang


def test_cards_have_their_small_charts(rendered: Path, report: Report) -> None:
    charts = charts_by_sheet(rendered)
    for level, sheet in (("point", report.ui["points"]), ("specialist", report.ui["specialists"])):
        cards = [c for c in report.cards if c.level == level]
        drawable = sum(1 for c in cards for t in c.topics if t.chart is not None)
        assert drawable and len(charts[sheet]) == drawable


def _widths(ws: Any) -> dict[int, float]:
    out = {}
    for dim in ws.column_dimensions.values():
        if dim.customWidth and dim.min:
            for col in range(dim.min, dim.max + 1):
                out[col] = dim.width
    return out


def test_columns_are_sized_to_their_content(book: Any, report: Report) -> None:
    for topic in report.topics:
        ws = _topic_sheet(book, topic)
        widths = _widths(ws)
        for j, column in enumerate(topic.table.columns, start=1):
            assert j in widths, (topic.id, column.key)
            assert workbook.MIN_WIDTH <= widths[j] <= workbook.MAX_WIDTH + 2
    coefficients = _topic_sheet(book, report.topics[0])
    longest = max(len(r["title"]) for r in report.topics[0].table.rows)
    assert _widths(coefficients)[1] >= longest


def test_sheet_names_are_valid_and_unique() -> None:
    names = workbook.sheet_names(
        [
            "Содержание",
            "A very long title of a topic that goes on: [part] 1/2 *?",
            "A very long title of a topic that goes on: [part] 1/2 *?",
            "a VERY long title of a topic that goes on: [part] 1/2 *?",
            "History",
            "'quoted'",
            "",
        ]
    )
    assert len({n.casefold() for n in names}) == len(names)
    for name in names:
        assert 0 < len(name) <= 31
        assert not set(name) & set("[]:*?/\\")
        assert not name.startswith("'") and not name.endswith("'")
        assert name.casefold() != "history"


def test_long_and_repeated_titles_make_a_valid_workbook(tmp_path: Path) -> None:
    title = "Выполнение вопросов по точкам: [волна] 2026/03 — *все* точки?"
    table = Table((Column("a", "A"), Column("v", "V", "score")), ({"a": "x", "v": 0.5},))
    topics = tuple(
        Topic(f"t{i}", title, "", table, Chart("columns", x="a", y="v")) for i in range(3)
    )
    path = tmp_path / "names.xlsx"
    workbook.render(_report(topics=topics), path)
    book = openpyxl.load_workbook(path)
    assert len(book.sheetnames) == 4
    assert len({n.casefold() for n in book.sheetnames}) == 4
    charts = charts_by_sheet(path)
    assert all(charts[n] for n in book.sheetnames[1:])


def test_awkward_tables_still_make_a_workbook(tmp_path: Path) -> None:
    cols = (Column("name", "Name"), Column("v", "Value", "score"), Column("n", "n", "count"))
    empty = Topic("empty", "Empty", "", Table(cols, ()), Chart("bars", x="v", y="name"))
    odd_rows = (
        {"name": "=1+1", "v": math.nan, "n": 3},
        {"name": "inf", "v": math.inf, "n": None},
        {"name": 7, "v": -0.0, "n": 2},
    )
    odd = Topic("odd", "Odd", "note", Table(cols, odd_rows))
    holes = Topic(
        "holes",
        "Holes",
        "",
        Table(cols, ({"name": "a", "v": 0.5, "n": 9}, {"name": "b", "v": 0.7, "n": 1})),
        Chart("heatmap", x="name", y="n", value="v", n="n", min_n=5),
        pivot=("n", "name", "v"),
    )
    path = tmp_path / "odd.xlsx"
    workbook.render(_report(topics=(empty, odd, holes)), path)
    book = openpyxl.load_workbook(path)
    ws = book["Odd"]
    assert [ws.cell(5, j).value for j in (1, 2, 3)] == ["=1+1", None, 3]
    assert ws.cell(5, 1).data_type == "s"
    assert [ws.cell(6, j).value for j in (1, 2, 3)] == ["inf", None, None]
    assert ws.cell(7, 1).value == 7
    assert _header_row(book["Empty"], empty.table) == 4
    matrix = book["Holes"]
    assert matrix.cell(5, 3).value is None  # (9, "b") has no row: an empty grey cell
    assert matrix.cell(5, 3).fill.fgColor.rgb == "FFD9D9D9"


# ---- the file ------------------------------------------------------------------------


def test_a_failed_render_leaves_the_old_file(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"the previous report")

    def broken(*args: Any) -> None:
        raise RuntimeError("broken")

    monkeypatch.setattr(workbook._Writer, "_topic_sheet", broken)
    with pytest.raises(RuntimeError, match="broken"):
        workbook.render(sample_report(), path)
    assert path.read_bytes() == b"the previous report"
    assert os.listdir(tmp_path) == ["report.xlsx"]


def test_render_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"the previous report")
    path.chmod(0o640)
    workbook.render(sample_report(), str(path))
    assert os.listdir(tmp_path) == ["report.xlsx"]
    assert zipfile.is_zipfile(path)
    assert path.stat().st_mode & 0o777 == 0o640


def _report(topics: tuple[Topic, ...]) -> Report:
    base = sample_report()
    return Report(base.lang, base.title, base.facts, topics, (), base.ui)


# ---- LibreOffice ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def libreoffice_profile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A profile of this run's own: a shared or stale one can stop soffice from starting."""
    folder = tmp_path_factory.mktemp("soffice-profile")
    yield folder.as_uri()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.office
def test_libreoffice_prints_the_workbook(
    rendered: Path, libreoffice_profile: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    soffice = program("soffice", "libreoffice-calc-nogui")
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={libreoffice_profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(rendered),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    printed = done.stdout + done.stderr
    assert done.returncode == 0, printed
    # LibreOffice warns it has no Java on every machine without one: that is no error.
    complaints = [
        line
        for line in printed.splitlines()
        if re.search(r"error|fail|exception", line, re.I) and "javaldx" not in line
    ]
    assert not complaints, printed
    pdf = tmp_path / "report.pdf"
    assert pdf.is_file() and pdf.stat().st_size > 10_000
    assert pdf.read_bytes().startswith(b"%PDF")
    which = request.node.callspec.params["report"]  # sample or bank
    shutil.copy(pdf, artifacts("report-pdf") / f"report-{which}.pdf")


def test_many_cards_are_tables_without_charts(tmp_path: Path) -> None:
    """Past `CARDS_WITH_CHARTS` cards on a sheet, cards keep their tables and links but
    not their small charts: thousands of charts make a workbook slow to open."""
    import attrs

    base = sample_report()
    many = tuple(
        attrs.evolve(base.cards[0], key=f"P{i:04d}", title=f"Точка P{i:04d}")
        for i in range(workbook.CARDS_WITH_CHARTS + 1)
    )
    report = attrs.evolve(base, cards=many)
    path = tmp_path / "many.xlsx"
    workbook.render(report, path)
    charts = charts_by_sheet(path)
    card_sheet = report.ui["points"]
    assert charts[card_sheet] == []
    assert sum(len(c) for c in charts.values()) > 0  # the topics keep theirs
    ws = openpyxl.load_workbook(path)[card_sheet]
    titles = [c.value for c in ws["A"] if c.value and str(c.value).startswith("Точка P")]
    assert len(titles) == len(many)
