"""A seeded sample wave for `restaurant.service`: realistic visits for demos, tests, training.

    from sbm_restaurant.sample import generate, generate_wave
    records = generate(n=300, seed=2026)          # list of JSONL-shaped visit records
    wave = generate_wave(n=300, seed=2026)        # the same records, plus which are bad

The wave covers a restaurant chain of eight restaurants in five cities, four or five
waiters per restaurant, the three scenarios (business lunch, dinner, dinner with a
child), and an allergen question in about a quarter of the visits. Each restaurant and
waiter has its own level: serving times, upselling, the kitchen's consistency and the
hygiene findings differ the way they do in a real wave. N/A answers occur where
evaluators give them (no starter was ordered, the guest did not rate the visit).
Critical failures (a red hygiene finding, no fiscal receipt, a wrong allergen answer)
hit about one visit in ten.

Exactly :data:`BAD_RECORDS` records (4) are deliberately broken, one of each kind;
`Wave.bad` maps their `visit_id` to the reason:

* ``unknown_item`` — an answer under a misspelt key (``s_main_tme``);
* ``out_of_range`` — a main course served after 240 minutes (the range is 0..180);
* ``missing_required`` — no answer for the critical item ``p_receipt``;
* ``duplicate_visit`` — a record repeating the `visit_id` of the record before it: the
  first is scored, the repeat rejected (the batch rule of `score_many` and `sbm score`).

The same `n` and `seed` give the same records on every platform (`random.Random`
only). Run ``sbm-restaurant-sample -n 300 --seed 2026 -o wave.jsonl`` (or
``python -m sbm_restaurant.sample``) to write a wave as JSONL.

**Wave 2** (``generate_wave2(300, seed=2026)``, ``--wave 2``; committed as
``sample/wave2.jsonl``, the trained restaurants in ``sample/treated.txt``): the same
restaurants, waiters and levels a month later (April 2026, visit ids ``RS-2604-NNNN``),
planned with the same number of visits at every restaurant. What changed:

* a training of the whole team (hall and kitchen) at `TREATED_POINTS` (MSK-ARBAT,
  NSK-LENINA, KRR-KRASNAYA): on each of `TRAINED_ITEMS` (every yes/no, yes/partly/no and
  1–5 item, the critical ones included; not the serving times nor the guest's ratings),
  the team passes where it would have failed with probability `TRAINING_CLOSES` = 0.5:
  the training closes half of each trained item's gap to a full score;
* everywhere, a mild drift: every restaurant's level + `DRIFT` = 0.01 (pass rates + 1
  point, serving a little faster), about +0.012 on the mean `visit`;
* so the training alone raises the mean `visit` of the treated restaurants by
  `EXPECTED_VISIT_EFFECT` = 0.096 (20 000 visits with and without it). In the committed
  wave it adds 0.119 (``generate_wave2(trained=False)`` gives the very same visits
  without it), and the difference in differences of the two committed waves
  (`sbm compare wave.jsonl wave2.jsonl --by point --treated treated.txt`) is 0.113.
  Across seeds that estimate spreads by about ±0.05 (one standard deviation); the
  treated restaurants were picked, in three cities, among the sets whose chance
  deviations in wave 1 balance between treated and other restaurants
  (re-randomisation for balance);
* bad records as in wave 1: :data:`BAD_RECORDS` (4), one of each kind;
* field control: every record carries its agreed window, `scheduled_from` and
  `scheduled_to` (the Monday-to-Sunday week of the visit), and questionnaires are due
  within `SUBMIT_DAYS` = 2 working days. Planted (`Wave.field_failures`):
  `late_count(300)` = 10 questionnaires submitted 3, 4 or 5 working days after the
  visit, all by `LATE_SHOPPER` SH-017 (the 12th, 42nd, … 282nd records, the next one
  where that one is bad), and `outside_count(300)` = 5 visits outside their window, the
  window a week before or a week after the visit in turn (the 38th, 98th, … 278th).
  Nothing else fails, with or without the Russian holidays.

**Calibration set** (``generate_calibration(40, seed=2026)``, ``--calibration DIR``;
committed as ``sample/calibration/<SHOPPER>.jsonl``): 40 cases (visits in March 2026, ids
``RS-CAL-NNNN``), each scored by the four `CALIBRATION_SHOPPERS` SH-201 … SH-204, one file
each, the same `visit_id` for the same case; no bad records. Every evaluator records each
non-critical answer one step off the case with probability `NOISE` = 0.05 (yes and no
swapped, a grade ±1, "partly" to yes or no and back) and moves their own 0–10 ratings by
one point in 3 cases in 10; critical items, N/A, serving times and comments are as in
the case. `LENIENT_SHOPPER` SH-203 also raises each answer below the top by one step with
probability `LENIENCY` = 0.35 (and the ratings by one point): their `visit` is 0.043
above the honest evaluators' mean on average (per case sd 0.034). `REFERENCE_SHOPPER`
SH-201 is honest, for ``--reference``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "BAD_RECORDS",
    "CALIBRATION_SHOPPERS",
    "DEFAULT_SEED",
    "LATE_SHOPPER",
    "LENIENT_SHOPPER",
    "TRAINED_ITEMS",
    "TREATED_POINTS",
    "Wave",
    "generate",
    "generate_calibration",
    "generate_wave",
    "generate_wave2",
    "main",
]

DEFAULT_SEED = 2026
#: How many records of every generated wave are deliberately invalid.
BAD_RECORDS = 4

# (region, point, level): level shifts the restaurant's pass probabilities and speed.
RESTAURANTS: tuple[tuple[str, str, float], ...] = (
    ("Москва", "MSK-ARBAT", 0.0),
    ("Москва", "MSK-PATRIKI", 0.05),
    ("Москва", "MSK-CITY", -0.04),
    ("Санкт-Петербург", "SPB-RUBINSHTEYNA", 0.03),
    ("Санкт-Петербург", "SPB-PETROGRADKA", -0.08),
    ("Новосибирск", "NSK-LENINA", -0.02),
    ("Краснодар", "KRR-KRASNAYA", 0.01),
    ("Нижний Новгород", "NNV-POKROVKA", -0.05),
)

_FIRST = (
    "Анна",
    "Мария",
    "Виктория",
    "Ксения",
    "Елизавета",
    "Алёна",
    "Софья",
    "Вера",
    "Иван",
    "Егор",
    "Тимур",
    "Роман",
    "Артём",
    "Глеб",
    "Марк",
    "Данила",
)
_LAST_F = (
    "Иванова",
    "Петрова",
    "Сидорова",
    "Фёдорова",
    "Орлова",
    "Белова",
    "Зайцева",
    "Григорьева",
    "Титова",
    "Комарова",
)
_LAST_M = (
    "Иванов",
    "Петров",
    "Сидоров",
    "Фёдоров",
    "Орлов",
    "Белов",
    "Зайцев",
    "Григорьев",
    "Титов",
    "Комаров",
)

_SCENARIOS = (("lunch", 0.40), ("dinner", 0.45), ("family", 0.15))

_COMMENTS = (
    "Официант отлично знает меню, посоветовал вино к стейку.",
    "Горячее ждали почти 40 минут, официант не предупредил.",
    "В санузле не было бумажных полотенец.",
    "Бизнес-ланч подали быстро, но суп был едва тёплый.",
    "Очень уютно, приятная музыка, вернёмся с друзьями.",
    "Счёт принесли только после второй просьбы.",
)

Ctx = dict[str, Any]


def _always(ctx: Ctx) -> bool:
    return True


# item → (kind, base probability of meeting the standard, who drives it, applies when).
# kind: "yn" yes/no, "ynp" yes/partly/no, "g5" grade 1–5; driver: "staff" (the waiter and
# the restaurant) or "point" (the restaurant only). Conditions mirror the `when` clauses.
ITEMS: dict[str, tuple[str, float, str, Callable[[Ctx], bool]]] = {
    "g_greet": ("yn", 0.88, "staff", _always),
    "g_booking": ("yn", 0.90, "point", _always),
    "g_escort": ("yn", 0.80, "point", _always),
    "g_coat": ("yn", 0.65, "point", _always),
    "g_menu": ("yn", 0.90, "staff", _always),
    "g_kids": ("yn", 0.55, "staff", lambda ctx: ctx["scenario"] == "family"),
    "m_intro": ("yn", 0.80, "staff", _always),
    "m_specials": ("yn", 0.55, "staff", _always),
    "m_knowledge": ("g5", 0.60, "staff", _always),
    "m_recommend": ("g5", 0.50, "staff", _always),
    "m_allergens": ("yn", 0.90, "staff", lambda ctx: ctx["allergen_test"] == "yes"),
    "m_menu_state": ("yn", 0.93, "point", _always),
    "o_repeat": ("yn", 0.75, "staff", _always),
    "o_upsell": ("yn", 0.45, "staff", _always),
    "o_warn": ("ynp", 0.55, "staff", _always),
    "o_accuracy": ("yn", 0.95, "staff", _always),
    "s_sequence": ("yn", 0.90, "point", _always),
    "s_presentation": ("g5", 0.60, "staff", _always),
    "s_check_back": ("yn", 0.65, "staff", _always),
    "s_clearing": ("yn", 0.75, "staff", _always),
    "s_attention": ("g5", 0.65, "staff", _always),
    "s_dessert": ("yn", 0.55, "staff", lambda ctx: ctx["scenario"] != "lunch"),
    "k_appearance": ("g5", 0.75, "point", _always),
    "k_taste": ("g5", 0.70, "point", _always),
    "k_doneness": ("yn", 0.90, "point", _always),
    "k_portion": ("yn", 0.93, "point", _always),
    "k_drinks": ("g5", 0.75, "point", _always),
    "p_bill_time": ("yn", 0.85, "staff", _always),
    "p_bill_correct": ("yn", 0.95, "staff", _always),
    "p_payment": ("yn", 0.95, "point", _always),
    "p_receipt": ("yn", 0.985, "staff", _always),
    "p_tips": ("yn", 0.95, "staff", _always),
    "p_farewell": ("yn", 0.85, "staff", _always),
    "h_table": ("g5", 0.75, "point", _always),
    "h_hall": ("g5", 0.75, "point", _always),
    "h_comfort": ("g5", 0.70, "point", _always),
    "h_restroom": ("g5", 0.65, "point", _always),
    "y_bare_hands": ("yn", 0.985, "point", _always),
    "y_spoiled": ("yn", 0.995, "point", _always),
    "y_temperature": ("yn", 0.98, "point", _always),
    "y_handwash": ("yn", 0.985, "point", _always),
    "y_pests": ("yn", 0.997, "point", _always),
    "y_staff": ("yn", 0.93, "point", _always),
    "y_tableware": ("yn", 0.90, "point", _always),
    "y_display": ("yn", 0.90, "point", _always),
    "y_cleaning_log": ("yn", 0.85, "point", _always),
}

_REQUIRED = frozenset(
    {
        "m_allergens",
        "p_receipt",
        "y_bare_hands",
        "y_spoiled",
        "y_temperature",
        "y_handwash",
        "y_pests",
    }
)
# Items evaluators leave N/A now and then, and how often.
_NA_RATE = {"g_coat": 0.15, "g_booking": 0.03, "h_comfort": 0.02, "p_tips": 0.03}

# -- wave 2 (see the module's docstring) ----------------------------------------------------------

#: The restaurants whose team (hall and kitchen) was trained between the waves.
TREATED_POINTS: tuple[str, ...] = ("MSK-ARBAT", "NSK-LENINA", "KRR-KRASNAYA")
#: The items the training was about: every yes/no, yes/partly/no and 1-5 item (critical
#: ones included), but not the serving times and the guest's ratings.
TRAINED_ITEMS: tuple[str, ...] = tuple(ITEMS)
#: The share of the gap to a full score that the training closes on each trained item.
TRAINING_CLOSES = 0.5
#: The drift of the whole network in wave 2: every restaurant's level + 0.01 (pass
#: probabilities + 1 point, serving a little faster, guests a little happier).
DRIFT = 0.01
#: The rise of the mean `visit` at the treated restaurants caused by the training alone
#: (beyond the drift), measured on 20 000 visits with and without it.
EXPECTED_VISIT_EFFECT = 0.096
#: Wave 2 is a month after wave 1 (March 2026): April 2026.
WAVE2_MONTH = (dt.date(2026, 4, 1), 30)
#: Field control: questionnaires are due within this many working days.
SUBMIT_DAYS = 2
#: The shopper who submitted the planted late questionnaires.
LATE_SHOPPER = "SH-017"

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


@dataclass(frozen=True)
class Wave:
    """A generated wave: the records, the deliberately bad ones by `visit_id`, and (wave 2)
    the planted field-control failures by `visit_id`: "late_submission" or "outside_window"."""

    records: list[dict[str, Any]]
    bad: dict[str, str]
    field_failures: dict[str, str] = field(default_factory=dict)


def _pick(rng: random.Random, table: tuple[tuple[Any, float], ...]) -> Any:
    r = rng.random()
    acc = 0.0
    for value, weight in table:
        acc += weight
        if r < acc:
            return value
    return table[-1][0]


def _train(rng: random.Random, answers: dict[str, Any], on: bool) -> None:
    """Wave 2's training: where `on`, each trained item answered (not N/A) becomes a pass
    ("yes", or 5 on a grade) with probability `TRAINING_CLOSES`, which closes that share of
    its gap to a full score. The draw is made either way, so that the same seed gives the
    same visits with and without the training."""
    for item in TRAINED_ITEMS:
        value = answers.get(item)
        if value is None or value == "н/п":
            continue
        if rng.random() < TRAINING_CLOSES and on:
            answers[item] = 5 if isinstance(value, int) else "yes"


def _grade(rng: random.Random, p: float) -> int:
    """A 1–5 grade: 5 with probability p, otherwise mostly 4 and 3, rarely 2 or 1."""
    if rng.random() < p:
        return 5
    return _pick(rng, ((4, 0.55), (3, 0.30), (2, 0.10), (1, 0.05)))


def _minutes(rng: random.Random, median: float, spread: float, cap: float) -> int:
    return max(1, min(int(cap), round(rng.lognormvariate(0, spread) * median)))


def _waiters(rng: random.Random) -> list[tuple[str, str, float]]:
    """(point, waiter, level) for four or five waiters per restaurant."""
    out = []
    used: set[str] = set()
    for _region, point, _level in RESTAURANTS:
        for _ in range(rng.choice((4, 5))):
            while True:
                first = rng.choice(_FIRST)
                last = rng.choice(_LAST_F if _FIRST.index(first) < 8 else _LAST_M)
                name = f"{last} {first}"
                if name not in used:
                    used.add(name)
                    break
            out.append((point, name, rng.gauss(0.0, 0.07)))
    return out


def _visit(
    rng: random.Random,
    number: int,
    waiters: list[tuple[str, str, float]],
    *,
    ids: str = "RS-2603",
    month: tuple[dt.date, int] = (dt.date(2026, 3, 1), 31),
    wave2: _Wave2 | None = None,
) -> dict[str, Any]:
    if wave2 is not None:  # wave 2 is planned: the same number of visits at every restaurant
        region, point, level = RESTAURANTS[(number - 1) % len(RESTAURANTS)]
        _point, waiter, waiter_level = rng.choice([w for w in waiters if w[0] == point])
        level += wave2.drift
    else:
        point, waiter, waiter_level = rng.choice(waiters)
        region, _point, level = next(r for r in RESTAURANTS if r[1] == point)
    scenario = _pick(rng, _SCENARIOS)
    allergen_test = "yes" if rng.random() < 0.25 else "no"
    day = month[0] + dt.timedelta(days=rng.randrange(month[1]))
    hour = rng.choice((12, 13, 14)) if scenario == "lunch" else rng.choice((18, 19, 20, 21))
    submitted = dt.datetime.combine(day, dt.time(hour, 0)) + dt.timedelta(
        hours=rng.randrange(3, 30), minutes=rng.randrange(60)
    )
    ctx = {"scenario": scenario, "allergen_test": allergen_test}

    answers: dict[str, Any] = {}
    for item, (kind, base, driver, applies) in ITEMS.items():
        if not applies(ctx):
            continue
        if item not in _REQUIRED and rng.random() < _NA_RATE.get(item, 0.0):
            answers[item] = "н/п"
            continue
        shift = level + (waiter_level if driver == "staff" else 0.0)
        if item in _REQUIRED:
            shift /= 6  # safety and the receipt depend little on the day's crew
        p = min(max(base + shift, 0.02), 0.999)
        if kind == "yn":
            answers[item] = "yes" if rng.random() < p else "no"
        elif kind == "ynp":
            r = rng.random()
            answers[item] = "yes" if r < p else "partly" if r < p + (1 - p) * 0.5 else "no"
        else:
            answers[item] = _grade(rng, p)
    if wave2 is not None:
        _train(rng, answers, wave2.trained and point in TREATED_POINTS)

    # Serving times, by the evaluator's watch: faster in good restaurants and at lunch.
    speed = 1 - 2 * level
    answers["s_drinks_time"] = _minutes(rng, 4.5 * speed, 0.4, 120)
    r = rng.random()
    if r < 0.15:
        answers["s_starter_time"] = "н/п"  # no starter ordered, said so
    elif r < 0.70:
        answers["s_starter_time"] = _minutes(rng, 11 * speed, 0.35, 180)
    # else: left empty, which the optional item reads as N/A
    main_median = 13 if scenario == "lunch" else 21
    answers["s_main_time"] = _minutes(rng, main_median * speed, 0.35, 180)

    mood = 8.4 + 12 * level + 8 * waiter_level
    if rng.random() < 0.9:
        answers["guest_rating"] = int(min(10, max(1, round(rng.gauss(mood, 1.4)))))
    if rng.random() < 0.85:
        answers["recommend"] = int(min(10, max(0, round(rng.gauss(mood - 0.3, 1.9)))))
    if rng.random() < 0.3:
        answers["comment"] = rng.choice(_COMMENTS)

    return {
        "visit_id": f"{ids}-{number:04d}",
        "point": point,
        "specialist": waiter,
        "region": region,
        "date": day.isoformat(),
        "scenario": scenario,
        "shopper": f"SH-{rng.randrange(1, 61):03d}",
        "submitted": submitted.strftime("%Y-%m-%dT%H:%M:%S") + "+03:00",
        **(_window(day) if wave2 is not None else {}),
        "allergen_test": allergen_test,
        "answers": answers,
    }


_BAD_KINDS = ("unknown_item", "out_of_range", "missing_required", "duplicate_visit")


def _spoil(records: list[dict[str, Any]], index: int, kind: str) -> None:
    answers = records[index]["answers"]
    if kind == "unknown_item":
        answers["s_main_tme"] = answers.pop("s_main_time")
    elif kind == "out_of_range":
        answers["s_main_time"] = 240
    elif kind == "missing_required":
        del answers["p_receipt"]
    elif kind == "duplicate_visit":
        records[index]["visit_id"] = records[index - 1]["visit_id"]
    else:  # pragma: no cover
        raise ValueError(kind)


def generate_wave(n: int = 300, seed: int = DEFAULT_SEED) -> Wave:
    """`n` visit records (n ≥ 5), of which :data:`BAD_RECORDS` are deliberately invalid.

    For the duplicate, `bad` names the repeated `visit_id` (the repeat is rejected,
    the first record with that id is scored).
    """
    if n < BAD_RECORDS + 1:
        raise ValueError(f"a wave needs at least {BAD_RECORDS + 1} visits, got {n}")
    rng = random.Random(seed)
    waiters = _waiters(rng)
    records = [_visit(rng, i + 1, waiters) for i in range(n)]
    # Spoil four of the records 1..n-1. The duplicate takes the first of them, so the record
    # whose id it repeats (the one before) is a good one and is scored.
    chosen = sorted(rng.sample(range(1, n), BAD_RECORDS))
    kinds = ("duplicate_visit", *(k for k in _BAD_KINDS if k != "duplicate_visit"))
    bad: dict[str, str] = {}
    for kind, index in zip(kinds, chosen, strict=True):
        _spoil(records, index, kind)
        bad[records[index]["visit_id"]] = kind
    return Wave(records, bad)


def generate(n: int = 300, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """`n` visit records for `restaurant.service`; :data:`BAD_RECORDS` of them are invalid."""
    return generate_wave(n, seed).records


class _Wave2(NamedTuple):
    drift: float
    trained: bool


def _window(day: dt.date, weeks: int = 0) -> dict[str, str]:
    """The agreed window of a visit: the Monday-to-Sunday week of `day`, moved by `weeks`."""
    monday = day - dt.timedelta(days=day.weekday() - 7 * weeks)
    return {
        "scheduled_from": monday.isoformat(),
        "scheduled_to": (monday + dt.timedelta(days=6)).isoformat(),
    }


#: Russia's weekday public holidays of 2026 (sample/holidays-ru-2026.toml): a planted late
#: questionnaire is late with and without them.
_HOLIDAYS_2026 = frozenset(
    dt.date(2026, *md)
    for md in (
        *((1, d) for d in (1, 2, 5, 6, 7, 8, 9)),
        *((2, 23), (3, 9), (5, 1), (5, 11), (6, 12), (11, 4), (12, 31)),
    )
)


def _add_working_days(day: dt.date, count: int) -> dt.date:
    """The `count`-th working day after `day` (Monday to Friday, not a 2026 holiday)."""
    while count:
        day += dt.timedelta(days=1)
        count -= day.weekday() < 5 and day not in _HOLIDAYS_2026
    return day


def late_count(n: int) -> int:
    """How many of `n` wave-2 records are submitted late on purpose (10 of 300)."""
    return len(range(11, n, 30))


def outside_count(n: int) -> int:
    """How many of `n` wave-2 records are visited outside their window on purpose (5 of 300)."""
    return len(range(37, n, 60))


def _plant_field_failures(records: list[dict[str, Any]], bad: set[int]) -> dict[str, str]:
    """Late questionnaires (3 to 5 working days, all by `LATE_SHOPPER`) at the records of
    index 11, 41, 71, … and visits outside their window (the window a week earlier, then a
    week later, in turn) at index 37, 97, 157, …; a bad record moves it to the next one."""
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
                record["shopper"] = LATE_SHOPPER
                late = _add_working_days(day, 3 + k % 3)
                record["submitted"] = late.isoformat() + record["submitted"][10:]
            else:
                record.update(_window(day, -1 if k % 2 == 0 else 1))
            planted[record["visit_id"]] = kind
    return planted


def generate_wave2(n: int = 300, seed: int = DEFAULT_SEED, *, trained: bool = True) -> Wave:
    """The second wave: the waiters of `generate_wave(n, seed)` a month later (April 2026).

    Visit ids ``RS-2604-NNNN``; :data:`BAD_RECORDS` records bad on purpose as in wave 1;
    every record carries its window (`scheduled_from`, `scheduled_to`), and
    `wave.field_failures` names the planted late and out-of-window visits. With
    ``trained=False``, the very same visits without the training (the same random draws,
    so the difference is the training's effect on this sample).
    """
    if n < BAD_RECORDS + 1:
        raise ValueError(f"a wave needs at least {BAD_RECORDS + 1} visits, got {n}")
    waiters = _waiters(random.Random(seed))
    rng = random.Random(f"{seed}/wave2")
    plan = _Wave2(DRIFT, trained)
    records = [
        _visit(rng, i + 1, waiters, ids="RS-2604", month=WAVE2_MONTH, wave2=plan) for i in range(n)
    ]
    chosen = sorted(rng.sample(range(1, n), BAD_RECORDS))
    kinds = ("duplicate_visit", *(k for k in _BAD_KINDS if k != "duplicate_visit"))
    bad: dict[str, str] = {}
    for kind, index in zip(kinds, chosen, strict=True):
        _spoil(records, index, kind)
        bad[records[index]["visit_id"]] = kind
    # the record whose id the duplicate repeats is left alone too
    taken = {*chosen, chosen[0] - 1}
    return Wave(records, bad, _plant_field_failures(records, taken))


# -- the calibration set ---------------------------------------------------------------------------

_RATINGS = frozenset({"guest_rating", "recommend"})  # the evaluator's own 0-10 ratings


def _rate(answers: dict[str, Any], rng: random.Random, leniency: float) -> dict[str, Any]:
    """One evaluator's answers for a case: each non-critical answer one step off the case
    with probability `NOISE`; then, for a lenient evaluator, each answer below the top
    raised by one step with probability `leniency`. Ratings 0-10 move by one point in
    three cases in ten (and up by one at `leniency`); N/A, critical items, serving times
    and comments stay as they are."""
    out: dict[str, Any] = {}
    for item, value in answers.items():
        v = value
        kind = ITEMS[item][0] if item in ITEMS else None
        if v == "н/п" or item in _REQUIRED:
            pass
        elif item in _RATINGS:
            if rng.random() < 0.3:
                v += rng.choice((-1, 1))
            if leniency and rng.random() < leniency:
                v += 1
            v = max(0, min(10, v))
        elif kind == "g5":
            if rng.random() < NOISE:
                v = 2 if v == 1 else 4 if v == 5 else v + rng.choice((-1, 1))
            if leniency and v < 5 and rng.random() < leniency:
                v += 1
        elif kind == "ynp":
            if rng.random() < NOISE:
                v = rng.choice(("yes", "no")) if v == "partly" else "partly"
            if leniency and v != "yes" and rng.random() < leniency:
                v = "yes" if v == "partly" else "partly"
        elif kind == "yn":
            if rng.random() < NOISE:
                v = "no" if v == "yes" else "yes"
            if leniency and v == "no" and rng.random() < leniency:
                v = "yes"
        out[item] = v
    return out


def generate_calibration(
    n: int = CALIBRATION_CASES, seed: int = DEFAULT_SEED
) -> dict[str, list[dict[str, Any]]]:
    """`n` cases, each scored by every evaluator of `CALIBRATION_SHOPPERS`: evaluator ->
    records, the same `visit_id` (``RS-CAL-NNNN``) for the same case in every list.

    The cases are visits (March 2026) served by the waiters of `generate_wave(n, seed)`;
    no record is bad.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    waiters = _waiters(random.Random(seed))
    rng = random.Random(f"{seed}/calibration")
    cases = [_visit(rng, i + 1, waiters, ids="RS-CAL") for i in range(n)]
    out: dict[str, list[dict[str, Any]]] = {}
    for shopper in CALIBRATION_SHOPPERS:
        r = random.Random(f"{seed}/calibration/{shopper}")
        leniency = LENIENCY if shopper == LENIENT_SHOPPER else 0.0
        records = []
        for case in cases:
            record = {k: v for k, v in case.items() if k != "answers"}
            record["shopper"] = shopper
            record["answers"] = _rate(case["answers"], r, leniency)
            records.append(record)
        out[shopper] = records
    return out


def _jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _write(path: str | None, text: str) -> None:
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sbm-restaurant-sample",
        description="Write a sample wave for restaurant.service, the second wave (--wave 2) "
        "or the calibration set (--calibration DIR).",
    )
    parser.add_argument("-n", type=int, default=300, help="number of visits (default 300)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("-o", "--output", help="JSONL file to write (default: stdout)")
    parser.add_argument(
        "--wave", type=int, choices=(1, 2), default=1, help="1 (default) or 2: a month later"
    )
    parser.add_argument(
        "--treated", metavar="FILE", help="also write the trained restaurants, one per line"
    )
    parser.add_argument(
        "--calibration",
        metavar="DIR",
        help="write the calibration set instead: DIR/<SHOPPER>.jsonl, one file per evaluator",
    )
    parser.add_argument(
        "--cases", type=int, default=CALIBRATION_CASES, help="calibration cases (default 40)"
    )
    args = parser.parse_args(argv)
    if args.treated:
        _write(args.treated, "".join(f"{p}\n" for p in TREATED_POINTS))
    if args.calibration:
        import os

        os.makedirs(args.calibration, exist_ok=True)
        sets = generate_calibration(args.cases, args.seed)
        for shopper, records in sets.items():
            _write(os.path.join(args.calibration, f"{shopper}.jsonl"), _jsonl(records))
        print(
            f"{args.cases} cases x {len(sets)} evaluators, {LENIENT_SHOPPER} lenient",
            file=sys.stderr,
        )
        return 0
    wave = generate_wave(args.n, args.seed) if args.wave == 1 else generate_wave2(args.n, args.seed)
    _write(args.output, _jsonl(wave.records))
    print(
        f"{len(wave.records)} visits, {len(wave.bad)} deliberately invalid: "
        + ", ".join(f"{vid} ({kind})" for vid, kind in wave.bad.items()),
        file=sys.stderr,
    )
    if args.wave == 2:
        late = sum(1 for k in wave.field_failures.values() if k == "late_submission")
        print(
            f"training at {', '.join(TREATED_POINTS)}; {late} submitted late, "
            f"{len(wave.field_failures) - late} outside their window",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
