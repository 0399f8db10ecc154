"""`sbm plugins`: what is installed — packs, versions, hooks, standards."""

from __future__ import annotations

import click

from .common import echo_json, format_option


@click.command()
@format_option
def plugins(fmt: str) -> None:
    """List installed plugins: name, distribution and version, the hooks each
    implements and the standards (ids) each ships.

    \b
    Examples:
      sbm plugins
      sbm plugins --format json
      SBM_TRACE=1 sbm check bank.branch      # trace every hook call
      SBM_DISABLE_PLUGINS=bank sbm plugins   # run without a pack
    """
    from ..plugins import describe_plugins, format_plugins_table

    rows = describe_plugins()
    if fmt == "json":
        echo_json(rows)
    else:
        click.echo(format_plugins_table(rows))
