"""What every command shares: loading a standard, output to the terminal, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="`json` for machines.",
)


def fail(message: str) -> NoReturn:
    """Stop with exit status 2: nothing could be done."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_FAILED)


def use_color(stream: Any = None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def load_standard(id_or_path: str, allow_unknown: bool = False) -> Any:
    """Load a standard or exit 2 with its diagnostics rendered."""
    from ..api import load
    from ..diagnostics import CompileError
    from ..sources import SourceError

    try:
        return load(id_or_path, allow_unknown=allow_unknown)
    except CompileError as err:
        click.echo(err.render(color=use_color()), err=True)
        sys.exit(EXIT_FAILED)
    except (FileNotFoundError, SourceError) as err:
        fail(str(err))


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def write_text_atomic(path: Path, text: str) -> None:
    """Write a whole file or nothing: a temporary beside it, then a rename."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def standard_paths(args: tuple[str, ...]) -> list[str]:
    """Arguments naming standards, with folders expanded to the `.sbm` files inside them
    (anything else, a file or an installed id, passes through)."""
    out: list[str] = []
    for arg in args:
        p = Path(arg)
        out += [str(f) for f in sorted(p.rglob("*.sbm"))] if p.is_dir() else [arg]
    return out
