"""`sbm calibrate`: do the evaluators agree? Per item, per coefficient, per evaluator."""

from __future__ import annotations

from typing import Any

import click

from ..messages import message
from .analysis import (
    check_output,
    emit,
    names_option,
    output_options,
    refusals,
    standard_option,
    width_option,
)
from .common import load_standard


@click.command()
# A folder stands for its Parquet parts (`sbm score --dask`): `result_files.result_paths`.
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--reference",
    metavar="SHOPPER",
    help="Measure each evaluator against this one (a trainer, a controller) instead of "
    "the consensus of the others.",
)
@click.option(
    "--case-field",
    default="visit_id",
    show_default=True,
    help="The field that says which case a result is of: results with the same value "
    "were scored by different evaluators on the same case.",
)
@standard_option
@output_options("the calibration (CSV: one table, a `kind` column; XLSX: a sheet per kind)")
@names_option
@width_option
def calibrate(
    results: tuple[str, ...],
    reference: str | None,
    case_field: str,
    standard: str | None,
    output: str | None,
    fmt: str,
    names: bool,
    width: int | None,
) -> None:
    """Check whether evaluators agree, from RESULTS in which several of them (the
    `shopper` of each result) scored the same case (the same `visit_id`, or
    --case-field): usually one results file per evaluator.

    Per item: the cases rated by two or more evaluators, observed agreement p_o,
    kappa (Cohen's with two evaluators in all, else Fleiss'), Gwet's AC1, PABAK and
    Krippendorff's alpha (nominal for yes/no scales, ordinal for graded scales,
    interval for numbers), and a verdict from alpha: reliable ≥ 0.8, tentative
    ≥ 0.667, else unreliable. Items are compared by their scores. Read all of
    them: where nearly every answer is "yes", kappa and alpha collapse although
    evaluators agree; AC1 and PABAK do not.

    Per coefficient: ICC(2,1) (absolute agreement, on the cases every evaluator
    scored) and interval alpha. Per evaluator and coefficient: the mean deviation
    from the others' mean on the same cases (or from --reference) with its 95 %
    interval: lenient when the interval lies above 0, severe below, else
    consistent. Each figure comes with its number of cases; where they are too few,
    a note says so instead of a verdict.

    Nothing is calibrated (exit 2) when the results mix standards or versions, a
    record is not a scored visit or has no `shopper`, an evaluator scored a case
    twice, there is one evaluator only, --reference is not among them, or no case
    was scored by two evaluators.

    \b
    Examples:
      sbm calibrate anna.jsonl boris.jsonl vera.jsonl
      sbm calibrate wave.jsonl --reference trainer -o calibration.xlsx
      sbm calibrate a.csv b.csv --case-field route --format json
    """
    from ..analytics.calibration import read_ratings

    check_output(output)
    std = load_standard(standard) if standard else None
    with refusals():
        std, ratings = read_ratings(results, std, given=standard, case_field=case_field)
        report = ratings.report(reference)

    def table() -> str:
        from .rollup import table_width

        return render(report, std.model, width=table_width(width), names=names)

    emit(report, output=output, fmt=fmt, tables=tables, render=table, summary=summary(report))


def tables(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The report's three tables, for CSV (one table: `table` and `kind` columns say
    which) and XLSX (a sheet each)."""
    return {
        "items": [{"kind": "item", **row} for row in report["items"]],
        "coefficients": [{"kind": "coefficient", **row} for row in report["coefficients"]],
        "evaluators": [{"kind": "evaluator", **row} for row in report["evaluators"]],
    }


def summary(report: dict[str, Any]) -> str:
    items = report["items"]
    unreliable = sum(1 for i in items if i["verdict"] == "unreliable")
    biased = sum(1 for e in report["evaluators"] if e["verdict"] in ("lenient", "severe"))
    return message(
        "calibrate.summary",
        evaluators=len(report["shoppers"]),
        cases=report["cases"],
        unreliable=unreliable,
        items=len(items),
        biased=biased,
    )


# -- the terminal table ---------------------------------------------------------------------------


def _fig(x: float | None, sign: bool = False) -> str:
    from .table import NA

    if x is None:
        return NA
    if abs(x) < 0.0005:
        x = 0.0  # no "-0.000" for rounding noise
    return f"{x:+.3f}" if sign else f"{x:.3f}"


def _grid(head: list[str], rows: list[list[str]], width: int, flex: int = 0) -> list[str]:
    """Columns padded to their widest cell, text columns (`flex` and those before it)
    left-aligned, figures right-aligned; column `flex` is cut to fit `width`."""
    from .table import GAP, clip, pad, text_width

    widths = [max(text_width(r[i]) for r in [head, *rows]) for i in range(len(head))]
    others = sum(w for i, w in enumerate(widths) if i != flex) + len(GAP) * (len(head) - 1)
    widths[flex] = max(min(widths[flex], width - others), 12)
    out = []
    for n, r in enumerate([head, None, *rows]):
        if r is None:
            out.append(GAP.join("-" * w for w in widths))
            continue
        cells = [
            pad(clip(cell, widths[i], words=n > 0), widths[i], right=i > flex)
            for i, cell in enumerate(r)
        ]
        out.append(GAP.join(cells).rstrip())
    return out


def render(
    report: dict[str, Any], model: Any = None, *, width: int = 100, names: bool = False
) -> str:
    """The calibration for people: three tables and the notes, within `width`."""
    from ..rollup import show_version
    from .table import KEY_WIDTH, MIN_WIDTH, NA, clip, one_line, wrap

    width = max(width, MIN_WIDTH)
    questions: dict[str, str] = {}
    titles: dict[str, str] = {}
    if model is not None and not names:
        questions = {i.name: one_line(i.question) for i in model.items if i.question}
        titles = {c.name: one_line(c.title) for c in model.coefficients if c.title}
    reference = report["reference"]
    shoppers = report["shoppers"]
    title = message(
        "calibrate.title",
        standard=report["standard"],
        version=show_version(report["version"]),
        evaluators=len(shoppers),
        names=", ".join(one_line(s) for s in shoppers[:8]) + (", …" if len(shoppers) > 8 else ""),
        cases=f"{report['cases']:,}",
        field=report["case_field"],
    )
    lines = [*wrap(title, width, 3), ""]
    notes: list[str] = []
    methods = {i["kappa_method"] for i in report["items"] if i["kappa_method"]}
    kappa_head = {"cohen": "Cohen κ", "fleiss": "Fleiss κ"}.get(next(iter(methods), ""), "kappa")
    rows = []
    for i in report["items"]:
        label = questions.get(i["item"], i["item"])
        rows.append(
            [
                label,
                f"{i['units']:,}",
                _fig(i["p_o"]),
                _fig(i["kappa"]),
                _fig(i["ac1"]),
                _fig(i["pabak"]),
                _fig(i["alpha"]),
                i["level"][:3] + ".",
                i["verdict"] or NA,
            ]
        )
        if i["note"]:
            notes.append(f"{label}: {i['note']}")
    cases, verdict = message("calibrate.cases"), message("calibrate.verdict")
    head = [
        message("calibrate.item"),
        cases,
        "p_o",
        kappa_head,
        "AC1",
        "PABAK",
        "alpha",
        message("calibrate.level"),
        verdict,
    ]
    lines += _grid(head, rows, width)
    lines.append("")
    rows = []
    for c in report["coefficients"]:
        label = titles.get(c["coefficient"], c["coefficient"])
        icc = _fig(c["icc"]) + f" ({c['icc_units']:,})"
        rows.append([label, f"{c['units']:,}", _fig(c["alpha"]), icc, c["verdict"] or NA])
        if c["note"]:
            notes.append(f"{label}: {c['note']}")
    coefficient = message("calibrate.coefficient")
    lines += _grid([coefficient, cases, "alpha", message("calibrate.icc"), verdict], rows, width)
    lines.append("")
    rows = []
    for e in report["evaluators"]:
        label = titles.get(e["coefficient"], e["coefficient"])
        interval = (
            NA if e["ci_low"] is None else f"{_fig(e['ci_low'], True)} … {_fig(e['ci_high'], True)}"
        )
        rows.append(
            [
                clip(one_line(e["shopper"]), KEY_WIDTH),
                label,
                f"{e['n']:,}",
                _fig(e["mean_deviation"], True),
                interval,
                e["verdict"] or NA,
            ]
        )
    head = [
        message("calibrate.evaluator"),
        coefficient,
        cases,
        message("calibrate.deviation"),
        message("calibrate.interval"),
        verdict,
    ]
    lines += _grid(head, rows, width, flex=1)
    lines.append(
        message("calibrate.from_reference", reference=reference)
        if reference
        else message("calibrate.from_others")
    )
    if notes:
        lines += ["", message("calibrate.notes")]
        for note in notes:
            first, *rest = wrap(note, width - 4, 10**6)
            lines += [f"  {first}", *(f"    {r}" for r in rest)]
    return "\n".join(lines)
