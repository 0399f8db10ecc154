"""`sbm report`: one HTML file or an Excel workbook for the people who decide."""

from __future__ import annotations

from pathlib import Path

import click

from ..messages import message
from .analysis import refusals, standard_option
from .common import fail, load_standard


@click.command()
@click.argument("results", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="The report: .html (one self-contained page), .xlsx (a workbook with native "
    "charts) or .json (its content, for machines).",
)
@click.option(
    "--previous",
    multiple=True,
    type=click.Path(),  # a folder: the Parquet parts of `sbm score --dask`
    help="An earlier wave's results (repeat, oldest first): the trend and what changed.",
)
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(dir_okay=False),
    help="The JSON of `sbm plan` for this wave: the investment plan.",
)
@click.option(
    "--calibration",
    "calibration_path",
    type=click.Path(dir_okay=False),
    help="The JSON of `sbm calibrate`: how far evaluators agree.",
)
@click.option(
    "--lang",
    type=click.Choice(["ru", "en"]),
    default=None,
    help="The report's language (default: that of `sbm --lang`, SBM_LANG or the locale).",
)
@click.option(
    "--coefficient",
    help="The coefficient the report leads with (default: `visit`, else the first with "
    "a target and bands).",
)
@click.option(
    "--outcome",
    help="The coefficient whose drivers are shown (default: `subjective`, if the "
    "standard has one; else no drivers).",
)
@click.option(
    "--top",
    default=20,
    show_default=True,
    type=click.IntRange(1, 500),
    help="Length of the lists where a full one would not be readable (the heat map "
    "shows this many weakest and strongest points).",
)
@click.option(
    "--min-n",
    default=5,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Heat-map cells over fewer visits are grey.",
)
@standard_option
def report(
    results: tuple[str, ...],
    output: str,
    previous: tuple[str, ...],
    plan_path: str | None,
    calibration_path: str | None,
    lang: str | None,
    coefficient: str | None,
    outcome: str | None,
    top: int,
    min_n: int,
    standard: str | None,
) -> None:
    """A report of RESULTS (scored visits of one wave) for managers.

    The network against its targets, sections, the distribution of visits by band,
    the points on a funnel plot (control limits by the number of visits), a heat map
    of questions by point, growth zones and the drivers of the client's opinion;
    with --previous, the trend and what changed (with significance); with --plan and
    --calibration, the investment plan and how far evaluators agree. Every chart has
    the table of its numbers beside it, and every point and specialist a one-page
    card for a coaching talk, linked from the tables.

    The HTML file opens offline: the charts (Vega-Lite) and their library are inside
    it, and it asks nothing from the network. The workbook holds the same tables,
    one sheet per topic, with native Excel charts. Titles, never internal names.

    \b
    Examples:
      sbm report april.jsonl -o april.html
      sbm report april.jsonl --previous march.jsonl --plan plan.json -o april.xlsx
      sbm report april.parquet --calibration calibration.json --lang en -o report.html
    """
    from ..analytics.reporting import SUFFIXES, write
    from ..analytics.reporting.content import ReportError, build
    from ..io import OutputError

    if Path(output).suffix.lower() not in SUFFIXES:
        fail(message("report.cli.bad_output", path=output))
    if not Path(output).absolute().parent.is_dir():  # before the work, not after it
        folder = repr(str(Path(output).parent))
        fail(message("cli.write.no_folder", path=output, folder=folder))
    # results may be a folder: the Parquet parts of `sbm score --dask`
    for path in (*results, *previous):
        if not (Path(path).is_file() or Path(path).is_dir()):
            fail(message("report.cli.no_file", path=path))
    for given in (plan_path, calibration_path):
        if given is not None and not Path(given).is_file():
            fail(message("report.cli.no_file", path=given))
    std = load_standard(standard) if standard else None
    with refusals(ReportError):
        made = build(
            list(results),
            previous=list(previous),
            plan=plan_path,
            calibration=calibration_path,
            lang=lang,
            coefficient=coefficient,
            outcome=outcome,
            standard=std,
            top=top,
            min_n=min_n,
        )
    try:
        write(made, output)
    except OutputError as err:
        fail(str(err))
    size = Path(output).stat().st_size
    cards = len(made.cards)
    click.echo(
        message(
            "report.cli.summary",
            topics=len(made.topics),
            cards=cards,
            visits=made.meta["visits"],
            size=f"{size / 1024:.0f}",
            path=output,
        ),
        err=True,
    )
