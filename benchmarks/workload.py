"""The reference workload: a 100-criteria standard and N seeded visits.

Why a fixed workload: speed claims mean something only against a stated,
reproducible job. This one is a realistic mystery-shopping standard (modelled on
the demo bank branch, scaled up): 100 criteria in 8 sections — yes/no questions,
5-point grades and a few waiting times mapped to scores by thresholds — with
weights 1 to 3, tags compliance / professionalism / client_orientation (and
premises for the office section), four criteria that apply only to deposit
visits, two critical required criteria, a 0–10 client rating, the demo's
coefficients (compliance, professionalism, client_orientation, specialist,
point, subjective, visit, stages), an NPS rollup, a target and bands.

Visits are generated column by column with a seeded numpy generator: about 10 %
of scale answers are the N/A token `na`, waiting times and ratings are left out
about 10 % of the time (they are optional), deposit-only criteria are answered
only on deposit visits, and about 3 % of visits fail a critical criterion. All
answers are valid, so every visit is scored.

The same visits come in two shapes: a pyarrow Table as a Parquet reader gives it
(scale answers as text, numbers as numbers, empty cells null) for the batch
paths, and JSON-shaped records (grades as integers, left-out answers absent) for
the per-visit paths.

Answers are written one of two ways (`ANSWERS`): `labels`, as above (yes/no as
text, N/A as `na`), what a questionnaire export holds; or `codes`, as a field app
or a call-audit pipeline exports them: yes = 1, no = 0, grades 1..5, all as
numbers, N/A an empty cell. The `codes` standard is the same but for the yes/no
aliases "1" and "0" and its non-critical questions being `optional` (an empty
answer is N/A); both score the same visits to the same results.

    python benchmarks/workload.py out.sbm     # write the standard
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sbm_engine.formatter import format_source

SECTIONS: tuple[tuple[str, str, int, int], ...] = (
    # name, title, weight, number of criteria
    ("greeting", "Встреча клиента", 2, 13),
    ("needs", "Выявление потребностей", 3, 13),
    ("presentation", "Презентация продукта", 3, 13),
    ("objections", "Работа с возражениями", 2, 13),
    ("closing", "Завершение сделки", 2, 12),
    ("documents", "Оформление документов", 3, 12),
    ("farewell", "Прощание", 1, 12),
    ("premises", "Состояние офиса", 1, 12),
)
TAGS = ("compliance", "professionalism", "client_orientation")
#: Waiting-time criteria: (upper bound of the range, full-score limit, half-score limit).
NUMBER_LIMITS = ((60, 5, 10), (30, 2, 5), (120, 10, 20), (60, 3, 8))
SCALES = {
    "yes_no": {"yes": 1.0, "no": 0.0},
    "grade5": {1: 0.0, 2: 0.25, 3: 0.5, 4: 0.75, 5: 1.0},
}
BANDS = (("excellent", 0.9), ("good", 0.75), ("fair", 0.6), ("poor", None))
TARGET = 0.85
VISIT_TERMS = {"compliance": 0.4, "professionalism": 0.3, "client_orientation": 0.3}
TOP_TERMS = {"specialist": 0.7, "point": 0.1, "subjective": 0.2}


@dataclass(frozen=True)
class Criterion:
    """One item of the workload standard, as the hand-written baselines see it."""

    name: str
    section: str
    kind: str  # "yes_no", "grade5", "number"
    weight: int
    tag: str
    critical: bool = False
    deposit_only: bool = False
    limits: tuple[int, int, int] | None = None  # number items: (high, full, half)


def criteria(seed: int = 2026) -> tuple[Criterion, ...]:
    """The 100 criteria, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    out: list[Criterion] = []
    number_slots = {
        ("greeting", 2),
        ("needs", 5),
        ("presentation", 7),
        ("objections", 3),
        ("closing", 9),
        ("documents", 4),
        ("farewell", 6),
        ("premises", 1),
    }
    critical_slots = {("documents", 0), ("needs", 11)}
    deposit_slots = {("needs", 8), ("presentation", 2), ("presentation", 10), ("closing", 4)}
    for s, _title, _w, size in SECTIONS:
        for k in range(size):
            name = f"{s}_{k + 1:02d}"
            slot = (s, k)
            weight = int(rng.integers(1, 4))
            tag = "premises" if s == "premises" else TAGS[int(rng.integers(0, 3))]
            if slot in number_slots:
                limits = NUMBER_LIMITS[len(out) % len(NUMBER_LIMITS)]
                out.append(Criterion(name, s, "number", weight, tag, limits=limits))
            elif slot in critical_slots:
                out.append(Criterion(name, s, "yes_no", 3, "compliance", critical=True))
            else:
                kind = "grade5" if rng.random() < 0.33 else "yes_no"
                deposit_only = slot in deposit_slots
                out.append(Criterion(name, s, kind, weight, tag, deposit_only=deposit_only))
    return tuple(out)


#: How answers are written: `labels` (text, N/A as `na`) or `codes` (numbers, N/A empty).
ANSWERS = ("labels", "codes")


def standard_text(seed: int = 2026, answers: str = "labels") -> str:
    """The workload standard as `.sbm` text, for answers written as `answers`."""
    if answers not in ANSWERS:
        raise ValueError(f"answers must be one of {ANSWERS}, not {answers!r}")
    crit = criteria(seed)
    codes = answers == "codes"
    aliases = ('"да" "1"', '"нет" "0"') if codes else ('"да"', '"нет"')
    lines = [
        "# Reference workload of the SBM engine benchmarks (benchmarks/workload.py).",
        'standard bench.branch "Обслуживание в отделении (100 критериев)" {',
        '    version "2026.1"',
        '    industry "benchmark"',
        "",
        f"    scale yes_no {{ yes = 1 alias {aliases[0]}, no = 0 alias {aliases[1]} }}",
        "    scale grade5 { 1 = 0, 2 = 0.25, 3 = 0.5, 4 = 0.75, 5 = 1 }",
    ]
    for s, title, weight, _size in SECTIONS:
        lines += ["", f'    section {s} "{title}" weight {weight} {{']
        for c in crit:
            if c.section != s:
                continue
            question = f"Критерий {c.name}"
            if c.kind == "number":
                high, full, half = c.limits  # type: ignore[misc]
                lines.append(
                    f'        item {c.name} "{question}, минут" answer number 0..{high} '
                    f"weight {c.weight} optional tags {c.tag}\n"
                    f"            score = if value <= {full} then 1 "
                    f"else if value <= {half} then 0.5 else 0"
                )
                continue
            opts = f"weight {c.weight}"  # options in `sbm fmt`'s order
            if c.critical:
                opts += " required critical"
            elif codes:
                opts += " optional"
            opts += f" tags {c.tag}"
            if c.deposit_only:
                opts += '\n            when visit.scenario == "deposit"'
            lines.append(f'        item {c.name} "{question}" answer {c.kind} {opts}')
        lines.append("    }")
    lines += [
        "",
        '    item rating "Оценка визита клиентом, 0–10" answer number 0..10 optional',
        "",
        "    coefficient compliance = weighted_mean(tagged compliance)",
        "    coefficient professionalism = weighted_mean(tagged professionalism)",
        "    coefficient client_orientation = weighted_mean(tagged client_orientation)",
        "    coefficient specialist =",
        "        weighted_mean(compliance: 0.4, professionalism: 0.3, client_orientation: 0.3)",
        "    coefficient point = weighted_mean(tagged premises)",
        "    coefficient subjective = rating",
        "    coefficient visit =",
        "        if critical_failed then 0 "
        "else weighted_mean(specialist: 0.7, point: 0.1, subjective: 0.2)",
        "    coefficient stages = weighted_mean(sections)",
        "",
        "    rollup nps = 100 * (share(answer(rating) >= 9) - share(answer(rating) <= 6))",
        "",
        f"    target visit {TARGET}",
        "    bands visit { excellent >= 0.9, good >= 0.75, fair >= 0.6, poor }",
        "}",
    ]
    # In `sbm fmt`'s layout, so the file the benchmarks write is already formatted.
    return format_source("\n".join(lines) + "\n")


def write_standard(path: str | Path, seed: int = 2026, answers: str = "labels") -> Path:
    path = Path(path)
    path.write_text(standard_text(seed, answers), encoding="utf-8")
    return path


# -- visits -------------------------------------------------------------------------------------


@dataclass
class Columns:
    """N visits column by column: numpy arrays, the source of both shapes.

    Scale answers are codes: yes/no 0 = "yes", 1 = "no", 2 = "na", -1 = left out;
    grades 1..5, 0 = "na", -1 = left out. Numbers are floats with NaN = left out.
    """

    n: int
    visit_id: np.ndarray
    point: np.ndarray
    specialist: np.ndarray
    region: np.ndarray
    date: np.ndarray
    scenario: np.ndarray  # True: deposit
    answers: dict[str, np.ndarray]


def columns(
    n: int,
    seed: int = 7,
    start: int = 0,
    crit: tuple[Criterion, ...] | None = None,
    points: int = 200,
    per_point: int | None = None,
) -> Columns:
    """Visits start..start+n of the seeded wave (a chunk of a larger wave is the same rows),
    spread over `points` points (P1 … P{points}). Specialists and regions are drawn
    independently of the point, unless `per_point` is given: then each point has that
    many specialists of its own and lies in one region (the same draws, mapped)."""
    crit = crit or criteria()
    rng = np.random.default_rng([seed, start])
    ids = np.arange(start, start + n)
    deposit = rng.random(n) < 0.5
    answers: dict[str, np.ndarray] = {}
    for c in crit:
        u = rng.random(n)
        if c.kind == "yes_no":
            p_no = 0.03 if c.critical else 0.2
            p_na = 0.0 if c.critical else 0.1
            codes = np.where(u < p_na, 2, np.where(u < p_na + p_no, 1, 0)).astype(np.int8)
        elif c.kind == "grade5":
            g = rng.choice(
                np.array([1, 2, 3, 4, 5], dtype=np.int8), size=n, p=[0.05, 0.1, 0.2, 0.3, 0.35]
            )
            codes = np.where(u < 0.1, 0, g).astype(np.int8)
        else:
            high = c.limits[0]  # type: ignore[index]
            minutes = np.round(rng.gamma(2.0, 3.0, size=n), 1)
            codes = np.where(u < 0.1, np.nan, np.minimum(minutes, high))
        if c.deposit_only:
            codes = np.where(deposit, codes, -1 if codes.dtype.kind == "i" else np.nan)
            codes = codes.astype(np.int8) if c.kind != "number" else codes
        answers[c.name] = codes
    u = rng.random(n)
    rating = rng.integers(0, 11, size=n).astype(float)
    answers["rating"] = np.where(u < 0.1, np.nan, rating)
    point = rng.integers(1, points + 1, size=n)
    specialist = rng.integers(1, 1001, size=n)
    region = rng.integers(1, 11, size=n)
    if per_point:
        specialist = (point - 1) * per_point + (specialist - 1) % per_point + 1
        region = (point - 1) % 10 + 1
    return Columns(
        n=n,
        visit_id=ids,
        point=point,
        specialist=specialist,
        region=region,
        date=rng.integers(1, 31, size=n),
        scenario=deposit,
        answers=answers,
    )


_YES_NO = np.array(["yes", "no", "na"], dtype=object)
_GRADE = np.array(["na", "1", "2", "3", "4", "5"], dtype=object)
#: `codes` answers: yes/no code 0 ("yes") -> 1, 1 ("no") -> 0; N/A and left out are null.
_YES_NO_CODE = np.array([1, 0, -1], dtype=np.int8)


def table(cols: Columns, crit: tuple[Criterion, ...] | None = None, answers: str = "labels") -> Any:
    """The visits as a pyarrow Table (what the Parquet reader would hand over)."""
    import pyarrow as pa

    crit = crit or criteria()
    n = cols.n
    data: dict[str, Any] = {
        "visit_id": pa.array([f"v{i:07d}" for i in cols.visit_id.tolist()]),
        "point": pa.array(np.char.add("P", cols.point.astype(str)).astype(object)),
        "specialist": pa.array(np.char.add("S", cols.specialist.astype(str)).astype(object)),
        "region": pa.array(np.char.add("R", cols.region.astype(str)).astype(object)),
        "date": pa.array(
            np.char.add("2026-11-", np.char.zfill(cols.date.astype(str), 2)).astype(object)
        ),
        "scenario": pa.array(np.where(cols.scenario, "deposit", "loan").astype(object)),
    }
    for c in crit:
        codes = cols.answers[c.name]
        if c.kind == "number":
            data[c.name] = pa.array(codes, mask=np.isnan(codes), type=pa.float64())
            continue
        if answers == "codes":
            coded = _YES_NO_CODE[np.where(codes < 0, 2, codes)] if c.kind == "yes_no" else codes
            blank = (coded < 0) if c.kind == "yes_no" else (codes <= 0)
            data[c.name] = pa.array(coded, mask=blank, type=pa.int8())
            continue
        lut = _YES_NO if c.kind == "yes_no" else _GRADE
        absent = codes < 0
        values = lut[np.where(absent, 0, codes)]
        data[c.name] = pa.array(values, mask=absent, type=pa.string())
    rating = cols.answers["rating"]
    data["rating"] = pa.array(
        np.nan_to_num(rating).astype(np.int64), mask=np.isnan(rating), type=pa.int64()
    )
    assert all(len(v) == n for v in data.values())
    return pa.table(data)


def dictionary_table(table: Any) -> Any:
    """The same table with its text columns dictionary encoded, as `sbm score` reads
    Parquet (`read_dictionary`) and CSV answers: codes ready, no text to hash; the
    visit_id column stays plain text (one distinct value per row)."""
    import pyarrow as pa

    columns = [
        c.dictionary_encode() if pa.types.is_string(c.type) and name != "visit_id" else c
        for name, c in zip(table.column_names, table.columns, strict=True)
    ]
    return pa.table(columns, names=table.column_names)


def records(cols: Columns, crit: tuple[Criterion, ...] | None = None) -> list[dict[str, Any]]:
    """The visits as JSON-shaped records (answers left out are absent keys)."""
    crit = crit or criteria()
    answer_cols: list[tuple[str, list[Any]]] = []
    for c in crit:
        codes = cols.answers[c.name]
        if c.kind == "yes_no":
            vals = [None if k < 0 else ("yes", "no", "na")[k] for k in codes.tolist()]
        elif c.kind == "grade5":
            vals = [None if k < 0 else ("na" if k == 0 else k) for k in codes.tolist()]
        else:
            vals = [None if x != x else x for x in codes.tolist()]
        answer_cols.append((c.name, vals))
    rating = [None if x != x else int(x) for x in cols.answers["rating"].tolist()]
    answer_cols.append(("rating", rating))
    out = []
    scen = cols.scenario.tolist()
    for i in range(cols.n):
        answers = {name: vals[i] for name, vals in answer_cols if vals[i] is not None}
        out.append(
            {
                "visit_id": f"v{int(cols.visit_id[i]):07d}",
                "point": f"P{int(cols.point[i])}",
                "specialist": f"S{int(cols.specialist[i])}",
                "region": f"R{int(cols.region[i])}",
                "date": f"2026-11-{int(cols.date[i]):02d}",
                "scenario": "deposit" if scen[i] else "loan",
                "answers": answers,
            }
        )
    return out


CHUNK = 10_000


def column_chunks(
    n: int, seed: int = 7, chunk: int = CHUNK, points: int = 200, per_point: int | None = None
) -> Iterator[Columns]:
    """The wave `chunk` visits at a time: the same visits whatever shape is asked for."""
    crit = criteria()
    for start in range(0, n, chunk):
        yield columns(min(chunk, n - start), seed, start, crit, points, per_point)


def record_chunks(n: int, seed: int = 7) -> Iterator[list[dict[str, Any]]]:
    """The wave's records, a chunk at a time (a million records would not fit in memory)."""
    crit = criteria()
    for cols in column_chunks(n, seed):
        yield records(cols, crit)


def wave_table(n: int, seed: int = 7) -> Any:
    """The whole wave as one pyarrow Table (contiguous columns)."""
    import pyarrow as pa

    crit = criteria()
    return pa.concat_tables(table(c, crit) for c in column_chunks(n, seed)).combine_chunks()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "bench_branch.sbm")
    print(write_standard(target))
