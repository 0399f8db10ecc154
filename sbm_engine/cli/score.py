"""`sbm score`: a wave of visits in, scored visits and rejects out, nothing lost."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .common import (
    EXIT_OK,
    EXIT_REJECTED,
    echo_json,
    fail,
    format_option,
    load_standard,
    use_color,
)
from .progress import Progress


def default_rejects(output: Path) -> Path:
    """`scored.parquet` -> `scored.rejects.jsonl`, beside the output."""
    return output.with_name(output.name.split(".")[0] + ".rejects.jsonl")


def result_columns(std: Any) -> list[str]:
    """The flattened output columns, fixed by the standard so every file has one header."""
    from ..io import flatten

    return list(flatten(std.result_template()).keys())


def examples_pass(std: Any, allowed: bool) -> None:
    """Run the standard's examples before it scores anything: a standard that gets its
    own examples wrong would score every visit wrong. Stop with exit 2 and the
    failures, unless told to go on (then say so)."""
    from ..diagnostics import render_all
    from ..examples import example_diagnostics

    failures = example_diagnostics(std)
    if not failures:
        return
    click.echo(render_all(failures, std.model.sources, color=use_color()), err=True)
    if allowed:
        click.echo(
            f"warning: scoring with {std.id} although {len(failures)} example check"
            f"{'s' * (len(failures) != 1)} failed (--allow-failing-examples)",
            err=True,
        )
        return
    fail(
        f"the examples of {std.id} fail, so it would score visits wrongly; fix the "
        "standard (or its examples), or pass --allow-failing-examples"
    )


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
@click.option(
    "--engine",
    type=click.Choice(["auto", "batch", "python"]),
    default="auto",
    show_default=True,
    help="batch: chunked Arrow path (Parquet/CSV in); python: one record at a time; "
    "auto: batch when every input is .parquet/.csv/.tsv and pyarrow+numpy are installed.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes for the batch engine (output identical to --jobs 1). One job "
    "already keeps two cores busy (reading and writing run in threads beside the "
    "scoring), so more pay only on machines with more cores.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=65536,
    show_default=True,
    help="Rows per chunk of the batch engine (output identical for any size).",
)
@click.option(
    "--allow-failing-examples",
    is_flag=True,
    help="Score even when the standard's own examples fail (they are run first; by "
    "default a standard whose examples fail scores nothing, exit 2).",
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
    engine: str,
    jobs: int,
    chunk_size: int,
    allow_failing_examples: bool,
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
    std = load_standard(standard, allow_unknown=allow_unknown)
    examples_pass(std, allow_failing_examples)
    out_path = Path(output)
    rejects_path = Path(rejects) if rejects else default_rejects(out_path)
    if out_path.resolve() == rejects_path.resolve():
        fail("the output and the rejects file must differ")
    for p in inputs:
        if not Path(p).is_file():
            fail(f"cannot read {p}: no such file")
    options = read_options(encoding, delimiter, decimal, sheet)
    bar = None
    if engine != "python":
        bar = _score_batch(
            std,
            standard,
            allow_unknown,
            inputs,
            out_path,
            rejects_path,
            options,
            progress,
            engine,
            jobs,
            chunk_size,
        )
    if bar is None:
        bar = _score_records(std, inputs, out_path, rejects_path, options, progress)
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


def _score_records(
    std: Any,
    inputs: tuple[str, ...],
    out_path: Path,
    rejects_path: Path,
    options: dict[str, Any],
    progress: bool | None,
) -> Progress:
    """The record path: every visit read, scored and written one at a time (any format)."""
    from ..io import InputError, OutputError, open_writer, read_visits

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
    return bar


def _score_batch(
    std: Any,
    standard: str,
    allow_unknown: bool,
    inputs: tuple[str, ...],
    out_path: Path,
    rejects_path: Path,
    options: dict[str, Any],
    progress: bool | None,
    engine: str,
    jobs: int,
    chunk_size: int,
) -> Progress | None:
    """The chunked Arrow path (`fastpath`); None when the record path must score instead
    (`--engine auto` on files it cannot read exactly; `--engine batch` then fails)."""
    from ..io import InputError, OutputError
    from . import fastpath

    reason = fastpath.why_not(inputs, out_path, options.get("sheet"))
    if reason is None:
        job = fastpath.Job(standard, allow_unknown)
        try:
            with Progress(progress) as bar:
                fastpath.run(
                    std,
                    job,
                    inputs,
                    out_path,
                    rejects_path,
                    options,
                    bar,
                    chunk_rows=chunk_size,
                    jobs=jobs,
                )
            return bar
        except fastpath.Unsupported as exc:
            reason = str(exc)
        except (InputError, OutputError) as err:
            fail(str(err))
    if engine == "batch":
        fail(f"the batch engine cannot score this: {reason}; use --engine python")
    return None
