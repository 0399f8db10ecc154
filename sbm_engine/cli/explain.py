"""`sbm explain`: one visit's scoring, step by step."""

from __future__ import annotations

import sys
from typing import Any

import click

from .common import EXIT_OK, EXIT_REJECTED, echo_json, fail, format_option, load_standard


@click.command()
@click.argument("standard")
@click.argument("input_file", metavar="INPUT", type=click.Path(exists=True, dir_okay=False))
@click.option("--visit", "visit_id", required=True, help="The visit_id to explain.")
@click.option("--show-python", is_flag=True, help="Also print the Python the standard compiled to.")
@format_option
def explain(standard: str, input_file: str, visit_id: str, show_python: bool, fmt: str) -> None:
    """Show how one visit of INPUT was scored against STANDARD.

    Every item (answer, applicability, score, weight), every section and
    coefficient with its formula and the values that went in, N/A exclusions,
    critical failures, bands and gaps: the view a supervisor shows in a dispute.

    \b
    Examples:
      sbm explain branch.sbm wave.jsonl --visit v042
      sbm explain bank.branch wave.csv --visit 17 --format json
    """
    from ..explain import explain as explain_visit
    from ..explain import render
    from ..formats import read_visits
    from ..io import InputError
    from ..messages import message

    std = load_standard(standard)
    wave: list[Any] = []  # a standard that uses history reads the visit's previous one
    try:
        for rec in read_visits(input_file, visit_fields=std.model.visit_fields):
            if rec.record is not None and std.uses_history:
                wave.append(rec.record)
            if rec.record is not None and str(rec.record.get("visit_id")) == visit_id:
                break
        else:
            fail(message("cli.explain.no_visit", visit=repr(visit_id), file=input_file))
        if std.uses_history:
            target = len(wave) - 1
            wave += [
                r.record
                for r in read_visits(input_file, visit_fields=std.model.visit_fields)
                if r.record is not None
            ][len(wave) :]
    except InputError as err:
        fail(str(err))
    previous = None
    if std.uses_history:
        from ..history import previous_visits

        previous = previous_visits(std, wave)[target]
    exp = explain_visit(std, rec.record, previous)
    exp["source"] = rec.source
    if fmt == "json":
        echo_json(exp)
    else:
        click.echo(f"{rec.source}: " + render(exp))
    if show_python:
        click.echo(f"\n# ---- {message('cli.explain.python')} ----\n" + std.python_listing())
    sys.exit(EXIT_OK if exp["status"] == "scored" else EXIT_REJECTED)
