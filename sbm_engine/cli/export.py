"""`sbm export`: the questionnaire for field apps and a JSON Schema of a visit."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import fail, load_standard, write_text_atomic


@click.command()
@click.argument("standard")
@click.option("--to", "target", required=True, type=click.Choice(["json", "toml", "jsonschema"]))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to a file (default: stdout)."
)
def export(standard: str, target: str, output: str | None) -> None:
    """Export STANDARD's questionnaire: sections, items, answer options, conditions
    (as source text), weights and tags; or a JSON Schema that validates one visit.

    \b
    Examples:
      sbm export branch.sbm --to json -o questionnaire.json
      sbm export bank.branch --to toml
      sbm export branch.sbm --to jsonschema -o visit.schema.json
    """
    from ..export import drop_nulls, json_schema, questionnaire
    from ..io import OutputError

    std = load_standard(standard)
    if target == "jsonschema":
        text = json.dumps(json_schema(std.model), ensure_ascii=False, indent=2) + "\n"
    elif target == "json":
        text = json.dumps(questionnaire(std.model), ensure_ascii=False, indent=2) + "\n"
    else:
        import tomli_w

        text = tomli_w.dumps(drop_nulls(questionnaire(std.model)))
    if output:
        try:
            write_text_atomic(Path(output), text)
        except OutputError as err:
            fail(str(err))
        click.echo(f"{std.id} -> {output}", err=True)
    else:
        click.echo(text, nl=False)
