"""How many marks each chart of a report draws, as its data says: the HTML tests
count them in the scenegraph vl-convert computes, the browser tests in the page."""

from __future__ import annotations

import math
from typing import Any

from sbm_engine.analytics.reporting.model import Chart, Table


def _finite(row: dict[str, Any], *keys: str | None) -> bool:
    return all(
        k is not None
        and isinstance(row.get(k), int | float)
        and not isinstance(row.get(k), bool)
        and math.isfinite(row[k])
        for k in keys
    )


def expected_marks(chart: Chart, table: Table) -> dict[str, int]:
    """How many items each named layer draws: a bar, cell, point or rule per row it
    can draw; a line per series."""
    rows = table.rows
    if chart.kind == "bars":
        out = {"sbm_bar": sum(_finite(r, chart.x) for r in rows)}
        if chart.target:
            out["sbm_target"] = sum(_finite(r, chart.target) for r in rows)
        return out
    if chart.kind == "columns":
        return {"sbm_bar": sum(_finite(r, chart.y) for r in rows)}
    if chart.kind == "line":
        valid = [r for r in rows if _finite(r, chart.y)]
        series = {r.get(chart.color) for r in valid} if chart.color else {None}
        return {"sbm_line": len(series), "sbm_line_point": len(valid)}
    if chart.kind == "heatmap":

        def ok(r: dict[str, Any]) -> bool:
            return _finite(r, chart.value) and (not chart.n or r.get(chart.n, 0) >= chart.min_n)

        return {"sbm_cell": sum(map(ok, rows)), "sbm_cell_few": sum(not ok(r) for r in rows)}
    if chart.kind == "funnel":
        limits = len(chart.lines.columns) - 1 if chart.lines else 0
        return {"sbm_point": sum(_finite(r, chart.x, chart.y) for r in rows), "sbm_limit": limits}
    if chart.kind == "scatter":
        return {"sbm_point": sum(_finite(r, chart.x, chart.y) for r in rows)}
    assert chart.kind == "interval"
    return {
        "sbm_range": sum(_finite(r, chart.low, chart.high) for r in rows),
        "sbm_estimate": sum(_finite(r, chart.x) for r in rows),
        "sbm_zero": 1,
    }


def count_marks(scenegraph: Any, name: str) -> int:
    """Items of the mark `{name}_marks`; a line (or area) is one item per series."""
    total = 0
    stack = [scenegraph]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("name") == f"{name}_marks" and "items" in node:
                lines = node.get("marktype") in ("line", "area", "trail")
                total += 1 if lines else len(node["items"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return total
