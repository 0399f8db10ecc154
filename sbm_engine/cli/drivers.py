"""`sbm drivers`: what moves the client's opinion — the importance of each item,
section or tag for an outcome, against how well it is done."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..messages import message
from .analysis import check_output, emit, names_option, output_options, refusals, standard_option
from .common import fail, load_standard
from .table import NA, clip, pad, text_width

TITLE_WIDTH = 44


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path())
@click.option(
    "--outcome",
    required=True,
    help="What to explain: a coefficient of the results (the client's subjective score), "
    "or a column of --outcomes.",
)
@click.option(
    "--outcomes",
    "outcomes_file",
    type=click.Path(dir_okay=False),
    help="A table (CSV, JSONL, XLSX, Parquet) holding the outcome, one row per --on value.",
)
@click.option("--on", help="The visit field the outcomes table is joined on (e.g. point).")
@click.option(
    "--predictors",
    default="items",
    show_default=True,
    type=click.Choice(["items", "sections", "tags"]),
    help="What explains the outcome.",
)
@click.option(
    "--method",
    default="relative_weights",
    show_default=True,
    type=click.Choice(["relative_weights", "shapley", "correlation"]),
    help="How R² is split: Johnson's relative weights, exact Shapley/LMG (≤ 15 "
    "predictors), or squared correlations.",
)
@click.option("--seed", default=2026, show_default=True, help="Seed of the bootstrap.")
@click.option(
    "--replicates",
    default=200,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Bootstrap replicates behind ci_low/ci_high (0: no intervals).",
)
@click.option(
    "--min-applied",
    default=0.8,
    show_default=True,
    type=click.FloatRange(0.0, 1.0),
    help="Leave out predictors N/A at more than this share of the visits with an outcome.",
)
@standard_option
@output_options("the drivers")
@names_option
def drivers(
    results: tuple[str, ...],
    outcome: str,
    outcomes_file: str | None,
    on: str | None,
    predictors: str,
    method: str,
    seed: int,
    replicates: int,
    min_applied: float,
    standard: str | None,
    output: str | None,
    fmt: str,
    names: bool,
) -> None:
    """What moves an outcome in RESULTS (scored visits, the output of `sbm score`).

    The outcome is a coefficient the standard did not compute from the predictors
    (the client's subjective score), or an external measure (NPS, sales, churn) in a
    table joined on a visit field: every visit gets its point's figure. Regressing
    the standard's own total on its items only returns the weights the standard gave
    them, so that is refused.

    For each predictor: `importance` (its part of R²), `share` (of R²), `sign`,
    `performance` (mean score), `gap` (to its target or to 1), the importance–
    performance `quadrant` ("concentrate here": important and done poorly), a 95 %
    bootstrap interval of the importance and, for yes/no items, `impact`: the mean
    outcome when passed minus when failed. Visits with the outcome or a predictor
    N/A are dropped (complete cases); the output says how many.

    \b
    Examples:
      sbm drivers wave.jsonl --outcome subjective
      sbm drivers wave.jsonl --outcome subjective --predictors sections --method shapley
      sbm drivers wave.jsonl --outcome nps --outcomes nps.csv --on point -o drivers.xlsx
      sbm drivers q1.parquet q2.parquet --outcome subjective --format json
    """
    from ..analytics.key_drivers import drivers as run_drivers

    check_output(output)
    std = load_standard(standard) if standard else None
    for p in results:
        # a folder: the Parquet parts of `sbm score --dask` (`result_files.result_paths`)
        if not (Path(p).is_file() or Path(p).is_dir()):
            fail(message("drivers.no_file", path=p))
    if outcomes_file and not Path(outcomes_file).is_file():
        fail(message("drivers.no_file", path=outcomes_file))
    if bool(outcomes_file) != bool(on):
        fail(message("drivers.outcomes_and_on"))
    with refusals():
        report = run_drivers(
            list(results),
            outcome,
            outcomes=outcomes_file,
            on=on,
            predictors=predictors,
            method=method,
            seed=seed,
            replicates=replicates,
            min_applied=min_applied,
            standard=std,
        )
    emit(
        report,
        output=output,
        fmt=fmt,
        tables=tables,
        render=lambda: render(report, names=names),
        summary=summary(report),
    )


def tables(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The report's tables, for CSV and XLSX."""
    out: dict[str, list[dict[str, Any]]] = {"drivers": report["drivers"]}
    out["summary"] = [
        {
            "outcome": report["outcome"],
            "method": report["method"],
            "predictors": report["predictors"],
            "r2": report["r2"],
            "n": report["n"],
            "visits": report["visits"],
            "notes": report["notes"],
        }
    ]
    if report["left_out"]:
        out["left_out"] = report["left_out"]
    return out


def summary(report: dict[str, Any]) -> str:
    r2 = report["r2"]
    return message(
        "drivers.summary",
        outcome=report["outcome"],
        r2=NA if r2 is None else f"{r2:.3f}",
        n=report["n"],
        visits=report["visits"],
        count=len(report["drivers"]),
        predictors=report["predictors"],
        method=report["method"],
    )


def _num(x: float | None, places: int = 3, sign: bool = False) -> str:
    if x is None:
        return NA
    return f"{x:+.{places}f}" if sign else f"{x:.{places}f}"


def render(report: dict[str, Any], *, names: bool = False) -> str:
    head = [
        message("drivers.predictor"),
        message("drivers.importance"),
        message("drivers.share"),
        message("drivers.interval"),
        message("drivers.sign"),
        message("drivers.performance"),
        message("drivers.gap"),
        message("drivers.impact"),
        message("drivers.quadrant"),
    ]
    body: list[list[str]] = []
    for d in report["drivers"]:
        label = d["predictor"] if names else (d["title"] or d["predictor"])
        sign = {1: "+", -1: "−"}.get(d["sign"], " ")
        interval = NA if d["ci_low"] is None else f"{_num(d['ci_low'])} … {_num(d['ci_high'])}"
        body.append(
            [
                clip(label, TITLE_WIDTH),
                _num(d["importance"]),
                NA if d["share"] is None else f"{d['share']:.0%}",
                interval,
                sign,
                _num(d["performance"]),
                _num(d["gap"], sign=True),
                _num(d.get("impact"), sign=True) if "impact" in d else "",
                d["quadrant"] or NA,
            ]
        )
    r2 = report["r2"]
    lines = [
        message(
            "drivers.title",
            outcome=report["outcome"],
            method=report["method"],
            predictors=report["predictors"],
            r2=NA if r2 is None else f"{r2:.3f}",
            n=report["n"],
        )
    ]
    widths = [
        max([text_width(h)] + [text_width(row[i]) for row in body]) for i, h in enumerate(head)
    ]
    right = {1, 2, 5, 6, 7}

    def line(cells: list[str]) -> str:
        return "  ".join(
            pad(c, w, right=i in right) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines += [line(head), line(["─" * w for w in widths]), *(line(r) for r in body)]
    lines.append(message("drivers.legend"))
    lines += [message("drivers.note", note=n) for n in report["notes"]]
    return "\n".join(lines)
