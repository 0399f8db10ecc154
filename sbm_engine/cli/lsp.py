"""`sbm lsp`: the language server, for editors."""

from __future__ import annotations

import logging
import sys

import click

from .common import EXIT_FAILED, error_line


@click.command()
@click.option(
    "--stdio",
    "stdio",
    is_flag=True,
    default=True,
    help="Speak the protocol over standard input and output (the default and only way).",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the server's log (requests that failed, with their tracebacks) to this file.",
)
def lsp(stdio: bool, log_file: str | None) -> None:
    """Run the language server for `.sbm` files over standard input and output.

    Editors start it themselves: it reports the checker's diagnostics as you type,
    shows an item's question, scale and weight on hover, completes names, goes to
    definitions and references across `import` and `extends`, renames, and formats
    as `sbm fmt` does. Messages are in the language `--lang` or `SBM_LANG` give,
    else in the editor's (English or Russian).

    \b
    Examples:
      sbm lsp
      sbm lsp --log-file /tmp/sbm-lsp.log
    """
    from ..messages import message

    try:
        from ..lsp.server import create_server
    except ImportError as err:
        if err.name is not None and err.name.split(".")[0] in ("pygls", "lsprotocol"):
            click.echo(error_line(message("lsp.cli.no_pygls")), err=True)
            sys.exit(EXIT_FAILED)
        raise
    if log_file:
        logging.basicConfig(filename=log_file, level=logging.INFO)
    parent = click.get_current_context().parent
    lang = parent.params.get("lang") if parent is not None else None
    create_server(lang).start_io()
