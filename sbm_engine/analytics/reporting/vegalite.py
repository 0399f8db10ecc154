"""Vega-Lite v5 specs of a report's charts, one function per chart kind (`CHART_KINDS`).

Each takes (Chart, Table, Report) and returns a spec with its data inlined. The rows
are rewritten with neutral field names (`v0`, `v1`, … the raw values; `t0`, `t1`, …
their text from `formats`), so a column key with a dot, a bracket or a space cannot
be misread as a nested field, and tooltips show exactly what the table shows. Axis
and legend titles are the columns' titles; no key is ever visible.

Every layer that draws the data has a `name` (see `MARKS`), which Vega turns into the
mark's name `{name}_marks`: tests count the drawn items by it in the scenegraph and
in the browser's SVG (`g.{name}_marks`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from sbm_engine.analytics.reporting.formats import format_value, separators
from sbm_engine.analytics.reporting.model import Chart, Column, Report, Table

#: The Vega-Lite version the specs are written for: tests compile them with it.
VL_VERSION = "5.21"
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"

#: The layer names of the data marks, by chart kind: what a test counts.
MARKS: dict[str, tuple[str, ...]] = {
    "bars": ("sbm_bar", "sbm_target"),
    "columns": ("sbm_bar",),
    "line": ("sbm_line", "sbm_line_point"),
    "heatmap": ("sbm_cell", "sbm_cell_few"),
    "funnel": ("sbm_point", "sbm_limit"),
    "scatter": ("sbm_point",),
    "interval": ("sbm_range", "sbm_estimate", "sbm_zero"),
}

Spec = dict[str, Any]

WIDTH = 560
STEP = 22  # px per bar or heat-map row: large charts grow instead of squeezing
CELL = 30  # px per heat-map column; the page lets a wide chart scroll
GREY = "#c8c8c8"
BLUE = "#4c78a8"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

#: d3 formats of axis and legend labels by column kind; tooltips use `formats`.
_AXIS_FORMAT = {"share": ".0%", "money": ",.0f", "count": ",d", "score": ".2f", "change": "+.2f"}


def spec(chart: Chart, table: Table, report: Report) -> Spec:
    """The Vega-Lite spec of `chart` drawing `table`."""
    try:
        build = _KINDS[chart.kind]
    except KeyError:
        raise ValueError(f"unknown chart kind {chart.kind!r}") from None
    return build(chart, table, report)


def format_locale(lang: str) -> dict[str, Any]:
    """The d3 number locale of a language (decimal comma and no-break space for
    Russian, as `formats` writes them); a plain hyphen for minus, as in the tables."""
    dec, thousands = separators(lang)
    return {
        "decimal": dec,
        "thousands": thousands,
        "grouping": [3],
        "currency": ["", ""],
        "minus": "-",
    }


# ---- the data ------------------------------------------------------------------------------


class _Fields:
    """The neutral field names of a table's columns and the rows rewritten with them."""

    def __init__(self, table: Table, report: Report) -> None:
        self.table = table
        self.index = {c.key: i for i, c in enumerate(table.columns)}
        self.rows = [
            {
                **{f"v{i}": _plain(row.get(c.key)) for i, c in enumerate(table.columns)},
                **{
                    f"t{i}": format_value(row.get(c.key), c.kind, report.lang, report.ui)
                    for i, c in enumerate(table.columns)
                },
            }
            for row in table.rows
        ]

    def column(self, key: str | None) -> Column:
        if key is None:
            raise ValueError("the chart names no column for a role its kind needs")
        return self.table.column(key)

    def value(self, key: str | None) -> str:
        return f"v{self.index[self.column(key).key]}"

    def text(self, key: str | None) -> str:
        return f"t{self.index[self.column(key).key]}"

    def tooltip(self) -> list[dict[str, str]]:
        return [{"field": f"t{i}", "title": c.title} for i, c in enumerate(self.table.columns)]

    def quantitative(self, key: str | None, **extra: Any) -> dict[str, Any]:
        col = self.column(key)
        enc: dict[str, Any] = {"field": self.value(key), "type": "quantitative", "title": col.title}
        fmt = _AXIS_FORMAT.get(col.kind)
        if fmt:
            enc["axis"] = {"format": fmt}
        if col.kind == "count":  # no tick between two whole numbers of visits
            enc["axis"] = {**enc.get("axis", {}), "tickMinStep": 1}
        enc.update(extra)
        return enc

    def category(self, key: str | None, **extra: Any) -> dict[str, Any]:
        """A discrete channel in the table's order, labelled by the formatted text."""
        col, field = self.column(key), self.text(key)
        # the table's order, explicitly: layers filter rows differently, and a union of
        # their domains in order of appearance would shuffle the categories
        order = list(dict.fromkeys(r[field] for r in self.rows))
        enc: dict[str, Any] = {"field": field, "type": "nominal", "title": col.title, "sort": order}
        enc.update(extra)
        return enc

    def color(self, key: str | None) -> dict[str, Any]:
        if key is None:
            return {}
        return {"color": self.category(key, legend={"orient": "bottom", "direction": "horizontal"})}


def _plain(value: Any) -> Any:
    """A JSON-safe raw value; NaN and infinities are missing values."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _base(fields: _Fields, **extra: Any) -> Spec:
    out: Spec = {
        "$schema": SCHEMA,
        "data": {"values": fields.rows},
        "config": {
            "font": FONT,
            "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "labelLimit": 260},
            "legend": {"labelFontSize": 11, "titleFontSize": 12, "labelLimit": 260},
        },
    }
    out.update(extra)
    return out


def _notnull(field: str) -> dict[str, str]:
    return {"filter": f"isValid(datum[{field!r}]) && isFinite(datum[{field!r}])"}


def _scale(chart: Chart, **extra: Any) -> dict[str, Any]:
    scale: dict[str, Any] = dict(extra)
    if chart.domain is not None:
        scale["domain"] = list(chart.domain)
    return scale


# ---- the kinds -----------------------------------------------------------------------------


def bars(chart: Chart, table: Table, report: Report) -> Spec:
    """Horizontal bars: a bar per row with a value; a tick at `target` where set."""
    f = _Fields(table, report)
    # no title on the axis of long labels: it would overlap them (the table names it)
    y = f.category(chart.y, axis={"labelLimit": 260}, title=None)
    layers: list[Spec] = [
        {
            "name": "sbm_bar",
            "transform": [_notnull(f.value(chart.x))],
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "y": y,
                "x": f.quantitative(chart.x, scale=_scale(chart, zero=True)),
                "tooltip": f.tooltip(),
                **(f.color(chart.color) or {"color": {"value": BLUE}}),
            },
        }
    ]
    if chart.target is not None:
        layers.append(
            {
                "name": "sbm_target",
                "transform": [_notnull(f.value(chart.target))],
                "mark": {"type": "tick", "color": "#222", "thickness": 2, "tooltip": True},
                "encoding": {
                    "y": y,
                    "x": {"field": f.value(chart.target), "type": "quantitative"},
                    "tooltip": f.tooltip(),
                },
            }
        )
    return _base(f, width=WIDTH, height={"step": STEP}, layer=layers)


def columns(chart: Chart, table: Table, report: Report) -> Spec:
    """Vertical bars: a column per category."""
    f = _Fields(table, report)
    layer: Spec = {
        "name": "sbm_bar",
        "transform": [_notnull(f.value(chart.y))],
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": f.category(chart.x, axis={"labelAngle": -30, "labelLimit": 160}),
            "y": f.quantitative(chart.y, scale=_scale(chart, zero=True)),
            "tooltip": f.tooltip(),
            **(f.color(chart.color) or {"color": {"value": BLUE}}),
        },
    }
    return _base(f, width={"step": max(STEP * 2, 48)}, height=260, layer=[layer])


def line(chart: Chart, table: Table, report: Report) -> Spec:
    """A line per series (`color`) over the ordinal `x`, with a point per value."""
    f = _Fields(table, report)
    enc: dict[str, Any] = {
        "x": f.category(chart.x, type="ordinal", axis={"labelAngle": 0}),
        "y": f.quantitative(chart.y, scale=_scale(chart, zero=False)),
        **f.color(chart.color),
    }
    valid = _notnull(f.value(chart.y))
    layers: list[Spec] = [
        {
            "name": "sbm_line",
            "transform": [valid],
            "mark": {"type": "line", "tooltip": True},
            # a line's tooltip shows its series only: its points carry the values
            "encoding": {
                **enc,
                "tooltip": (
                    [{"field": f.text(chart.color), "title": f.column(chart.color).title}]
                    if chart.color
                    else [{"field": f.text(chart.y), "title": f.column(chart.y).title}]
                ),
            },
        },
        {
            "name": "sbm_line_point",
            "transform": [valid],
            "mark": {"type": "point", "filled": True, "size": 50, "tooltip": True},
            "encoding": {**enc, "tooltip": f.tooltip()},
        },
    ]
    return _base(f, width=WIDTH, height=280, layer=layers)


def heatmap(chart: Chart, table: Table, report: Report) -> Spec:
    """A cell per row; cells with `n` below `min_n` or no value are grey, explained by
    a legend reading `ui["too_few"]`. Cells are a fixed size: a chart of many points
    is wide and scrolls in its container."""
    f = _Fields(table, report)
    value, n = f.value(chart.value), f.value(chart.n) if chart.n else None
    ok = f"isValid(datum[{value!r}]) && isFinite(datum[{value!r}])"
    if n is not None and chart.min_n > 0:
        ok += f" && isValid(datum[{n!r}]) && datum[{n!r}] >= {chart.min_n}"
    xy = {
        "x": f.category(chart.x, axis={"labelAngle": -60, "labelLimit": 140, "orient": "top"}),
        "y": f.category(chart.y, axis={"labelLimit": 260}, title=None),
        "tooltip": f.tooltip(),
    }
    value_col = f.column(chart.value)
    domain = list(chart.domain) if chart.domain else [0, 1]
    layers: list[Spec] = [
        {
            "name": "sbm_cell",
            "transform": [{"filter": ok}],
            "mark": {"type": "rect", "tooltip": True, "stroke": "#fff", "strokeWidth": 1},
            "encoding": {
                **xy,
                "color": {
                    "field": value,
                    "type": "quantitative",
                    "title": value_col.title,
                    "scale": {"scheme": "redyellowgreen", "domain": domain},
                    "legend": {
                        "format": _AXIS_FORMAT.get(value_col.kind, ""),
                        "orient": "bottom",
                        "direction": "horizontal",
                    },
                },
            },
        },
        {
            "name": "sbm_cell_few",
            "transform": [
                {"filter": f"!({ok})"},
                {
                    "calculate": json.dumps(report.ui.get("too_few", f"n < {chart.min_n}")),
                    "as": "few",
                },
            ],
            "mark": {"type": "rect", "tooltip": True, "stroke": "#fff", "strokeWidth": 1},
            "encoding": {
                **xy,
                "color": {
                    "field": "few",
                    "type": "nominal",
                    "title": None,
                    "scale": {"range": [GREY]},
                    "legend": {"orient": "bottom"},
                },
            },
        },
    ]
    return _base(
        f,
        width={"step": CELL},
        height={"step": STEP},
        layer=layers,
        resolve={"scale": {"color": "independent"}, "legend": {"color": "independent"}},
    )


def funnel(chart: Chart, table: Table, report: Report) -> Spec:
    """A point per row (`x` visits, `y` value, coloured by `color`) over the control
    limits of `chart.lines`: the centre line solid, 95 % dashed, 99.8 % dotted."""
    f = _Fields(table, report)
    x, y = f.quantitative(chart.x), f.quantitative(chart.y, scale=_scale(chart, zero=False))
    layers: list[Spec] = []
    if chart.lines is not None and chart.lines.rows:
        lines = chart.lines
        limits = [c for c in lines.columns if c.key != "n"]
        dash = {"center": [1, 0], "low95": [6, 3], "high95": [6, 3]}
        rows = [
            {"n": r.get("n"), "y": _plain(r.get(c.key)), "s": c.title, "k": c.key}
            for c in limits
            for r in lines.rows
            if r.get(c.key) is not None
        ]
        layers.append(
            {
                "name": "sbm_limit",
                "data": {"values": rows},
                "mark": {"type": "line", "color": "#888", "strokeWidth": 1.2, "tooltip": True},
                "encoding": {
                    "x": {"field": "n", "type": "quantitative", "title": x["title"]},
                    "y": {"field": "y", "type": "quantitative"},
                    "detail": {"field": "k", "type": "nominal"},
                    "strokeDash": {
                        "field": "s",
                        "type": "nominal",
                        "title": None,
                        "sort": None,
                        "scale": {
                            "domain": [c.title for c in limits],
                            "range": [dash.get(c.key, [2, 2]) for c in limits],
                        },
                        "legend": {"orient": "bottom", "direction": "horizontal"},
                    },
                    "tooltip": [{"field": "s", "title": None}],
                },
            }
        )
    layers.append(
        {
            "name": "sbm_point",
            "transform": [_notnull(f.value(chart.y)), _notnull(f.value(chart.x))],
            "mark": {"type": "point", "filled": True, "size": 60, "opacity": 0.85, "tooltip": True},
            "encoding": {
                "x": x,
                "y": y,
                "tooltip": f.tooltip(),
                **(f.color(chart.color) or {"color": {"value": BLUE}}),
            },
        }
    )
    return _base(
        f,
        width=WIDTH,
        height=340,
        layer=layers,
        resolve={"scale": {"color": "independent"}},
    )


def scatter(chart: Chart, table: Table, report: Report) -> Spec:
    """A point per row, labelled by `label` while there are few; rules at the
    references `x_ref`, `y_ref`."""
    f = _Fields(table, report)
    enc = {
        "x": f.quantitative(chart.x, scale={"zero": False}),
        "y": f.quantitative(chart.y, scale=_scale(chart, zero=False)),
    }
    valid = [_notnull(f.value(chart.x)), _notnull(f.value(chart.y))]
    layers: list[Spec] = []
    for ref, channel in ((chart.x_ref, "x"), (chart.y_ref, "y")):
        if ref is not None:
            layers.append(
                {
                    "name": f"sbm_ref_{channel}",
                    "data": {"values": [{"ref": ref}]},
                    "mark": {"type": "rule", "color": "#999", "strokeDash": [4, 3]},
                    "encoding": {channel: {"field": "ref", "type": "quantitative"}},
                }
            )
    layers.append(
        {
            "name": "sbm_point",
            "transform": valid,
            "mark": {"type": "point", "filled": True, "size": 70, "tooltip": True},
            "encoding": {
                **enc,
                "tooltip": f.tooltip(),
                **(f.color(chart.color) or {"color": {"value": BLUE}}),
            },
        }
    )
    if chart.label is not None and len(table.rows) <= 30:
        layers.append(
            {
                "name": "sbm_label",
                "transform": valid,
                "mark": {"type": "text", "align": "left", "dx": 6, "fontSize": 10, "limit": 160},
                "encoding": {**enc, "text": {"field": f.text(chart.label)}},
            }
        )
    return _base(f, width=WIDTH, height=360, layer=layers)


def interval(chart: Chart, table: Table, report: Report) -> Spec:
    """An estimate per row (a point) with its interval (a rule from `low` to `high`),
    and a rule at 0."""
    f = _Fields(table, report)
    y = f.category(chart.y, axis={"labelLimit": 260}, title=None)
    x = f.quantitative(chart.x, scale=_scale(chart, zero=True))
    colour = f.color(chart.color) or {"color": {"value": BLUE}}
    layers: list[Spec] = [
        {
            "name": "sbm_zero",
            "data": {"values": [{"zero": 0}]},
            "mark": {"type": "rule", "color": "#555"},
            "encoding": {"x": {"field": "zero", "type": "quantitative"}},
        },
        {
            "name": "sbm_range",
            "transform": [_notnull(f.value(chart.low)), _notnull(f.value(chart.high))],
            "mark": {"type": "rule", "strokeWidth": 2, "tooltip": True},
            "encoding": {
                "y": y,
                "x": {"field": f.value(chart.low), "type": "quantitative"},
                "x2": {"field": f.value(chart.high)},
                "tooltip": f.tooltip(),
                **colour,
            },
        },
        {
            "name": "sbm_estimate",
            "transform": [_notnull(f.value(chart.x))],
            "mark": {"type": "point", "filled": True, "size": 70, "tooltip": True},
            "encoding": {"y": y, "x": x, "tooltip": f.tooltip(), **colour},
        },
    ]
    return _base(f, width=WIDTH, height={"step": STEP + 6}, layer=layers)


_KINDS: dict[str, Callable[[Chart, Table, Report], Spec]] = {
    "bars": bars,
    "columns": columns,
    "line": line,
    "heatmap": heatmap,
    "funnel": funnel,
    "scatter": scatter,
    "interval": interval,
}
