"""`sbm rollup`: scored visits to groups — means, targets, gaps, bands, growth zones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from .common import fail, load_standard, write_text_atomic

_NESTED = ("coefficients", "sections", "items", "bands", "gaps", "rollup_inputs")


def unflatten(row: dict[str, Any]) -> dict[str, Any]:
    """A flattened result row (`coefficients.visit`, …) back to the nested contract shape."""
    out: dict[str, Any] = {}
    flat = dict(row)
    flat.update(flat.pop("answers", None) or {})  # tabular readers put unknown columns here
    for key, value in flat.items():
        head, _, rest = key.partition(".")
        if rest and head in _NESTED:
            if isinstance(value, str) and value in ("true", "false"):  # CSV has no booleans
                value = value == "true"
            out.setdefault(head, {})[rest] = value
        elif key in ("critical", "warnings") and isinstance(value, str):
            out[key] = json.loads(value) if value else []
        else:
            out[key] = value
    return out


def read_results(paths: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    from ..io import read_visits

    for path in paths:
        for rec in read_visits(path):
            if rec.record is None:
                fail(f"{rec.source}: cannot read a result: {rec.error}")
            yield unflatten(rec.record) if Path(path).suffix != ".jsonl" else rec.record


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def render_table(report: dict[str, Any], zones: int = 3) -> str:
    groups = report["groups"]
    if not groups:
        return "no scored visits"
    coefs = list(groups[0]["coefficients"])
    rollups = list(groups[0]["rollups"])
    header = [report["by"], "visits", *coefs, *rollups]
    rows = []
    for g in groups:
        cells = [str(g["key"]), str(g["visits"])]
        for c in coefs:
            stat = g["coefficients"][c]
            cell = _fmt(stat["mean"])
            if stat["target"] is not None and stat["gap"] is not None:
                cell += f" ({stat['gap']:+.3f})"
            cells.append(cell)
        cells += [_fmt(g["rollups"][r], 1) for r in rollups]
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append("")
    lines.append(
        f"(gap to target in brackets; growth zones: the {zones} items where most points are lost)"
    )
    for g in groups:
        top = ", ".join(f"{z['item']} {z['lost_share']:.1%}" for z in g["growth_zones"][:zones])
        lines.append(f"  {g['key']}: {top or 'nothing lost'}")
    return "\n".join(lines)


def flat_rows(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for g in report["groups"]:
        row: dict[str, Any] = {"by": report["by"], "key": g["key"], "visits": g["visits"]}
        for c, stat in g["coefficients"].items():
            for k, v in stat.items():
                row[f"{c}.{k}"] = v
        for r, v in g["rollups"].items():
            row[f"rollup.{r}"] = v
        row["growth_zones"] = json.dumps(g["growth_zones"], ensure_ascii=False)
        yield row


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--by", "level", required=True, type=click.Choice(["point", "specialist", "region", "network"])
)
@click.option(
    "--standard",
    help="The standard the results were scored with (default: their `standard` id, if installed).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the roll-up: .json, .csv or .xlsx (default: a table on the terminal).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="What to print when there is no --output.",
)
def rollup(
    results: tuple[str, ...], level: str, standard: str | None, output: str | None, fmt: str
) -> None:
    """Aggregate scored visits (the output of `sbm score`) by LEVEL.

    For each group: the number of visits; each coefficient's mean over visits where
    it is not N/A, its target, gap, the share of visits meeting the target and the
    band of the mean; each `rollup` formula; and the growth zones, items ranked by
    the share of possible points lost there.

    \b
    Examples:
      sbm rollup scored.jsonl --by point
      sbm rollup scored.parquet --by region --standard branch.sbm -o regions.xlsx
      sbm rollup scored.jsonl --by network --format json
    """
    from ..io import InputError
    from ..rollup import Rollup

    try:
        rows = read_results(results)
        first = next(rows, None)
        if first is None:
            fail("no scored visits in the input")
        std = load_standard(standard or str(first.get("standard")))
        if first.get("standard") not in (None, std.id):
            fail(f"the results were scored with {first.get('standard')!r}, not {std.id!r}")
        acc = Rollup(std.model, level)
        acc.add(first)
        for row in rows:
            acc.add(row)
    except InputError as err:
        fail(str(err))
    report = acc.report()
    if output:
        out = Path(output)
        if out.suffix == ".json":
            write_text_atomic(out, json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        else:
            from ..io import OutputError, open_writer

            try:
                with open_writer(out) as w:
                    for row in flat_rows(report):
                        w.write(row)
            except OutputError as err:
                fail(str(err))
        click.echo(f"{len(report['groups'])} groups by {level} -> {out}", err=True)
    elif fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(render_table(report))
