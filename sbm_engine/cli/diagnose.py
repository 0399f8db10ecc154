"""`sbm diagnose`: for each item that loses points, where its losses sit and which kind
of investment they call for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..messages import message
from .analysis import check_output, emit, names_option, output_options, refusals, standard_option
from .common import fail, load_standard
from .table import NA, clip, pad, text_width

TITLE_WIDTH = 40


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path())
@click.option(
    "--by",
    default="point",
    show_default=True,
    type=click.Choice(["point", "specialist", "region"]),
    help="The groups listed as most responsible for each item.",
)
@click.option(
    "--thresholds",
    "thresholds_file",
    type=click.Path(dir_okay=False),
    help="A TOML or JSON file of thresholds (names as the options below).",
)
@click.option(
    "--local-share",
    type=click.FloatRange(0, 1),
    help="Region + point share of the variance at or above which losses are local [0.25].",
)
@click.option(
    "--individual-share",
    type=click.FloatRange(0, 1),
    help="Specialist share at or above which losses are individual [0.25].",
)
@click.option(
    "--systemic-pass-rate",
    type=click.FloatRange(0, 1),
    help="Pass rate below which losses spread everywhere are systemic [0.7].",
)
@click.option(
    "--will-share",
    type=click.FloatRange(0, 1),
    help="Share of misses by specialists who pass the item at other visits at or above "
    "which it is will, not skill [0.5].",
)
@click.option(
    "--min-visits",
    type=click.IntRange(1),
    help="Fewer visits where the item applied: verdict unclear [20].",
)
@click.option("--top", default=5, show_default=True, help="Groups listed per item.")
@standard_option
@output_options("the diagnosis")
@names_option
def diagnose(
    results: tuple[str, ...],
    by: str,
    thresholds_file: str | None,
    local_share: float | None,
    individual_share: float | None,
    systemic_pass_rate: float | None,
    will_share: float | None,
    min_visits: int | None,
    top: int,
    standard: str | None,
    output: str | None,
    fmt: str,
    names: bool,
) -> None:
    """Where each item's lost points sit in RESULTS (scored visits), and which kind of
    investment that calls for.

    For each item that loses points: `lost_share` (points lost on it over all points
    possible, weights as in `sbm rollup`), `pass_rate` (full marks among the visits
    where it applied), how its variance splits between regions, points, specialists
    and visits (nested variance components), a `verdict` and the investment it
    points to:

    \b
      systemic        low pass rate everywhere    the standard or the business process
      local           between points / regions    process and management there
      individual      between specialists         training, coaching
      will-not-skill  the same specialists pass   motivation
                      it at other visits
      unclear         too few visits, or no pattern above the thresholds

    and the groups (--by) that lost the most points on it, with their pass rates.

    \b
    Examples:
      sbm diagnose wave.jsonl
      sbm diagnose wave.jsonl --by specialist --format json
      sbm diagnose q1.parquet --local-share 0.3 --min-visits 50 -o diagnosis.xlsx
    """
    from ..analytics.diagnosis import diagnose as run_diagnose

    check_output(output)
    std = load_standard(standard) if standard else None
    for p in results:
        # a folder: the Parquet parts of `sbm score --dask` (`result_files.result_paths`)
        if not (Path(p).is_file() or Path(p).is_dir()):
            fail(message("diagnose.no_file", path=p))
    limits: dict[str, Any] = _read_thresholds(Path(thresholds_file)) if thresholds_file else {}
    given = {
        "local_share": local_share,
        "individual_share": individual_share,
        "systemic_pass_rate": systemic_pass_rate,
        "will_share": will_share,
        "min_visits": min_visits,
    }
    limits.update({k: v for k, v in given.items() if v is not None})
    with refusals(ValueError):
        report = run_diagnose(list(results), by, thresholds=limits, top=top, standard=std)
    emit(
        report,
        output=output,
        fmt=fmt,
        tables=tables,
        render=lambda: render(report, names=names),
        summary=summary(report),
    )


def _read_thresholds(path: Path) -> dict[str, Any]:
    import json
    import tomllib

    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        fail(message("diagnose.bad_thresholds_file", path=path, error=err))
    data = data.get("thresholds", data) if isinstance(data, dict) else data
    if not isinstance(data, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in data.values()
    ):
        fail(message("diagnose.bad_thresholds", path=path))
    return {k.replace("-", "_"): v for k, v in data.items()}


def tables(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The report's tables, for CSV and XLSX: items (variance flattened), responsible groups."""
    items = []
    groups = []
    for r in report["items"]:
        row = {k: v for k, v in r.items() if k not in ("variance", "responsible")}
        for level in ("region", "point", "specialist", "visit"):
            row[f"variance.{level}"] = (r["variance"] or {}).get(level)
        items.append(row)
        groups += [{"item": r["item"], "by": report["by"], **g} for g in r["responsible"]]
    out: dict[str, list[dict[str, Any]]] = {"items": items, "responsible": groups}
    out["thresholds"] = [report["thresholds"]]
    return out


def summary(report: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for r in report["items"]:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    parts = ", ".join(f"{v} {k}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    said = message("diagnose.summary", items=len(report["items"]), visits=report["visits"])
    return said + (f": {parts}" if parts else "")


def _pct(x: float | None) -> str:
    return NA if x is None else f"{x:.0%}"


def render(report: dict[str, Any], *, names: bool = False) -> str:
    from .table import level_name

    head = [
        message("diagnose.item"),
        message("diagnose.lost"),
        message("diagnose.pass"),
        message("diagnose.region"),
        message("diagnose.point"),
        message("diagnose.specialist"),
        message("diagnose.visit"),
        message("diagnose.verdict"),
        message("diagnose.investment"),
        message("diagnose.most_lost", level=level_name(report["by"])),
    ]
    body: list[list[str]] = []
    for r in report["items"]:
        v = r["variance"] or {}
        label = r["item"] if names else (r["title"] or r["item"])
        worst = ", ".join(f"{g['key']} {_pct(g['pass_rate'])}" for g in r["responsible"][:3])
        body.append(
            [
                clip(label, TITLE_WIDTH),
                f"{r['lost_share']:.1%}" if r["lost_share"] is not None else NA,
                _pct(r["pass_rate"]),
                _pct(v.get("region")),
                _pct(v.get("point")),
                _pct(v.get("specialist")),
                _pct(v.get("visit")),
                r["verdict"],
                r["kind"] or NA,
                worst,
            ]
        )
    widths = [
        max([text_width(h)] + [text_width(row[i]) for row in body]) for i, h in enumerate(head)
    ]
    right = {1, 2, 3, 4, 5, 6}

    def line(cells: list[str]) -> str:
        return "  ".join(
            pad(c, w, right=i in right) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines = [
        message("diagnose.title", visits=report["visits"]),
        line(head),
        line(["─" * w for w in widths]),
        *(line(r) for r in body),
        message("diagnose.legend"),
    ]
    lines += [message("diagnose.note", note=n) for n in report["notes"]]
    return "\n".join(lines)
