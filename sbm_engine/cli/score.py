"""`sbm score`: a wave of visits in, scored visits and rejects out, nothing lost."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from ..messages import message
from ..pipeline.batches import default_rejects, read_options
from ..pipeline.outputs import result_columns, text_columns
from .common import (
    EXIT_OK,
    EXIT_REJECTED,
    Interrupted,
    echo_json,
    fail,
    format_option,
    load_standard,
    outputs_together,
    stopping_on_signals,
    use_color,
)
from .progress import Progress

__all__ = ["default_rejects", "read_options", "result_columns", "score", "text_columns"]

#: Extensions of a rejects file (it is always JSON lines).
REJECTS_SUFFIXES = (".jsonl", ".ndjson")


def check_paths(inputs: tuple[str, ...], output: Path, rejects: Path, named: bool) -> None:
    """Refuse, before any work (exit 2), what would fail after it or destroy an input:
    an output or rejects format that cannot be written, a folder that is missing or
    not writable, the two files being one, or either being one of the inputs (by
    resolved path or same file: a link counts). `named`: the rejects path was given
    (else it is the default, and the message says how to choose another)."""
    from ..formats import open_writer
    from ..io import OutputError

    try:
        open_writer(output)  # a known format, its optional dependency installed
    except OutputError as err:
        fail(str(err))
    if rejects.suffix.lower() not in REJECTS_SUFFIXES:
        fail(message("score.rejects_not_jsonl", rejects=rejects))
    if _same_file(output, rejects):
        fail(message("score.same_outputs"))
    for p in inputs:
        if not Path(p).is_file():
            fail(message("score.no_input", path=p))
        if _same_file(Path(p), output):
            fail(message("score.output_is_input", output=output, path=p))
        if _same_file(Path(p), rejects):
            if named:
                fail(message("score.rejects_is_input", rejects=rejects, path=p))
            fail(message("score.rejects_is_input_default", rejects=rejects, path=p))
    for target in dict.fromkeys((output, rejects)):
        _check_writable(target)


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet)
        return False


def _check_writable(target: Path) -> None:
    """A temporary file can be made beside `target`: the folder exists and takes files."""
    import tempfile

    folder = target.parent
    if not folder.is_dir():
        fail(message("score.no_folder", path=target, folder=repr(str(folder))))
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        fail(message("score.cannot_write", path=target, reason=exc.strerror or exc))


def usable_jobs(jobs: int) -> int:
    """`--jobs` capped at the CPUs this process may run on (its affinity where the OS
    has one), with a note: more workers than CPUs only add copies of the standard."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows: no affinity to ask
        cpus = os.cpu_count() or 1
    if jobs <= cpus:
        return jobs
    click.echo(message("score.jobs_capped", jobs=jobs, cpus=cpus), err=True)
    return cpus


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
            message("score.failing_examples", standard=std.id, count=len(failures)),
            err=True,
        )
        return
    fail(message("score.examples_fail", standard=std.id))


@click.command()
@click.argument("standard")
# Folders are for --dask (a partitioned dataset, a folder of parts); `check_paths`
# refuses them otherwise.
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(),
    help="Scored visits: .jsonl, .csv, .xlsx or .parquet. In CSV, text that starts "
    "like a formula (= + - @) gets a leading ' so spreadsheets run nothing.",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False),
    help="Rejected visits (JSONL). Default: OUTPUT with its extension replaced by "
    ".rejects.jsonl (scored.2026-03.csv -> scored.2026-03.rejects.jsonl).",
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
    help="batch: the streaming Arrow path (Parquet, CSV, JSONL, XLSX in); python: one record "
    "at a time; auto: batch when it can read every input exactly and pyarrow+numpy are "
    "installed (XLSX also needs python-calamine).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes for the batch engine (output identical to --jobs 1). One job "
    "already keeps two cores busy (reading and writing run in threads beside the "
    "scoring), so more pay only on machines with more cores. A standard that uses "
    "history is scored whole in one process: it ignores --jobs.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=65536,
    show_default=True,
    help="Rows per chunk of the batch engine (output identical for any size); a "
    "standard that uses history is scored whole and ignores it.",
)
@click.option(
    "--allow-failing-examples",
    is_flag=True,
    help="Score even when the standard's own examples fail (they are run first; by "
    "default a standard whose examples fail scores nothing, exit 2).",
)
@click.option(
    "--dask",
    "scheduler",
    metavar="ADDRESS|local",
    help="Score on a Dask cluster (a scheduler address, or `local` for one on this "
    "machine): INPUT is then a folder or glob of Parquet, CSV and JSONL files, OUTPUT a "
    "folder of Parquet parts with rejects.jsonl (docs/dask.md). Needs the `dask` extra.",
)
@click.option(
    "--history",
    "history_paths",
    multiple=True,
    type=click.Path(exists=True),
    help="Earlier results of the same standard and version (any results format sbm "
    "writes; repeat for several files): for a standard that uses history (`previous`, "
    "`has_previous`, `repeated`), the newest result of a point before a visit is its "
    "previous visit when none of the visits scored is newer.",
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
    scheduler: str | None,
    history_paths: tuple[str, ...],
    fmt: str,
) -> None:
    """Score visits from INPUT files against STANDARD (a .sbm path or an installed id).

    Every input record ends in exactly one place: OUTPUT when it scores, the rejects
    file (with its source `file:line`, every error and the record as read) when it
    does not. Both are written to temporary names and renamed at the end, the rejects
    first and OUTPUT last, so they appear together: an interrupted or failed run
    leaves neither, and older files stay as they were. Paths are checked before any
    work: neither may be an input. Exit status 1 when any visit was rejected; 2 when
    nothing could be done; 130 (Ctrl-C) or 143 (SIGTERM) when interrupted.

    \b
    Examples:
      sbm score branch.sbm wave.jsonl -o scored.jsonl
      sbm score bank.branch wave.csv -o scored.parquet --rejects bad.jsonl
      sbm score branch.sbm wave_excel.csv --encoding cp1251 --delimiter ';' -o out.xlsx
      sbm score branch.sbm 'waves/2026-*.parquet' --dask local -o scored/
      sbm score inspections.snhd inspections.csv --history scored.2025.parquet -o scored.jsonl
    """
    if scheduler is not None:
        if history_paths:
            fail(message("history.dask_option"))
        _score_on_dask(
            standard,
            inputs,
            output,
            rejects,
            scheduler,
            allow_unknown=allow_unknown,
            options=read_options(encoding, delimiter, decimal, sheet),
            chunk_size=chunk_size,
            allow_failing_examples=allow_failing_examples,
            fmt=fmt,
        )
    out_path = Path(output)
    if out_path.is_dir():
        fail(message("score.output_folder", path=out_path))
    rejects_path = Path(rejects) if rejects else default_rejects(out_path)
    check_paths(inputs, out_path, rejects_path, named=rejects is not None)
    with stopping_on_signals():
        try:
            bar = _score(
                standard,
                inputs,
                out_path,
                rejects_path,
                allow_unknown=allow_unknown,
                options=read_options(encoding, delimiter, decimal, sheet),
                progress=progress,
                engine=engine,
                jobs=jobs,
                chunk_size=chunk_size,
                allow_failing_examples=allow_failing_examples,
                history_paths=history_paths,
            )
        except Interrupted as stop:
            if stop.late:
                click.echo(
                    message("score.interrupted_written", output=out_path, rejects=rejects_path),
                    err=True,
                )
            else:
                click.echo(message("score.interrupted"), err=True)
            sys.exit(stop.exit_code)
        # still inside: a signal after the commit must not turn a finished run into 130
        summary = {
            "read": bar.read,
            "scored": bar.scored,
            "rejected": bar.rejected,
            "seconds": round(bar.seconds, 3),
            "output": str(out_path),
            "rejects": str(rejects_path),
        }
        _finish(summary, fmt)


def _finish(summary: dict[str, Any], fmt: str) -> NoReturn:
    """Say what the run did (JSON, or the line for people) and exit: 1 if any visit
    was rejected, else 0."""
    if fmt == "json":
        echo_json(summary)
    else:
        click.echo(
            message(
                "score.done",
                read=f"{summary['read']:,}",
                scored=f"{summary['scored']:,}",
                rejected=f"{summary['rejected']:,}",
                seconds=f"{summary['seconds']:.2f}",
                output=summary["output"],
            )
            + (
                message("score.done_rejects", rejects=summary["rejects"])
                if summary["rejected"]
                else ""
            ),
            err=True,
        )
    sys.exit(EXIT_REJECTED if summary["rejected"] else EXIT_OK)


def _score_on_dask(
    standard: str,
    inputs: tuple[str, ...],
    output: str,
    rejects: str | None,
    scheduler: str,
    *,
    allow_unknown: bool,
    options: dict[str, Any],
    chunk_size: int,
    allow_failing_examples: bool,
    fmt: str,
) -> NoReturn:
    """`--dask`: score the dataset with `sbm_engine.dask.score` and say what it did."""
    from ..io import InputError, OutputError

    try:
        from .. import dask as on_dask

        on_dask.require_dask()
    except ImportError as exc:
        fail(str(exc))
    if rejects is not None:
        fail(message("score.dask_rejects"))
    std = load_standard(standard, allow_unknown=allow_unknown)
    if std.uses_history:
        fail(message("history.dask", standard=std.id))
    examples_pass(std, allow_failing_examples)
    try:
        summary = on_dask.score(
            standard,
            list(inputs),
            output,
            client=scheduler,
            allow_unknown=allow_unknown,
            encoding=options["encoding"],
            delimiter=options["delimiter"],
            decimal=options["decimal"],
            chunk_rows=chunk_size,
        )
    except (on_dask.DaskScoreError, InputError, OutputError) as err:
        fail(str(err))
    _finish(summary.to_dict(), fmt)


def read_history(std: Any, given: str, paths: tuple[str, ...]) -> Any:
    """`--history`: the earlier results, checked to be of the standard and version
    scored (exit 2 otherwise, as for a file that cannot be read); None without any.
    A file without any result holds no previous visit. Given for a standard that uses no
    history, they are not read (a note says so)."""
    if not paths:
        return None
    if not std.uses_history:
        click.echo(message("history.not_used", standard=std.id), err=True)
        return None
    from ..history import History
    from ..io import InputError
    from ..result_files import CheckedResults, ResultsError

    history = History()
    try:
        for _source, record in CheckedResults(list(paths), std, given=given, done="history"):
            history.add(record)
    except (ResultsError, InputError) as err:
        fail(str(err))
    return history


def _score(
    standard: str,
    inputs: tuple[str, ...],
    out_path: Path,
    rejects_path: Path,
    *,
    allow_unknown: bool,
    options: dict[str, Any],
    progress: bool | None,
    engine: str,
    jobs: int,
    chunk_size: int,
    allow_failing_examples: bool,
    history_paths: tuple[str, ...] = (),
) -> Progress:
    """Load the standard, run its examples, and score with the engine that fits
    (`pipeline.score_files`: the streaming path, or the record path when it cannot
    read the inputs exactly); `--engine batch` fails where the streaming path cannot."""
    from ..io import InputError, OutputError
    from ..io.pandas_guard import pandas_left_alone
    from ..pipeline import Unsupported, job_of, score_files

    std = load_standard(standard, allow_unknown=allow_unknown)
    examples_pass(std, allow_failing_examples)
    history = read_history(std, standard, history_paths)
    if engine != "python":
        jobs = usable_jobs(jobs)
    try:
        with pandas_left_alone(), Progress(progress) as bar:
            score_files(
                std,
                list(inputs),
                out_path,
                rejects_path,
                options=options,
                engine=engine,
                chunk_rows=chunk_size,
                jobs=jobs,
                job=job_of(std) if jobs > 1 else None,
                tally=bar,
                together=outputs_together,
                history=history,
            )
    except Unsupported as exc:
        fail(message("score.batch_cannot", reason=exc))
    except (InputError, OutputError) as err:
        fail(str(err))
    return bar
