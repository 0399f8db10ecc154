"""A seeded sample wave of mystery-shopping visits to beauty salons, for `salon.visit`.

    from sbm_salon.sample import generate
    wave = generate(300, seed=2026)     # a list of visit records (the JSONL input shape)
    wave.expected_rejects               # how many were made bad on purpose: 6
    wave.bad_visit_ids, wave.defects    # which, and what is wrong with each

or from the command line: ``sbm-salon-sample -n 300 --seed 2026 -o wave.jsonl``.

What makes it realistic:

* three regions, eight salons of different classes; each salon has hair stylists
  (haircut, colouring) and nail masters (manicure), each with a skill level and a
  habit of hygiene, so scores cluster by master and salon as in real waves;
* scenarios "стрижка" 40 %, "окрашивание" 25 %, "маникюр" 35 %, the master chosen
  by scenario; booking "телефон" 55 % or "онлайн" 45 %, only that channel's
  booking items answered;
* pass rates typical of salon waves: retail offer ~45 %, rebooking offer ~45 %,
  price agreed before the procedure ~75 %; hygiene breaches (no sealed sterile
  pack, no hand sanitising, reused disposables, no allergy test before colouring)
  in a few percent of visits, more in budget salons;
* N/A where a shopper writes it: no allergies to ask about, restroom not visited,
  no chance to leave feedback;
* the salon's CRM gives `appointment_at` and `started_at` for 85 % of visits (some
  with the UTC offset); the shopper's own `start_delay` is off by a minute or so.
  One start in five is late, a few by 20–40 minutes.

One record in 50 (`BAD_EVERY`) is made bad on purpose, each with one defect, in
turn: an unknown answer key, an out-of-range rating, a missing required answer,
an unreadable appointment time, a scenario the standard does not know, a booking
channel outside the declared ones. All must be rejected; every other record scored.

The same `n` and `seed` give the same records, byte for byte.

**Wave 2** (``generate_wave2(300, seed=2026)``, ``sbm-salon-sample --wave 2``; committed
as ``sample/wave2.jsonl``, the trained salons in ``sample/treated.txt``): the same salons,
masters and skill levels a month later (1 to 28 May 2026, across the May holidays; visit
ids ``SLN-2026-05-NNNNN``), planned with the same number of visits at every salon, by 30
shoppers (SH-100 … SH-129). What changed:

* a training at `TREATED_POINTS` (MSK-01, SPB-01, NNV-01): on each of `TRAINED_ITEMS`
  (the welcome, the master's conduct and work, hygiene, the critical items included),
  staff there pass where they would have failed with probability `TRAINING_CLOSES` =
  0.7: the training closes 70 % of each trained item's gap to a full score (a "no"
  becomes "yes", a grade becomes 5);
* everywhere, a mild drift: every master's skill + `DRIFT` = 0.1 on the logit scale,
  about +0.008 on the mean `visit`;
* so the training alone raises the mean `visit` of the treated salons by
  `EXPECTED_VISIT_EFFECT` = 0.128 (20 000 visits with and without it). In the committed
  wave it adds 0.128 (``generate_wave2(trained=False)`` gives the very same visits
  without it), and the difference in differences of the two committed waves
  (`sbm compare wave.jsonl wave2.jsonl --by point --treated treated.txt`) is 0.125.
  Across seeds that estimate spreads by about ±0.05 (one standard deviation); the
  treated salons were picked, one per region, among the sets whose chance deviations in
  wave 1 balance between treated and other salons (re-randomisation for balance);
* bad records as in wave 1: one in 50 (`BAD_EVERY`), the same defects in turn;
* field control: every record carries its agreed window, `scheduled_from` and
  `scheduled_to` (the Monday-to-Sunday week of the visit), and questionnaires are due
  within `SUBMIT_DAYS` = 2 working days. Planted (`wave.field_failures`):
  `late_count(300)` = 10 questionnaires submitted 3, 4 or 5 working days after the
  visit, all by `LATE_SHOPPER` SH-117 (the 12th, 42nd, … 282nd records), and
  `outside_count(300)` = 5 visits outside their window, the window a week before or a
  week after the visit in turn (the 38th, 98th, … 278th). Nothing else fails, with or
  without the Russian holidays.

**Calibration set** (``generate_calibration(40, seed=2026)``, ``--calibration DIR``;
committed as ``sample/calibration/<SHOPPER>.jsonl``): 40 cases (visits to the same
network in April 2026, ids ``SLN-CAL-NNNNN``), each scored by the four
`CALIBRATION_SHOPPERS` SH-201 … SH-204, one file each, the same `visit_id` for the same
case; no bad records. Every evaluator records each non-critical answer one step off the
case with probability `NOISE` = 0.05 (yes and no swapped, a grade ±1, "partly" to yes or
no and back) and moves their own 0–10 ratings by one point in 3 cases in 10; critical
items, N/A and the stopwatch are as in the case. `LENIENT_SHOPPER` SH-203 also raises
each answer below the top by one step with probability `LENIENCY` = 0.35 (and the
ratings by one point): their `visit` is 0.056 above the honest evaluators' mean on
average (per case sd 0.042). `REFERENCE_SHOPPER` SH-201 is honest, for ``--reference``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

__all__ = [
    "BAD_EVERY",
    "CALIBRATION_SHOPPERS",
    "DEFECTS",
    "LATE_SHOPPER",
    "LENIENT_SHOPPER",
    "TRAINED_ITEMS",
    "TREATED_POINTS",
    "SampleWave",
    "bad_count",
    "generate",
    "generate_calibration",
    "generate_wave2",
    "main",
]

#: One record in this many is made bad on purpose (the known share: 2 %).
BAD_EVERY = 50

#: The defects planted, in turn, and the error code each must be rejected with.
DEFECTS: tuple[tuple[str, str], ...] = (
    ("unknown_key", "unknown_item"),
    ("out_of_range", "out_of_range"),
    ("missing_required", "missing"),
    ("bad_timestamp", "bad_timestamp"),
    ("unknown_scenario", "bad_scenario"),
    ("unknown_channel", "bad_field"),
)

STANDARD = "salon.visit"

# -- wave 2 (see the module's docstring) ----------------------------------------------------------

#: The salons whose staff were trained between the waves.
TREATED_POINTS: tuple[str, ...] = ("MSK-01", "SPB-01", "NNV-01")
#: The items the training was about: the welcome, the master's conduct and work.
TRAINED_ITEMS: tuple[str, ...] = (
    "greeted",
    "coat",
    "drink",
    "master_introduced",
    "wishes",
    "diagnostics",
    "options",
    "price_agreed",
    "contraindications",
    "comfort_check",
    "explained",
    "focused",
    "result_shown",
    "care_advice",
    "retail",
    "rebooking",
    "feedback",
    "farewell",
    "master_look",
    "on_schedule",
    "result_quality",
    "neatness",
    "bill_matches",
    "gloves",
    "workplace_clean",
    # hygiene, the critical items included
    "allergy_test",
    "hands",
    "sterile_tools",
    "clean_tools",
    "disposables",
)
#: The share of the gap to a full score that the training closes: p -> p + c (1 - p).
TRAINING_CLOSES = 0.7
#: The drift of the whole network in wave 2: every specialist's skill (logit) + 0.1.
DRIFT = 0.1
#: The rise of the mean `visit` at the treated salons caused by the training alone
#: (beyond the drift), measured on 20 000 visits with and without it.
EXPECTED_VISIT_EFFECT = 0.128
#: Wave 2 starts a month after wave 1 (2026-04-01).
WAVE2_START = dt.date(2026, 5, 1)
#: Wave 2's shoppers: SH-100 … SH-129.
WAVE2_SHOPPERS = (100, 129)
#: Field control: questionnaires are due within this many working days.
SUBMIT_DAYS = 2
#: The shopper who submitted the planted late questionnaires.
LATE_SHOPPER = "SH-117"

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
_CALIBRATION_START = dt.date(2026, 4, 1)

# region, UTC offset, salons: (code, address, level: premises and hygiene culture)
_NETWORK: tuple[tuple[str, str, tuple[tuple[str, str, float], ...]], ...] = (
    (
        "Москва",
        "+03:00",
        (
            ("MSK-01", "Москва, Малая Бронная ул., 19", 0.8),
            ("MSK-02", "Москва, ул. Профсоюзная, 104", 0.1),
            ("MSK-03", "Москва, Щёлковское ш., 75", -0.5),
        ),
    ),
    (
        "Санкт-Петербург",
        "+03:00",
        (
            ("SPB-01", "Санкт-Петербург, Большая Конюшенная ул., 8", 0.6),
            ("SPB-02", "Санкт-Петербург, пр-т Просвещения, 36", -0.2),
        ),
    ),
    (
        "Поволжье",
        "+04:00",
        (
            ("KZN-01", "Казань, ул. Баумана, 44", 0.3),
            ("SMR-01", "Самара, Московское ш., 17", -0.1),
            ("NNV-01", "Нижний Новгород, ул. Большая Покровская, 60", 0.0),
        ),
    ),
)

_FIRST = (
    "Анна",
    "Виктория",
    "Алина",
    "Дарья",
    "Ксения",
    "Полина",
    "Кристина",
    "Марина",
    "Оксана",
    "Вероника",
    "Яна",
    "Валерия",
    "Диана",
    "Алёна",
    "Софья",
    "Артём",
    "Илья",
)
_LAST_F = (
    "Белова",
    "Григорьева",
    "Захарова",
    "Киселева",
    "Орлова",
    "Павлова",
    "Романова",
    "Тарасова",
    "Фролова",
    "Широкова",
    "Яковлева",
    "Никитина",
    "Медведева",
    "Зайцева",
)
_LAST_M = ("Белов", "Григорьев", "Захаров", "Киселев", "Орлов", "Павлов", "Романов")

_YES_NO: dict[str, float] = {
    "slot_offered": 0.7,
    "price_told": 0.75,
    "reminder": 0.8,
    "greeted": 0.9,
    "coat": 0.7,
    "drink": 0.6,
    "master_introduced": 0.8,
    "master_look": 0.92,
    "options": 0.65,
    "price_agreed": 0.75,
    "comfort_check": 0.8,
    "explained": 0.6,
    "focused": 0.85,
    "on_schedule": 0.8,
    "result_shown": 0.85,
    "care_advice": 0.7,
    "retail": 0.45,
    "bill_matches": 0.93,
    "rebooking": 0.45,
    "farewell": 0.93,
}
_GRADE5 = {"wishes": 4.0, "diagnostics": 3.8, "result_quality": 4.3, "neatness": 4.2}


class SampleWave(list):  # type: ignore[type-arg]
    """The generated records (a plain list of dicts) and what was planted in them."""

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


def bad_count(n: int) -> int:
    """How many of `n` generated records are bad on purpose."""
    return n // BAD_EVERY


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _yes(rng: random.Random, p: float, skill: float) -> str:
    return "yes" if rng.random() < _sigmoid(_logit(p) + skill) else "no"


def _grade(rng: random.Random, mean: float, skill: float) -> int:
    return max(1, min(5, round(rng.gauss(mean + 0.5 * skill, 0.7))))


def _partial(rng: random.Random, skill: float) -> str:
    p_yes = _sigmoid(_logit(0.6) + skill)
    r = rng.random()
    if r < p_yes:
        return "yes"
    return "partly" if r < p_yes + (1 - p_yes) * 0.6 else "no"


def _breach(rng: random.Random, rate: float, culture: float) -> str:
    """A critical item: "no" (a breach) at `rate`, less often where hygiene culture is high."""
    return "no" if rng.random() < rate * math.exp(-0.8 * culture) else "yes"


class _Network:
    def __init__(self, rng: random.Random) -> None:
        self.salons: list[dict[str, Any]] = []
        used: set[str] = set()
        for region, offset, salons in _NETWORK:
            for code, address, level in salons:
                masters: dict[str, list[dict[str, Any]]] = {"hair": [], "nails": []}
                k = 0
                for kind, count in (("hair", rng.randint(2, 3)), ("nails", rng.randint(1, 2))):
                    for _ in range(count):
                        k += 1
                        while True:
                            first = rng.choice(_FIRST)
                            male = first in ("Артём", "Илья")
                            name = f"{rng.choice(_LAST_M if male else _LAST_F)} {first}"
                            if name not in used:
                                used.add(name)
                                break
                        masters[kind].append(
                            {
                                "id": f"{code}-M{k}",
                                "name": name,
                                "skill": rng.gauss(0.3 + 0.3 * level, 0.6),
                                "hygiene": level + rng.gauss(0, 0.5),
                            }
                        )
                self.salons.append(
                    {
                        "region": region,
                        "offset": offset,
                        "code": code,
                        "address": address,
                        "level": level,
                        "masters": masters,
                    }
                )


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


def _stamp(moment: dt.datetime, offset: str, style: int) -> str:
    if style == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if style == 1:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + offset


def _visit(
    rng: random.Random,
    index: int,
    n: int,
    net: _Network,
    start: dt.date,
    *,
    ids: str = "SLN-2026-04",
    wave2: _Wave2 | None = None,
) -> dict[str, Any]:
    # wave 2 is planned: the same number of visits at every salon
    salon = net.salons[index % len(net.salons)] if wave2 else rng.choice(net.salons)
    r = rng.random()
    scenario = "стрижка" if r < 0.4 else "окрашивание" if r < 0.65 else "маникюр"
    master = rng.choice(salon["masters"]["nails" if scenario == "маникюр" else "hair"])
    skill, culture, level = master["skill"], master["hygiene"], salon["level"]
    if wave2 is not None:
        skill += wave2.drift
    channel = "телефон" if rng.random() < 0.55 else "онлайн"
    day = start + dt.timedelta(days=index * 27 // max(n, 1) + rng.randrange(0, 2))

    a: dict[str, Any] = {}
    if channel == "телефон":
        a["call_answered"] = _yes(rng, 0.85, level)
        a["booking_greeting"] = _yes(rng, 0.8, level)
    else:
        a["online_confirmed"] = _yes(rng, 0.8, level)
    a["booking_details"] = _partial(rng, level)
    for item, p in _YES_NO.items():
        a[item] = _yes(rng, p, skill)
    for item, mean in _GRADE5.items():
        a[item] = _grade(rng, mean, skill)
    a["contraindications"] = _yes(rng, 0.7, skill) if rng.random() < 0.9 else "н/п"
    if scenario == "окрашивание":
        a["allergy_test"] = _breach(rng, 0.08, culture)
    # hygiene
    a["hands"] = _breach(rng, 0.015, culture)
    if scenario == "маникюр":
        a["sterile_tools"] = _breach(rng, 0.04, culture)
    else:
        a["clean_tools"] = _breach(rng, 0.015, culture)
    a["disposables"] = _breach(rng, 0.015, culture)
    if scenario != "стрижка":
        a["gloves"] = _yes(rng, 0.85, culture)
    a["workplace_clean"] = _yes(rng, 0.9, culture)
    a["feedback"] = _yes(rng, 0.5, skill) if rng.random() < 0.95 else "н/п"
    # the salon itself
    a["entrance"] = _yes(rng, 0.9, level)
    a["interior"] = max(1, min(5, round(rng.gauss(4.2 + level, 0.6))))
    a["restroom"] = _yes(rng, 0.85, level) if rng.random() < 0.85 else "н/п"
    a["ambience"] = max(1, min(5, round(rng.gauss(4.0 + level, 0.7))))
    a["price_list"] = _yes(rng, 0.8, level)
    if wave2 is not None:
        _train(rng, a, wave2.trained and salon["code"] in TREATED_POINTS)
    # punctuality: one start in five is late
    delay = rng.uniform(6, 40) if rng.random() < 0.2 else rng.uniform(-3, 5)
    appointment = dt.datetime.combine(day, dt.time(rng.randrange(10, 20), rng.choice((0, 30))))
    started = appointment + dt.timedelta(seconds=round(delay * 60))
    extra: dict[str, Any] = {}
    if rng.random() < 0.85:
        style = rng.choice((0, 0, 1, 2))
        extra["appointment_at"] = _stamp(appointment, salon["offset"], style)
        extra["started_at"] = _stamp(started, salon["offset"], style)
        if style == 1:  # minutes only: the delay is what the stamps say
            started = started.replace(second=0)
        minutes = max(0.0, (started - appointment) / dt.timedelta(minutes=1))
        a["start_delay"] = max(0, round(minutes + rng.gauss(0, 1.0)))
    else:
        a["start_delay"] = max(0, round(delay))
        minutes = float(a["start_delay"])
    if minutes > 10:
        a["delay_warned"] = _yes(rng, 0.4, skill)
    # the shopper's own ratings, following what happened
    quality = (
        sum(
            1
            for k in ("price_agreed", "result_shown", "care_advice", "farewell", "focused")
            if a.get(k) == "yes"
        )
        / 5
    )
    quality = (quality + (a["result_quality"] - 1) / 4) / 2
    if rng.random() < 0.9:
        mood = 3 + 7 * quality - 0.08 * max(0.0, minutes - 10)
        a["overall"] = max(0, min(10, round(rng.gauss(mood, 1.2))))
    if rng.random() < 0.85:
        a["recommend"] = max(0, min(10, round(rng.gauss(2.5 + 7 * quality + level, 1.6))))
    if wave2 is not None:
        shopper = f"SH-{rng.randint(*wave2.shoppers)}"
    else:
        shopper = f"SH-{rng.randint(100, 999)}"
    return {
        "visit_id": f"{ids}-{index + 1:05d}",
        "point": salon["code"],
        "specialist": master["id"],
        "region": salon["region"],
        "date": day.isoformat(),
        "scenario": scenario,
        "channel": channel,
        "shopper": shopper,
        "submitted": (day + dt.timedelta(days=rng.randint(0, 2))).isoformat(),
        **(_window(day) if wave2 is not None else {}),
        **extra,
        "answers": a,
    }


def _plant(record: dict[str, Any], defect: str, month: str = "04") -> None:
    """Give `record` exactly one defect that `salon.visit` must reject."""
    a = record["answers"]
    if defect == "unknown_key":
        a["workplace_clen"] = a.pop("workplace_clean")  # a typo in the field app's export
    elif defect == "out_of_range":
        a["overall"] = 11  # the 0–10 rating keyed in as 11
    elif defect == "missing_required":
        del a["hands"]
    elif defect == "bad_timestamp":
        record["appointment_at"] = f"10.{month}.2026 12:00"  # the Russian date order, not ISO
        record.setdefault("started_at", f"2026-{month}-10T12:03:00")
    elif defect == "unknown_scenario":
        record["scenario"] = "педикюр"  # a service the standard does not cover
    elif defect == "unknown_channel":
        record["channel"] = "мессенджер"
    else:  # pragma: no cover - DEFECTS and this function are kept together
        raise ValueError(defect)


def generate(n: int = 300, seed: int = 2026) -> SampleWave:
    """`n` visit records for `salon.visit`; `bad_count(n)` of them bad on purpose.

    Deterministic: the same `n` and `seed` give the same records.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    rng = random.Random(seed)
    net = _Network(rng)
    start = dt.date(2026, 4, 1)
    records = [_visit(rng, i, n, net, start) for i in range(n)]
    defects: dict[str, str] = {}
    for k in range(bad_count(n)):
        index = k * BAD_EVERY + BAD_EVERY // 2
        defect = DEFECTS[k % len(DEFECTS)][0]
        _plant(records[index], defect)
        defects[records[index]["visit_id"]] = defect
    return SampleWave(records, defects)


class _Wave2(NamedTuple):
    drift: float
    trained: bool
    shoppers: tuple[int, int]


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
                record["submitted"] = _add_working_days(day, 3 + k % 3).isoformat()
            else:
                record.update(_window(day, -1 if k % 2 == 0 else 1))
            planted[record["visit_id"]] = kind
    return planted


def generate_wave2(n: int = 300, seed: int = 2026, *, trained: bool = True) -> SampleWave:
    """The second wave: the network of `generate(n, seed)` a month later (`WAVE2_START`).

    Visit ids ``SLN-2026-05-NNNNN``; `bad_count(n)` records bad on purpose as in wave 1;
    every record carries its window (`scheduled_from`, `scheduled_to`), and
    `wave.field_failures` names the planted late and out-of-window visits. With
    ``trained=False``, the very same visits without the training (the same random draws,
    so the difference is the training's effect on this sample).
    """
    if n < 0:
        raise ValueError("n must not be negative")
    net = _Network(random.Random(seed))
    rng = random.Random(f"{seed}/wave2")
    plan = _Wave2(DRIFT, trained, WAVE2_SHOPPERS)
    records = [_visit(rng, i, n, net, WAVE2_START, ids="SLN-2026-05", wave2=plan) for i in range(n)]
    defects: dict[str, str] = {}
    bad: set[int] = set()
    for k in range(bad_count(n)):
        index = k * BAD_EVERY + BAD_EVERY // 2
        defect = DEFECTS[k % len(DEFECTS)][0]
        _plant(records[index], defect, month="05")
        defects[records[index]["visit_id"]] = defect
        bad.add(index)
    return SampleWave(records, defects, _plant_field_failures(records, bad))


# -- the calibration set ---------------------------------------------------------------------------

_PARTIAL_ITEMS = frozenset({"booking_details"})
_CRITICAL_ITEMS = frozenset(
    {"allergy_test", "hands", "sterile_tools", "clean_tools", "disposables"}
)
_RATINGS = frozenset({"overall", "recommend"})  # the shopper's own 0-10 ratings
_MEASURED = frozenset({"start_delay"})  # a stopwatch reading, not an opinion


def _rate(answers: dict[str, Any], rng: random.Random, leniency: float) -> dict[str, Any]:
    """One evaluator's answers for a case: each non-critical answer one step off the case
    with probability `NOISE`; then, for a lenient evaluator, each answer below the top
    raised by one step with probability `leniency`. Ratings 0-10 move by one point in
    three cases in ten (and up by one at `leniency`); N/A, critical items and the
    stopwatch stay as they are."""
    out: dict[str, Any] = {}
    for item, value in answers.items():
        v = value
        if item in _CRITICAL_ITEMS or item in _MEASURED or v == "н/п":
            pass
        elif item in _RATINGS:
            if rng.random() < 0.3:
                v += rng.choice((-1, 1))
            if leniency and rng.random() < leniency:
                v += 1
            v = max(0, min(10, v))
        elif isinstance(v, int):  # a grade 1-5
            if rng.random() < NOISE:
                v = 2 if v == 1 else 4 if v == 5 else v + rng.choice((-1, 1))
            if leniency and v < 5 and rng.random() < leniency:
                v += 1
        elif item in _PARTIAL_ITEMS:
            if rng.random() < NOISE:
                v = rng.choice(("yes", "no")) if v == "partly" else "partly"
            if leniency and v != "yes" and rng.random() < leniency:
                v = "yes" if v == "partly" else "partly"
        else:  # yes/no
            if rng.random() < NOISE:
                v = "no" if v == "yes" else "yes"
            if leniency and v == "no" and rng.random() < leniency:
                v = "yes"
        out[item] = v
    return out


def generate_calibration(
    n: int = CALIBRATION_CASES, seed: int = 2026
) -> dict[str, list[dict[str, Any]]]:
    """`n` cases, each scored by every evaluator of `CALIBRATION_SHOPPERS`: evaluator ->
    records, the same `visit_id` (``SLN-CAL-NNNNN``) for the same case in every list.

    The cases are visits to the network of `generate(n, seed)`; no record is bad.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    net = _Network(random.Random(seed))
    rng = random.Random(f"{seed}/calibration")
    cases = [_visit(rng, i, n, net, _CALIBRATION_START, ids="SLN-CAL") for i in range(n)]
    out: dict[str, list[dict[str, Any]]] = {}
    for shopper in CALIBRATION_SHOPPERS:
        r = random.Random(f"{seed}/calibration/{shopper}")
        leniency = LENIENCY if shopper == LENIENT_SHOPPER else 0.0
        records = []
        for case in cases:
            record = {k: v for k, v in case.items() if k != "answers"}
            record["shopper"] = shopper
            day = dt.date.fromisoformat(case["date"])
            record["submitted"] = (day + dt.timedelta(days=r.randint(0, 1))).isoformat()
            record["answers"] = _rate(case["answers"], r, leniency)
            records.append(record)
        out[shopper] = records
    return out


def _jsonl(records: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _write(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
    else:
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sbm-salon-sample",
        description="Write a sample wave of beauty salon visits (JSONL), the second wave "
        "(--wave 2) or the calibration set (--calibration DIR).",
    )
    parser.add_argument("-n", type=int, default=300, help="number of visits (default 300)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    parser.add_argument(
        "--wave", type=int, choices=(1, 2), default=1, help="1 (default) or 2: a month later"
    )
    parser.add_argument(
        "--treated", metavar="FILE", help="also write the trained salons, one per line"
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
    wave = generate(args.n, args.seed) if args.wave == 1 else generate_wave2(args.n, args.seed)
    _write(args.output, _jsonl(wave))
    print(
        f"{len(wave)} visits, {wave.expected_rejects} bad on purpose "
        f"({', '.join(sorted(set(wave.defects.values())))})",
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
