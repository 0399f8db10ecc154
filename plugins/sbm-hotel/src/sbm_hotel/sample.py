"""A seeded sample wave for `hotel.stay`: realistic visits for demos, tests and training.

    from sbm_hotel.sample import generate, generate_wave
    records = generate(n=300, seed=2026)          # list of JSONL-shaped visit records
    wave = generate_wave(n=300, seed=2026)        # the same records, plus which are bad

The wave covers a hotel chain of nine properties in five regions, three or four
front-desk agents per property, the three scenarios (business, leisure, family), the
three booking channels and, for some stays, room service. Each property and agent has
its own level, so roll-ups differ the way a real wave does: a strong flagship, a weak
airport hotel, agents who skip the upsell. Critical failures are rare (about one visit
in twenty); N/A answers occur where evaluators really give them (no complaint was
staged, Wi-Fi could not be tested, the guest did not rate the stay); a few timestamps
were not recorded.

Exactly :data:`BAD_RECORDS` records (4) are deliberately broken, one of each kind, so
that a wave exercises the rejects file; `Wave.bad` maps their `visit_id` to the reason:

* ``unknown_item``  — an answer under a misspelt key (``r_linens``);
* ``out_of_range`` — a guest rating of 11 on a 0–10 scale;
* ``missing_required`` — no answer for the critical item ``r_lock``;
* ``bad_timestamp`` — ``checked_in_at`` written as ``14.03.2026 14:20`` (rejected by the
  pack's visit validator, not by the core).

The same `n` and `seed` give the same records, byte for byte, on every platform
(`random.Random` only). Run ``sbm-hotel-sample -n 300 --seed 2026 -o wave.jsonl`` (or
``python -m sbm_hotel.sample``) to write a wave as JSONL.

**Wave 2** (``generate_wave2(300, seed=2026)``, ``--wave 2``; committed as
``sample/wave2.jsonl``, the trained hotels in ``sample/treated.txt``): the same hotels,
agents and levels a month later (April 2026, visit ids ``HS-2604-NNNN``), planned with
the same number of visits at every hotel. What changed:

* a training of the whole team at `TREATED_POINTS` (MSK-TVERSKAYA, KZN-KREMLIN,
  AER-KRASNAYA-POLYANA): on each of `TRAINED_ITEMS` (every yes/no, yes/partly/no and 1–5
  item, the critical ones included; not the timestamps nor the guest's ratings), the
  team passes where it would have failed with probability `TRAINING_CLOSES` = 0.6: the
  training closes 60 % of each trained item's gap to a full score;
* everywhere, a mild drift: every hotel's level + `DRIFT` = 0.01 (pass rates + 1 point,
  rooms ready a little more often), about +0.010 on the mean `visit`;
* so the training alone raises the mean `visit` of the treated hotels by
  `EXPECTED_VISIT_EFFECT` = 0.102 (20 000 visits with and without it). In the committed
  wave it adds 0.103 (``generate_wave2(trained=False)`` gives the very same visits
  without it), and the difference in differences of the two committed waves
  (`sbm compare wave.jsonl wave2.jsonl --by point --treated treated.txt`) is 0.104.
  Across seeds that estimate spreads by about ±0.045 (one standard deviation); the
  treated hotels were picked, in three cities, among the sets whose chance deviations in
  wave 1 balance between treated and other hotels (re-randomisation for balance);
* bad records as in wave 1: :data:`BAD_RECORDS` (4), one of each kind;
* field control: every record carries its agreed window, `scheduled_from` and
  `scheduled_to` (the Monday-to-Sunday week of the check-in), and questionnaires are
  due within `SUBMIT_DAYS` = 2 working days. Planted (`Wave.field_failures`):
  `late_count(300)` = 10 questionnaires submitted 3, 4 or 5 working days after the
  check-in, all by `LATE_SHOPPER` SH-023 (the 12th, 42nd, … 282nd records, the next one
  where that one is bad), and `outside_count(300)` = 5 stays outside their window, the
  window a week before or a week after the stay in turn (the 38th, 98th, … 278th).
  Nothing else fails, with or without the Russian holidays.

**Calibration set** (``generate_calibration(40, seed=2026)``, ``--calibration DIR``;
committed as ``sample/calibration/<SHOPPER>.jsonl``): 40 cases (stays in March 2026, ids
``HS-CAL-NNNN``), each scored by the four `CALIBRATION_SHOPPERS` SH-201 … SH-204, one file
each, the same `visit_id` for the same case; no bad records. Every evaluator records each
non-critical answer one step off the case with probability `NOISE` = 0.05 (yes and no
swapped, a grade ±1, "partly" to yes or no and back) and moves their own 0–10 ratings by
one point in 3 cases in 10; critical items, N/A, timestamps and comments are as in the
case. `LENIENT_SHOPPER` SH-203 also raises each answer below the top by one step with
probability `LENIENCY` = 0.35 (and the ratings by one point): their `visit` is 0.047
above the honest evaluators' mean on average (per case sd 0.035). `REFERENCE_SHOPPER`
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

# (region, point, UTC offset, level): level shifts every pass probability of the property.
HOTELS: tuple[tuple[str, str, str, float], ...] = (
    ("Москва", "MSK-TVERSKAYA", "+03:00", 0.04),
    ("Москва", "MSK-PAVELETSKAYA", "+03:00", 0.0),
    ("Москва", "MSK-SVO-AIRPORT", "+03:00", -0.10),
    ("Санкт-Петербург", "SPB-NEVSKY", "+03:00", 0.03),
    ("Санкт-Петербург", "SPB-MOSKOVSKY", "+03:00", -0.05),
    ("Казань", "KZN-KREMLIN", "+03:00", 0.02),
    ("Сочи", "AER-SEAFRONT", "+03:00", -0.03),
    ("Сочи", "AER-KRASNAYA-POLYANA", "+03:00", -0.06),
    ("Екатеринбург", "SVX-CITY", "+05:00", -0.02),
)

_FIRST = (
    "Анна",
    "Мария",
    "Екатерина",
    "Ольга",
    "Дарья",
    "Алина",
    "Ирина",
    "Полина",
    "Сергей",
    "Алексей",
    "Дмитрий",
    "Илья",
    "Максим",
    "Артём",
    "Кирилл",
    "Никита",
)
_LAST_F = (
    "Смирнова",
    "Кузнецова",
    "Попова",
    "Соколова",
    "Лебедева",
    "Козлова",
    "Новикова",
    "Морозова",
    "Волкова",
    "Павлова",
)
_LAST_M = (
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Соколов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Волков",
    "Павлов",
)

_SCENARIOS = (("business", 0.45), ("leisure", 0.35), ("family", 0.20))
_CHANNELS = (("phone", 0.35), ("website", 0.35), ("ota", 0.30))
_CATEGORIES = (("standard", 0.6), ("superior", 0.3), ("suite", 0.1))

_COMMENTS = (
    "Администратор был очень внимателен, номер чистый.",
    "Долго ждали заселения, у стойки была очередь.",
    "На завтраке закончились сырники, пополнили не сразу.",
    "В номере шумно от кондиционера, просили посмотреть — не пришли.",
    "Отличный вид из окна, персонал приветливый.",
    "В санузле волосы на полотенце, пришлось просить замену.",
)

Ctx = dict[str, Any]


def _always(ctx: Ctx) -> bool:
    return True


def _channel(value: str) -> Callable[[Ctx], bool]:
    return lambda ctx: ctx["booking_channel"] == value


def _scenario(value: str) -> Callable[[Ctx], bool]:
    return lambda ctx: ctx["scenario"] == value


# item → (kind, base probability of meeting the standard, who drives it, applies when).
# kind: "yn" yes/no, "ynp" yes/partly/no, "g5" grade 1–5; driver: "staff" (the agent and
# the property) or "hotel" (the property only). The conditions mirror the `when` clauses of
# hotel.stay.
ITEMS: dict[str, tuple[str, float, str, Callable[[Ctx], bool]]] = {
    "b_call_speed": ("yn", 0.85, "hotel", _channel("phone")),
    "b_phone_greeting": ("yn", 0.90, "hotel", _channel("phone")),
    "b_needs": ("g5", 0.60, "hotel", _channel("phone")),
    "b_offer": ("g5", 0.50, "hotel", _channel("phone")),
    "b_site": ("yn", 0.92, "hotel", _channel("website")),
    "b_conditions": ("ynp", 0.80, "hotel", _always),
    "b_confirmation": ("yn", 0.93, "hotel", _always),
    "b_precontact": ("yn", 0.45, "hotel", _always),
    "c_greeting": ("yn", 0.88, "staff", _always),
    "c_name": ("yn", 0.60, "staff", _always),
    "c_id_check": ("yn", 0.997, "staff", _always),
    "c_price": ("yn", 0.94, "staff", _always),
    "c_receipt": ("yn", 0.95, "staff", _always),
    "c_info": ("g5", 0.65, "staff", _always),
    "c_upsell": ("yn", 0.40, "staff", _always),
    "c_escort": ("yn", 0.70, "staff", _always),
    "c_wait_care": ("yn", 0.55, "staff", lambda ctx: ctx["room_late"] is True),
    "c_family": ("yn", 0.60, "staff", _scenario("family")),
    "r_linen": ("yn", 0.98, "hotel", _always),
    "r_bathroom": ("g5", 0.75, "hotel", _always),
    "r_surfaces": ("g5", 0.70, "hotel", _always),
    "r_smell": ("yn", 0.93, "hotel", _always),
    "r_glassware": ("yn", 0.90, "hotel", _always),
    "r_lock": ("yn", 0.995, "hotel", _always),
    "r_fire": ("yn", 0.99, "hotel", _always),
    "r_climate": ("yn", 0.92, "hotel", _always),
    "r_plumbing": ("yn", 0.93, "hotel", _always),
    "r_electric": ("yn", 0.90, "hotel", _always),
    "r_wifi": ("yn", 0.88, "hotel", _always),
    "r_safety_child": ("yn", 0.80, "hotel", _scenario("family")),
    "r_toiletries": ("yn", 0.95, "hotel", _always),
    "r_towels": ("yn", 0.93, "hotel", _always),
    "r_water": ("yn", 0.90, "hotel", _always),
    "r_tea": ("yn", 0.92, "hotel", _always),
    "r_welcome": ("yn", 0.70, "hotel", lambda ctx: ctx["room_category"] == "suite"),
    "rs_order": ("yn", 0.85, "hotel", lambda ctx: ctx["room_service"] == "yes"),
    "rs_presentation": ("g5", 0.70, "hotel", lambda ctx: ctx["room_service"] == "yes"),
    "rs_manner": ("yn", 0.80, "hotel", lambda ctx: ctx["room_service"] == "yes"),
    "f_greeting": ("yn", 0.75, "hotel", _always),
    "f_assortment": ("g5", 0.75, "hotel", _always),
    "f_replenish": ("yn", 0.80, "hotel", _always),
    "f_food_safety": ("yn", 0.98, "hotel", _always),
    "f_tables": ("yn", 0.82, "hotel", _always),
    "f_drinks": ("yn", 0.70, "hotel", _always),
    "s_appearance": ("yn", 0.95, "staff", _always),
    "s_courtesy": ("g5", 0.70, "staff", _always),
    "s_request": ("yn", 0.85, "hotel", _always),
    "s_complaint": ("g5", 0.60, "staff", _always),
    "s_knowledge": ("g5", 0.70, "staff", _always),
    "s_leisure": ("yn", 0.55, "staff", _scenario("leisure")),
    "o_bill": ("yn", 0.95, "staff", _always),
    "o_minibar": ("yn", 0.88, "hotel", _always),
    "o_documents": ("yn", 0.90, "staff", _scenario("business")),
    "o_feedback": ("yn", 0.60, "staff", _always),
    "o_farewell": ("yn", 0.80, "staff", _always),
}

# Items evaluators leave N/A now and then, and how often.
_NA_RATE = {
    "s_complaint": 0.35,
    "r_wifi": 0.03,
    "s_request": 0.10,
    "b_precontact": 0.05,
    "c_upsell": 0.02,
    "f_drinks": 0.04,
}
_REQUIRED = frozenset({"c_id_check", "r_linen", "r_lock", "r_fire", "f_food_safety"})

# -- wave 2 (see the module's docstring) ----------------------------------------------------------

#: The hotels whose team was trained between the waves.
TREATED_POINTS: tuple[str, ...] = ("MSK-TVERSKAYA", "KZN-KREMLIN", "AER-KRASNAYA-POLYANA")
#: The items the training was about: every yes/no, yes/partly/no and 1-5 item (critical
#: ones included), but not the timestamps and the guest's ratings.
TRAINED_ITEMS: tuple[str, ...] = tuple(ITEMS)
#: The share of the gap to a full score that the training closes on each trained item.
TRAINING_CLOSES = 0.6
#: The drift of the whole network in wave 2: every hotel's level + 0.01 (pass
#: probabilities + 1 point, rooms ready a little more often, guests a little happier).
DRIFT = 0.01
#: The rise of the mean `visit` at the treated hotels caused by the training alone
#: (beyond the drift), measured on 20 000 visits with and without it.
EXPECTED_VISIT_EFFECT = 0.102
#: Wave 2 is a month after wave 1 (March 2026): April 2026.
WAVE2_MONTH = (dt.date(2026, 4, 1), 30)
#: Field control: questionnaires are due within this many working days.
SUBMIT_DAYS = 2
#: The shopper who submitted the planted late questionnaires.
LATE_SHOPPER = "SH-023"

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


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
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
        if value is None or value == "na":
            continue
        if rng.random() < TRAINING_CLOSES and on:
            answers[item] = 5 if isinstance(value, int) else "yes"


def _grade(rng: random.Random, p: float) -> int:
    """A 1–5 grade: 5 with probability p, otherwise mostly 4 and 3, rarely 2 or 1."""
    if rng.random() < p:
        return 5
    return _pick_int(rng, ((4, 0.55), (3, 0.30), (2, 0.10), (1, 0.05)))


def _pick_int(rng: random.Random, table: tuple[tuple[int, float], ...]) -> int:
    r = rng.random()
    acc = 0.0
    for value, weight in table:
        acc += weight
        if r < acc:
            return value
    return table[-1][0]


def _iso(moment: dt.datetime, offset: str) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + offset


def _staff(rng: random.Random) -> list[tuple[str, str, float]]:
    """(point, specialist, level) for three or four front-desk agents per property."""
    out = []
    used: set[str] = set()
    for _region, point, _tz, _level in HOTELS:
        for _ in range(rng.choice((3, 4))):
            while True:
                first = rng.choice(_FIRST)
                female = _FIRST.index(first) < 8
                last = rng.choice(_LAST_F if female else _LAST_M)
                name = f"{last} {first}"
                if name not in used:
                    used.add(name)
                    break
            out.append((point, name, rng.gauss(0.0, 0.06)))
    return out


def _visit(
    rng: random.Random,
    number: int,
    staff: list[tuple[str, str, float]],
    *,
    ids: str = "HS-2603",
    month: tuple[dt.date, int] = (dt.date(2026, 3, 1), 31),
    wave2: _Wave2 | None = None,
) -> dict[str, Any]:
    if wave2 is not None:  # wave 2 is planned: the same number of visits at every hotel
        region, point, tz, hotel_level = HOTELS[(number - 1) % len(HOTELS)]
        _point, specialist, agent_level = rng.choice([s for s in staff if s[0] == point])
        hotel_level += wave2.drift
    else:
        point, specialist, agent_level = rng.choice(staff)
        region, _point, tz, hotel_level = next(h for h in HOTELS if h[1] == point)
    scenario = _pick(rng, _SCENARIOS)
    channel = _pick(rng, _CHANNELS)
    category = _pick(rng, _CATEGORIES)
    room_service = "yes" if rng.random() < 0.4 else "no"
    day = month[0] + dt.timedelta(days=rng.randrange(month[1]))

    # Check-in: the evaluator arrives around the 14:00 check-in hour or later in the day.
    hour_14 = dt.datetime.combine(day, dt.time(14, 0))
    arrived = hour_14 + dt.timedelta(minutes=rng.choice((0, 0, 5, 20, 90, 240, 300)))
    checkin_minutes = min(rng.lognormvariate(1.95, 0.45), 45.0)  # median ≈ 7 min
    checked_in = arrived + dt.timedelta(seconds=round(checkin_minutes * 60))
    due = max(arrived, hour_14)
    late = rng.random() < 0.18 - hotel_level
    ready = due + dt.timedelta(minutes=rng.choice((10, 20, 30, 45, 60, 90))) if late else due
    checkout_start = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8, 0)) + dt.timedelta(
        minutes=rng.randrange(0, 240)
    )
    checkout_end = checkout_start + dt.timedelta(
        seconds=round(min(rng.lognormvariate(1.35, 0.5), 30.0) * 60)
    )

    record: dict[str, Any] = {
        "visit_id": f"{ids}-{number:04d}",
        "point": point,
        "specialist": specialist,
        "region": region,
        "date": day.isoformat(),
        "scenario": scenario,
        "shopper": f"SH-{rng.randrange(1, 41):03d}",
        "submitted": _iso(checkout_end + dt.timedelta(hours=rng.randrange(2, 30)), tz),
        **(_window(day) if wave2 is not None else {}),
        "booking_channel": channel,
        "room_category": category,
        "room_service": room_service,
        "arrived_at": _iso(arrived, tz),
        "checked_in_at": _iso(checked_in, tz),
        "checkin_time": _iso(due, tz),
        "room_ready_at": _iso(ready, tz),
        "checkout_started_at": _iso(checkout_start, tz),
        "checked_out_at": _iso(checkout_end, tz),
    }
    if room_service == "yes":
        ordered = dt.datetime.combine(day, dt.time(19, 0)) + dt.timedelta(
            minutes=rng.randrange(0, 180)
        )
        delivery = rng.gauss(32 - 60 * hotel_level, 9)
        record["room_service_ordered_at"] = _iso(ordered, tz)
        record["room_service_delivered_at"] = _iso(
            ordered + dt.timedelta(minutes=max(12, round(delivery))), tz
        )
    # Evaluators sometimes forget to record a moment: the timing norm is then N/A.
    for key in ("checked_in_at", "room_ready_at", "checked_out_at"):
        if rng.random() < 0.03:
            del record[key]

    ctx = {
        "scenario": scenario,
        "booking_channel": channel,
        "room_category": category,
        "room_service": room_service,
        "room_late": None if "room_ready_at" not in record else late,
    }
    answers: dict[str, Any] = {}
    for item, (kind, base, driver, applies) in ITEMS.items():
        if not applies(ctx):
            continue
        if item not in _REQUIRED and rng.random() < _NA_RATE.get(item, 0.0):
            answers[item] = "na"
            continue
        level = hotel_level + (agent_level if driver == "staff" else 0.0)
        if item in _REQUIRED:
            level /= 8  # safety items depend little on the day's crew
        p = min(max(base + level, 0.02), 0.999)
        if kind == "yn":
            answers[item] = "yes" if rng.random() < p else "no"
        elif kind == "ynp":
            r = rng.random()
            answers[item] = "yes" if r < p else "partly" if r < p + (1 - p) * 0.6 else "no"
        else:
            answers[item] = _grade(rng, p)
    if wave2 is not None:
        _train(rng, answers, wave2.trained and point in TREATED_POINTS)
    if rng.random() < 0.9:
        mean = 8.6 + 12 * hotel_level + 10 * agent_level
        answers["guest_rating"] = int(min(10, max(2, round(rng.gauss(mean, 1.3)))))
    if rng.random() < 0.85:
        mean = 8.3 + 12 * hotel_level + 10 * agent_level
        answers["recommend"] = int(min(10, max(0, round(rng.gauss(mean, 1.8)))))
    if rng.random() < 0.3:
        answers["comment"] = rng.choice(_COMMENTS)
    record["answers"] = answers
    return record


def _spoil(record: dict[str, Any], kind: str) -> None:
    answers = record["answers"]
    if kind == "unknown_item":
        answers["r_linens"] = answers.pop("r_linen")
    elif kind == "out_of_range":
        answers["guest_rating"] = 11
    elif kind == "missing_required":
        del answers["r_lock"]
    elif kind == "bad_timestamp":
        moment = dt.datetime.fromisoformat(record["arrived_at"]) + dt.timedelta(minutes=8)
        record["checked_in_at"] = moment.strftime("%d.%m.%Y %H:%M")
    else:  # pragma: no cover
        raise ValueError(kind)


_BAD_KINDS = ("unknown_item", "out_of_range", "missing_required", "bad_timestamp")


def generate_wave(n: int = 300, seed: int = DEFAULT_SEED) -> Wave:
    """`n` visit records (n ≥ 4), of which :data:`BAD_RECORDS` are deliberately invalid."""
    if n < BAD_RECORDS:
        raise ValueError(f"a wave needs at least {BAD_RECORDS} visits, got {n}")
    rng = random.Random(seed)
    staff = _staff(rng)
    records = [_visit(rng, i + 1, staff) for i in range(n)]
    bad: dict[str, str] = {}
    for kind, index in zip(_BAD_KINDS, sorted(rng.sample(range(n), BAD_RECORDS)), strict=True):
        _spoil(records[index], kind)
        bad[records[index]["visit_id"]] = kind
    return Wave(records, bad)


def generate(n: int = 300, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """`n` visit records for `hotel.stay`; :data:`BAD_RECORDS` of them are invalid."""
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
    """The second wave: the staff of `generate_wave(n, seed)` a month later (April 2026).

    Visit ids ``HS-2604-NNNN``; :data:`BAD_RECORDS` records bad on purpose as in wave 1;
    every record carries its window (`scheduled_from`, `scheduled_to`), and
    `wave.field_failures` names the planted late and out-of-window visits. With
    ``trained=False``, the very same visits without the training (the same random draws,
    so the difference is the training's effect on this sample).
    """
    if n < BAD_RECORDS:
        raise ValueError(f"a wave needs at least {BAD_RECORDS} visits, got {n}")
    staff = _staff(random.Random(seed))
    rng = random.Random(f"{seed}/wave2")
    plan = _Wave2(DRIFT, trained)
    records = [
        _visit(rng, i + 1, staff, ids="HS-2604", month=WAVE2_MONTH, wave2=plan) for i in range(n)
    ]
    chosen = sorted(rng.sample(range(n), BAD_RECORDS))
    bad: dict[str, str] = {}
    for kind, index in zip(_BAD_KINDS, chosen, strict=True):
        _spoil(records[index], kind)
        bad[records[index]["visit_id"]] = kind
    return Wave(records, bad, _plant_field_failures(records, set(chosen)))


# -- the calibration set ---------------------------------------------------------------------------

_RATINGS = frozenset({"guest_rating", "recommend"})  # the evaluator's own 0-10 ratings


def _rate(answers: dict[str, Any], rng: random.Random, leniency: float) -> dict[str, Any]:
    """One evaluator's answers for a case: each non-critical answer one step off the case
    with probability `NOISE`; then, for a lenient evaluator, each answer below the top
    raised by one step with probability `leniency`. Ratings 0-10 move by one point in
    three cases in ten (and up by one at `leniency`); N/A, critical items and comments
    stay as they are."""
    out: dict[str, Any] = {}
    for item, value in answers.items():
        v = value
        kind = ITEMS[item][0] if item in ITEMS else None
        if v == "na" or item in _REQUIRED:
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
    records, the same `visit_id` (``HS-CAL-NNNN``) for the same case in every list.

    The cases are stays (March 2026) at the hotels of `generate_wave(n, seed)`; no
    record is bad.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    staff = _staff(random.Random(seed))
    rng = random.Random(f"{seed}/calibration")
    cases = [_visit(rng, i + 1, staff, ids="HS-CAL") for i in range(n)]
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
        prog="sbm-hotel-sample",
        description="Write a sample wave for hotel.stay, the second wave (--wave 2) "
        "or the calibration set (--calibration DIR).",
    )
    parser.add_argument("-n", type=int, default=300, help="number of visits (default 300)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("-o", "--output", help="JSONL file to write (default: stdout)")
    parser.add_argument(
        "--wave", type=int, choices=(1, 2), default=1, help="1 (default) or 2: a month later"
    )
    parser.add_argument(
        "--treated", metavar="FILE", help="also write the trained hotels, one per line"
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
