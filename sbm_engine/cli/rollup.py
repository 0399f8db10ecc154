"""`sbm rollup`: scored visits to groups — means, targets, gaps, bands, growth zones."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from .common import EXIT_FAILED, fail, load_standard, use_color, write_text_atomic

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
            out[key] = _json_list(value)
        else:
            out[key] = value
    return out


def _json_list(text: str) -> Any:
    """A list column (`critical`, `warnings`) written as JSON text; kept as text if it
    is not JSON, since a roll-up does not read these."""
    try:
        return json.loads(text) if text else []
    except ValueError:
        return text


def read_results(paths: tuple[str, ...]) -> Iterator[tuple[str, Any, str | None]]:
    """(source, record, why it could not be read) for every record of the result files."""
    from ..io import read_visits

    for path in paths:
        tabular = Path(path).suffix.lower() not in (".jsonl", ".ndjson")
        for rec in read_visits(path):
            if rec.record is None:
                yield rec.source, None, rec.error
            else:
                yield rec.source, _tabular_result(rec.record) if tabular else rec.record, None


def _tabular_result(row: dict[str, Any]) -> dict[str, Any]:
    """A tabular row as a result record, or as read when it has no result column at
    all (then it reads as the unscored visit it probably is)."""
    record = unflatten(row)
    if not any(key in record for key in ("standard", "version", *_NESTED)):
        return row
    # an empty cell is an absent key, so a visit whose coefficients are all N/A has none
    record.setdefault("coefficients", {})
    return record


class Refusals:
    """The records that cannot be rolled up: the first few problems, and how many.

    Records with the same problem (every line of a rejects file, say) share one
    line of the message, so ten lines of it show ten different things to fix.
    """

    SHOWN = 10

    def __init__(self) -> None:
        self.count = 0
        self.first: dict[str, tuple[str, int]] = {}  # problem -> (first source, records)

    def add(self, source: str, problem: str) -> None:
        self.count += 1
        if problem in self.first:
            where, n = self.first[problem]
            self.first[problem] = (where, n + 1)
        elif len(self.first) < self.SHOWN:
            self.first[problem] = (source, 1)

    def message(self, standard: str | None) -> str:
        """All the problems shown, for exit 2: none of the input was rolled up."""
        lines = [
            f"  {where}{f' (and {n - 1} more like it)' if n > 1 else ''}: {problem}"
            for problem, (where, n) in self.first.items()
        ]
        more = self.count - sum(n for _, n in self.first.values())
        if more:
            lines.append(f"  … and {more} more {'record' if more == 1 else 'records'}")
        what = (
            "record is not a scored visit" if self.count == 1 else "records are not scored visits"
        )
        of = f" of {standard}" if standard else ""
        return "\n".join([f"nothing rolled up: {self.count} {what}{of}:", *lines])


def _identity(record: dict[str, Any]) -> str:
    from ..rollup import show_version

    return f"`{record['standard']}` {show_version(record['version'])}"


def mixing_message(first: tuple[str, dict[str, Any]], other: tuple[str, dict[str, Any]]) -> str:
    """Why two results cannot be rolled up together, naming both and where they were read."""
    from ..rollup import show_version

    (src1, rec1), (src2, rec2) = first, other
    if rec1["standard"] != rec2["standard"]:
        return (
            f"the input mixes results of two standards: {_identity(rec1)} ({src1}) and "
            f"{_identity(rec2)} ({src2}); roll up each standard on its own"
        )
    return (
        f"the input mixes two versions of `{rec1['standard']}`: "
        f"{show_version(rec1['version'])} ({src1}) and {show_version(rec2['version'])} ({src2}); "
        "their targets and bands may differ, so roll up each version on its own "
        "(or score the older visits again with the newer version)"
    )


def check_standard(std: Any, given: str, source: str, record: dict[str, Any]) -> None:
    """Exit 2 when `--standard` is not the standard (and version) the results were scored with."""
    from ..rollup import same_version, show_version

    if record["standard"] == std.id and same_version(record["version"], std.version):
        return
    hint = (
        "pass the standard the results were scored with"
        if record["standard"] != std.id
        else f"pass the file of version {show_version(record['version'])} (the targets and bands "
        f"the visits were scored against), or score the visits again with {std.version}"
    )
    fail(
        f"the results were scored with {_identity(record)} ({source}), but --standard {given} "
        f"is `{std.id}` {show_version(std.version)}; {hint}"
    )


def standard_of_results(std_id: str, source: str) -> Any:
    """The installed standard the results name, or exit 2 saying to pass --standard FILE.

    Only an installed id is looked up: a record's `standard` is never used as a path.
    """
    from ..api import load
    from ..diagnostics import CompileError
    from ..sources import SourceError

    hint = "pass the standard they were scored with: --standard FILE.sbm"
    if "/" in std_id or "\\" in std_id or std_id.endswith(".sbm"):
        fail(f"the results ({source}) name their standard {std_id!r}, not an id; {hint}")
    try:
        return load(std_id)
    except (FileNotFoundError, SourceError) as err:
        fail(f"{err} (the standard of the results, {source}); {hint}")
    except CompileError as err:
        click.echo(err.render(color=use_color()), err=True)
        sys.exit(EXIT_FAILED)


def table_width(given: int | None) -> int:
    """The width to fit: --width, else $COLUMNS, else the terminal's, else 100."""
    import os
    import shutil

    from .table import DEFAULT_WIDTH

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
@click.option(
    "--names",
    is_flag=True,
    help="Head the table with the standard's names (`client_orientation`), not its titles.",
)
@click.option(
    "--width",
    type=click.IntRange(min=40, clamp=True),
    help="Fit the table to this many columns (default: $COLUMNS, the terminal's width, or 100).",
)
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
    from ..io import InputError

    std = load_standard(standard) if standard else None
    try:
        acc = accumulate(read_results(results), level, std, standard)
    except InputError as err:
        fail(str(err))
    report = acc.report()
    if output:
        write_report(report, Path(output))
        click.echo(f"{len(report['groups'])} groups by {level} -> {output}", err=True)
    elif fmt == "json":
        click.echo(report_json(report))
    else:
        from .table import render_table

        click.echo(render_table(report, acc.m, width=table_width(width), names=names))


def accumulate(
    records: Iterable[tuple[str, Any, str | None]], level: str, std: Any, given: str | None
) -> Any:
    """Roll up every record, or exit 2: on results of two standards or versions, on a
    --standard that is not theirs, or on any record that is not a scored visit.

    Why refuse the whole input for one bad record: a roll-up that silently skips or
    half-reads records gives figures that look right and are not.
    """
    from ..rollup import ResultError, Rollup, shape_problem, show_version

    refusals = Refusals()
    first: tuple[str, dict[str, Any]] = ("", {})
    acc: Rollup | None = None
    for source, record, error in records:
        problem = error or shape_problem(record)
        if problem:
            refusals.add(source, problem)
            continue
        if acc is None:
            first = (source, record)
            acc = Rollup(_standard_for(std, given, source, record).model, level)
        elif not _same_identity(first[1], record):
            fail(mixing_message(first, (source, record)))
        try:
            acc.add(record)
        except ResultError as err:
            refusals.add(source, str(err))
    if refusals.count:
        of = None if acc is None else f"`{acc.m.name}` {show_version(acc.m.version)}"
        fail(refusals.message(of))
    if acc is None:
        fail("no scored visits in the input")
    return acc


def _standard_for(std: Any, given: str | None, source: str, record: dict[str, Any]) -> Any:
    """The standard whose targets and bands apply: --standard if given (and theirs),
    else the installed one the first result names."""
    if std is None:
        return standard_of_results(record["standard"], source)
    check_standard(std, str(given), source, record)
    return std


def _same_identity(a: dict[str, Any], b: dict[str, Any]) -> bool:
    from ..rollup import same_version

    return bool(a["standard"] == b["standard"] and same_version(a["version"], b["version"]))


def report_json(report: dict[str, Any]) -> str:
    """The report as strict JSON: figures to 12 significant digits, no NaN or inf."""
    return json.dumps(for_output(report), ensure_ascii=False, indent=2, allow_nan=False)


def for_output(value: Any) -> Any:
    """Figures rounded to 12 significant digits (float noise such as
    9.999999999999998 becomes 10.0) and non-finite ones as None; group keys as read."""
    if isinstance(value, dict):
        return {k: v if k == "key" else for_output(v) for k, v in value.items()}
    if isinstance(value, list):
        return [for_output(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.12g}") if math.isfinite(value) else None
    return value


def write_report(report: dict[str, Any], out: Path) -> None:
    """Write the report whole or not at all (JSON, or a flat table); exit 2 if it cannot be."""
    from ..io import OutputError, open_writer

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
