"""`sbm check` and `sbm test`: the methodologist's loop over standards and their examples."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..api import check_with_examples
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REJECTED,
    echo_json,
    error_line,
    format_option,
    standard_paths,
    use_color,
)


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
    from ..messages import message

    results = [check_with_examples(t, not no_examples) for t in standard_paths(files)]
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
                    "diagnostics": [
                        d.to_json() for d in sorted(r["diagnostics"], key=lambda d: d.position)
                    ],
                }
                for r in results
            ]
        )
    else:
        color = use_color()
        for r in results:
            if "missing" in r:
                click.echo(error_line(r["missing"]), err=True)
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
            message(
                "cli.check.summary",
                count=len(results),
                ok=ok,
                errors=errors,
                warnings=warnings,
            ),
            err=True,
        )
    if missing:
        sys.exit(EXIT_FAILED)
    sys.exit(EXIT_REJECTED if errors else EXIT_OK)


@click.command()
@click.argument("files", nargs=-1, required=True)
@click.option(
    "-k",
    "select",
    metavar="TEXT",
    default=None,
    help="Run only the examples whose name contains TEXT (ignoring case).",
)
@click.option(
    "--coverage",
    is_flag=True,
    help="Also report what no example reaches: items no example scores, coefficients "
    "no `expect` reads, band labels no example lands in.",
)
@format_option
def test(files: tuple[str, ...], select: str | None, coverage: bool, fmt: str) -> None:
    """Run the `example` blocks of standards (files, folders or installed ids).

    Prints each example as PASS or FAIL with what it expected and what the standard
    computed, and ends with `N passed, N failed` (and how many standards have
    errors, whose examples cannot run). Exit status: 0 all passed; 1 an example
    failed or a standard has errors (as `sbm check`); 2 a file cannot be read.

    \b
    Examples:
      sbm test branch.sbm
      sbm test standards_library/ --coverage
      sbm test branch.sbm -k "flawless"
    """
    from ..api import check as check_standard
    from ..api import compile_model
    from ..diagnostics import render_all
    from ..examples import coverage as coverage_of
    from ..examples import run_examples
    from ..messages import message
    from ..sources import SourceError

    passed = failed = with_errors = 0
    unreadable = False
    rows: list[dict[str, Any]] = []
    covered: list[dict[str, Any]] = []
    for target in standard_paths(files):
        try:
            report = check_standard(target)
        except (FileNotFoundError, SourceError) as err:
            click.echo(error_line(str(err)), err=True)
            unreadable = True
            continue
        if not report.ok or report.model is None:
            click.echo(render_all(report.diagnostics, report.sources, color=use_color()), err=True)
            with_errors += 1
            continue
        std = compile_model(report.model)
        outcomes = run_examples(std, select)
        for o in outcomes:
            rows.append(
                {
                    "standard": report.model.name,
                    "file": o.span.file,
                    "line": o.span.line,
                    "example": o.name,
                    "visits": o.visits,
                    "passed": o.passed,
                    "failures": o.messages,
                }
            )
            if o.passed:
                passed += 1
            else:
                failed += 1
            if fmt == "text":
                mark = message("cli.test.pass") if o.passed else message("cli.test.fail")
                several = (
                    ", " + message("history.example_visits", count=o.visits) if o.visits > 1 else ""
                )
                click.echo(
                    f"{mark} {report.model.name}: {o.name}{several} ({o.span.file}:{o.span.line})"
                )
                for failure in o.messages:
                    click.echo(f"     {failure}")
        if coverage:
            covered.append({"standard": report.model.name, **coverage_of(std, outcomes)})
    if fmt == "json":
        out: dict[str, Any] = {"examples": rows, "passed": passed, "failed": failed}
        out["standards_with_errors"] = with_errors
        if coverage:
            out["coverage"] = covered
        echo_json(out)
    else:
        for c in covered:
            click.echo(_coverage_text(c))
        summary = message("cli.test.summary", passed=passed, failed=failed)
        if with_errors:
            summary += message("cli.test.with_errors", count=with_errors)
        click.echo(summary)
    if unreadable:
        sys.exit(EXIT_FAILED)
    sys.exit(EXIT_REJECTED if failed or with_errors else EXIT_OK)


def _coverage_text(c: dict[str, Any]) -> str:
    """`coverage of bank.branch: items 25 of 31 scored (not: a, b), …`."""
    from ..messages import message

    def missing(p: dict[str, Any]) -> str:
        return message("cli.coverage.missing", names=_names(p["missing"])) if p["missing"] else ""

    items, coefs = c["items"], c["coefficients"]
    parts = [
        message("cli.coverage.items", covered=items["covered"], total=items["total"])
        + missing(items),
        message("cli.coverage.coefficients", covered=coefs["covered"], total=coefs["total"])
        + missing(coefs),
    ]
    for coef, b in c["bands"].items():
        total = len(b["given"]) + len(b["never"])
        text = message("cli.coverage.bands", coefficient=coef, given=len(b["given"]), total=total)
        never = message("cli.coverage.never", names=_names(b["never"])) if b["never"] else ""
        parts.append(text + never)
    return message("cli.coverage.line", standard=c["standard"], parts="; ".join(parts))


def _names(names: list[str], most: int = 8) -> str:
    from ..messages import message

    shown = ", ".join(names[:most])
    if len(names) <= most:
        return shown
    return message("cli.coverage.and_more", names=shown, count=len(names) - most)
