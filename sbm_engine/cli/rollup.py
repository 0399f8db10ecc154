"""`sbm rollup`: scored visits to groups — means, targets, gaps, bands, growth zones."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from ..result_files import read_results  # noqa: F401  (results are read in the library)
from ..rollup import for_output
from .analysis import format_option, standard_option, width_option
from .common import fail, load_standard, write_text_atomic
from .table import DEFAULT_WIDTH, level_name, render_table


def table_width(given: int | None) -> int:
    """The width to fit: --width, else $COLUMNS, else the terminal's, else 100."""
    import os
    import shutil

    if given is not None:
        return given
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


def flat_rows(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for g in report["groups"]:
        row: dict[str, Any] = {"by": report["by"], "key": g["key"], "visits": g["visits"]}
        for c, stat in g["coefficients"].items():
            for k, v in stat.items():
                if k == "bands":  # a column per band (`visit.bands.excellent`), if any
                    for label, count in (v or {}).items():
                        row[f"{c}.bands.{label}"] = count
                else:
                    row[f"{c}.{k}"] = v
        for r, v in g["rollups"].items():
            row[f"rollup.{r}"] = v
        row["growth_zones"] = json.dumps(g["growth_zones"], ensure_ascii=False)
        yield row


@click.command()
# A folder stands for its Parquet parts (`sbm score --dask`): `result_files.result_paths`.
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--by", "level", required=True, type=click.Choice(["point", "specialist", "region", "network"])
)
@standard_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the roll-up: .json, .csv or .xlsx (default: a table on the terminal).",
)
@format_option
@click.option(
    "--names",
    is_flag=True,
    help="Head the table with the standard's names (`client_orientation`), not its titles.",
)
@width_option
def rollup(
    results: tuple[str, ...],
    level: str,
    standard: str | None,
    output: str | None,
    fmt: str,
    names: bool,
    width: int | None,
) -> None:
    """Aggregate scored visits (the output of `sbm score`) by LEVEL.

    For each group: the number of visits; each coefficient's mean over visits where
    it is not N/A, its target, gap, the share of visits meeting the target and the
    band of the mean; each `rollup` formula; and the growth zones, items ranked by
    the share of possible points lost there.

    Nothing is rolled up (exit 2) when the input mixes standards or versions, when
    --standard is not the results' standard and version, or when any record is not
    a scored visit (a rejects file, unscored visits, wrong kinds of values): the
    message names the first problems with file and line. JSON figures are rounded
    to 12 significant digits; a figure that is not a finite number is null.

    The table is for people; JSON and files (-o), for machines, keep names and
    full figures. It shows the standard's titles (--names: its names), scores to
    three decimals with the gap to the target in brackets, other figures to four
    significant digits, shares as percents, N/A as "—", growth zones by their
    questions, and ends with a summary: groups, visits, groups meeting each target.

    It fits --width (else $COLUMNS, else the terminal's width, else 100). A row
    per group while that fits, headers wrapped over up to three lines: groups
    are compared down a column. Else turned, a row per figure with its full
    title and a column per group, when that fits (few groups: the network,
    regions). Else the rows cut into blocks of columns, each repeating the
    group column, so no line is wider and no figure is cut.

    \b
    Examples:
      sbm rollup scored.jsonl --by point
      sbm rollup scored.parquet --by region --standard branch.sbm -o regions.xlsx
      sbm rollup scored.jsonl --by network --format json
    """
    std = load_standard(standard) if standard else None
    acc = accumulate(results, level, std, standard)
    report = acc.report()
    if output:
        write_report(report, Path(output))
        from ..messages import message

        click.echo(
            message(
                "rollup.written",
                count=len(report["groups"]),
                level=level_name(level),
                output=output,
            ),
            err=True,
        )
    elif fmt == "json":
        click.echo(report_json(report))
    else:
        click.echo(render_table(report, acc.m, width=table_width(width), names=names))


def accumulate(
    paths: tuple[str, ...], level: str, std: Any, given: str | None, *, columnar: bool = True
) -> Any:
    """Roll up every scored visit, or exit 2: on results of two standards or versions,
    on a --standard that is not theirs, or on any record that is not a scored visit.

    Why refuse the whole input for one bad record: a roll-up that silently skips or
    half-reads records gives figures that look right and are not.

    Parquet and CSV results are summed a column at a time (`rollup_columns`), with the
    figures of the record path; input those column checks do not pass, or any other
    format, is read record by record (`columnar` False: always), and its messages
    name each problem with file and line.
    """
    from ..result_files import CheckedResults
    from ..rollup import Rollup
    from .analysis import refusals

    if columnar:
        from ..analytics.columnar import Fallback
        from ..rollup_columns import rollup_columnar

        try:
            return rollup_columnar(paths, level, std, given)[1]
        except Fallback:
            pass
    results = CheckedResults(paths, std, given=given)
    acc: Rollup | None = None
    with refusals():
        for _, record in results:
            if acc is None:
                assert results.standard is not None
                acc = Rollup(results.standard.model, level)
            acc.add_checked(record)
    return acc


def report_json(report: dict[str, Any]) -> str:
    """The report as strict JSON: figures to 12 significant digits, no NaN or inf."""
    return json.dumps(for_output(report), ensure_ascii=False, indent=2, allow_nan=False)


def write_report(report: dict[str, Any], out: Path) -> None:
    """Write the report whole or not at all (JSON, or a flat table); exit 2 if it cannot be."""
    from ..formats import open_writer
    from ..io import OutputError

    if not out.parent.is_dir():
        fail(f"cannot write {out}: no directory {str(out.parent)!r}")
    try:
        if out.suffix.lower() == ".json":
            write_text_atomic(out, report_json(report) + "\n")
        else:
            with open_writer(out, spreadsheet_safe=True) as w:
                for row in flat_rows(for_output(report)):
                    w.write(row)
    except OutputError as err:
        fail(str(err))
    except OSError as err:
        fail(f"cannot write {out}: {err.strerror or err}")
