"""What the commands that read results share: their options, their refusals, their output.

`rollup`, `compare`, `calibrate`, `drivers`, `diagnose` and `plan` all take results
files, an optional `--standard`, and write a document (`-o` JSON, CSV or XLSX; else
JSON or a table on the terminal). The options are declared here once, so they read
the same in every `--help`; `refusals()` turns what the library raises about the
input into exit 2 with its message; `emit()` writes or prints the document.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from .common import EXIT_FAILED, fail, use_color

F = TypeVar("F", bound=Callable[..., Any])


def standard_option(f: F) -> F:
    return click.option(
        "--standard",
        help="The standard the results were scored with (default: their `standard` id, "
        "if installed).",
    )(f)


def output_options(what: str) -> Callable[[F], F]:
    """`-o/--output` (a document of `what`: .json, .csv or .xlsx) and `--format`."""

    def decorate(f: F) -> F:
        return click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False),
            help=f"Write {what}: .json, .csv or .xlsx (default: a table on the terminal).",
        )(format_option(f))

    return decorate


def format_option(f: F) -> F:
    """`--format table|json`: what to print when nothing is written to a file."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="What to print when there is no --output.",
    )(f)


def names_option(f: F) -> F:
    return click.option("--names", is_flag=True, help="Show the standard's names, not its titles.")(
        f
    )


def width_option(f: F) -> F:
    return click.option(
        "--width",
        type=click.IntRange(min=40, clamp=True),
        help="Fit the table to this many columns (default: $COLUMNS, the terminal's width, "
        "or 100).",
    )(f)


@contextmanager
def refusals(*also: type[Exception]) -> Iterator[None]:
    """Exit 2 with the message when the input cannot be used: results that are not
    scored visits of one standard and version, an unreadable file, a command's own
    errors (`also`), a standard that does not compile (its diagnostics rendered)."""
    from ..diagnostics import CompileError
    from ..io import InputError
    from ..result_files import ResultsError

    refused: tuple[type[Exception], ...] = (ResultsError, InputError, *also)
    try:
        yield
    except refused as err:
        fail(str(err))
    except CompileError as err:
        click.echo(err.render(color=use_color()), err=True)
        sys.exit(EXIT_FAILED)


def check_output(output: str | None) -> None:
    """Exit 2 before any work when -o names a format the document cannot be written in."""
    from ..messages import message
    from .documents import FORMATS

    if output and Path(output).suffix.lower() not in FORMATS:
        fail(message("analysis.bad_output", path=output))


def emit(
    document: Mapping[str, Any],
    *,
    output: str | None,
    fmt: str,
    tables: Callable[[Any], Mapping[str, Sequence[Mapping[str, Any]]]],
    render: Callable[[], str],
    summary: str,
) -> None:
    """Write the document to `output` (then the summary on stderr), or print it as
    JSON, or print `render()` (the table for people) and the summary."""
    from ..io import OutputError
    from .documents import document_json, write_document

    if output:
        try:
            write_document(Path(output), document, tables(document))
        except OutputError as err:
            fail(str(err))
        click.echo(f"{summary} -> {output}", err=True)
    elif fmt == "json":
        click.echo(document_json(document))
    else:
        click.echo(render())
        click.echo(summary, err=True)
