"""The terminal view of `sbm compare`: one line per group and measure, for people.

Scores to three decimals, changes with a sign, N/A as "—", the standard's titles
(or names with --names), and `*` marking changes that stay significant after the
Benjamini–Hochberg adjustment. Files and JSON keep every figure; this is a reading.
"""

from __future__ import annotations

from typing import Any

from ..messages import message
from .table import NA, clip, pad, text_width

TITLE_WIDTH = 40


def _num(x: float | None, sign: bool = False) -> str:
    if x is None:
        return NA
    return f"{x:+.3f}" if sign else f"{x:.3f}"


def _p(x: float | None) -> str:
    if x is None:
        return NA
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def _titles(model: Any, names: bool) -> dict[str, str]:
    if names:
        return {}
    out = {c.name: c.title or c.name for c in model.coefficients}
    out.update({i.name: i.question for i in model.items})
    return out


def render(report: dict[str, Any], model: Any, *, names: bool = False, items: bool = False) -> str:
    titles = _titles(model, names)
    head = [
        message("compare.group"),
        message("compare.measure"),
        message("compare.wave_a"),
        message("compare.wave_b"),
        message("compare.change"),
        message("compare.interval"),
        message("compare.p_adjusted"),
        message("compare.n"),
        message("compare.mde"),
    ]
    body: list[list[str]] = []
    for r in report["rows"]:
        if r["kind"] == "item" and not items:
            continue
        interval = (
            NA if r["ci_low"] is None else f"{_num(r['ci_low'], True)} … {_num(r['ci_high'], True)}"
        )
        measure = titles.get(r["measure"], r["measure"])
        if r["kind"] == "item":
            measure = "· " + measure
        body.append(
            [
                str(r["key"]),
                clip(measure, TITLE_WIDTH),
                _num(r["mean_a"]),
                _num(r["mean_b"]),
                _num(r["change"], True) + (" *" if r["significant"] else "  "),
                interval,
                _p(r["p_adjusted"]),
                f"{r['n_a']}/{r['n_b']}",
                _num(r["mde"]),
            ]
        )
    from .table import level_name

    lines = [
        message(
            "compare.heading", waves=" → ".join(report["waves"]), level=level_name(report["by"])
        )
    ]
    lines += _grid(head, body)
    lines.append(message("compare.legend"))
    lines += _effect(report, titles)
    lines += _trend(report, titles)
    chart = report.get("control_chart")
    if chart:
        lines.append(
            message("compare.p_chart", outside=len(chart["outside"]), checked=chart["checked"])
        )
    return "\n".join(lines)


def _grid(head: list[str], body: list[list[str]]) -> list[str]:
    widths = [
        max([text_width(h)] + [text_width(row[i]) for row in body]) for i, h in enumerate(head)
    ]
    right = {2, 3, 4, 6, 7, 8}

    def line(cells: list[str]) -> str:
        return "  ".join(
            pad(c, w, right=i in right) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(head), line(["─" * w for w in widths]), *(line(r) for r in body)]


def _effect(report: dict[str, Any], titles: dict[str, str]) -> list[str]:
    effect = report.get("effect")
    if not effect:
        return []
    a, b = effect["waves"]
    lines = [
        "",
        message(
            "compare.effect",
            treated=len(effect["treated"]),
            control=effect["control_groups"],
            a=a,
            b=b,
        ),
    ]
    for row in effect["coefficients"]:
        lines.append(
            f"  {clip(titles.get(row['measure'], row['measure']), TITLE_WIDTH)}: "
            f"{_num(row['effect'], True)} ({_num(row['ci_low'], True)} … "
            f"{_num(row['ci_high'], True)}){' *' if row['significant'] else ''}"
        )
    if effect["missing"]:
        lines.append(message("compare.effect_missing", measures=", ".join(effect["missing"])))
    return lines


def _trend(report: dict[str, Any], titles: dict[str, str]) -> list[str]:
    rising = [t for t in report.get("trend", []) if t["p"] is not None and t["p"] < 0.05]
    if not report.get("trend"):
        return []
    lines = ["", message("compare.trends", waves=len(report["waves"]), count=len(rising))]
    for t in rising[:20]:
        lines.append(
            message(
                "compare.trend",
                key=t["key"],
                measure=clip(titles.get(t["measure"], t["measure"]), TITLE_WIDTH),
                slope=_num(t["slope"], True),
                p=_p(t["p"]),
            )
        )
    return lines
