"""`sbm check` and `sbm test`: the methodologist's loop over standards and their examples."""

from __future__ import annotations

import sys
from typing import Any

import click

from .common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REJECTED,
    echo_json,
    format_option,
    standard_paths,
    use_color,
)


def _check_one(target: str, run_examples: bool) -> dict[str, Any]:
    from ..api import check as check_standard
    from ..api import compile_model
    from ..sources import SourceError

    try:
        report = check_standard(target)
    except (FileNotFoundError, SourceError) as err:
        return {"target": target, "missing": str(err)}
    diagnostics = list(report.diagnostics)
    examples: list[Any] = []
    if report.ok and run_examples and report.model is not None:
        examples = compile_model(report.model).run_examples()
        diagnostics += [d for o in examples for d in o.failures]
    return {
        "target": target,
        "standard": report.model.name if report.model else None,
        "diagnostics": diagnostics,
        "sources": report.sources,
        "examples": examples,
    }


@click.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--no-examples", is_flag=True, help="Check only; do not run the examples.")
@format_option
def check(files: tuple[str, ...], no_examples: bool, fmt: str) -> None:
    """Parse and check standards (files, folders or installed ids) and run their examples.

    Every problem is reported, sorted by position, as
    `file:line:col: error[CODE]: message` with the source line, a caret and a hint.

    \b
    Examples:
      sbm check branch.sbm
      sbm check standards/ --format json
      sbm check bank.branch
    """
    from ..diagnostics import render_all

    results = [_check_one(t, not no_examples) for t in standard_paths(files)]
    missing = [r for r in results if "missing" in r]
    errors = sum(d.severity == "error" for r in results for d in r.get("diagnostics", ()))
    warnings = sum(d.severity == "warning" for r in results for d in r.get("diagnostics", ()))
    if fmt == "json":
        echo_json(
            [
                {"target": r["target"], "error": r["missing"]}
                if "missing" in r
                else {
                    "target": r["target"],
                    "standard": r["standard"],
                    "ok": not any(d.severity == "error" for d in r["diagnostics"]),
                    "diagnostics": [d.to_json() for d in sorted(r["diagnostics"], key=_pos)],
                }
                for r in results
            ]
        )
    else:
        color = use_color()
        for r in results:
            if "missing" in r:
                click.echo(f"error: {r['missing']}", err=True)
            elif r["diagnostics"]:
                click.echo(render_all(r["diagnostics"], r["sources"], color=color), err=True)
                click.echo(err=True)
        ok = (
            len(results)
            - len(missing)
            - sum(
                any(d.severity == "error" for d in r["diagnostics"])
                for r in results
                if "missing" not in r
            )
        )
        click.echo(
            f"checked {len(results)} standard{'s' * (len(results) != 1)}: {ok} ok, "
            f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}",
            err=True,
        )
    if missing:
        sys.exit(EXIT_FAILED)
    sys.exit(EXIT_REJECTED if errors else EXIT_OK)


def _pos(d: Any) -> tuple[str, int, int]:
    return (d.span.file, d.span.line, d.span.column)


@click.command()
@click.argument("files", nargs=-1, required=True)
@format_option
def test(files: tuple[str, ...], fmt: str) -> None:
    """Run the `example` blocks of standards (files, folders or installed ids).

    Prints each example as PASS or FAIL with what it expected and what the standard
    computed, and ends with `N passed, N failed`.

    \b
    Examples:
      sbm test branch.sbm
      sbm test standards_library/
    """
    from ..api import check as check_standard
    from ..api import compile_model
    from ..diagnostics import render_all
    from ..sources import SourceError

    passed = failed = 0
    broken = False
    rows: list[dict[str, Any]] = []
    for target in standard_paths(files):
        try:
            report = check_standard(target)
        except (FileNotFoundError, SourceError) as err:
            click.echo(f"error: {err}", err=True)
            broken = True
            continue
        if not report.ok or report.model is None:
            click.echo(render_all(report.diagnostics, report.sources, color=use_color()), err=True)
            broken = True
            continue
        for o in compile_model(report.model).run_examples():
            rows.append(
                {
                    "standard": report.model.name,
                    "file": o.span.file,
                    "line": o.span.line,
                    "example": o.name,
                    "passed": o.passed,
                    "failures": o.messages,
                }
            )
            if o.passed:
                passed += 1
            else:
                failed += 1
            if fmt == "text":
                mark = "PASS" if o.passed else "FAIL"
                click.echo(f"{mark} {report.model.name}: {o.name} ({o.span.file}:{o.span.line})")
                for message in o.messages:
                    click.echo(f"     {message}")
    if fmt == "json":
        echo_json({"examples": rows, "passed": passed, "failed": failed})
    else:
        click.echo(f"{passed} passed, {failed} failed")
    if broken:
        sys.exit(EXIT_FAILED)
    sys.exit(EXIT_REJECTED if failed else EXIT_OK)
