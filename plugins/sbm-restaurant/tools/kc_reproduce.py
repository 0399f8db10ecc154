#!/usr/bin/env python3
"""Reproduce King County's published inspection scores and results without the engine.

Why this exists: the compiler for ``.sbm`` files is being written concurrently, so the
standard ``standards/king_county.sbm`` cannot be run yet. This tool is a small, independent
model of exactly the semantics that standard writes down, fed with exactly the records the
pack's reader (``sbm_restaurant.king_county``) yields. It answers two questions now, and keeps
answering them as a cross-check once the engine exists:

* does the standard reproduce the county's figures (target: the score of >= 99 % of the 1,121
  scored inspections, Satisfactory/Unsatisfactory of >= 97 % of the 1,101 that publish one)?
* which inspections does it not reproduce, and why (one category per exception)?

The model reads the items (name, points, red/blue, critical) from the ``.sbm`` file itself, so
that it cannot drift from the standard; the one thing it restates is the coefficient
``pre_2013_points_adjustment`` (the point table before 2013-05-01), and it checks that the
standard still names that date. It also runs the standard's ``example`` blocks through the
model, which checks their arithmetic before the engine can.

Usage::

    python tools/kc_reproduce.py [--data DIR] [--standard FILE] [--markdown]

Exit status 0 when both targets are met and every example passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PACK = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PACK / "src"))

from sbm_restaurant.king_county import (  # noqa: E402  (path set just above)
    OK,
    VIOLATION,
    ReadStats,
    code_of,
    read_king_county,
)

DEFAULT_DATA = Path("/work/shared/realdata/king_county")
DEFAULT_STANDARD = PACK / "src" / "sbm_restaurant" / "standards" / "king_county.sbm"

#: The coefficient ``pre_2013_points_adjustment`` of the standard: before this date the county
#: charged 1600 at 30 points and 0400, 0500 at 15 (items carry today's 25).
TABLE_CHANGE = "2013-05-01"
OLD_TABLE_DELTA: dict[str, int] = {"v1600": +5, "v0400": -10, "v0500": -10}

SCORE_TARGET = 0.99
RESULT_TARGET = 0.97
CONSULTATION = "Consultation/Education - Field"


# --------------------------------------------------------------------------- the standard


@dataclass(frozen=True)
class Item:
    """One violation item as the standard declares it."""

    name: str
    points: int
    tags: tuple[str, ...]
    critical: bool
    title: str


_ITEM = re.compile(
    r'^\s*item\s+(?P<name>\w+)\s+"(?P<title>[^"]*)"\s+answer\s+finding\s+'
    r"weight\s+(?P<weight>\d+)\s+tags\s+(?P<rest>[^#\n]*)",
    re.M,
)


def load_items(standard: Path) -> dict[str, Item]:
    """Items of the standard, read from its text (the compiler does not exist yet)."""
    text = standard.read_text(encoding="utf-8")
    if f'visit.date < "{TABLE_CHANGE}"' not in text:
        raise SystemExit(f"{standard}: no longer changes the point table on {TABLE_CHANGE}")
    items: dict[str, Item] = {}
    for m in _ITEM.finditer(text):
        words = m.group("rest").split()
        tags = tuple(w for w in words if w not in {"optional", "required", "critical", "bonus"})
        items[m.group("name")] = Item(
            m.group("name"), int(m.group("weight")), tags, "critical" in words, m.group("title")
        )
    return items


# ------------------------------------------------------------------------------ the model


@dataclass
class Scored:
    """The coefficients of one visit, as the standard defines them (None = N/A)."""

    inspection_score: float | None
    red_points: float | None
    blue_points: float | None
    adjustment: int
    critical_failed: bool
    satisfactory: int
    needs_reinspection: int
    needs_closure: int
    outcome: int
    cited: list[str] = field(default_factory=list)

    @property
    def band(self) -> str:
        """``bands outcome { closure >= 3, reinspection >= 2, unsatisfactory >= 1, pass }``."""
        return ["pass", "unsatisfactory", "reinspection", "closure"][self.outcome]


class Rejected(Exception):
    """The engine would reject this visit (unknown key, answer outside the scale)."""


def _lost(scores: Mapping[str, float | None], items: Iterable[Item]) -> float | None:
    """``lost(SEL)`` = possible - earned over the selected items whose score is not N/A."""
    terms = [(it.points, scores[it.name]) for it in items if scores.get(it.name) is not None]
    if not terms:
        return None
    return sum(w for w, _ in terms) - sum(w * s for w, s in terms)


def _add(a: float | None, b: float) -> float | None:
    return None if a is None else a + b


def score_visit(
    items: Mapping[str, Item],
    date: str | None,
    answers: Mapping[str, str],
    table_change: str | None = TABLE_CHANGE,
) -> Scored:
    """Score one visit exactly as ``king_county.sbm`` says, or raise :class:`Rejected`.

    ``table_change=None`` drops the old point table (an alternative the report measures).
    """
    unknown = sorted(set(answers) - set(items))
    if unknown:
        raise Rejected(f"unknown answer keys {unknown}")
    scores: dict[str, float | None] = {}
    for name in items:
        if name not in answers:  # optional: a missing answer is N/A
            scores[name] = None
            continue
        label = str(answers[name]).strip().casefold()
        if label in {"na", "n/a", "н/п"}:
            scores[name] = None
        elif label in {OK, "not cited", "не выявлено", "нет нарушения"}:
            scores[name] = 1.0
        elif label in {VIOLATION, "cited", "выявлено", "нарушение"}:
            scores[name] = 0.0
        else:
            raise Rejected(f"{name}: answer {answers[name]!r} is not a label of scale finding")
    failed = {n for n, s in scores.items() if s == 0.0}
    adjustment = 0
    if table_change and date is not None and date < table_change:  # N/A date: else branch
        adjustment = sum(delta for name, delta in OLD_TABLE_DELTA.items() if name in failed)
    red = [it for it in items.values() if "red" in it.tags]
    blue = [it for it in items.values() if "blue" in it.tags]
    total = _add(_lost(scores, items.values()), adjustment)
    red_points = _add(_lost(scores, red), adjustment)
    critical_failed = any(items[n].critical for n in failed)
    satisfactory = 0 if critical_failed else 1
    reinspect = int(red_points is not None and red_points >= 35)
    close = int(
        (red_points is not None and red_points >= 90) or (total is not None and total >= 120)
    )
    outcome = 3 if close else 2 if reinspect else 1 if satisfactory == 0 else 0
    return Scored(
        total,
        red_points,
        _lost(scores, blue),
        adjustment,
        critical_failed,
        satisfactory,
        reinspect,
        close,
        outcome,
        sorted(failed),
    )


# ------------------------------------------------------------------------------- examples

_EXAMPLE = re.compile(r'example\s+"(?P<name>[^"]*)"\s*\{(?P<body>.*?)\n    \}', re.S)
_BLOCK = r"{kw}\s*\{{(?P<inner>[^}}]*)\}}"
_PAIR = re.compile(r'(\w+)\s*=\s*("[^"]*"|[\w.]+)')


def strip_comments(text: str) -> str:
    """Drop ``#`` comments but not a ``#`` inside a string (titles say "TACO BELL #15633")."""
    out: list[str] = []
    in_string = in_comment = escaped = False
    for ch in text:
        if in_comment:
            if ch == "\n":
                in_comment = False
                out.append(ch)
            continue
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == "#":
            in_comment = True
            continue
        if ch == '"':
            in_string = True
        out.append(ch)
    return "".join(out)


def check_examples(standard: Path, items: Mapping[str, Item]) -> tuple[int, list[tuple[str, str]]]:
    """Run the standard's examples through the model.

    Returns the number of examples and one ``(example, message)`` per failed expect.
    """
    failures: list[tuple[str, str]] = []
    text = strip_comments(standard.read_text(encoding="utf-8"))
    examples = list(_EXAMPLE.finditer(text))
    for ex in examples:
        body = ex.group("body")
        visit = dict(_PAIR.findall(re.search(_BLOCK.format(kw="visit"), body).group("inner")))
        answers = dict(_PAIR.findall(re.search(_BLOCK.format(kw="answers"), body).group("inner")))
        date = visit.get("date", "").strip('"') or None
        got = score_visit(items, date, answers)
        values = {
            "inspection_score": got.inspection_score,
            "red_points": got.red_points,
            "blue_points": got.blue_points,
            "pre_2013_points_adjustment": got.adjustment,
            "satisfactory": got.satisfactory,
            "needs_reinspection": got.needs_reinspection,
            "needs_closure": got.needs_closure,
            "outcome": got.outcome,
        }
        for expect in re.findall(r"expect\s+([^\n]+)", body):
            expect = expect.strip()
            if expect == "critical_failed":
                ok = got.critical_failed
            elif expect == "not critical_failed":
                ok = not got.critical_failed
            elif m := re.fullmatch(r"band\(outcome\)\s*==\s*(\w+)", expect):
                ok = got.band == m.group(1)
            elif m := re.fullmatch(r"(\w+)\s*==\s*(-?[\d.]+)", expect):
                value = values[m.group(1)]
                ok = value is not None and abs(value - float(m.group(2))) <= 1e-9
            else:
                ok = False
            if not ok:
                failures.append((ex.group("name"), f"expect {expect} failed ({got})"))
    return len(examples), failures


# ------------------------------------------------------------------------------ real data


@dataclass
class PageRow:
    """A violation as the page printed it (only used to explain exceptions)."""

    code: str | None
    color: str
    points: int


def load_page_rows(data: Path) -> dict[str, list[PageRow]]:
    """Violations per visit_id with the page's own colour and points."""
    ids: dict[tuple[str, str, str], str] = {}
    with (data / "kc_inspections.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = (row["file"], row["business"], row["insp_no"])
            ids[key] = f"{Path(row['file']).stem}-{row['insp_no']}"
    rows: dict[str, list[PageRow]] = defaultdict(list)
    with (data / "kc_violations.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            vid = ids.get((row["file"], row["business"], row["insp_no"]))
            if vid is not None:
                rows[vid].append(PageRow(code_of(row["desc"]), row["color"], int(row["points"])))
    return rows


@dataclass
class Mismatch:
    """One inspection the model does not reproduce, with its explanation."""

    kind: str  # "score" or "result"
    category: str
    source: str
    record: dict
    detail: str


def explain_score(
    rec: dict, page: list[PageRow], items: Mapping[str, Item], table_change: str | None
) -> str:
    """Category of a score mismatch: which code's points differ, or a page arithmetic slip."""
    diffs = []
    for row in page:
        name = f"v{row.code}"
        if name not in items:
            continue
        expected = items[name].points
        if table_change and rec["date"] < table_change:
            expected += OLD_TABLE_DELTA.get(name, 0)
        if expected != row.points:
            diffs.append(f"{row.code}: page {row.points}, standard {expected}")
    if diffs:
        return (
            "points of a code differ from the standard's for that date (" + "; ".join(diffs) + ")"
        )
    return "page score differs from the sum of the points it lists"


def evaluate(
    records: list[tuple[str, dict]],
    items: Mapping[str, Item],
    page_rows: Mapping[str, list[PageRow]],
    *,
    table_change: str | None = TABLE_CHANGE,
    colour_from_page: bool = False,
) -> dict:
    """Score every record; count reproductions; collect exceptions with their categories.

    ``table_change`` and ``colour_from_page`` exist to measure alternatives of the model (no
    date-dependent table; the page's colour column instead of the code's colour), so the
    report can show what each modelling decision is worth.
    """
    scored_n = score_ok = result_n = result_ok = 0
    exceptions: list[Mismatch] = []
    rejected: list[tuple[str, str]] = []
    for source, rec in records:
        try:
            got = score_visit(items, rec["date"], rec["answers"], table_change)
        except Rejected as err:
            rejected.append((source, str(err)))
            continue
        page = page_rows.get(rec["visit_id"], [])
        published = rec["published_score"]
        if isinstance(published, int):
            scored_n += 1
            if got.inspection_score == published:
                score_ok += 1
            else:
                exceptions.append(
                    Mismatch(
                        "score",
                        explain_score(rec, page, items, table_change),
                        source,
                        rec,
                        f"published {published}, standard {got.inspection_score:g}",
                    )
                )
            result = rec["published_result"]
            if result in {"Satisfactory", "Unsatisfactory"}:
                result_n += 1
                if colour_from_page:
                    unsat = any(r.color == "red" for r in page)
                else:
                    unsat = got.satisfactory == 0
                if unsat == (result == "Unsatisfactory"):
                    result_ok += 1
                else:
                    exceptions.append(result_exception(source, rec, got, page, items))
    return {
        "scored": scored_n,
        "score_ok": score_ok,
        "results": result_n,
        "result_ok": result_ok,
        "exceptions": exceptions,
        "rejected": rejected,
    }


def result_exception(
    source: str, rec: dict, got: Scored, page: list[PageRow], items: Mapping[str, Item]
) -> Mismatch:
    """Category of a Satisfactory/Unsatisfactory mismatch."""
    reds = [n for n in got.cited if items[n].critical]
    if got.satisfactory == 0:
        category = "page shows Satisfactory despite a red violation"
        detail = f"red {', '.join(n[1:] for n in reds)} ({got.red_points:g} red points)"
    elif got.cited:
        category = "page shows Unsatisfactory without a red violation (blue only)"
        detail = f"blue {', '.join(n[1:] for n in got.cited)}"
    else:
        category = "page shows Unsatisfactory with no violation listed"
        detail = "no violation listed"
    colours = {r.code: r.color for r in page}
    odd = [
        c for c in colours if f"v{c}" in items and (colours[c] == "red") != items[f"v{c}"].critical
    ]
    if odd:
        detail += f"; page colour differs from the code's for {', '.join(odd)}"
    return Mismatch("result", category, source, rec, detail)


# ---------------------------------------------------------------------------------- report


def boundary_interval(records, items, page_rows) -> tuple[str, str, int]:
    """The range of change dates for which the score reproduction is at its best.

    Every distinct inspection date (and the chosen date) is tried as the day the new table
    starts; the answer is the earliest and latest such day that reach the maximum.
    """
    candidates = sorted({rec["date"] for _, rec in records} | {TABLE_CHANGE})
    results = [
        (d, evaluate(records, items, page_rows, table_change=d)["score_ok"]) for d in candidates
    ]
    best = max(n for _, n in results)
    good = [d for d, n in results if n == best]
    return good[0], good[-1], best


def pct(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.2f} %" if d else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--standard", type=Path, default=DEFAULT_STANDARD)
    parser.add_argument("--markdown", action="store_true", help="exception list as a table")
    args = parser.parse_args(argv)

    items = load_items(args.standard)
    red = sum(1 for it in items.values() if "red" in it.tags)
    print(
        f"standard: {args.standard.name}: {len(items)} items ({red} red, "
        f"{len(items) - red} blue); point table changes on {TABLE_CHANGE}"
    )

    n_examples, failures = check_examples(args.standard, items)
    print(f"examples: {n_examples - len({name for name, _ in failures})}/{n_examples} pass")
    for name, message in failures:
        print(f'  FAIL example "{name}": {message}')

    stats = ReadStats()
    records = list(
        read_king_county(
            args.data / "kc_inspections.csv", args.data / "kc_violations.csv", stats=stats
        )
    )
    print(
        f"reader: {stats.inspections} inspections, {stats.violation_rows} violation rows, "
        f"{stats.joined_rows} joined, {stats.orphan_rows} orphan rows skipped "
        f"({len(stats.orphan_keys)} key(s)), {stats.coded_by_text} coded from their text, "
        f"{stats.unrecognised_rows} unrecognised, {stats.repeated_citations} repeated"
    )
    page_rows = load_page_rows(args.data)

    main_run = evaluate(records, items, page_rows)
    print(f"rejected by the standard: {len(main_run['rejected'])}")
    for source, why in main_run["rejected"]:
        print(f"  {source}: {why}")
    scenarios = Counter(
        rec["scenario"] for _, rec in records if not isinstance(rec["published_score"], int)
    )
    print(f"not compared (published score N/A): {sum(scenarios.values())} {dict(scenarios)}")
    print(
        f"score reproduced:  {pct(main_run['score_ok'], main_run['scored'])}"
        f"  (target >= {SCORE_TARGET:.0%})"
    )
    print(
        f"result reproduced: {pct(main_run['result_ok'], main_run['results'])}"
        f"  (target >= {RESULT_TARGET:.0%}; Satisfactory/Unsatisfactory only)"
    )

    print("\nalternatives of the model (what each decision is worth):")
    flat = evaluate(records, items, page_rows, table_change=None)
    print(
        f"  no date-dependent table (today's points always): score "
        f"{pct(flat['score_ok'], flat['scored'])}"
    )
    for ex in flat["exceptions"]:
        if ex.kind == "score":
            print(f"    {ex.source} {ex.record['visit_id']} {ex.record['date']}: {ex.category}")
    colour = evaluate(records, items, page_rows, colour_from_page=True)
    print(
        f"  red/blue from the page's colour column instead of the code: result "
        f"{pct(colour['result_ok'], colour['results'])}"
    )
    first, last, best = boundary_interval(records, items, page_rows)
    print(
        f"  change dates reaching {best} scores: from {first} to {last} (inclusive); "
        f"chosen {TABLE_CHANGE}"
    )

    odd = [
        (vid, row.code, row.color)
        for vid, rows in sorted(page_rows.items())
        for row in rows
        if f"v{row.code}" in items and (row.color == "red") != items[f"v{row.code}"].critical
    ]
    print(f"  page rows whose colour differs from their code's: {len(odd)}")
    for vid, code, color in odd:
        print(f"    {vid}: {code} shown {color}")

    exceptions = main_run["exceptions"]
    print(f"\nexceptions: {len(exceptions)}")
    for (kind, category), n in sorted(Counter((e.kind, e.category) for e in exceptions).items()):
        print(f"  {n:3d}  {kind}: {category}")
    print()
    if args.markdown:
        print(
            "| # | source | visit_id | business | date | type | published | standard "
            "| category | detail |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
    for i, e in enumerate(
        sorted(exceptions, key=lambda e: (e.kind, e.category, e.record["date"])), 1
    ):
        r = e.record
        got = score_visit(items, r["date"], r["answers"])
        published = f"{r['published_score']} {r['published_result']}"
        standard = (
            f"{got.inspection_score:g} {'Satisfactory' if got.satisfactory else 'Unsatisfactory'}"
        )
        if args.markdown:
            print(
                f"| {i} | {e.source} | {r['visit_id']} | {r['point']} | {r['date']} | "
                f"{r['scenario']} | {published} | {standard} | {e.category} | {e.detail} |"
            )
        else:
            print(
                f"{i:3d} {e.source} {r['visit_id']} {r['point']!r} {r['date']} {r['scenario']}: "
                f"published {published}; standard {standard}; {e.category}: {e.detail}"
            )

    met = (
        main_run["score_ok"] >= SCORE_TARGET * main_run["scored"]
        and main_run["result_ok"] >= RESULT_TARGET * main_run["results"]
        and not failures
    )
    print(f"\ntargets {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
