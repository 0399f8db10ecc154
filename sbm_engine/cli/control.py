"""`sbm control`: field control of a wave — visits outside their window, questionnaires
submitted late — counted per evaluator, with the list of failing visits."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from ..messages import message
from .analysis import format_option
from .common import EXIT_OK, EXIT_REJECTED, fail, write_text_atomic

#: The columns counted per evaluator, in order: (key, table heading).
COUNTS = (
    ("outside_window", "outside window"),
    ("late", "late"),
    ("unreadable", "unreadable"),
    ("failed", "failed"),
)
#: The columns of a worklist file (-o FILE.csv/.xlsx/.jsonl/.parquet), one row per failure.
WORKLIST = ("visit_id", "source", "shopper", "date", "code", "item", "message")


class Tally:
    """Per-evaluator counts and the failing visits, built one visit at a time."""

    def __init__(self) -> None:
        self.by: dict[Any, dict[str, int]] = {}
        self.failures: list[dict[str, Any]] = []
        self.years: set[int] = set()

    def add(self, source: str, record: dict[str, Any] | None, errors: list[Any]) -> None:
        shopper = _key(record.get("shopper")) if record is not None else None
        row = self.by.get(shopper)
        if row is None:
            row = self.by[shopper] = dict.fromkeys(("visits", *(k for k, _ in COUNTS)), 0)
        row["visits"] += 1
        if record is not None:
            date = record.get("date")
            if isinstance(date, str) and len(date) >= 4 and date[:4].isdigit():
                self.years.add(int(date[:4]))
        if not errors:
            return
        codes = {e.code for e in errors}
        row["failed"] += 1
        row["outside_window"] += "outside_window" in codes
        row["late"] += "late_submission" in codes
        row["unreadable"] += bool(codes & {"bad_timestamp", "unreadable"})
        self.failures.append(
            {
                "visit_id": None if record is None else _key(record.get("visit_id")),
                "source": source,
                "shopper": shopper,
                "date": None if record is None else _key(record.get("date")),
                "errors": [e.to_dict() for e in errors],
            }
        )

    def evaluators(self) -> list[dict[str, Any]]:
        """One row per evaluator, the most failing first (then by name)."""
        rows = [{"shopper": s, **_with_shares(c)} for s, c in self.by.items()]
        rows.sort(key=lambda r: (-r["failed"], r["shopper"] is None, str(r["shopper"])))
        return rows

    def totals(self) -> dict[str, Any]:
        total = dict.fromkeys(("visits", *(k for k, _ in COUNTS)), 0)
        for counts in self.by.values():
            for k in total:
                total[k] += counts[k]
        return _with_shares(total)


def _key(value: Any) -> Any:
    """A visit field as JSON can carry it (a text, a number, or None)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _with_shares(counts: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = dict(counts)
    n = counts["visits"]
    for key, _ in COUNTS:
        out[f"{key}_share"] = counts[key] / n if n else None
    return out


def read_all(paths: Iterable[str]) -> Iterator[tuple[str, dict[str, Any] | None, str | None]]:
    """(source, record, why it could not be read) for every visit of the input files."""
    from ..field_control import FIELDS
    from ..formats import read_visits

    for path in paths:
        for rec in read_visits(path, visit_fields=FIELDS):
            yield rec.source, rec.record, rec.error


def run(paths: Iterable[str], control: Any) -> Tally:
    """Check every visit of the files; raises `InputError` for an unreadable file."""
    from ..runtime import VisitError

    tally = Tally()
    check = control.check
    for source, record, error in read_all(paths):
        if record is None:
            tally.add(source, None, [VisitError("record", "unreadable", str(error))])
        else:
            tally.add(source, record, check(record))
    return tally


def report(
    tally: Tally, control: Any, inputs: Iterable[str], calendar_file: str | None
) -> dict[str, Any]:
    cal = control.calendar
    totals = tally.totals()
    out: dict[str, Any] = {
        "inputs": list(inputs),
        "rules": {
            "window": control.window,
            "submit_days": control.max_submit_days,
            "calendar": {**cal.to_dict(), "file": calendar_file},
        },
        "visits": totals["visits"],
        "failed": totals["failed"],
        "totals": totals,
        "evaluators": tally.evaluators(),
        "failures": tally.failures,
    }
    outside = sorted(tally.years - cal.years) if cal.years else []
    if outside:
        out["note"] = message(
            "control.calendar_years",
            years=", ".join(map(str, sorted(cal.years))),
            outside=", ".join(map(str, outside)),
        )
    return out


def _count(n: int, share: float | None) -> str:
    return "0" if not n else f"{n} ({100 * (share or 0):.1f}%)"


def render(rep: dict[str, Any], rules: str, limit: int) -> str:
    """The report as text for people: rules, a table per evaluator, failing visits, summary."""
    unknown = message("control.unknown")
    lines = [
        message("control.title", inputs=", ".join(rep["inputs"])),
        message("control.checked", rules=rules),
        "",
    ]
    head: tuple[str, ...] = (
        message("control.evaluator"),
        message("control.visits"),
        message("control.outside_window"),
        message("control.late"),
        message("control.unreadable"),
        message("control.failed"),
    )
    rows = [
        (
            unknown if r["shopper"] is None else str(r["shopper"]),
            str(r["visits"]),
            *(_count(r[k], r[f"{k}_share"]) for k, _ in COUNTS),
        )
        for r in rep["evaluators"]
    ]
    t = rep["totals"]
    rows.append(
        (
            message("control.all"),
            str(t["visits"]),
            *(_count(t[k], t[f"{k}_share"]) for k, _ in COUNTS),
        )
    )
    lines += _columns(head, rows, right={1, 2, 3, 4, 5})
    failures = rep["failures"]
    if failures:
        lines += ["", message("control.failing")]
        shown = failures if limit <= 0 else failures[:limit]
        rows = [
            (
                "—" if f["visit_id"] is None else str(f["visit_id"]),
                f["source"],
                unknown if f["shopper"] is None else str(f["shopper"]),
                "; ".join(f"{e['code']}: {e['message']}" for e in f["errors"]),
            )
            for f in shown
        ]
        head = (
            "visit_id",
            message("control.source"),
            message("control.evaluator"),
            message("control.what_failed"),
        )
        lines += _columns(head, rows, right=set())
        if len(shown) < len(failures):
            more = len(failures) - len(shown)
            lines.append(message("control.more", count=more))
    if "note" in rep:
        lines += ["", message("control.note", note=rep["note"])]
    lines += ["", summary(rep)]
    return "\n".join(lines)


def _columns(head: tuple[str, ...], rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(head), *(line(r) for r in rows)]


def summary(rep: dict[str, Any]) -> str:
    t = rep["totals"]
    n, failed = t["visits"], t["failed"]
    groups = rep["evaluators"]
    with_failures = sum(1 for g in groups if g["failed"])
    share = f" ({100 * t['failed_share']:.1f}%)" if n else ""
    return message(
        "control.summary",
        visits=n,
        failed=failed,
        share=share,
        outside=t["outside_window"],
        late=t["late"],
        unreadable=t["unreadable"],
        evaluators=len(groups),
        with_failures=with_failures,
    )


def write_output(rep: dict[str, Any], out: Path) -> None:
    """-o: the JSON report (.json) or the worklist, one row per failure (any visit format)."""
    from ..formats import open_writer
    from ..io import OutputError

    try:
        if out.suffix.lower() == ".json":
            text = json.dumps(rep, ensure_ascii=False, indent=2, allow_nan=False)
            write_text_atomic(out, text + "\n")
            return
        with open_writer(out, columns=WORKLIST, spreadsheet_safe=True) as w:
            for f in rep["failures"]:
                for e in f["errors"]:
                    w.write(
                        {
                            "visit_id": f["visit_id"],
                            "source": f["source"],
                            "shopper": f["shopper"],
                            "date": f["date"],
                            "code": e["code"],
                            "item": e["item"],
                            "message": e["message"],
                        }
                    )
    except OutputError as err:
        fail(message("control.bad_output", error=err))
    except OSError as err:
        fail(message("score.cannot_write", path=out, reason=err.strerror or err))


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--submit-days",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    metavar="N",
    help="Questionnaires are due within N working days after the visit.",
)
@click.option(
    "--holidays",
    type=click.Path(exists=True, dir_okay=False),
    metavar="FILE",
    help="The holiday calendar: one ISO date per line, or TOML with `holidays = [...]`, "
    "optional `workdays = [...]` (working weekend days) and `weekend`. Default: "
    "Saturday and Sunday off, no holidays.",
)
@click.option(
    "--no-window", is_flag=True, help="Do not check the visit window (scheduled_from/to)."
)
@format_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the JSON report (.json) or the failing visits, one row per failure "
    "(.csv, .xlsx, .jsonl, .parquet), instead of printing.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="The table lists at most this many failing visits (0: all).",
)
def control(
    inputs: tuple[str, ...],
    submit_days: int,
    holidays: str | None,
    no_window: bool,
    fmt: str,
    output: str | None,
    limit: int,
) -> None:
    """Field control ("double control") of visit files (JSONL, CSV, XLSX, Parquet).

    For every visit: was it made inside its agreed window — `date` within
    `scheduled_from` … `scheduled_to`, both days included (visits without a window are
    not checked) — and was its questionnaire submitted within N working days — the
    working days after `date` up to and including `submitted`: a visit on Friday
    submitted on Monday took 1. Weekends are Saturday and Sunday; --holidays adds
    public holidays and transferred working Saturdays. A date that cannot be read, or
    a questionnaire submitted before its visit, counts as unreadable.

    Prints, per evaluator (`shopper`), the visits checked and how many were outside
    their window, late, unreadable, and failed any check, with their shares; then the
    failing visits, each with its file and line and what failed; then a summary line.
    --format json gives the same for machines.

    Exit status: 0 no visit failed; 1 some visit failed; 2 nothing could be checked
    (unreadable input or calendar, bad usage).

    \b
    Examples:
      sbm control wave2.jsonl
      sbm control wave2.jsonl --submit-days 1 --holidays ru-2026.toml
      sbm control march/*.csv --format json
      sbm control wave2.xlsx -o late.xlsx
    """
    from ..field_control import FieldControl
    from ..io import InputError
    from ..working_days import CalendarError

    try:
        checks = FieldControl(submit_days, holidays if holidays else (), window=not no_window)
    except CalendarError as err:
        fail(str(err))
    try:
        tally = run(inputs, checks)
    except InputError as err:
        fail(str(err))
    if not tally.by:
        fail(message("control.no_visits"))
    rep = report(tally, checks, inputs, holidays)
    if output:
        write_output(rep, Path(output))
        click.echo(f"{summary(rep)} -> {output}", err=True)
    elif fmt == "json":
        click.echo(json.dumps(rep, ensure_ascii=False, indent=2, allow_nan=False))
    else:
        click.echo(render(rep, checks.describe(), limit))
    sys.exit(EXIT_REJECTED if rep["failed"] else EXIT_OK)
