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
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["BAD_EVERY", "DEFECTS", "SampleWave", "bad_count", "generate", "main"]

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

    def __init__(self, records: Sequence[dict[str, Any]], defects: dict[str, str]) -> None:
        super().__init__(records)
        self.defects = defects
        self.bad_visit_ids = tuple(defects)
        self.expected_rejects = len(defects)


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


def _stamp(moment: dt.datetime, offset: str, style: int) -> str:
    if style == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if style == 1:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + offset


def _visit(rng: random.Random, index: int, n: int, net: _Network, start: dt.date) -> dict[str, Any]:
    salon = rng.choice(net.salons)
    r = rng.random()
    scenario = "стрижка" if r < 0.4 else "окрашивание" if r < 0.65 else "маникюр"
    master = rng.choice(salon["masters"]["nails" if scenario == "маникюр" else "hair"])
    skill, culture, level = master["skill"], master["hygiene"], salon["level"]
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
    return {
        "visit_id": f"SLN-2026-04-{index + 1:05d}",
        "point": salon["code"],
        "specialist": master["id"],
        "region": salon["region"],
        "date": day.isoformat(),
        "scenario": scenario,
        "channel": channel,
        "shopper": f"SH-{rng.randint(100, 999)}",
        "submitted": (day + dt.timedelta(days=rng.randint(0, 2))).isoformat(),
        **extra,
        "answers": a,
    }


def _plant(record: dict[str, Any], defect: str) -> None:
    """Give `record` exactly one defect that `salon.visit` must reject."""
    a = record["answers"]
    if defect == "unknown_key":
        a["workplace_clen"] = a.pop("workplace_clean")  # a typo in the field app's export
    elif defect == "out_of_range":
        a["overall"] = 11  # the 0–10 rating keyed in as 11
    elif defect == "missing_required":
        del a["hands"]
    elif defect == "bad_timestamp":
        record["appointment_at"] = "10.04.2026 12:00"  # the Russian date order, not ISO
        record.setdefault("started_at", "2026-04-10T12:03:00")
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sbm-salon-sample", description="Write a sample wave of beauty salon visits (JSONL)."
    )
    parser.add_argument("-n", type=int, default=300, help="number of visits (default 300)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    args = parser.parse_args(argv)
    wave = generate(args.n, args.seed)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in wave)
    if args.output == "-":
        sys.stdout.write(lines)
    else:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(lines)
    print(
        f"{len(wave)} visits, {wave.expected_rejects} bad on purpose "
        f"({', '.join(sorted(set(wave.defects.values())))})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
