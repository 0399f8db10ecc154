"""`sbm score`: a wave of visits in, scored visits and rejects out, nothing lost."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .common import EXIT_OK, EXIT_REJECTED, echo_json, fail, format_option, load_standard
from .progress import Progress


def default_rejects(output: Path) -> Path:
    """`scored.parquet` -> `scored.rejects.jsonl`, beside the output."""
    return output.with_name(output.name.split(".")[0] + ".rejects.jsonl")


def result_columns(std: Any) -> list[str]:
    """The flattened output columns, fixed by the standard so every file has one header."""
    from ..io import flatten

    return list(flatten(std.result_template()).keys())


def read_options(
    encoding: str | None, delimiter: str | None, decimal: str | None, sheet: str | None
) -> dict[str, Any]:
    if delimiter == "\\t":
        delimiter = "\t"
    return {"encoding": encoding, "delimiter": delimiter, "decimal": decimal, "sheet": sheet}


@click.command()
@click.argument("standard")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Scored visits: .jsonl, .csv, .xlsx or .parquet.",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False),
    help="Rejected visits (JSONL). Default: OUTPUT's name with .rejects.jsonl.",
)
@click.option(
    "--allow-unknown", is_flag=True, help="Ignore answer keys the standard does not know."
)
@click.option("--encoding", help="CSV encoding, e.g. cp1251 or utf-8-sig (default: detect).")
@click.option("--delimiter", help="CSV separator: ';' ',' or '\\t' (default: detect).")
@click.option(
    "--decimal", type=click.Choice([".", ","]), help="CSV decimal mark (default: detect)."
)
@click.option("--sheet", help="XLSX sheet to read (default: the first).")
@click.option(
    "--progress/--no-progress", default=None, help="Show progress (default: on a terminal only)."
)
@format_option
def score(
    standard: str,
    inputs: tuple[str, ...],
    output: str,
    rejects: str | None,
    allow_unknown: bool,
    encoding: str | None,
    delimiter: str | None,
    decimal: str | None,
    sheet: str | None,
    progress: bool | None,
    fmt: str,
) -> None:
    """Score visits from INPUT files against STANDARD (a .sbm path or an installed id).

    Every input record ends in exactly one place: OUTPUT when it scores, the rejects
    file (with its source `file:line`, every error and the record as read) when it
    does not. Files are written to a temporary name and renamed at the end, so an
    interrupted run leaves no half file. Exit status 1 when any visit was rejected.

    \b
    Examples:
      sbm score branch.sbm wave.jsonl -o scored.jsonl
      sbm score bank.branch wave.csv -o scored.parquet --rejects bad.jsonl
      sbm score branch.sbm wave_excel.csv --encoding cp1251 --delimiter ';' -o out.xlsx
    """
    from ..io import InputError, OutputError, open_writer, read_visits

    std = load_standard(standard, allow_unknown=allow_unknown)
    out_path = Path(output)
    rejects_path = Path(rejects) if rejects else default_rejects(out_path)
    if out_path.resolve() == rejects_path.resolve():
        fail("the output and the rejects file must differ")
    for p in inputs:
        if not Path(p).is_file():
            fail(f"cannot read {p}: no such file")
    options = read_options(encoding, delimiter, decimal, sheet)
    fields = std.model.visit_fields
    session = std.session()
    try:
        with (
            Progress(progress) as bar,
            open_writer(out_path, columns=result_columns(std)) as out,
            open_writer(rejects_path) as bad,
        ):
            for path in inputs:
                for rec in read_visits(path, visit_fields=fields, **options):
                    if rec.record is None:
                        outcome = session.unreadable(rec.raw, rec.source, rec.error or "unreadable")
                    else:
                        outcome = session.score(rec.record, rec.source)
                    if outcome.ok:
                        out.write(outcome.to_dict())
                        bar.update(1, 0)
                    else:
                        bad.write(outcome.to_dict())
                        bar.update(0, 1)
    except (InputError, OutputError) as err:
        fail(str(err))
    summary = {
        "read": bar.read,
        "scored": bar.scored,
        "rejected": bar.rejected,
        "seconds": round(bar.seconds, 3),
        "output": str(out_path),
        "rejects": str(rejects_path),
    }
    if fmt == "json":
        echo_json(summary)
    else:
        click.echo(
            f"read {bar.read:,}, scored {bar.scored:,}, rejected {bar.rejected:,} "
            f"in {bar.seconds:.2f} s -> {out_path}"
            + (f"; rejects -> {rejects_path}" if bar.rejected else ""),
            err=True,
        )
    sys.exit(EXIT_REJECTED if bar.rejected else EXIT_OK)
