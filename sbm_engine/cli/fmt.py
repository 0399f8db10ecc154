"""`sbm fmt`: one canonical layout, like black: check, diff, or rewrite in place."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REJECTED,
    error_line,
    standard_paths,
    use_color,
    write_text_atomic,
)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--check", "check_only", is_flag=True, help="Change nothing; exit 1 if a file would change."
)
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff instead of writing.")
def fmt(files: tuple[str, ...], check_only: bool, show_diff: bool) -> None:
    """Format standards (files or folders) in the canonical layout.

    Comments stay where they were. Every run checks, like black, that the formatted
    text means exactly what the original meant (the same syntax tree) and that a
    second pass changes nothing; a file that fails that check is left untouched.

    \b
    Examples:
      sbm fmt branch.sbm
      sbm fmt standards/ --check
      sbm fmt branch.sbm --diff
    """
    from ..diagnostics import CompileError
    from ..formatter import FormatError, format_file, unified_diff
    from ..io import OutputError
    from ..messages import message
    from ..sources import SourceError

    changed = failed = 0
    paths = standard_paths(files)
    for path in paths:
        try:
            old, new = format_file(path)
        except CompileError as err:
            click.echo(err.render(color=use_color()), err=True)
            failed += 1
            continue
        except FormatError as err:
            click.echo(error_line(f"{path}: {err}"), err=True)
            failed += 1
            continue
        except SourceError as err:
            click.echo(error_line(str(err)), err=True)
            failed += 1
            continue
        if old == new:
            continue
        changed += 1
        if show_diff:
            click.echo(unified_diff(old, new, str(path)), nl=False)
        elif check_only:
            click.echo(message("cli.fmt.would_reformat", path=path), err=True)
        else:
            try:
                write_text_atomic(Path(path), new)
            except OutputError as err:  # a read-only folder, a full disk: the file is as it was
                click.echo(error_line(str(err)), err=True)
                failed += 1
                changed -= 1
                continue
            click.echo(message("cli.fmt.reformatted", path=path), err=True)
    unchanged = len(paths) - changed - failed
    summary = (
        message("cli.fmt.summary_would", changed=changed, unchanged=unchanged)
        if check_only or show_diff
        else message("cli.fmt.summary", changed=changed, unchanged=unchanged)
    )
    click.echo(
        summary + (message("cli.fmt.failed", failed=failed) if failed else ""),
        err=True,
    )
    if failed:
        sys.exit(EXIT_FAILED)
    sys.exit(EXIT_REJECTED if changed and (check_only or show_diff) else EXIT_OK)
