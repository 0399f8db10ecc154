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

* a training at `TREATED_POINTS` (MSK-01, SPB-01, NNV-01) on `TRAINED_ITEMS` (the
  welcome, the master's conduct and work, hygiene, the critical items included): staff
  there pass where they would have failed with probability `TRAINING_CLOSES` = 0.7;
* everywhere, a mild drift: every master's skill + `DRIFT` = 0.1 on the logit scale,
  about +0.008 on the mean `visit`;
* the training alone adds `EXPECTED_VISIT_EFFECT` = 0.128 to the mean `visit` of the
  treated salons, 0.128 in the committed wave; the difference in differences of the two
  committed waves is 0.125 (±0.05 across seeds), the treated salons one per region,
  balanced as in `sbm_engine.sample_waves`;
* bad records as in wave 1: one in 50 (`BAD_EVERY`), the same defects in turn; field
  control failures (`wave.field_failures`) as `sbm_engine.sample_waves` plants them, the
  late ones by `LATE_SHOPPER` SH-117.

**Calibration set** (``generate_calibration()``, ``--calibration DIR``, in
``sample/calibration/``): 40 visits to the salons in April 2026 (``SLN-CAL-NNNNN``),
scored as in `sbm_engine.sample_waves`.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
import sys
from typing import Any

from sbm_engine import sample_waves
from sbm_engine.sample_waves import CALIBRATION_CASES
from sbm_engine.sample_waves import CALIBRATION_SHOPPERS as CALIBRATION_SHOPPERS
from sbm_engine.sample_waves import DEFAULT_SEED as DEFAULT_SEED
from sbm_engine.sample_waves import LENIENCY as LENIENCY
from sbm_engine.sample_waves import LENIENT_SHOPPER as LENIENT_SHOPPER
from sbm_engine.sample_waves import NOISE as NOISE
from sbm_engine.sample_waves import REFERENCE_SHOPPER as REFERENCE_SHOPPER
from sbm_engine.sample_waves import SUBMIT_DAYS as SUBMIT_DAYS
from sbm_engine.sample_waves import SampleWave as SampleWave
from sbm_engine.sample_waves import late_count as late_count
from sbm_engine.sample_waves import outside_count as outside_count

__all__ = [*sample_waves.PACK_API, "BAD_EVERY", "SampleWave", "bad_count"]

#: One record in this many is made bad on purpose (the known share: 2 %).
BAD_EVERY = 50

#: The defects planted, in turn, and the error code each must be rejected with.
DEFECTS: tuple[tuple[str, str], ...] = (
    ("unknown_key", "unknown_item"),
    ("out_of_range", "out_of_range"),
    ("missing_required", "missing"),
    ("bad_timestamp", "bad_timestamp"),
    ("unknown_scenario", "bad_field"),
    ("unknown_channel", "bad_field"),
)
_DEFECT_KINDS = tuple(defect for defect, _code in DEFECTS)

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
#: The shopper who submitted the planted late questionnaires.
LATE_SHOPPER = "SH-117"

# the calibration set: `sbm_engine.sample_waves` (CALIBRATION_SHOPPERS, LENIENT_SHOPPER, ...);
# the stopwatch stays as in the case. The lenient evaluator's `visit` is 0.056 above the
# honest evaluators' mean on average (per case sd 0.042).
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


def _surnames(first: str) -> tuple[str, ...]:
    return _LAST_M if first in ("Артём", "Илья") else _LAST_F


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


def bad_count(n: int) -> int:
    """How many of `n` generated records are bad on purpose."""
    return n // BAD_EVERY


def _yes(rng: random.Random, p: float, skill: float) -> str:
    return sample_waves.yes_no(rng, sample_waves.shifted(p, skill))


def _grade(rng: random.Random, mean: float, skill: float) -> int:
    return sample_waves.grade(rng, mean + 0.5 * skill, 0.7)


def _partial(rng: random.Random, skill: float) -> str:
    return sample_waves.yes_partly_no(rng, sample_waves.shifted(0.6, skill), 0.6)


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
                        name = sample_waves.unique_name(rng, used, _FIRST, _surnames)
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
    wave2: sample_waves.Wave2Plan | None = None,
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
    a["interior"] = sample_waves.grade(rng, 4.2 + level, 0.6)
    a["restroom"] = _yes(rng, 0.85, level) if rng.random() < 0.85 else "н/п"
    a["ambience"] = sample_waves.grade(rng, 4.0 + level, 0.7)
    a["price_list"] = _yes(rng, 0.8, level)
    if wave2 is not None:
        on = wave2.trained and salon["code"] in TREATED_POINTS
        sample_waves.train(rng, a, TRAINED_ITEMS, TRAINING_CLOSES, on)
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
        **(sample_waves.window(day) if wave2 is not None else {}),
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


def generate(n: int = 300, seed: int = DEFAULT_SEED) -> SampleWave:
    """`n` visit records for `salon.visit`; `bad_count(n)` of them bad on purpose.

    Deterministic: the same `n` and `seed` give the same records.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    rng = random.Random(seed)
    net = _Network(rng)
    start = dt.date(2026, 4, 1)
    records = [_visit(rng, i, n, net, start) for i in range(n)]
    defects, _bad = sample_waves.plant_in_turn(records, BAD_EVERY, _DEFECT_KINDS, _plant)
    return SampleWave(records, defects)


def generate_wave2(n: int = 300, seed: int = DEFAULT_SEED, *, trained: bool = True) -> SampleWave:
    """The salons of `generate(n, seed)` in May (``SLN-2026-05-NNNNN``), `bad_count(n)` of
    the records bad; ``trained=False`` leaves the training out and nothing else
    (`sbm_engine.sample_waves`).
    """
    if n < 0:
        raise ValueError("n must not be negative")
    net = _Network(random.Random(seed))
    rng = random.Random(f"{seed}/wave2")
    plan = sample_waves.Wave2Plan(DRIFT, trained, WAVE2_SHOPPERS)
    records = [_visit(rng, i, n, net, WAVE2_START, ids="SLN-2026-05", wave2=plan) for i in range(n)]
    plant = functools.partial(_plant, month="05")
    defects, bad = sample_waves.plant_in_turn(records, BAD_EVERY, _DEFECT_KINDS, plant)
    return SampleWave(
        records, defects, sample_waves.plant_field_failures(records, set(bad), LATE_SHOPPER)
    )


# -- the calibration set ---------------------------------------------------------------------------

_PARTIAL_ITEMS = frozenset({"booking_details"})
_CRITICAL_ITEMS = frozenset(
    {"allergy_test", "hands", "sterile_tools", "clean_tools", "disposables"}
)
_RATINGS = frozenset({"overall", "recommend"})  # the shopper's own 0-10 ratings
_MEASURED = frozenset({"start_delay"})  # a stopwatch reading, not an opinion
_KIND = sample_waves.answer_kinds(
    kept=_CRITICAL_ITEMS | _MEASURED, ratings=_RATINGS, partial=_PARTIAL_ITEMS
)


def generate_calibration(
    n: int = CALIBRATION_CASES, seed: int = DEFAULT_SEED
) -> dict[str, list[dict[str, Any]]]:
    """Evaluator -> their records of `n` salon visits (``SLN-CAL-NNNNN``, April 2026), every
    one scored by all of `CALIBRATION_SHOPPERS` as `sbm_engine.sample_waves` does.
    """
    net = _Network(random.Random(seed))

    def case(rng: random.Random, i: int) -> dict[str, Any]:
        return _visit(rng, i, n, net, _CALIBRATION_START, ids="SLN-CAL")

    return sample_waves.calibration_sets(n, seed, case, _KIND, submitted_within=1)


main = sample_waves.command(
    __name__, prog="sbm-salon-sample", what="of beauty salon visits (JSONL)", points="salons"
)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
