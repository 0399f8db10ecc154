"""`sbm compare`: waves by group — what changed, whether it is more than noise, and
what an intervention did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..messages import message
from .analysis import check_output, emit, names_option, output_options, refusals, standard_option
from .common import fail, load_standard


@click.command()
@click.argument("waves", nargs=-1, required=True)
@click.option(
    "--by",
    "level",
    default="point",
    show_default=True,
    type=click.Choice(["point", "specialist", "region", "network"]),
    help="The groups to compare.",
)
@standard_option
@click.option("--labels", help="Names of the waves, comma-separated (default: the file names).")
@click.option(
    "--wave-field",
    default="wave",
    show_default=True,
    help="With one input: the field that tells the waves apart (else the month of `date`).",
)
@click.option(
    "--treated",
    type=click.Path(exists=True, dir_okay=False),
    help="A file of group keys (one per line) that received an intervention between the "
    "first and the last wave: adds the difference-in-differences effect.",
)
@click.option(
    "--seed", default=2026, show_default=True, help="Seed of the bootstrap behind --treated."
)
@click.option(
    "--items/--no-items",
    default=False,
    help="Show the items' pass rates in the table too (files and JSON always have them).",
)
@output_options("the comparison")
@names_option
def compare(
    waves: tuple[str, ...],
    level: str,
    standard: str | None,
    labels: str | None,
    wave_field: str,
    treated: str | None,
    seed: int,
    items: bool,
    output: str | None,
    fmt: str,
    names: bool,
) -> None:
    """Compare two or more WAVES of scored visits (the output of `sbm score`) by group.

    A wave is a results file, or several joined with commas (`a.jsonl,b.jsonl`). With
    a single input, its rows are split into waves by --wave-field, else by the month
    of their `date`.

    For each group present in two consecutive waves, each coefficient's mean in both,
    the change, its 95 % interval and p (Welch's t, a visit being the unit), p
    adjusted for the number of comparisons (Benjamini–Hochberg) and `mde`: the
    smallest change these samples could show (α 0.05, power 0.8). A change smaller
    than mde is not evidence of no change: the samples are too small to tell. Items
    get the same for their pass rates (two-proportion z test, Newcombe's interval).
    Groups missing from a wave are listed, never dropped silently. Three or more
    waves add each group's trend and a p-chart of the pass rates.

    Nothing is compared (exit 2) when the waves mix standards or versions, or when a
    record is not a scored visit; the message names the first problems.

    \b
    Examples:
      sbm compare march.jsonl april.jsonl --by point
      sbm compare q1.parquet q2.parquet q3.parquet --by region -o trend.xlsx
      sbm compare march.jsonl april.jsonl --treated trained.txt --format json
      sbm compare year.jsonl --by network          # one wave per month of `date`
    """
    from ..analytics import waves as waves_mod

    check_output(output)
    std = load_standard(standard) if standard else None
    keys = _treated_keys(Path(treated)) if treated else None
    label_list = [x.strip() for x in labels.split(",")] if labels else None
    inputs = [_wave_files(w) for w in waves]
    with refusals():
        std, found, tally = waves_mod.read_waves(
            inputs, level, standard=std, labels=label_list, wave_field=wave_field
        )
        report = waves_mod.report(std.model, level, found, tally, treated=keys, seed=seed)
    if report["unmatched"]:
        _warn_unmatched(report)

    def table() -> str:
        from .compare_table import render

        return render(report, std.model, names=names, items=items)

    emit(report, output=output, fmt=fmt, tables=tables, render=table, summary=_summary(report))


def _wave_files(arg: str) -> list[str]:
    paths = [p for p in arg.split(",") if p]
    for p in paths:
        # a folder: the Parquet parts of `sbm score --dask` (`result_files.result_paths`)
        if not (Path(p).is_file() or Path(p).is_dir()):
            fail(message("compare.no_file", path=p))
    return paths


def _treated_keys(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        fail(message("compare.cannot_read", path=path, error=err))
    keys = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    if not keys:
        fail(message("compare.no_groups", path=path))
    return keys


def _warn_unmatched(report: dict[str, Any]) -> None:
    shown = report["unmatched"][:10]
    lines = [message("compare.only_in", key=g["key"], waves=", ".join(g["waves"])) for g in shown]
    more = len(report["unmatched"]) - len(shown)
    if more:
        lines.append(message("compare.more", count=more))
    n = len(report["unmatched"])
    click.echo(
        message("compare.unmatched", count=n) + "\n" + "\n".join(lines),
        err=True,
    )


def tables(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The report's tables, for CSV and XLSX."""
    out: dict[str, list[dict[str, Any]]] = {"rows": report["rows"]}
    if report["unmatched"]:
        out["unmatched"] = report["unmatched"]
    if report["effect"]:
        out["effect"] = [
            {"treated": len(report["effect"]["treated"]), **row}
            for row in report["effect"]["coefficients"]
        ]
    if report["trend"]:
        out["trend"] = report["trend"]
    if report["control_chart"]:
        out["control_chart"] = report["control_chart"]["outside"]
    return out


def _summary(report: dict[str, Any]) -> str:
    rows = report["rows"]
    groups = len({(r["wave_a"], r["key"]) for r in rows})
    significant = sum(1 for r in rows if r["significant"])
    tested = sum(1 for r in rows if r["p"] is not None)
    from .table import level_name

    return message(
        "compare.summary",
        waves=len(report["waves"]),
        groups=groups,
        level=level_name(report["by"]),
        significant=significant,
        tested=tested,
    )
