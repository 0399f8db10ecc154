"""The waves, their draws, field control, the calibration set and the command line, for a
pack's sample generator.

An industry pack's seeded generator (`sbm_<pack>.sample`) keeps what is its own: the
network, the items and their pass rates, the defects it plants. This module holds what
every pack does the same way on top of that, so that `sbm compare --treated`,
`sbm control` and `sbm calibrate` have sample data to work on in every pack:

* the waves: `SampleWave` (a list of records and the `defects` planted, one record in
  `every` by `plant_in_turn`) or `Wave` (the `records` and the `bad` ones, one of each
  kind by `plant_at_random`), both read as `wave.records` and `wave.bad`, with wave 2's
  `field_failures`; `Wave2Plan` tells a pack's visit generator what changes in wave 2;
  `PACK_API` names what a pack's sample module offers, `DEFAULT_SEED` its seed;
* the training of wave 2: `train` turns each trained item answered (not N/A) into a pass
  ("no" or "partly" to "yes", a grade to 5) with the pack's probability, which closes that
  share of the item's gap to a full score. The draw is made with the training on or off,
  so ``generate_wave2(trained=False)`` gives the very same visits without it;
* field control: every wave-2 record carries its agreed window, `window` (the
  Monday-to-Sunday week of the visit: `scheduled_from`, `scheduled_to`), and
  questionnaires are due within `SUBMIT_DAYS` = 2 working days. `plant_field_failures`
  plants `late_count(300)` = 10 questionnaires submitted 3, 4 or 5 working days after
  the visit (`add_working_days`), all by the pack's late shopper (the 12th, 42nd, …
  282nd records), and `outside_count(300)` = 5 visits outside their window, the window a
  week before or a week after the visit in turn (the 38th, 98th, … 278th); a bad record
  passes its turn to the next one. Nothing else fails, with or without the Russian
  holidays (`HOLIDAYS_2026`);
* the calibration set: `calibration_sets` has each of the four `CALIBRATION_SHOPPERS`
  SH-201 … SH-204 score the same cases (the same `visit_id`; no bad records), through
  `rate`: every evaluator records each answer one step off the case with probability
  `NOISE` = 0.05 (yes and no swapped, a grade ±1, "partly" to yes or no and back) and
  moves their own 0–10 ratings by one point in 3 cases in 10; `LENIENT_SHOPPER` SH-203
  also raises each answer below the top by one step with probability `LENIENCY` = 0.35
  (and the ratings by one point). `REFERENCE_SHOPPER` SH-201 is honest, for
  ``sbm calibrate --reference``. The pack says what kind each answer is (`AnswerKind`,
  `answer_kinds`): N/A, critical items and measurements are kept as in the case;
* drawing a visit: `unique_name` (a staff member's name, once in the network),
  `weighted` (one of a table's values by weight), `shifted` (a pass rate moved by a skill
  or level on the logit scale), `yes_no`, `yes_partly_no`, `grade` (a 1-5 grade around a
  mean) and `top_grade` (5 with a probability, else mostly 4 or 3);
* the command line: `command` (a pack's ``main``, from the names of `PACK_API`), `main`
  (``-n``, ``--seed``, ``-o``, ``--wave 2``, ``--treated FILE``, ``--calibration DIR``,
  ``--cases``) and `jsonl`.

Every function draws from the `random.Random` it is given, in a fixed order: a pack's
generator built on them gives the same records, byte for byte, for the same `n` and seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar

__all__ = [
    "CALIBRATION_CASES",
    "CALIBRATION_SHOPPERS",
    "DEFAULT_SEED",
    "HOLIDAYS_2026",
    "LENIENCY",
    "LENIENT_SHOPPER",
    "NOISE",
    "PACK_API",
    "REFERENCE_SHOPPER",
    "SUBMIT_DAYS",
    "AnswerKind",
    "SampleWave",
    "Wave",
    "Wave2Plan",
    "add_working_days",
    "answer_kinds",
    "calibration_sets",
    "command",
    "grade",
    "jsonl",
    "late_count",
    "main",
    "outside_count",
    "plant_at_random",
    "plant_field_failures",
    "plant_in_turn",
    "rate",
    "shifted",
    "top_grade",
    "train",
    "unique_name",
    "weighted",
    "window",
    "yes_no",
    "yes_partly_no",
]

T = TypeVar("T")

#: The names every pack's sample module offers (its `__all__` adds its wave class and the
#: names of its bad records): the generators, the command, the defects it plants (kind,
#: the error code it is rejected with), and what the analytics of the sample data need.
PACK_API: tuple[str, ...] = (
    "CALIBRATION_SHOPPERS",
    "DEFAULT_SEED",
    "DEFECTS",
    "LATE_SHOPPER",
    "LENIENT_SHOPPER",
    "TRAINED_ITEMS",
    "TREATED_POINTS",
    "generate",
    "generate_calibration",
    "generate_wave2",
    "main",
)

#: The seed of the packs' committed sample data, and of their commands by default.
DEFAULT_SEED = 2026

#: Field control: questionnaires are due within this many working days.
SUBMIT_DAYS = 2

# -- the calibration set ---------------------------------------------------------------------------

CALIBRATION_CASES = 40
CALIBRATION_SHOPPERS: tuple[str, ...] = ("SH-201", "SH-202", "SH-203", "SH-204")
#: The evaluator who passes more: raises this share of the answers below the top by one step.
LENIENT_SHOPPER = "SH-203"
LENIENCY = 0.35
#: An honest evaluator, for `sbm calibrate --reference`.
REFERENCE_SHOPPER = "SH-201"
#: Every evaluator records each non-critical answer one step off the case with this probability.
NOISE = 0.05

#: What an answer is, for `rate`: a 0-10 rating of the shopper's own, a 1-5 grade, a
#: yes/partly/no or a yes/no answer; None, an answer every evaluator records as in the case
#: (N/A, a critical item, a stopwatch reading, a timestamp, a comment).
AnswerKind = Literal["rating", "grade", "partial", "yes_no"] | None


# -- the waves -----------------------------------------------------------------------------------


class SampleWave(list):  # type: ignore[type-arg]
    """The generated records (a plain list of dicts) and what was planted in them.

    `records` and `bad` read it as a `Wave` is read, so that code taking either shape
    needs no case of its own."""

    expected_rejects: int
    bad_visit_ids: tuple[str, ...]
    defects: dict[str, str]  # visit_id -> the defect planted
    field_failures: dict[str, str]  # visit_id -> "late_submission" or "outside_window" (wave 2)

    def __init__(
        self,
        records: Sequence[dict[str, Any]],
        defects: dict[str, str],
        field_failures: dict[str, str] | None = None,
    ) -> None:
        super().__init__(records)
        self.defects = defects
        self.bad_visit_ids = tuple(defects)
        self.expected_rejects = len(defects)
        self.field_failures = field_failures or {}

    @property
    def records(self) -> list[dict[str, Any]]:
        """The records, as a plain list."""
        return list(self)

    @property
    def bad(self) -> dict[str, str]:
        """The deliberately bad records: visit_id -> the defect planted (`defects`)."""
        return self.defects

    def summary(self) -> str:
        """What the command line says about the wave."""
        kinds = ", ".join(sorted(set(self.defects.values())))
        return f"{len(self)} visits, {self.expected_rejects} bad on purpose ({kinds})"


@dataclass(frozen=True)
class Wave:
    """A generated wave: the records, the deliberately bad ones by `visit_id`, and (wave 2)
    the planted field-control failures by `visit_id`: "late_submission" or "outside_window"."""

    records: list[dict[str, Any]]
    bad: dict[str, str]
    field_failures: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """What the command line says about the wave."""
        listed = ", ".join(f"{vid} ({kind})" for vid, kind in self.bad.items())
        return f"{len(self.records)} visits, {len(self.bad)} deliberately invalid: {listed}"


def plant_in_turn(
    records: list[dict[str, Any]],
    every: int,
    kinds: Sequence[str],
    plant: Callable[[dict[str, Any], str], None],
) -> tuple[dict[str, str], list[int]]:
    """Make one record in `every` bad on purpose (the middle one of each run of `every`)
    with ``plant(record, kind)``, `kinds` in turn: the bad ones (visit_id -> kind), and
    their indices."""
    bad: dict[str, str] = {}
    indices: list[int] = []
    for k in range(len(records) // every):
        index = k * every + every // 2
        kind = kinds[k % len(kinds)]
        plant(records[index], kind)
        bad[records[index]["visit_id"]] = kind
        indices.append(index)
    return bad, indices


def plant_at_random(
    records: list[dict[str, Any]],
    rng: random.Random,
    kinds: Sequence[str],
    plant: Callable[[list[dict[str, Any]], int, str], None],
    *,
    start: int = 0,
) -> tuple[dict[str, str], list[int]]:
    """Make one record of each of `kinds` bad on purpose, at indices from `start` on picked
    by `rng` (in order, the first kind at the first index), with ``plant(records, index,
    kind)``: the bad ones (visit_id -> kind, the visit_id as it is after planting), and their
    indices."""
    chosen = sorted(rng.sample(range(start, len(records)), len(kinds)))
    bad: dict[str, str] = {}
    for kind, index in zip(kinds, chosen, strict=True):
        plant(records, index, kind)
        bad[records[index]["visit_id"]] = kind
    return bad, chosen


# -- drawing a visit -------------------------------------------------------------------------------


def unique_name(
    rng: random.Random,
    used: set[str],
    first_names: Sequence[str],
    surnames: Callable[[str], Sequence[str]],
) -> str:
    """A name "Surname First" not in `used` (then added to it): a first name, then a surname
    from ``surnames(first)`` (the female or the male ones), drawn again until new."""
    while True:
        first = rng.choice(first_names)
        name = f"{rng.choice(surnames(first))} {first}"
        if name not in used:
            used.add(name)
            return name


def weighted(rng: random.Random, table: Sequence[tuple[T, float]]) -> T:
    """One value of `table`, (value, weight) pairs whose weights add up to 1, by weight
    (one draw); the last value when rounding leaves the draw past the sum."""
    r = rng.random()
    acc = 0.0
    for value, weight in table:
        acc += weight
        if r < acc:
            return value
    return table[-1][0]


def shifted(p: float, shift: float) -> float:
    """The probability `p` moved by `shift` on the logit scale (a skill or level above 0
    raises it, below 0 lowers it; 0 leaves it)."""
    return 1.0 / (1.0 + math.exp(-(math.log(p / (1.0 - p)) + shift)))


def yes_no(rng: random.Random, p: float) -> str:
    """A yes/no answer: "yes" with probability `p`, else "no" (one draw)."""
    return "yes" if rng.random() < p else "no"


def yes_partly_no(rng: random.Random, p: float, partly: float) -> str:
    """A yes/partly/no answer: "yes" with probability `p`; otherwise "partly" in the share
    `partly` of the rest, else "no" (one draw)."""
    r = rng.random()
    if r < p:
        return "yes"
    return "partly" if r < p + (1 - p) * partly else "no"


def grade(rng: random.Random, mean: float, sd: float) -> int:
    """A 1-5 grade: a normal draw around `mean`, rounded and kept within 1 to 5."""
    return max(1, min(5, round(rng.gauss(mean, sd))))


def top_grade(rng: random.Random, p: float) -> int:
    """A 1-5 grade: 5 with probability `p`, otherwise mostly 4 and 3, rarely 2 or 1."""
    if rng.random() < p:
        return 5
    return weighted(rng, ((4, 0.55), (3, 0.30), (2, 0.10), (1, 0.05)))


# -- wave 2 ----------------------------------------------------------------------------------------


class Wave2Plan(NamedTuple):
    """What a pack's visit generator changes in wave 2: `drift` added to every skill or
    level, the training on or off, and (where the pack plans them) the range of shopper
    numbers."""

    drift: float
    trained: bool
    shoppers: tuple[int, ...] = ()


def train(
    rng: random.Random,
    answers: dict[str, Any],
    items: Iterable[str],
    closes: float,
    on: bool,
    *,
    na: str = "н/п",
) -> None:
    """Wave 2's training: where `on`, each of `items` answered (not `na`) becomes a pass
    ("yes", or 5 on a grade) with probability `closes`, which closes that share of its gap
    to a full score. The draw is made either way, so that the same seed gives the same
    visits with and without the training."""
    for item in items:
        value = answers.get(item)
        if value is None or value == na:
            continue
        if rng.random() < closes and on:
            answers[item] = 5 if isinstance(value, int) else "yes"


# -- field control ---------------------------------------------------------------------------------


def window(day: dt.date, weeks: int = 0) -> dict[str, str]:
    """The agreed window of a visit: the Monday-to-Sunday week of `day`, moved by `weeks`."""
    monday = day - dt.timedelta(days=day.weekday() - 7 * weeks)
    return {
        "scheduled_from": monday.isoformat(),
        "scheduled_to": (monday + dt.timedelta(days=6)).isoformat(),
    }


#: Russia's weekday public holidays of 2026 (the packs' sample/holidays-ru-2026.toml): a
#: planted late questionnaire is late with and without them.
HOLIDAYS_2026 = frozenset(
    dt.date(2026, *md)
    for md in (
        *((1, d) for d in (1, 2, 5, 6, 7, 8, 9)),
        *((2, 23), (3, 9), (5, 1), (5, 11), (6, 12), (11, 4), (12, 31)),
    )
)


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The `count`-th working day after `day` (Monday to Friday, not a 2026 holiday)."""
    while count:
        day += dt.timedelta(days=1)
        count -= day.weekday() < 5 and day not in HOLIDAYS_2026
    return day


def late_count(n: int) -> int:
    """How many of `n` wave-2 records are submitted late on purpose (10 of 300)."""
    return len(range(11, n, 30))


def outside_count(n: int) -> int:
    """How many of `n` wave-2 records are visited outside their window on purpose (5 of 300)."""
    return len(range(37, n, 60))


def plant_field_failures(
    records: list[dict[str, Any]], bad: set[int], late_shopper: str
) -> dict[str, str]:
    """Late questionnaires (3 to 5 working days, all by `late_shopper`) at the records of
    index 11, 41, 71, … and visits outside their window (the window a week earlier, then a
    week later, in turn) at index 37, 97, 157, …; a record in `bad` moves it to the next
    one. A late `submitted` keeps its time of day, if it has one. Returns visit_id ->
    "late_submission" or "outside_window"."""
    n = len(records)
    taken = set(bad)
    planted: dict[str, str] = {}
    for first, step, kind in ((11, 30, "late_submission"), (37, 60, "outside_window")):
        for k, index in enumerate(range(first, n, step)):
            while index in taken:
                index += 1
            if index >= n:
                break
            taken.add(index)
            record = records[index]
            day = dt.date.fromisoformat(record["date"])
            if kind == "late_submission":
                record["shopper"] = late_shopper
                late = add_working_days(day, 3 + k % 3)
                record["submitted"] = late.isoformat() + record["submitted"][10:]
            else:
                record.update(window(day, -1 if k % 2 == 0 else 1))
            planted[record["visit_id"]] = kind
    return planted


# -- the calibration set ---------------------------------------------------------------------------


def rate(
    answers: Mapping[str, Any],
    rng: random.Random,
    leniency: float,
    kind: Callable[[str, Any], AnswerKind],
    *,
    noise: float = NOISE,
) -> dict[str, Any]:
    """One evaluator's answers for a case: each answer `kind` names one step off the case
    with probability `noise`; then, for a lenient evaluator, each answer below the top
    raised by one step with probability `leniency`. Ratings 0-10 move by one point in
    three cases in ten (and up by one at `leniency`); an answer of kind None stays as it is.
    """
    out: dict[str, Any] = {}
    for item, value in answers.items():
        v = value
        what = kind(item, v)
        if what == "rating":
            if rng.random() < 0.3:
                v += rng.choice((-1, 1))
            if leniency and rng.random() < leniency:
                v += 1
            v = max(0, min(10, v))
        elif what == "grade":
            if rng.random() < noise:
                v = 2 if v == 1 else 4 if v == 5 else v + rng.choice((-1, 1))
            if leniency and v < 5 and rng.random() < leniency:
                v += 1
        elif what == "partial":
            if rng.random() < noise:
                v = rng.choice(("yes", "no")) if v == "partly" else "partly"
            if leniency and v != "yes" and rng.random() < leniency:
                v = "yes" if v == "partly" else "partly"
        elif what == "yes_no":
            if rng.random() < noise:
                v = "no" if v == "yes" else "yes"
            if leniency and v == "no" and rng.random() < leniency:
                v = "yes"
        out[item] = v
    return out


def answer_kinds(
    *,
    kept: Collection[str],
    ratings: Collection[str],
    na: str = "н/п",
    partial: Collection[str] = (),
    by_item: Mapping[str, AnswerKind] | None = None,
) -> Callable[[str, Any], AnswerKind]:
    """The `kind` for `rate`: None for N/A and the `kept` items (critical items,
    measurements), "rating" for `ratings`; then, with `by_item`, its kind of the item (None
    where it has none); without, "grade" for a whole number, "partial" for `partial`,
    "yes_no" for the rest."""

    def kind(item: str, value: Any) -> AnswerKind:
        if item in kept or value == na:
            return None
        if item in ratings:
            return "rating"
        if by_item is not None:
            return by_item.get(item)
        if isinstance(value, int):  # a grade 1-5
            return "grade"
        return "partial" if item in partial else "yes_no"

    return kind


def calibration_sets(
    n: int,
    seed: int,
    make_case: Callable[[random.Random, int], dict[str, Any]],
    kind: Callable[[str, Any], AnswerKind],
    *,
    submitted_within: int | None = None,
    shoppers: Sequence[str] = CALIBRATION_SHOPPERS,
    lenient: str = LENIENT_SHOPPER,
    leniency: float = LENIENCY,
    noise: float = NOISE,
) -> dict[str, list[dict[str, Any]]]:
    """`n` cases, ``make_case(rng, i)`` for i in 0..n-1 with the stream of `seed` for the
    calibration, and every evaluator of `shoppers` scores each (`rate`, with a stream of
    their own): evaluator -> records, the same `visit_id` for the same case in every list.
    With `submitted_within`, each evaluator submits 0 to that many days after the visit (a
    date); otherwise `submitted` is the case's."""
    if n < 0:
        raise ValueError("n must not be negative")
    rng = random.Random(f"{seed}/calibration")
    cases = [make_case(rng, i) for i in range(n)]
    out: dict[str, list[dict[str, Any]]] = {}
    for shopper in shoppers:
        r = random.Random(f"{seed}/calibration/{shopper}")
        lenience = leniency if shopper == lenient else 0.0
        records = []
        for case in cases:
            record = {k: v for k, v in case.items() if k != "answers"}
            record["shopper"] = shopper
            if submitted_within is not None:
                day = dt.date.fromisoformat(case["date"])
                days = r.randint(0, submitted_within)
                record["submitted"] = (day + dt.timedelta(days=days)).isoformat()
            record["answers"] = rate(case["answers"], r, lenience, kind, noise=noise)
            records.append(record)
        out[shopper] = records
    return out


# -- the command line ------------------------------------------------------------------------------


def jsonl(records: Iterable[dict[str, Any]]) -> str:
    """The records as JSON lines (UTF-8 text kept as it is)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _write(path: str | None, text: str) -> None:
    if path and path != "-":
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


def main(
    argv: Sequence[str] | None,
    *,
    prog: str,
    what: str,
    points: str,
    seed: int,
    wave1: Callable[[int, int], SampleWave | Wave],
    wave2: Callable[[int, int], SampleWave | Wave],
    calibration: Callable[[int, int], dict[str, list[dict[str, Any]]]],
    treated: Sequence[str],
    lenient: str = LENIENT_SHOPPER,
    cases: int = CALIBRATION_CASES,
) -> int:
    """A pack's ``sbm-<pack>-sample`` command: writes wave 1 (``wave1(n, seed)``), wave 2
    (``--wave 2``: ``wave2(n, seed)``) or the calibration set (``--calibration DIR``:
    ``calibration(cases, seed)``, one file per evaluator), and with ``--treated FILE`` the
    `treated` points (`points` names them in the help); `what` the waves are, for the help:
    "of bank branch visits (JSONL)"."""
    description = (
        f"Write a sample wave {what}, the second wave (--wave 2) or the calibration set "
        "(--calibration DIR)."
    )
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("-n", type=int, default=300, help="number of visits (default 300)")
    parser.add_argument("--seed", type=int, default=seed, help=f"random seed (default {seed})")
    parser.add_argument("-o", "--output", help="JSONL file to write (default: stdout)")
    parser.add_argument(
        "--wave", type=int, choices=(1, 2), default=1, help="1 (default) or 2: a month later"
    )
    parser.add_argument(
        "--treated", metavar="FILE", help=f"also write the trained {points}, one per line"
    )
    parser.add_argument(
        "--calibration",
        metavar="DIR",
        help="write the calibration set instead: DIR/<SHOPPER>.jsonl, one file per evaluator",
    )
    parser.add_argument(
        "--cases", type=int, default=cases, help=f"calibration cases (default {cases})"
    )
    args = parser.parse_args(argv)
    if args.treated:
        _write(args.treated, "".join(f"{p}\n" for p in treated))
    if args.calibration:
        os.makedirs(args.calibration, exist_ok=True)
        sets = calibration(args.cases, args.seed)
        for shopper, records in sets.items():
            _write(os.path.join(args.calibration, f"{shopper}.jsonl"), jsonl(records))
        print(f"{args.cases} cases x {len(sets)} evaluators, {lenient} lenient", file=sys.stderr)
        return 0
    wave = (wave1 if args.wave == 1 else wave2)(args.n, args.seed)
    _write(args.output, jsonl(wave.records))
    print(wave.summary(), file=sys.stderr)
    if args.wave == 2:
        late = sum(1 for k in wave.field_failures.values() if k == "late_submission")
        print(
            f"training at {', '.join(treated)}; {late} submitted late, "
            f"{len(wave.field_failures) - late} outside their window",
            file=sys.stderr,
        )
    return 0


def command(
    module: str, *, prog: str, what: str, points: str
) -> Callable[[Sequence[str] | None], int]:
    """A pack's ``main``: `main` on the names of `PACK_API` in the sample module named
    `module` (its ``__name__``), looked up when the command runs. Wave 1 is
    ``generate_wave`` where the module has one (its ``generate`` then gives the bare
    records), else ``generate``; the seed is the module's ``DEFAULT_SEED``.

        main = sample_waves.command(
            __name__, prog="sbm-bank-sample", what="of bank visits (JSONL)", points="branches"
        )
    """

    def run(argv: Sequence[str] | None = None) -> int:
        pack = sys.modules[module]
        return main(
            argv,
            prog=prog,
            what=what,
            points=points,
            seed=pack.DEFAULT_SEED,
            wave1=getattr(pack, "generate_wave", pack.generate),
            wave2=pack.generate_wave2,
            calibration=pack.generate_calibration,
            treated=pack.TREATED_POINTS,
            lenient=pack.LENIENT_SHOPPER,
        )

    run.__doc__ = f"``{prog}``: write a sample wave {what}, wave 2 or the calibration set."
    return run
