"""`sbm new` and `sbm diff`: starting a standard from a pack, and reviewing a new version."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from .common import EXIT_OK, EXIT_REJECTED, fail, format_option, load_standard, write_text_atomic

_ID = re.compile(r"^[^\W\d]\w*(\.[^\W\d]\w*)*$")


@click.command()
@click.argument("standard_id", metavar="ID")
@click.option(
    "--extends", "base", required=True, help="The installed or library standard to build on."
)
@click.option("--title", default=None, help="The new standard's title.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="File to create (default: ID with dots as underscores, .sbm).",
)
def new(standard_id: str, base: str, title: str | None, output: str | None) -> None:
    """Create a standard ID that extends BASE, ready to edit.

    \b
    The file carries an example of a flawless visit of BASE, with what the
    engine computes for it, so it passes `sbm check` before the first edit.

    \b
    Examples:
      sbm new acme.branch --extends library.stages
      sbm new acme.branch --extends bank.branch     (with the sbm-bank pack installed)
      sbm new salon.express --extends salon.visit -o express.sbm
    """
    from ..api import _providers
    from ..diagnostics import did_you_mean
    from ..io import OutputError
    from ..loader import Loader
    from ..messages import message
    from ..scaffold import new_standard_text

    if not _ID.match(standard_id):
        fail(message("cli.new.bad_id", id=repr(standard_id)))
    known = Loader((), _providers()).known_standards(extra_dirs=[Path.cwd()])
    if base not in known:
        hint = did_you_mean(base, known)
        listed = ", ".join(sorted(known)) or message("cli.new.none_known")
        fail(
            message("cli.new.unknown_base", base=repr(base))
            + (message("cli.new.did_you_mean", name=repr(hint)) if hint else "")
            + "\n"
            + message("cli.new.known", standards=listed)
        )
    path = Path(output or standard_id.replace(".", "_") + ".sbm")
    if path.exists():
        fail(message("cli.new.exists", path=path))
    text = new_standard_text(standard_id, load_standard(base), title, str(path))
    try:
        write_text_atomic(path, text)
    except OutputError as err:
        fail(str(err))
    click.echo(message("cli.new.created", path=path, base=base), err=True)


@click.command()
@click.argument("old")
@click.argument("new")
@format_option
def diff(old: str, new: str, fmt: str) -> None:
    """List items, sections, coefficients, targets and bands added, removed or changed
    (weights, scales, formulas, conditions) between OLD and NEW. Exit 1 if any changed.

    \b
    Examples:
      sbm diff branch_2026_1.sbm branch_2026_2.sbm
      sbm diff bank.branch acme_branch.sbm --format json
    """
    from ..compare import diff as diff_models
    from ..compare import has_changes, render

    result = diff_models(load_standard(old).model, load_standard(new).model)
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(render(result))
    sys.exit(EXIT_REJECTED if has_changes(result) else EXIT_OK)
