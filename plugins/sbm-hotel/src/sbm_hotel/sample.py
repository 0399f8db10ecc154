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
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["BAD_RECORDS", "DEFAULT_SEED", "Wave", "generate", "generate_wave", "main"]

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


@dataclass(frozen=True)
class Wave:
    """A generated wave: the records, and the deliberately bad ones by `visit_id`."""

    records: list[dict[str, Any]]
    bad: dict[str, str]


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    r = rng.random()
    acc = 0.0
    for value, weight in table:
        acc += weight
        if r < acc:
            return value
    return table[-1][0]


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


def _visit(rng: random.Random, number: int, staff: list[tuple[str, str, float]]) -> dict[str, Any]:
    point, specialist, agent_level = rng.choice(staff)
    region, _point, tz, hotel_level = next(h for h in HOTELS if h[1] == point)
    scenario = _pick(rng, _SCENARIOS)
    channel = _pick(rng, _CHANNELS)
    category = _pick(rng, _CATEGORIES)
    room_service = "yes" if rng.random() < 0.4 else "no"
    day = dt.date(2026, 3, 1) + dt.timedelta(days=rng.randrange(31))

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
        "visit_id": f"HS-2603-{number:04d}",
        "point": point,
        "specialist": specialist,
        "region": region,
        "date": day.isoformat(),
        "scenario": scenario,
        "shopper": f"SH-{rng.randrange(1, 41):03d}",
        "submitted": _iso(checkout_end + dt.timedelta(hours=rng.randrange(2, 30)), tz),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sbm-hotel-sample", description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=300, help="number of visits (default 300)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("-o", "--output", help="JSONL file to write (default: stdout)")
    args = parser.parse_args(argv)
    wave = generate_wave(args.n, args.seed)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in wave.records)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(lines)
    else:
        sys.stdout.write(lines)
    print(
        f"{len(wave.records)} visits, {len(wave.bad)} deliberately invalid: "
        + ", ".join(f"{vid} ({kind})" for vid, kind in wave.bad.items()),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
