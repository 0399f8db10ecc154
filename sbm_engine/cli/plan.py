"""`sbm plan`: the cheapest investments that reach a target, checked by simulating."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..messages import message
from .analysis import check_output, emit, output_options, refusals, standard_option
from .common import EXIT_FAILED, fail, load_standard, use_color


@click.command()
@click.argument("results", nargs=-1, required=True)
@click.option(
    "--levers",
    "levers_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The levers file (TOML): what each investment costs and which items it raises.",
)
@click.option(
    "--target",
    required=True,
    help="The coefficient and the value to reach: COEF=VALUE, or COEF for the standard's "
    "own target.",
)
@click.option(
    "--by",
    "level",
    default="point",
    show_default=True,
    type=click.Choice(["point", "region", "network"]),
    help="Plan for each point, each region or the whole network.",
)
@click.option(
    "--budget",
    type=float,
    help="The most to spend per group: the cheapest plan reaching the target within it, "
    "else the best expected value within it.",
)
@click.option(
    "--what-if",
    "what_if",
    type=click.Path(exists=True, dir_okay=False),
    help="Score this plan (JSON: levers for every group and/or per group) instead of choosing.",
)
@click.option(
    "--seed", default=2026, show_default=True, help="Seed of the simulation (and its sample)."
)
@standard_option
@output_options("the plan")
@click.option("--names", is_flag=True, help="Show lever ids, not their titles.")
def plan(
    results: tuple[str, ...],
    levers_path: str,
    target: str,
    level: str,
    budget: float | None,
    what_if: str | None,
    seed: int,
    standard: str | None,
    output: str | None,
    fmt: str,
    names: bool,
) -> None:
    """Choose, for each group of scored RESULTS, the cheapest levers whose expected
    effect lifts a coefficient to the target, and check the choice by simulation.

    Each lever of the levers file raises some items' pass rates (`adds`) or closes a
    share of their gap to a full score (`closes`), at a fixed cost, a cost per
    specialist and a cost per point of the group. The expected coefficient is the
    standard's structure applied to the raised item means (exact for weighted means);
    the choice is a mixed-integer programme (divisible levers may be bought in part).
    The simulation re-scores the group's visits with failed answers of the raised
    items turned into passes at the planned rates (200 draws, fixed seed): it shows
    what critical items and conditions do to the plan. A group that no combination
    lifts to the target is shown with the best reachable value, never dropped.

    Nothing is planned (exit 2) when the results or the levers file cannot be used;
    the levers file's problems are shown with file, line and column.

    \b
    Examples:
      sbm plan wave.jsonl --levers levers.toml --target visit=0.85
      sbm plan wave.jsonl --levers levers.toml --target visit=0.85 --by network -o plan.json
      sbm plan wave.jsonl --levers levers.toml --target visit=0.9 --budget 150000
      sbm plan wave.jsonl --levers levers.toml --target visit=0.85 --what-if plan.json
    """
    from ..analytics.levers import LeversError
    from ..analytics.planning import PlanError
    from ..analytics.planning import plan as make_plan

    check_output(output)
    for p in results:
        # a folder: the Parquet parts of `sbm score --dask` (`result_files.result_paths`)
        if not (Path(p).is_file() or Path(p).is_dir()):
            fail(message("plan.no_file", path=p))
    std = load_standard(standard) if standard else None
    try:
        with refusals(PlanError):
            doc = make_plan(
                list(results),
                levers_path,
                target,
                by=level,
                budget=budget,
                what_if=what_if,
                seed=seed,
                standard=std,
            )
    except LeversError as err:
        click.echo(err.render(color=use_color()), err=True)
        sys.exit(EXIT_FAILED)
    emit(
        doc,
        output=output,
        fmt=fmt,
        tables=tables,
        render=lambda: render(doc, names=names),
        summary=summary(doc),
    )


def tables(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The plan's tables, for CSV and XLSX: groups, the levers bought, the items raised."""
    groups = [
        {
            "key": g["key"],
            "n": g["n"],
            "current": g["current"],
            "cost": g["cost"],
            "expected": g["expected"],
            "simulated": g["simulated"],
            "simulated_low": g["simulated_ci"][0],
            "simulated_high": g["simulated_ci"][1],
            "reaches_target": g["reaches_target"],
            "note": g["note"],
        }
        for g in doc["groups"]
    ]
    levers = [{"key": g["key"], **lever} for g in doc["groups"] for lever in g["levers"]]
    lifts = [{"key": g["key"], **lift} for g in doc["groups"] for lift in g["lifts"]]
    return {"groups": groups, "levers": levers, "lifts": lifts}


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def _money(x: float) -> str:
    return f"{x:,.0f}".replace(",", "\u202f")


def render(doc: dict[str, Any], *, names: bool = False) -> str:
    """The plan for people: one block per group, levers with their titles and costs."""
    from .table import clip, level_name

    t = doc["target"]
    cur = doc["currency"]
    head = message(
        "plan.head",
        coefficient=t["coefficient"],
        target=f"{t['value']:g}",
        level=level_name(doc["by"]),
    )
    if doc["budget"] is not None:
        head += message("plan.budget", budget=_money(doc["budget"]), currency=cur)
    if doc["mode"] == "what-if":
        head += message("plan.what_if")
    lines = [head, ""]
    for g in doc["groups"]:
        mark = "✓" if g["reaches_target"] else "✗"
        ci = g["simulated_ci"]
        lines.append(
            message(
                "plan.group",
                mark=mark,
                key=g["key"],
                n=g["n"],
                current=_num(g["current"]),
                expected=_num(g["expected"]),
                simulated=_num(g["simulated"]),
                low=_num(ci[0]),
                high=_num(ci[1]),
                cost=_money(g["cost"]),
                currency=cur,
            )
        )
        for lever in g["levers"]:
            name = lever["id"] if names else lever["title"]
            part = "" if lever["fraction"] == 1.0 else f" × {lever['fraction']:.2f}"
            lines.append(f"    {clip(name, 50)}{part}: {_money(lever['cost'])} {cur}")
        if g["note"]:
            lines.append(message("plan.note", note=g["note"]))
    lines += ["", message("plan.total", cost=_money(doc["total_cost"]), currency=cur)]
    return "\n".join(lines)


def summary(doc: dict[str, Any]) -> str:
    n = len(doc["groups"])
    return message(
        "plan.summary",
        reached=doc["reached"],
        count=n,
        coefficient=doc["target"]["coefficient"],
        target=f"{doc['target']['value']:g}",
        cost=_money(doc["total_cost"]),
        currency=doc["currency"],
    )
