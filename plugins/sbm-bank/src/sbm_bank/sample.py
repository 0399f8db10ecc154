"""A seeded sample wave of mystery-shopping visits to bank branches, for `bank.branch`.

    from sbm_bank.sample import generate
    wave = generate(300, seed=2026)     # a list of visit records (the JSONL input shape)
    wave.expected_rejects               # how many of them were made bad on purpose: 6
    wave.bad_visit_ids                  # which, and `wave.defects` says what is wrong

or from the command line: ``sbm-bank-sample -n 300 --seed 2026 -o wave.jsonl``.

What makes it realistic:

* four regions, nine branches, 2–4 specialists per branch; each specialist has a
  skill level and each branch a premises level and a queue load, so scores cluster
  by specialist and branch the way real waves do;
* scenarios "вклад" 40 %, "кредит" 30 %, "карта" 30 %; only the scenario's product
  items are answered;
* pass rates taken from typical bank waves: greeting ~90 %, introducing oneself
  ~75 %, summarising the need ~50 %, cross-selling ~45 %, deposit insurance ~60 %;
  critical breaches are rare (imposed loan insurance ~5 %, the others 1–3 %);
* N/A where a shopper would write it: no objection voiced (~25 %), no name given,
  no personal data requested, no hall consultant;
* seven branches in ten run an electronic queue: their visits carry the ticket's
  `ticket_issued` and `called` timestamps (some with the region's UTC offset), and
  the shopper's own stopwatch (`wait_time`) is off by a minute or two; the others
  have the stopwatch only. Waits are log-normal by branch load, a few past 15 min.

One record in 50 (`BAD_EVERY`) is made bad on purpose, each with one defect, in
turn: an unknown answer key, an out-of-range answer, a missing required answer, an
unreadable ticket timestamp, a call before the ticket, a scenario the standard does
not know. All must be rejected; every other record must be scored.

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
    ("called_before_ticket", "timestamp_order"),
    ("unknown_scenario", "bad_scenario"),
)

STANDARD = "bank.branch"

# region, (point code, address, has electronic queue, premises level, queue load), UTC offset
_NETWORK: tuple[tuple[str, str, tuple[tuple[str, str, bool, float, float], ...]], ...] = (
    (
        "Центральный",
        "+03:00",
        (
            ("MSK-01", "Москва, ул. Тверская, 12", True, 0.6, 1.4),
            ("MSK-02", "Москва, Профсоюзная ул., 56", True, 0.2, 1.0),
            ("MSK-03", "Москва, Ленинский пр-т, 30", True, -0.3, 1.8),
        ),
    ),
    (
        "Северо-Западный",
        "+03:00",
        (
            ("SPB-01", "Санкт-Петербург, Невский пр-т, 48", True, 0.5, 1.2),
            ("SPB-02", "Санкт-Петербург, Московский пр-т, 150", False, -0.1, 0.8),
        ),
    ),
    (
        "Уральский",
        "+05:00",
        (
            ("EKB-01", "Екатеринбург, пр-т Ленина, 24", True, 0.1, 1.1),
            ("CHL-01", "Челябинск, ул. Кирова, 110", False, -0.6, 0.7),
        ),
    ),
    (
        "Сибирский",
        "+07:00",
        (
            ("NSK-01", "Новосибирск, Красный пр-т, 65", True, 0.0, 1.3),
            ("OMS-01", "Омск, ул. Ленина, 18", True, -0.4, 0.9),
        ),
    ),
)

_FIRST = (
    "Анна",
    "Елена",
    "Ольга",
    "Мария",
    "Наталья",
    "Ирина",
    "Татьяна",
    "Светлана",
    "Алексей",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Павел",
    "Игорь",
    "Екатерина",
    "Юлия",
)
_LAST_F = (
    "Смирнова",
    "Кузнецова",
    "Попова",
    "Васильева",
    "Петрова",
    "Соколова",
    "Михайлова",
    "Новикова",
    "Фёдорова",
    "Морозова",
    "Волкова",
    "Алексеева",
    "Лебедева",
    "Семёнова",
)
_LAST_M = (
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
)

_SCENARIOS = (("вклад", 0.4), ("кредит", 0.3), ("карта", 0.3))

# yes/no items and their base pass rates (before the specialist's skill)
_YES_NO: dict[str, float] = {
    "greet_first": 0.9,
    "eye_contact": 0.88,
    "introduced": 0.75,
    "offered_help": 0.9,
    "undistracted": 0.85,
    "appearance": 0.93,
    "used_name": 0.55,
    "summarized": 0.5,
    "calculation": 0.65,
    "cross_sell": 0.45,
    "mobile_app": 0.7,
    "heard_out": 0.85,
    "probed": 0.6,
    "no_pressure": 0.92,
    "next_step": 0.7,
    "any_questions": 0.65,
    "farewell": 0.9,
}
_PRODUCT_YES_NO: dict[str, dict[str, float]] = {
    "вклад": {"dep_rate": 0.85, "dep_insurance": 0.6},
    "кредит": {"loan_psk": 0.7, "loan_payment": 0.8},
    "карта": {"card_fees": 0.8, "card_cashback": 0.7, "card_limits": 0.55},
}
_PRODUCT_PARTIAL: dict[str, tuple[str, ...]] = {
    "вклад": ("dep_terms",),
    "кредит": ("loan_documents",),
    "карта": ("card_grace",),
}
# critical items: the rate of a breach
_CRITICAL: dict[str, dict[str, float]] = {
    "вклад": {"dep_no_misselling": 0.03},
    "кредит": {"loan_insurance_voluntary": 0.05},
    "карта": {},
}
_GRADE5 = {
    "open_questions": 3.9,
    "clarified": 4.0,
    "fit": 4.2,
    "knowledge": 4.3,
    "benefits": 3.8,
    "argued": 3.6,
}
_OBJECTIONS = ("heard_out", "probed", "argued", "no_pressure")


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


class _Network:
    def __init__(self, rng: random.Random) -> None:
        self.points: list[dict[str, Any]] = []
        used: set[str] = set()
        for region, offset, points in _NETWORK:
            for code, address, equeue, premises, load in points:
                staff = []
                for k in range(rng.randint(2, 4)):
                    while True:
                        first = rng.choice(_FIRST)
                        male = first in ("Алексей", "Дмитрий", "Сергей", "Андрей", "Павел", "Игорь")
                        last = rng.choice(_LAST_M if male else _LAST_F)
                        name = f"{last} {first}"
                        if name not in used:
                            used.add(name)
                            break
                    staff.append(
                        {"id": f"{code}-S{k + 1}", "name": name, "skill": rng.gauss(0.3, 0.7)}
                    )
                self.points.append(
                    {
                        "region": region,
                        "offset": offset,
                        "code": code,
                        "address": address,
                        "equeue": equeue,
                        "premises": premises,
                        "load": load,
                        "staff": staff,
                    }
                )


def _yes(rng: random.Random, p: float, skill: float) -> str:
    return "yes" if rng.random() < _sigmoid(_logit(p) + skill) else "no"


def _grade(rng: random.Random, mean: float, skill: float) -> int:
    return max(1, min(5, round(rng.gauss(mean + 0.5 * skill, 0.8))))


def _partial(rng: random.Random, skill: float) -> str:
    p_yes = _sigmoid(_logit(0.55) + skill)
    r = rng.random()
    if r < p_yes:
        return "yes"
    return "partly" if r < p_yes + (1 - p_yes) * 0.6 else "no"


def _stamp(moment: dt.datetime, offset: str, style: int) -> str:
    if style == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if style == 1:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + offset


def _visit(rng: random.Random, index: int, n: int, net: _Network, start: dt.date) -> dict[str, Any]:
    point = rng.choice(net.points)
    spec = rng.choice(point["staff"])
    skill = spec["skill"]
    r = rng.random()
    scenario = "вклад" if r < 0.4 else "кредит" if r < 0.7 else "карта"
    day = start + dt.timedelta(days=index * 26 // max(n, 1))  # spread over four weeks
    day += dt.timedelta(days=rng.randrange(0, 2))
    if day.weekday() == 6:
        day += dt.timedelta(days=1)
    a: dict[str, Any] = {}
    for item, p in _YES_NO.items():
        a[item] = _yes(rng, p, skill)
    for item, mean in _GRADE5.items():
        a[item] = _grade(rng, mean, skill)
    a["listened"] = _partial(rng, skill)
    a["plain_words"] = _partial(rng, skill)
    for item, p in _PRODUCT_YES_NO[scenario].items():
        a[item] = _yes(rng, p, skill)
    for item in _PRODUCT_PARTIAL[scenario]:
        a[item] = _partial(rng, skill)
    for item, breach in _CRITICAL[scenario].items():
        a[item] = "no" if rng.random() < breach * math.exp(-skill) else "yes"
    # N/A where a shopper writes it
    if rng.random() < 0.25:  # the objection was not voiced
        for item in _OBJECTIONS:
            a[item] = "н/п"
    if rng.random() < 0.2:
        a["used_name"] = "н/п"
    # premises: the branch's level
    prem = point["premises"]
    a["clean"] = max(1, min(5, round(rng.gauss(4.1 + prem, 0.7))))
    a["comfort"] = max(1, min(5, round(rng.gauss(3.9 + prem, 0.8))))
    a["navigation"] = _yes(rng, 0.88, prem)
    a["info_stand"] = _yes(rng, 0.8, prem)
    a["self_service"] = _yes(rng, 0.9, prem)
    # queue
    wait = rng.lognormvariate(math.log(6.0 * point["load"]), 0.55)
    wait_seconds = max(30, min(int(wait * 60), 150 * 60))
    opening = dt.datetime.combine(day, dt.time(9, 0))
    issued = opening + dt.timedelta(seconds=rng.randrange(0, 9 * 3600))
    called = issued + dt.timedelta(seconds=wait_seconds)
    measured = wait_seconds / 60
    record_extra: dict[str, Any] = {}
    if point["equeue"] and rng.random() < 0.95:
        style = rng.choice((0, 0, 1, 2))
        record_extra["ticket_issued"] = _stamp(issued, point["offset"], style)
        record_extra["called"] = _stamp(called, point["offset"], style)
        minutes = measured
        a["wait_time"] = max(0, round(measured + rng.gauss(0, 1.2)))
        a["call_visible"] = _yes(rng, 0.9, prem)
        a["hall_help"] = _yes(rng, 0.75, prem) if rng.random() < 0.8 else "н/п"
    else:
        a["wait_time"] = round(measured)
        minutes = float(a["wait_time"])
        a["call_visible"] = "н/п"
        a["hall_help"] = _yes(rng, 0.7, prem) if rng.random() < 0.5 else "н/п"
    if minutes > 10:
        a["wait_apology"] = _yes(rng, 0.45, skill)
    # bank secrecy and personal data
    a["secrecy"] = "no" if rng.random() < 0.01 else "yes"
    a["documents_hidden"] = "no" if rng.random() < 0.01 else "yes"
    a["pd_consent"] = "н/п" if rng.random() < 0.6 else "no" if rng.random() < 0.05 else "yes"
    # the shopper's own ratings, following what happened
    quality = (
        sum(
            1
            for k in ("greet_first", "used_name", "summarized", "next_step", "farewell")
            if a.get(k) == "yes"
        )
        / 5
    )
    if rng.random() < 0.9:
        mood = 4 + 6 * quality - 0.1 * max(0.0, minutes - 10)
        a["overall"] = max(0, min(10, round(rng.gauss(mood, 1.3))))
    if rng.random() < 0.85:
        a["recommend"] = max(0, min(10, round(rng.gauss(4 + 5.5 * quality, 1.8))))
    record = {
        "visit_id": f"BNK-2026-03-{index + 1:05d}",
        "point": point["code"],
        "specialist": spec["id"],
        "region": point["region"],
        "date": day.isoformat(),
        "scenario": scenario,
        "shopper": f"SH-{rng.randint(100, 999)}",
        "submitted": (day + dt.timedelta(days=rng.randint(0, 2))).isoformat(),
        **record_extra,
        "answers": a,
    }
    return record


def _plant(record: dict[str, Any], defect: str) -> None:
    """Give `record` exactly one defect that `bank.branch` must reject."""
    a = record["answers"]
    if defect == "unknown_key":
        a["greet_frist"] = a.pop("greet_first")  # a typo in the field app's export
    elif defect == "out_of_range":
        a["overall"] = 11  # the 0–10 rating keyed in as 11
    elif defect == "missing_required":
        del a["secrecy"]
    elif defect == "bad_timestamp":
        record["ticket_issued"] = "14.03.2026 10:05"  # the Russian date order, not ISO
        record.setdefault("called", "2026-03-14T10:15:00")
    elif defect == "called_before_ticket":
        record["ticket_issued"] = "2026-03-14T10:25:00"
        record["called"] = "2026-03-14T10:05:00"
        a["wait_time"] = 5
        a.pop("wait_apology", None)
    elif defect == "unknown_scenario":
        record["scenario"] = "депозит"
    else:  # pragma: no cover - DEFECTS and this function are kept together
        raise ValueError(defect)


def generate(n: int = 300, seed: int = 2026) -> SampleWave:
    """`n` visit records for `bank.branch`; `bad_count(n)` of them bad on purpose.

    Deterministic: the same `n` and `seed` give the same records.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    rng = random.Random(seed)
    net = _Network(rng)
    start = dt.date(2026, 3, 2)
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
        prog="sbm-bank-sample", description="Write a sample wave of bank branch visits (JSONL)."
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
