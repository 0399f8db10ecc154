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

**Wave 2** (``generate_wave2(300, seed=2026)``, ``sbm-bank-sample --wave 2``; committed as
``sample/wave2.jsonl``, the trained branches in ``sample/treated.txt``): the same
branches, specialists and skill levels a month later (2 to 28 April 2026, visit ids
``BNK-2026-04-NNNNN``), planned with the same number of visits at every branch, by 30
shoppers (SH-100 … SH-129). What changed:

* a training at `TREATED_POINTS` (MSK-03, SPB-02, EKB-01) on `TRAINED_ITEMS` (the
  specialist's conduct and the product items, the critical ones included):
  `TRAINING_CLOSES` = 0.7, so a specialist there passes where they would have failed in
  70 % of the cases;
* everywhere, a mild drift: every specialist's skill + `DRIFT` = 0.1 on the logit scale,
  about +0.011 on the mean `visit`;
* the training's own effect on the mean `visit` of the treated branches:
  `EXPECTED_VISIT_EFFECT` = 0.123; 0.141 in the committed wave, and 0.134 as the
  difference in differences of the two committed waves (about ±0.035 across seeds). The
  treated branches are one per region, balanced as `sbm_engine.sample_waves` says;
* bad records as in wave 1: one in 50 (`BAD_EVERY`), the same defects in turn; field
  control failures (`wave.field_failures`) as `sbm_engine.sample_waves` plants them, the
  late ones by `LATE_SHOPPER` SH-117.

**Calibration set** (``generate_calibration()``, ``--calibration DIR``, in
``sample/calibration/``): 40 visits to the network in March 2026 (``BNK-CAL-NNNNN``),
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
    ("bad_timestamp", "bad_field"),
    ("called_before_ticket", "timestamp_order"),
    ("unknown_scenario", "bad_field"),
)
_DEFECT_KINDS = tuple(defect for defect, _code in DEFECTS)

STANDARD = "bank.branch"

# -- wave 2 (see the module's docstring) ----------------------------------------------------------

#: The branches whose specialists were trained between the waves.
TREATED_POINTS: tuple[str, ...] = ("MSK-03", "SPB-02", "EKB-01")
#: The yes/no items the training was about.
TRAINED_ITEMS: tuple[str, ...] = (
    # greeting, needs, presentation, objections, closing: the specialist's conduct
    "greet_first",
    "eye_contact",
    "introduced",
    "offered_help",
    "undistracted",
    "open_questions",
    "clarified",
    "listened",
    "used_name",
    "summarized",
    "fit",
    "knowledge",
    "benefits",
    "calculation",
    "plain_words",
    "cross_sell",
    "mobile_app",
    "heard_out",
    "probed",
    "argued",
    "no_pressure",
    "next_step",
    "any_questions",
    "farewell",
    # the products
    "dep_rate",
    "dep_terms",
    "dep_insurance",
    "loan_psk",
    "loan_payment",
    "loan_documents",
    "card_fees",
    "card_grace",
    "card_cashback",
    "card_limits",
    # the critical ones
    "dep_no_misselling",
    "loan_insurance_voluntary",
    "secrecy",
    "documents_hidden",
    "pd_consent",
)
#: The share of the gap to a full score that the training closes: p -> p + c (1 - p).
TRAINING_CLOSES = 0.7
#: The drift of the whole network in wave 2: every specialist's skill (logit) + 0.1.
DRIFT = 0.1
#: The rise of the mean `visit` at the treated branches caused by the training alone
#: (beyond the drift), measured on 20 000 visits with and without it.
EXPECTED_VISIT_EFFECT = 0.123
#: Wave 2 starts a month after wave 1 (2026-03-02).
WAVE2_START = dt.date(2026, 4, 2)
#: Wave 2's shoppers: SH-100 … SH-129.
WAVE2_SHOPPERS = (100, 129)
#: The shopper who submitted the planted late questionnaires.
LATE_SHOPPER = "SH-117"

# the calibration set: `sbm_engine.sample_waves` (CALIBRATION_SHOPPERS, LENIENT_SHOPPER, ...);
# the stopwatch stays as in the case. The lenient evaluator's `visit` is 0.058 above the
# honest evaluators' mean on average (per case sd 0.043).
_CALIBRATION_START = dt.date(2026, 3, 2)

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

_MALE = frozenset({"Алексей", "Дмитрий", "Сергей", "Андрей", "Павел", "Игорь"})


def _surnames(first: str) -> tuple[str, ...]:
    return _LAST_M if first in _MALE else _LAST_F


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


def bad_count(n: int) -> int:
    """How many of `n` generated records are bad on purpose."""
    return n // BAD_EVERY


class _Network:
    def __init__(self, rng: random.Random) -> None:
        self.points: list[dict[str, Any]] = []
        used: set[str] = set()
        for region, offset, points in _NETWORK:
            for code, address, equeue, premises, load in points:
                staff = []
                for k in range(rng.randint(2, 4)):
                    name = sample_waves.unique_name(rng, used, _FIRST, _surnames)
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
    return sample_waves.yes_no(rng, sample_waves.shifted(p, skill))


def _grade(rng: random.Random, mean: float, skill: float) -> int:
    return sample_waves.grade(rng, mean + 0.5 * skill, 0.8)


def _partial(rng: random.Random, skill: float) -> str:
    return sample_waves.yes_partly_no(rng, sample_waves.shifted(0.55, skill), 0.6)


def _stamp(moment: dt.datetime, offset: str, style: int) -> str:
    if style == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if style == 1:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + offset


def _visit(
    rng: random.Random,
    index: int,
    n: int,
    net: _Network,
    start: dt.date,
    *,
    ids: str = "BNK-2026-03",
    wave2: sample_waves.Wave2Plan | None = None,
) -> dict[str, Any]:
    # wave 2 is planned: the same number of visits at every branch
    point = net.points[index % len(net.points)] if wave2 else rng.choice(net.points)
    spec = rng.choice(point["staff"])
    skill = spec["skill"]
    if wave2 is not None:
        skill += wave2.drift
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
    if wave2 is not None:
        on = wave2.trained and point["code"] in TREATED_POINTS
        sample_waves.train(rng, a, TRAINED_ITEMS, TRAINING_CLOSES, on)
    # premises: the branch's level
    prem = point["premises"]
    a["clean"] = sample_waves.grade(rng, 4.1 + prem, 0.7)
    a["comfort"] = sample_waves.grade(rng, 3.9 + prem, 0.8)
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
    if wave2 is not None:
        shopper = f"SH-{rng.randint(*wave2.shoppers)}"
    else:
        shopper = f"SH-{rng.randint(100, 999)}"
    record = {
        "visit_id": f"{ids}-{index + 1:05d}",
        "point": point["code"],
        "specialist": spec["id"],
        "region": point["region"],
        "date": day.isoformat(),
        "scenario": scenario,
        "shopper": shopper,
        "submitted": (day + dt.timedelta(days=rng.randint(0, 2))).isoformat(),
        **(sample_waves.window(day) if wave2 is not None else {}),
        **record_extra,
        "answers": a,
    }
    return record


def _plant(record: dict[str, Any], defect: str, month: str = "03") -> None:
    """Give `record` exactly one defect that `bank.branch` must reject."""
    a = record["answers"]
    if defect == "unknown_key":
        a["greet_frist"] = a.pop("greet_first")  # a typo in the field app's export
    elif defect == "out_of_range":
        a["overall"] = 11  # the 0–10 rating keyed in as 11
    elif defect == "missing_required":
        del a["secrecy"]
    elif defect == "bad_timestamp":
        record["ticket_issued"] = f"14.{month}.2026 10:05"  # the Russian date order, not ISO
        record.setdefault("called", f"2026-{month}-14T10:15:00")
    elif defect == "called_before_ticket":
        record["ticket_issued"] = f"2026-{month}-14T10:25:00"
        record["called"] = f"2026-{month}-14T10:05:00"
        a["wait_time"] = 5
        a.pop("wait_apology", None)
    elif defect == "unknown_scenario":
        record["scenario"] = "депозит"
    else:  # pragma: no cover - DEFECTS and this function are kept together
        raise ValueError(defect)


def generate(n: int = 300, seed: int = DEFAULT_SEED) -> SampleWave:
    """`n` visit records for `bank.branch`; `bad_count(n)` of them bad on purpose.

    Deterministic: the same `n` and `seed` give the same records.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    rng = random.Random(seed)
    net = _Network(rng)
    start = dt.date(2026, 3, 2)
    records = [_visit(rng, i, n, net, start) for i in range(n)]
    defects, _bad = sample_waves.plant_in_turn(records, BAD_EVERY, _DEFECT_KINDS, _plant)
    return SampleWave(records, defects)


def generate_wave2(n: int = 300, seed: int = DEFAULT_SEED, *, trained: bool = True) -> SampleWave:
    """Wave 2, visit ids ``BNK-2026-04-NNNNN``: the network of `generate(n, seed)` from
    `WAVE2_START` on, trained unless ``trained=False`` (see `sbm_engine.sample_waves`).
    """
    if n < 0:
        raise ValueError("n must not be negative")
    net = _Network(random.Random(seed))
    rng = random.Random(f"{seed}/wave2")
    plan = sample_waves.Wave2Plan(DRIFT, trained, WAVE2_SHOPPERS)
    records = [_visit(rng, i, n, net, WAVE2_START, ids="BNK-2026-04", wave2=plan) for i in range(n)]
    plant = functools.partial(_plant, month="04")
    defects, bad = sample_waves.plant_in_turn(records, BAD_EVERY, _DEFECT_KINDS, plant)
    return SampleWave(
        records, defects, sample_waves.plant_field_failures(records, set(bad), LATE_SHOPPER)
    )


# -- the calibration set ---------------------------------------------------------------------------

_PARTIAL_ITEMS = frozenset({"listened", "plain_words", "dep_terms", "loan_documents", "card_grace"})
_CRITICAL_ITEMS = frozenset(
    {"dep_no_misselling", "loan_insurance_voluntary", "secrecy", "documents_hidden", "pd_consent"}
)
_RATINGS = frozenset({"overall", "recommend"})  # the shopper's own 0-10 ratings
_MEASURED = frozenset({"wait_time"})  # a stopwatch reading, not an opinion
_KIND = sample_waves.answer_kinds(
    kept=_CRITICAL_ITEMS | _MEASURED, ratings=_RATINGS, partial=_PARTIAL_ITEMS
)


def generate_calibration(
    n: int = CALIBRATION_CASES, seed: int = DEFAULT_SEED
) -> dict[str, list[dict[str, Any]]]:
    """The calibration set of `sbm_engine.sample_waves.calibration_sets`: `n` visits
    (``BNK-CAL-NNNNN``) to the branches of `generate(n, seed)`, none of them bad.
    """
    net = _Network(random.Random(seed))

    def case(rng: random.Random, i: int) -> dict[str, Any]:
        return _visit(rng, i, n, net, _CALIBRATION_START, ids="BNK-CAL")

    return sample_waves.calibration_sets(n, seed, case, _KIND, submitted_within=1)


main = sample_waves.command(
    __name__, prog="sbm-bank-sample", what="of bank branch visits (JSONL)", points="branches"
)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
