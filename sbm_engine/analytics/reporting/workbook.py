"""The Excel form of a report: the same tables as the HTML page, with native Excel charts.

`render(report, path)` writes one .xlsx with xlsxwriter:

- the first sheet (named `ui["summary"]` if the catalogue has it, else `ui["contents"]`):
  the title, the facts, the line on how the report was made and the contents, each
  entry a link to its sheet;
- one sheet per topic (named after its title: at most 31 characters, `[]:*?/\\` replaced,
  unique): the title in A1, the note in A2, a link back in A3 and the table from row 4
  with a frozen header, an autofilter and number formats by column kind (a pivot topic
  shows its matrix there, the long table below it); the chart, a native Excel chart
  built from the table's cells, stands to the right;
- a sheet of points' cards and one of specialists' cards (`ui["points"]`,
  `ui["specialists"]`): one block per card (its title, its facts, its tables, beside a
  table its chart drawn small when it needs no helper range), a page per card when
  printed; a table cell whose column names a card links to that card.

Values are written as the analytics computed them: floats bit for bit (xlsxwriter would
round them to 16 digits, see `_ExactSheet`), None as an empty cell, flags as the
report's yes/no; the number format shows them as the HTML does.

How each chart kind is drawn:

- bars, columns: a bar (column) chart of the table's cells; a `target` is a second
  series drawn as an outline over the bar, so the bar reads against the frame it
  should fill; `color` colours each bar;
- line: a line chart; with `color`, one series per colour value, read from a small
  matrix (x × colour) written below the table, since the table is long;
- heatmap: the table is shown as the matrix (`Topic.pivot`) with a three-colour scale;
  cells whose n is below `min_n` are grey, outside the scale, with a legend line. The
  matrix is the chart; beside it a clustered column chart of the same cells, readable
  at any size: a series for each of the first 12 rows (the report orders questions
  weakest first) over the first 50 columns. It draws only numbers of the table: a mean
  per point would be a figure the HTML does not show.
  The long table follows the matrix;
- funnel: a scatter chart of the points (one series per `color` value) and straight
  lines for the centre and the control limits, from `chart.lines` written below;
- scatter: a scatter chart, the labels as data labels, one series per `color` value,
  the reference rules as two-point lines written below the table. Labels are the
  label column's text rather than links to its cells: LibreOffice shows a linked label
  as the point's value;
- interval: a bar chart of the estimates with custom error bars reaching `low` and
  `high` (their distances from the estimate are formulas below the table); Excel's
  bar chart keeps the categories readable and the axis crosses at 0, the rule.

Category charts show the first `MAX_CATEGORIES` rows (the table keeps all of them);
labels are put on at most `MAX_LABELS` points.

The file is written to a temporary file beside `path` and moved into place, so it
appears whole or not at all.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell  # type: ignore[import-untyped]
from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

from sbm_engine.analytics.reporting.model import Card, Chart, Column, Report, Table, Topic
from sbm_engine.io.writers import target_mode

#: Excel's number formats by column kind (see `model.KINDS`). A p-value below 0.0001
#: reads "<0.0001" as in the HTML, while the cell keeps the number.
NUM_FORMATS: dict[str, str] = {
    "text": "@",
    "score": "0.000",
    "share": "0.0%",
    "change": "+0.000;-0.000;0.000",
    "number": "General",
    "count": "#,##0",
    "p": '[<0.0001]"<0.0001";0.0000',
    "money": "#,##0",
    "flag": "General",
}

MAX_CATEGORIES = 50
MAX_SERIES = 12
MAX_LABELS = 50
MAX_WIDTH = 60
#: Rows kept for a topic of a card that has a small chart: a 300-pixel-high chart.
CARD_CHART_ROWS = 16
#: Cards of a sheet get their small charts while the sheet has at most this many:
#: thousands of charts make a workbook slow to open (the tables say the same).
CARDS_WITH_CHARTS = 100
MIN_WIDTH = 6
#: Excel keeps at most 65,530 links per sheet; past that a cell is written without one.
MAX_LINKS = 65_000

PALETTE = ("#4472C4", "#ED7D31", "#70AD47", "#FFC000", "#7F7F7F", "#5B9BD5", "#9E480E", "#264478")
GREY_FILL = "#D9D9D9"
GREY_FONT = "#595959"
SCALE = ("#F8696B", "#FFEB84", "#63BE7B")  # low, middle, high: red, yellow, green
_BAD_NAME_CHARS = str.maketrans({ch: "_" for ch in "[]:*?/\\"})


def render(report: Report, path: str | Path) -> None:
    """Write `report` as an .xlsx workbook at `path`, replacing any file there."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        _Writer(report, tmp).write()
        os.chmod(tmp, target_mode(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def sheet_names(titles: Iterable[str], taken: Iterable[str] = ()) -> list[str]:
    """Valid, unique (as Excel compares them: ignoring case) sheet names for `titles`:
    `[]:*?/\\` replaced by `_`, at most 31 characters, a number added to repeats."""
    used = {t.casefold() for t in taken}
    out = []
    for title in titles:
        base = " ".join(str(title).translate(_BAD_NAME_CHARS).split()).strip("'") or "Sheet"
        name = base[:31].rstrip()
        k = 1
        while name.casefold() in used or name.casefold() == "history":
            k += 1
            tail = f" ({k})"
            name = base[: 31 - len(tail)].rstrip() + tail
        used.add(name.casefold())
        out.append(name)
    return out


class _ExactSheet(Worksheet):  # type: ignore[misc]
    """A worksheet writing numbers with `repr`, which round-trips every float, where
    xlsxwriter writes 16 significant digits (0.13605442176870747 would come back as
    0.1360544217687075, not the figure the HTML shows)."""

    def _xml_number_element(self, number: Any, attributes: Any = ()) -> None:
        attr = "".join(f' {k}="{self._escape_attributes(v)}"' for k, v in attributes)
        # "1E-05", as Excel writes exponents.
        text = repr(float(number)).upper() if isinstance(number, float) else str(number)
        self.fh.write(f"<c{attr}><v>{text}</v></c>")

    def _get_range_data(self, *args: Any) -> Any:
        # A chart's cached copy of its cells: xlsxwriter caches an empty cell as 0, a
        # point at zero for a reader that draws from the cache; None leaves a gap.
        data = super()._get_range_data(*args)
        return [None if v == "" else v for v in data]


@dataclass
class _Sheet:
    ws: Any
    name: str
    widths: dict[int, float] = field(default_factory=dict)
    headers: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    links: int = 0

    def ref(self, row: int, col: int) -> str:
        return f"{quote_sheetname(self.name)}!{xl_rowcol_to_cell(row, col, True, True)}"


@dataclass
class _Block:
    """Where a table landed: its header row, first column and the column of each key."""

    sheet: _Sheet
    top: int
    cols: dict[str, int]
    n: int

    def first(self) -> int:
        return self.top + 1

    def last(self, cap: int | None = None) -> int:
        count = self.n if cap is None else min(self.n, cap)
        return self.top + count

    def rng(self, key: str, cap: int | None = None) -> list[Any]:
        c = self.cols[key]
        return [self.sheet.name, self.first(), c, self.last(cap), c]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _missing(value: Any) -> bool:
    return value is None or (_is_number(value) and not math.isfinite(float(value)))


class _Writer:
    def __init__(self, report: Report, path: str) -> None:
        self.report = report
        self.ui = report.ui
        self.wb: Any = xlsxwriter.Workbook(
            path,
            {
                "nan_inf_to_errors": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        self.wb.worksheet_class = _ExactSheet
        self._formats: dict[tuple[str, str], Any] = {}
        self.title_fmt = self.wb.add_format({"bold": True, "font_size": 14})
        self.bold = self.wb.add_format({"bold": True})
        self.header_fmt = self.wb.add_format(
            {
                "bold": True,
                "text_wrap": True,
                "valign": "top",
                "bottom": 1,
                "bg_color": "#F2F2F2",
            }
        )
        self.link_fmt = self.wb.add_format({"font_color": "blue", "underline": 1})
        self.note_fmt = self.wb.add_format({"italic": True, "font_color": GREY_FONT})
        self.grey_fmt = self.wb.add_format({"bg_color": GREY_FILL, "font_color": GREY_FONT})
        # (level, key) -> the cell of that card's title
        self.cards: dict[tuple[str, str], str] = {}

    # ---- the workbook ---------------------------------------------------------------

    def write(self) -> None:
        report = self.report
        self.wb.set_properties(
            {
                "title": report.title,
                "subject": report.title,
                "comments": self.ui.get("generated", ""),
                "keywords": report.lang,
            }
        )
        self.wb.set_custom_property("Language", report.lang)
        levels = list(dict.fromkeys(card.level for card in report.cards))
        summary_name = self.ui.get("summary") or self.ui.get("contents") or "Summary"
        names = sheet_names(
            [summary_name]
            + [t.title for t in report.topics]
            + [self._level_title(level) for level in levels]
        )
        summary = self._add_sheet(names[0])
        topic_sheets = [self._add_sheet(n) for n in names[1 : 1 + len(report.topics)]]
        card_sheets = [self._add_sheet(n) for n in names[1 + len(report.topics) :]]
        # Card cells are known before any table links to them.
        by_level = {level: [c for c in report.cards if c.level == level] for level in levels}
        layouts = {
            level: self._card_layout(sheet, by_level[level])
            for level, sheet in zip(levels, card_sheets, strict=True)
        }
        self._summary(summary, topic_sheets, list(zip(levels, card_sheets, strict=True)))
        for topic, sheet in zip(report.topics, topic_sheets, strict=True):
            self._topic_sheet(sheet, topic, summary)
        for level, sheet in zip(levels, card_sheets, strict=True):
            self._card_sheet(sheet, by_level[level], layouts[level], summary)
        for sheet in [summary, *topic_sheets, *card_sheets]:
            self._finish(sheet)
        summary.ws.activate()
        self.wb.close()

    def _level_title(self, level: str) -> str:
        return {"point": self.ui.get("points"), "specialist": self.ui.get("specialists")}.get(
            level
        ) or str(level)

    def _add_sheet(self, name: str) -> _Sheet:
        ws = self.wb.add_worksheet(name)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        return _Sheet(ws, name)

    def _finish(self, sheet: _Sheet) -> None:
        widths = {c: min(MAX_WIDTH, max(MIN_WIDTH, w + 2)) for c, w in sheet.widths.items()}
        for col, width in sorted(widths.items()):
            sheet.ws.set_column(col, col, width)
        # Wrapped headers get the height they need: not every reader fits rows itself.
        for row, cells in sheet.headers.items():
            lines = max(_wrapped_lines(text, widths.get(col, 8.43) - 1) for col, text in cells)
            if lines > 1:
                sheet.ws.set_row(row, 15 * lines)

    # ---- cells ----------------------------------------------------------------------

    def fmt(self, kind: str, variant: str = "") -> Any:
        """The cell format of a kind: plain, `link` (a card's key) or `grey` (too few)."""
        key = (kind, variant)
        if key not in self._formats:
            props: dict[str, Any] = {"num_format": NUM_FORMATS.get(kind, "General")}
            if kind == "flag":
                props["align"] = "center"
            if variant == "link":
                props.update(font_color="blue", underline=1)
            elif variant == "grey":
                props.update(bg_color=GREY_FILL, font_color=GREY_FONT)
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def shown(self, value: Any, kind: str) -> str:
        """About what a cell shows, to size its column."""
        if _missing(value):
            return ""
        if isinstance(value, bool) or kind == "flag":
            return self.ui.get("yes", "yes") if value else self.ui.get("no", "no")
        if not _is_number(value):
            return str(value)
        v = float(value)
        texts = {
            "score": f"{v:.3f}",
            "share": f"{v * 100:.1f}%",
            "change": f"{v:+.3f}",
            "count": f"{v:,.0f}",
            "money": f"{v:,.0f}",
            "p": "<0.0001" if abs(v) < 0.0001 else f"{v:.4f}",
        }
        return texts.get(kind, f"{v:.10g}")

    def put(
        self,
        sheet: _Sheet,
        row: int,
        col: int,
        value: Any,
        kind: str = "text",
        cell_format: Any = None,
        *,
        link: str | None = None,
        size: bool = True,
    ) -> None:
        """Write one value as its kind: a number stays a number, None an empty cell."""
        ws = sheet.ws
        fmt = cell_format if cell_format is not None else self.fmt(kind, "link" if link else "")
        if link is not None and sheet.links < MAX_LINKS and not _missing(value):
            # write_url writes the text; a number is then written over it, keeping the link.
            ws.write_url(row, col, link, fmt, self.shown(value, kind) or str(value))
            sheet.links += 1
        if _missing(value):
            ws.write_blank(row, col, None, fmt)
        elif isinstance(value, bool) or kind == "flag":
            ws.write_string(row, col, self.shown(value, "flag"), fmt)
        elif _is_number(value):
            ws.write_number(row, col, value if isinstance(value, int) else float(value), fmt)
        else:
            ws.write_string(row, col, str(value), fmt)
        if size:
            self.size(sheet, col, self.shown(value, kind))

    @staticmethod
    def size(sheet: _Sheet, col: int, text: str) -> None:
        longest = max((len(line) for line in text.splitlines()), default=0)
        sheet.widths[col] = max(sheet.widths.get(col, 0), min(longest, MAX_WIDTH))

    def header(self, sheet: _Sheet, row: int, col: int, text: str, link: str | None = None) -> None:
        if link is not None:
            sheet.ws.write_url(row, col, link, self.header_fmt, text)
        else:
            sheet.ws.write_string(row, col, text, self.header_fmt)
        sheet.headers.setdefault(row, []).append((col, text))
        # Headers wrap: their longest word, not their whole length, sets the width.
        self.size(sheet, col, max(text.split(), key=len, default=""))

    def card_link(self, column: Column, value: Any) -> str | None:
        if column.card is None or _missing(value):
            return None
        cell = self.cards.get((column.card, str(value)))
        return f"internal:{cell}" if cell else None

    def table(self, sheet: _Sheet, top: int, table: Table, *, left: int = 0) -> _Block:
        """The header at row `top`, the rows below it."""
        for j, column in enumerate(table.columns):
            self.header(sheet, top, left + j, column.title)
        for i, row in enumerate(table.rows, start=top + 1):
            for j, column in enumerate(table.columns):
                value = row.get(column.key)
                self.put(sheet, i, left + j, value, column.kind, link=self.card_link(column, value))
        cols = {c.key: left + j for j, c in enumerate(table.columns)}
        return _Block(sheet, top, cols, len(table.rows))

    def caption(self, sheet: _Sheet, row: int, text: str) -> None:
        sheet.ws.write_string(row, 0, text, self.bold)

    # ---- the summary ----------------------------------------------------------------

    def _summary(
        self, sheet: _Sheet, topics: Sequence[_Sheet], cards: Sequence[tuple[str, _Sheet]]
    ) -> None:
        ws = sheet.ws
        report = self.report
        ws.write_string(0, 0, report.title, self.title_fmt)
        row = 2
        for label, value, kind in report.facts:
            ws.write_string(row, 0, str(label), self.bold)
            self.size(sheet, 0, str(label))
            self.put(sheet, row, 1, value, kind)
            row += 1
        if self.ui.get("generated"):
            row += 1
            ws.write_string(row, 0, self.ui["generated"], self.note_fmt)
        row += 2
        ws.write_string(row, 0, self.ui.get("contents", ""), self.title_fmt)
        row += 1
        for topic, target in zip(report.topics, topics, strict=True):
            ws.write_url(row, 0, f"internal:{target.ref(0, 0)}", self.link_fmt, topic.title)
            self.size(sheet, 0, topic.title)
            if topic.note:
                ws.write_string(row, 1, topic.note, self.note_fmt)
            row += 1
        if cards:
            row += 1
            ws.write_string(row, 0, self.ui.get("cards", ""), self.bold)
            row += 1
            for level, target in cards:
                title = self._level_title(level)
                ws.write_url(row, 0, f"internal:{target.ref(0, 0)}", self.link_fmt, title)
                self.size(sheet, 0, title)
                row += 1
        # The note column holds whole sentences: wide, not fitted.
        sheet.widths[1] = max(sheet.widths.get(1, 0), 40)

    # ---- topics ---------------------------------------------------------------------

    def _topic_head(self, sheet: _Sheet, title: str, note: str, summary: _Sheet) -> None:
        ws = sheet.ws
        ws.write_string(0, 0, title, self.title_fmt)
        if note:
            ws.write_string(1, 0, note, self.note_fmt)
        back = self.ui.get("back") or self.ui.get("contents") or "<"
        ws.write_url(2, 0, f"internal:{summary.ref(0, 0)}", self.link_fmt, back)

    def _topic_sheet(self, sheet: _Sheet, topic: Topic, summary: _Sheet) -> None:
        self._topic_head(sheet, topic.title, topic.note, summary)
        ws = sheet.ws
        table = topic.table
        top = 3
        chart_col = len(table.columns) + 1
        matrix_chart = None
        if topic.pivot is not None:
            top, matrix_width, matrix_chart = self._matrix(sheet, topic, top)
            chart_col = max(chart_col, matrix_width)
            top += 1
        block = self.table(sheet, top, table)
        if table.columns:
            ws.autofilter(top, 0, top + max(len(table.rows), 1), len(table.columns) - 1)
        if topic.pivot is None:
            ws.freeze_panes(top + 1, 0)
            ws.repeat_rows(top)
        chart = None
        helper_row = block.last() + 2
        if topic.chart is not None and topic.chart.kind != "heatmap" and table.rows:
            chart, helper_row = self._chart(sheet, topic, block, helper_row)
        row = 3
        for drawn in (matrix_chart, chart):
            if drawn is not None:
                ws.insert_chart(row, chart_col, drawn, {"x_offset": 10, "y_offset": 5})
                row += math.ceil(drawn.height / 20) + 2

    # ---- the heat map -----------------------------------------------------------------

    def _matrix(self, sheet: _Sheet, topic: Topic, top: int) -> tuple[int, int, Any]:
        """The pivot as a matrix from row `top`; returns the next free row, the column
        for charts and the matrix's native chart (or None)."""
        assert topic.pivot is not None
        rkey, ckey, vkey = topic.pivot
        table, chart = topic.table, topic.chart
        rcol, ccol, vcol = table.column(rkey), table.column(ckey), table.column(vkey)
        rvals, cvals, cells = _pivot(table.rows, rkey, ckey)
        ws = sheet.ws
        self.header(sheet, top, 0, rcol.title)
        for j, cv in enumerate(cvals, start=1):
            self.header(sheet, top, j, self.shown(cv, ccol.kind), self.card_link(ccol, cv))
        grey_n = chart.n if chart is not None and chart.kind == "heatmap" else None
        min_n = chart.min_n if chart is not None else 0
        scaled: list[tuple[int, int, int]] = []  # (row, first col, last col) of coloured runs
        any_grey = False
        for i, rv in enumerate(rvals, start=top + 1):
            self.put(
                sheet,
                i,
                0,
                rv,
                rcol.kind,
                self.bold if not rcol.card else None,
                link=self.card_link(rcol, rv),
            )
            run: int | None = None
            for j, cv in enumerate(cvals, start=1):
                src = cells.get((rv, cv))
                value = None if src is None else src.get(vkey)
                n: Any = None if src is None or grey_n is None else src.get(grey_n)
                grey = grey_n is not None and (src is None or (_is_number(n) and n < min_n))
                any_grey |= grey
                self.put(sheet, i, j, value, vcol.kind, self.fmt(vcol.kind, "grey" if grey else ""))
                if grey or _missing(value):
                    if run is not None:
                        scaled.append((i, run, j - 1))
                        run = None
                elif run is None:
                    run = j
            if run is not None:
                scaled.append((i, run, len(cvals)))
        bottom = top + len(rvals)
        lo, hi = _domain(chart, vcol)
        if scaled:
            scale: dict[str, Any] = {
                "type": "3_color_scale",
                "min_color": SCALE[0],
                "mid_color": SCALE[1],
                "max_color": SCALE[2],
            }
            if lo is not None and hi is not None:
                scale.update(
                    min_type="num",
                    min_value=lo,
                    mid_type="num",
                    mid_value=(lo + hi) / 2,
                    max_type="num",
                    max_value=hi,
                )
            ranges = [_range(r, a, r, b) for r, a, b in scaled]
            scale["multi_range"] = " ".join(ranges)
            r0, a0, b0 = scaled[0]
            ws.conditional_format(r0, a0, r0, b0, scale)
        ws.freeze_panes(top + 1, 1)
        ws.repeat_rows(top)
        row = bottom + 1
        if any_grey and self.ui.get("too_few"):
            ws.write_string(row, 0, self.ui["too_few"], self.grey_fmt)
            row += 1
        native = None
        if rvals and cvals:
            native = self.wb.add_chart({"type": "column"})
            shown = min(len(cvals), MAX_CATEGORIES)
            for i in range(top + 1, min(bottom, top + MAX_SERIES) + 1):
                native.add_series(
                    {
                        "name": [sheet.name, i, 0],
                        "categories": [sheet.name, top, 1, top, shown],
                        "values": [sheet.name, i, 1, i, shown],
                        "gap": 80,
                    }
                )
            self._titles(native, topic.title, ccol.title, vcol.title, vcol.kind)
            if lo is not None and hi is not None:
                native.set_y_axis(
                    {
                        "min": lo,
                        "max": hi,
                        "num_format": _axis_format(vcol.kind),
                        "name": vcol.title,
                    }
                )
            native.set_legend({"position": "bottom"})
            native.set_size({"width": 720, "height": 360})
        return row, len(cvals) + 2, native

    # ---- native charts --------------------------------------------------------------

    def _chart(self, sheet: _Sheet, topic: Topic, block: _Block, row: int) -> tuple[Any, int]:
        chart = topic.chart
        assert chart is not None
        draw = {
            "bars": self._bars,
            "columns": self._bars,
            "line": self._line,
            "funnel": self._funnel,
            "scatter": self._scatter,
            "interval": self._interval,
        }.get(chart.kind)
        if draw is None:
            return None, row
        return draw(sheet, topic, chart, block, row)

    def _titles(self, drawn: Any, title: str, x: str, y: str, y_kind: str | None = None) -> None:
        drawn.set_title({"name": title, "name_font": {"size": 12, "bold": True}})
        drawn.set_x_axis({"name": x})
        y_axis: dict[str, Any] = {"name": y}
        if y_kind:
            y_axis["num_format"] = _axis_format(y_kind)
        drawn.set_y_axis(y_axis)

    def _point_fills(self, table: Table, key: str | None, n: int) -> list[dict[str, Any]] | None:
        if key is None:
            return None
        colours = _colour_map(r.get(key) for r in table.rows)
        return [{"fill": {"color": colours[_colour_key(r.get(key))]}} for r in table.rows[:n]]

    def _bars(
        self, sheet: _Sheet, topic: Topic, chart: Chart, block: _Block, row: int
    ) -> tuple[Any, int]:
        horizontal = chart.kind == "bars"
        cat, val = (chart.y, chart.x) if horizontal else (chart.x, chart.y)
        if cat is None or val is None:
            return None, row
        table = topic.table
        n = min(block.n, MAX_CATEGORIES)
        drawn = self.wb.add_chart({"type": "bar" if horizontal else "column"})
        vcol = table.column(val)
        series: dict[str, Any] = {
            "name": [sheet.name, block.top, block.cols[val]],
            "categories": block.rng(cat, MAX_CATEGORIES),
            "values": block.rng(val, MAX_CATEGORIES),
            "fill": {"color": PALETTE[0]},
            "gap": 60,
        }
        points = self._point_fills(table, chart.color, n)
        if points:
            series["points"] = points
        if chart.target:
            series["overlap"] = 100
        drawn.add_series(series)
        if chart.target:
            drawn.add_series(
                {
                    "name": [sheet.name, block.top, block.cols[chart.target]],
                    "categories": block.rng(cat, MAX_CATEGORIES),
                    "values": block.rng(chart.target, MAX_CATEGORIES),
                    "fill": {"none": True},
                    "border": {"color": "#000000", "width": 1.75},
                }
            )
        value_axis: dict[str, Any] = {
            "name": vcol.title,
            "num_format": _axis_format(vcol.kind),
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
        if chart.domain is not None:
            value_axis.update(min=chart.domain[0], max=chart.domain[1])
        cat_axis: dict[str, Any] = {"name": table.column(cat).title}
        drawn.set_title({"name": topic.title, "name_font": {"size": 12, "bold": True}})
        if horizontal:
            # The first row on top, as in the table.
            # The value axis crosses at the last category, at the bottom once reversed.
            cat_axis.update(reverse=True, crossing="max")
            drawn.set_x_axis(value_axis)
            drawn.set_y_axis(cat_axis)
        else:
            drawn.set_x_axis(cat_axis)
            drawn.set_y_axis(value_axis)
        drawn.set_legend({"position": "bottom"} if chart.target else {"none": True})
        height = max(300, 28 * n + 120) if horizontal else 360
        drawn.set_size({"width": 640, "height": height})
        return drawn, row

    def _line(
        self, sheet: _Sheet, topic: Topic, chart: Chart, block: _Block, row: int
    ) -> tuple[Any, int]:
        if chart.x is None or chart.y is None:
            return None, row
        table = topic.table
        xcol, ycol = table.column(chart.x), table.column(chart.y)
        drawn = self.wb.add_chart({"type": "line"})
        if chart.color is None:
            drawn.add_series(
                {
                    "name": [sheet.name, block.top, block.cols[chart.y]],
                    "categories": block.rng(chart.x, MAX_CATEGORIES),
                    "values": block.rng(chart.y, MAX_CATEGORIES),
                    "marker": {"type": "circle"},
                }
            )
        else:
            # One series per colour value: the long table turned into x × colour.
            ccol = table.column(chart.color)
            xs, colours, cells = _pivot(table.rows, chart.x, chart.color)
            xs, colours = xs[:MAX_CATEGORIES], colours[:MAX_SERIES]
            self.caption(sheet, row, self.ui.get("chart", ""))
            top = row + 1
            self.header(sheet, top, 0, xcol.title)
            for j, cv in enumerate(colours, start=1):
                self.header(sheet, top, j, self.shown(cv, ccol.kind))
            for i, xv in enumerate(xs, start=top + 1):
                self.put(sheet, i, 0, xv, xcol.kind)
                for j, cv in enumerate(colours, start=1):
                    src = cells.get((xv, cv))
                    self.put(sheet, i, j, None if src is None else src.get(chart.y), ycol.kind)
            for j in range(1, len(colours) + 1):
                drawn.add_series(
                    {
                        "name": [sheet.name, top, j],
                        "categories": [sheet.name, top + 1, 0, top + len(xs), 0],
                        "values": [sheet.name, top + 1, j, top + len(xs), j],
                        "marker": {"type": "circle"},
                        "line": {"color": PALETTE[(j - 1) % len(PALETTE)], "width": 2.25},
                    }
                )
            row = top + len(xs) + 2
        self._titles(drawn, topic.title, xcol.title, ycol.title, ycol.kind)
        if chart.domain is not None:
            drawn.set_y_axis(
                {
                    "name": ycol.title,
                    "num_format": _axis_format(ycol.kind),
                    "min": chart.domain[0],
                    "max": chart.domain[1],
                }
            )
        drawn.set_legend({"position": "bottom"} if chart.color else {"none": True})
        drawn.set_size({"width": 640, "height": 360})
        return drawn, row

    def _split_by_colour(
        self, sheet: _Sheet, topic: Topic, chart: Chart, block: _Block, row: int
    ) -> tuple[list[tuple[list[Any], list[Any], list[Any]]], int]:
        """Scatter series (name, x, y) per colour value. Excel colours a scatter's markers
        per series, so with `color` the y values are spread over one column per colour
        value below the table (formulas pointing at the table), rows aligned with it."""
        assert chart.x is not None and chart.y is not None
        xs = block.rng(chart.x, None)
        if chart.color is None:
            name = [sheet.name, block.top, block.cols[chart.y]]
            return [(name, xs, block.rng(chart.y))], row
        table = topic.table
        ycol, ccol = table.column(chart.y), table.column(chart.color)
        colours = list(dict.fromkeys(_colour_key(r.get(chart.color)) for r in table.rows))
        colours = colours[:MAX_SERIES]
        self.caption(sheet, row, self.ui.get("chart", ""))
        top = row + 1
        ycell = block.cols[chart.y]
        out = []
        for j, cv in enumerate(colours):
            self.header(sheet, top, j, self.shown(cv, ccol.kind) or self.ui.get("na", ""))
            for i, r in enumerate(table.rows):
                value = r.get(chart.y)
                if _colour_key(r.get(chart.color)) == cv and not _missing(value):
                    src = xl_rowcol_to_cell(block.first() + i, ycell)
                    sheet.ws.write_formula(top + 1 + i, j, f"={src}", self.fmt(ycol.kind), value)
                    self.size(sheet, j, self.shown(value, ycol.kind))
                else:
                    sheet.ws.write_blank(top + 1 + i, j, None, self.fmt(ycol.kind))
            out.append(([sheet.name, top, j], xs, [sheet.name, top + 1, j, top + block.n, j]))
        return out, top + block.n + 2

    def _labels(self, table: Table, key: str | None) -> dict[str, Any] | None:
        if key is None or len(table.rows) > MAX_LABELS:
            return None
        # Text, not a link to the cell: LibreOffice shows a linked label as the value.
        kind = table.column(key).kind
        custom = [{"value": self.shown(r.get(key), kind) or " "} for r in table.rows]
        return {"value": True, "custom": custom, "position": "right", "font": {"size": 8}}

    def _scatter_axes(
        self, drawn: Any, topic: Topic, chart: Chart, bounds: tuple[_Axis, _Axis]
    ) -> None:
        assert chart.x is not None and chart.y is not None
        xcol, ycol = topic.table.column(chart.x), topic.table.column(chart.y)
        drawn.set_title({"name": topic.title, "name_font": {"size": 12, "bold": True}})
        grid = {"visible": True, "line": {"color": "#E7E6E6"}}
        drawn.set_x_axis(
            {
                "name": xcol.title,
                **_axis_range(bounds[0], xcol.kind),
                "major_gridlines": grid,
            }
        )
        drawn.set_y_axis(
            {
                "name": ycol.title,
                **_axis_range(bounds[1], ycol.kind),
                "major_gridlines": grid,
            }
        )
        drawn.set_legend({"position": "bottom"})
        drawn.set_size({"width": 720, "height": 440})

    def _points(
        self, sheet: _Sheet, topic: Topic, chart: Chart, block: _Block, row: int, drawn: Any
    ) -> int:
        series, row = self._split_by_colour(sheet, topic, chart, block, row)
        for k, (name, xs, ys) in enumerate(series):
            spec: dict[str, Any] = {
                "name": name,
                "categories": xs,
                "values": ys,
                "line": {"none": True},
                "marker": {
                    "type": "circle",
                    "size": 7,
                    "fill": {"color": PALETTE[k % len(PALETTE)]},
                    "border": {"color": PALETTE[k % len(PALETTE)]},
                },
            }
            labels = self._labels(topic.table, chart.label)
            if labels:
                spec["data_labels"] = labels
            drawn.add_series(spec)
        return row

    def _funnel(
        self, sheet: _Sheet, topic: Topic, chart: Chart, block: _Block, row: int
    ) -> tuple[Any, int]:
        if chart.x is None or chart.y is None:
            return None, row
        drawn = self.wb.add_chart({"type": "scatter", "subtype": "straight"})
        row = self._points(sheet, topic, chart, block, row, drawn)
        table = topic.table
        xs = _numbers(r.get(chart.x) for r in table.rows)
        ys = _numbers(r.get(chart.y) for r in table.rows)
        if chart.lines is not None and chart.lines.rows and "n" in chart.lines.rows[0]:
            self.caption(sheet, row, self.ui.get("chart", ""))
            lines = self.table(sheet, row + 1, chart.lines)
            styles = {
                "center": {"color": "#404040", "width": 1.5},
                "low95": {"color": "#7F7F7F", "width": 1, "dash_type": "dash"},
                "high95": {"color": "#7F7F7F", "width": 1, "dash_type": "dash"},
                "low998": {"color": "#7F7F7F", "width": 1, "dash_type": "round_dot"},
                "high998": {"color": "#7F7F7F", "width": 1, "dash_type": "round_dot"},
            }
            for key, line in styles.items():
                if key not in lines.cols:
                    continue
                drawn.add_series(
                    {
                        "name": [sheet.name, lines.top, lines.cols[key]],
                        "categories": lines.rng("n"),
                        "values": lines.rng(key),
                        "line": line,
                        "marker": {"type": "none"},
                    }
                )
            xs += _numbers(r.get("n") for r in chart.lines.rows)
            ys += _numbers(r.get(k) for r in chart.lines.rows for k in styles)
            row = lines.last() + 2
        self._scatter_axes(drawn, topic, chart, _bounds(xs, ys, chart, zero_x=True))
        return drawn, row

    def _scatter(
        self, sheet: _Sheet, topic: Topic, chart: Chart, block: _Block, row: int
    ) -> tuple[Any, int]:
        if chart.x is None or chart.y is None:
            return None, row
        drawn = self.wb.add_chart({"type": "scatter"})
        row = self._points(sheet, topic, chart, block, row, drawn)
        table = topic.table
        xs = _numbers(r.get(chart.x) for r in table.rows)
        ys = _numbers(r.get(chart.y) for r in table.rows)
        xs += [chart.x_ref] if chart.x_ref is not None else []
        ys += [chart.y_ref] if chart.y_ref is not None else []
        bounds = _bounds(xs, ys, chart)
        (x0, x1, _), (y0, y1, _) = bounds
        rules = []
        if chart.x_ref is not None:
            rules.append(((chart.x_ref, y0), (chart.x_ref, y1)))
        if chart.y_ref is not None:
            rules.append(((x0, chart.y_ref), (x1, chart.y_ref)))
        if rules:
            # The reference rules: two-point lines, their ends written below the table.
            xcol, ycol = table.column(chart.x), table.column(chart.y)
            self.caption(sheet, row, self.ui.get("chart", ""))
            top = row + 1
            self.header(sheet, top, 0, xcol.title)
            self.header(sheet, top, 1, ycol.title)
            r = top + 1
            for a, b in rules:
                for px, py in (a, b):
                    self.put(sheet, r, 0, px, xcol.kind)
                    self.put(sheet, r, 1, py, ycol.kind)
                    r += 1
                drawn.add_series(
                    {
                        "categories": [sheet.name, r - 2, 0, r - 1, 0],
                        "values": [sheet.name, r - 2, 1, r - 1, 1],
                        "line": {"color": "#7F7F7F", "width": 1, "dash_type": "dash"},
                        "marker": {"type": "none"},
                    }
                )
            # Rules are not data: keep them out of the legend.
            first_rule = len(drawn.series) - len(rules)
            self._scatter_axes(drawn, topic, chart, bounds)
            drawn.set_legend(
                {"position": "bottom", "delete_series": list(range(first_rule, len(drawn.series)))}
            )
            return drawn, r + 1
        self._scatter_axes(drawn, topic, chart, bounds)
        return drawn, row

    def _interval(
        self, sheet: _Sheet, topic: Topic, chart: Chart, block: _Block, row: int
    ) -> tuple[Any, int]:
        if chart.x is None or chart.y is None:
            return None, row
        table = topic.table
        xcol, ycol = table.column(chart.x), table.column(chart.y)
        n = min(block.n, MAX_CATEGORIES)
        drawn = self.wb.add_chart({"type": "bar"})
        series: dict[str, Any] = {
            "name": [sheet.name, block.top, block.cols[chart.x]],
            "categories": block.rng(chart.y, MAX_CATEGORIES),
            "values": block.rng(chart.x, MAX_CATEGORIES),
            "fill": {"color": PALETTE[0]},
            "gap": 120,
        }
        points = self._point_fills(table, chart.color, n)
        if points:
            series["points"] = points
        if chart.low and chart.high:
            # Error bars take distances from the bar's end: formulas over the table's cells.
            low, high = table.column(chart.low), table.column(chart.high)
            self.caption(sheet, row, self.ui.get("chart", ""))
            top = row + 1
            self.header(sheet, top, 0, f"{xcol.title} − {low.title}")
            self.header(sheet, top, 1, f"{high.title} − {xcol.title}")
            xc, lc, hc = block.cols[chart.x], block.cols[chart.low], block.cols[chart.high]
            # Distances are not signed changes: three decimals, no sign.
            fmt = self.fmt("score" if xcol.kind == "change" else xcol.kind)
            for i, r in enumerate(table.rows[:n]):
                src = block.first() + i
                x, lo, hi = r.get(chart.x), r.get(chart.low), r.get(chart.high)
                pairs: tuple[tuple[Any, Any, int, int], ...] = ((x, lo, xc, lc), (hi, x, hc, xc))
                for j, (a, b, ca, cb) in enumerate(pairs):
                    if _missing(a) or _missing(b):
                        sheet.ws.write_blank(top + 1 + i, j, None, fmt)
                        continue
                    cell_a, cell_b = xl_rowcol_to_cell(src, ca), xl_rowcol_to_cell(src, cb)
                    sheet.ws.write_formula(top + 1 + i, j, f"={cell_a}-{cell_b}", fmt, a - b)
                    self.size(sheet, j, self.shown(a - b, "score"))
            minus = f"={sheet.ref(top + 1, 0)}:{xl_rowcol_to_cell(top + n, 0, True, True)}"
            plus = f"={sheet.ref(top + 1, 1)}:{xl_rowcol_to_cell(top + n, 1, True, True)}"
            series["y_error_bars"] = {
                "type": "custom",
                "minus_values": minus,
                "plus_values": plus,
                "end_style": 1,
                "line": {"color": "#000000", "width": 1.25},
            }
            row = top + n + 2
        drawn.add_series(series)
        drawn.set_title({"name": topic.title, "name_font": {"size": 12, "bold": True}})
        # Excel scales the axis to the bars only: the whiskers and the rule at 0 need room.
        keys = [k for k in (chart.x, chart.low, chart.high) if k]
        reach = _numbers(r.get(k) for r in table.rows[:n] for k in keys)
        drawn.set_x_axis(
            {
                "name": xcol.title,
                **_axis_range(_nice_axis([*reach, 0.0]), xcol.kind),
                "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
            }
        )
        drawn.set_y_axis(
            {"name": ycol.title, "reverse": True, "crossing": "max", "label_position": "low"}
        )
        drawn.set_legend({"none": True})
        drawn.set_size({"width": 640, "height": max(300, 32 * n + 120)})
        return drawn, row

    # ---- cards ----------------------------------------------------------------------

    def _card_chart(self, sheet: _Sheet, topic: Topic, block: _Block, title_row: int) -> None:
        """The topic's chart, small, beside its table within the rows kept for it."""
        assert topic.chart is not None
        drawn, _ = self._chart(sheet, topic, block, block.last() + 1)
        if drawn is None:
            return
        rows = _topic_height(topic, True) - 1
        drawn.set_size({"width": 480, "height": rows * 20 - 6})
        drawn.set_title({"name": topic.title, "name_font": {"size": 10, "bold": True}})
        col = max(block.cols.values()) + 2
        sheet.ws.insert_chart(title_row, col, drawn, {"x_offset": 5, "y_offset": 3})

    def _card_layout(self, sheet: _Sheet, cards: Sequence[Card]) -> list[int]:
        """The first row of each card's block, known before anything is written so the
        topics' tables can link to the cards."""
        rows = []
        row = 0
        charts = len(cards) <= CARDS_WITH_CHARTS
        for card in cards:
            rows.append(row)
            self.cards.setdefault((card.level, str(card.key)), sheet.ref(row, 0))
            row += _card_height(card, charts) + 2
        return rows

    def _card_sheet(
        self, sheet: _Sheet, cards: Sequence[Card], rows: Sequence[int], summary: _Sheet
    ) -> None:
        ws = sheet.ws
        back = self.ui.get("back") or self.ui.get("contents") or "<"
        charts = len(cards) <= CARDS_WITH_CHARTS
        for card, row in zip(cards, rows, strict=True):
            ws.write_string(row, 0, card.title, self.title_fmt)
            ws.write_url(row + 1, 0, f"internal:{summary.ref(0, 0)}", self.link_fmt, back)
            r = row + 2
            for label, value, kind in card.facts:
                ws.write_string(r, 0, str(label), self.bold)
                self.size(sheet, 0, str(label))
                self.put(sheet, r, 1, value, kind)
                r += 1
            for topic in card.topics:
                title = r + 1  # after a blank row
                ws.write_string(title, 0, topic.title, self.bold)
                if topic.note:
                    ws.write_string(title + 1, 0, topic.note, self.note_fmt)
                block = self.table(sheet, title + 2, topic.table)
                if charts and _small_chart(topic):
                    self._card_chart(sheet, topic, block, title)
                r += _topic_height(topic, charts)
            assert r == row + _card_height(card, charts), "the layout counts the rows written"
        # A page per card when printed.
        breaks = [row for row in rows[1:] if row < 1_048_576]
        if breaks:
            ws.set_h_pagebreaks(breaks[:1023])


def _card_height(card: Card, charts: bool) -> int:
    """Rows a card's block takes: title, back link, facts, then its topics."""
    return 2 + len(card.facts) + sum(_topic_height(t, charts) for t in card.topics)


def _small_chart(topic: Topic) -> bool:
    """A card's chart is drawn when it needs no helper range below its table (the card's
    rows are counted before anything is written)."""
    chart = topic.chart
    if chart is None or not topic.table.rows or topic.pivot is not None:
        return False
    return chart.kind in ("bars", "columns") or (chart.kind == "line" and chart.color is None)


def _topic_height(topic: Topic, charts: bool) -> int:
    """A blank row, the title, the note row, the header and the rows; at least
    `CARD_CHART_ROWS` when a small chart stands beside the table (`charts`)."""
    rows = 4 + len(topic.table.rows)
    return max(rows, CARD_CHART_ROWS) if charts and _small_chart(topic) else rows


def _pivot(
    rows: Sequence[dict[str, Any]], rkey: str, ckey: str
) -> tuple[list[Any], list[Any], dict[tuple[Any, Any], dict[str, Any]]]:
    """The distinct values of two keys, in order of appearance, and the row at each pair."""
    rvals = list(dict.fromkeys(r.get(rkey) for r in rows))
    cvals = list(dict.fromkeys(r.get(ckey) for r in rows))
    cells = {(r.get(rkey), r.get(ckey)): r for r in rows}
    return rvals, cvals, cells


def _colour_key(value: Any) -> Any:
    return None if _missing(value) else value


def _colour_map(values: Iterable[Any]) -> dict[Any, str]:
    distinct = dict.fromkeys(_colour_key(v) for v in values)
    return {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(distinct)}


def _numbers(values: Iterable[Any]) -> list[float]:
    return [float(v) for v in values if _is_number(v) and math.isfinite(float(v))]


def _domain(chart: Chart | None, column: Column) -> tuple[float | None, float | None]:
    if chart is not None and chart.domain is not None:
        return chart.domain
    if column.kind == "share":
        return 0.0, 1.0
    return None, None


def _bounds(
    xs: list[float], ys: list[float], chart: Chart, *, zero_x: bool = False
) -> tuple[_Axis, _Axis]:
    """Axis limits around the points, on round steps, so reference lines span the plot."""
    if chart.domain is not None:
        ys = [*ys, *chart.domain]
    return _nice_axis([*xs, 0.0] if zero_x else xs), _nice_axis(ys)


_Axis = tuple[float, float, float]  # min, max, major unit


def _nice_axis(values: Sequence[float]) -> _Axis:
    """Limits on multiples of a round step (1, 2 or 5 × 10^k), about five steps."""
    if not values:
        return 0.0, 1.0, 0.2
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - (abs(lo) or 1.0) * 0.1, hi + (abs(hi) or 1.0) * 0.1
    raw = (hi - lo) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    first = math.floor(lo / step + 1e-9) * step
    last = math.ceil(hi / step - 1e-9) * step
    return round(first, 12), round(last, 12), round(step, 12)


def _axis_range(axis: _Axis, kind: str) -> dict[str, Any]:
    """An axis's limits and a number format with the decimals its step needs."""
    lo, hi, step = axis
    digits = max(0, -math.floor(math.log10(step * (100 if kind == "share" else 1)) + 1e-9))
    decimals = "." + "0" * digits if digits else ""
    number = {
        "share": f"0{decimals}%",
        "change": f"+0{decimals};-0{decimals};0",
        "count": "#,##0",
        "money": "#,##0",
    }.get(kind, f"0{decimals}")
    return {"min": lo, "max": hi, "major_unit": step, "num_format": number}


def _axis_format(kind: str) -> str:
    return {"share": "0%", "score": "0.00", "change": "+0.00;-0.00;0", "p": "0.0000"}.get(
        kind, NUM_FORMATS.get(kind, "General")
    )


def _range(r1: int, c1: int, r2: int, c2: int) -> str:
    a = xl_rowcol_to_cell(r1, c1)
    return a if (r1, c1) == (r2, c2) else f"{a}:{xl_rowcol_to_cell(r2, c2)}"


def _wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes wrapped at word boundaries in `width` characters."""
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > width:
            lines, used = lines + 1, len(word)
        else:
            used += len(word) + (1 if used else 0)
    return lines
