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
that a wave exercises the rejects file; `Wave.bad` maps their `visit_id` to the reason,
and :data:`DEFECTS` each reason to the error code it is rejected with:

* ``unknown_item``  — an answer under a misspelt key (``r_linens``);
* ``out_of_range`` — a guest rating of 11 on a 0–10 scale;
* ``missing_required`` — no answer for the critical item ``r_lock``;
* ``bad_timestamp`` — ``checked_in_at`` written as ``14.03.2026 14:20`` (a `datetime`
  field: rejected by the engine as ``bad_field``).

The same `n` and `seed` give the same records, byte for byte, on every platform
(`random.Random` only). Run ``sbm-hotel-sample -n 300 --seed 2026 -o wave.jsonl`` (or
``python -m sbm_hotel.sample``) to write a wave as JSONL.

**Wave 2** (``generate_wave2(300, seed=2026)``, ``--wave 2``; committed as
``sample/wave2.jsonl``, the trained hotels in ``sample/treated.txt``): the same hotels,
agents and levels a month later (April 2026, visit ids ``HS-2604-NNNN``), planned with
the same number of visits at every hotel. What changed:

* the whole team trained at `TREATED_POINTS` (MSK-TVERSKAYA, KZN-KREMLIN,
  AER-KRASNAYA-POLYANA) on `TRAINED_ITEMS`, every yes/no, yes/partly/no and 1–5 item
  (critical ones too, but not timestamps or the guest's ratings), with `TRAINING_CLOSES`
  = 0.6;
* everywhere, a mild drift: every hotel's level + `DRIFT` = 0.01 (pass rates + 1 point,
  rooms ready a little more often), about +0.010 on the mean `visit`;
* by itself the training lifts the treated hotels' mean `visit` by
  `EXPECTED_VISIT_EFFECT` = 0.102 (0.103 in the committed wave; the committed waves'
  difference in differences: 0.104, sd ≈ 0.045 over seeds); hotels in three cities,
  picked for balance as `sbm_engine.sample_waves` explains;
* bad records as in wave 1: :data:`BAD_RECORDS` (4), one of each kind; field control
  failures (`Wave.field_failures`) as `sbm_engine.sample_waves` plants them, the late
  ones by `LATE_SHOPPER` SH-023.

**Calibration set** (``generate_calibration()``, ``--calibration DIR``, in
``sample/calibration/``): 40 stays in March 2026 (``HS-CAL-NNNN``), scored as in
`sbm_engine.sample_waves`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
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
from sbm_engine.sample_waves import Wave as Wave
from sbm_engine.sample_waves import late_count as late_count
from sbm_engine.sample_waves import outside_count as outside_count

__all__ = [*sample_waves.PACK_API, "BAD_RECORDS", "Wave", "generate_wave"]

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
#: The shopper who submitted the planted late questionnaires.
LATE_SHOPPER = "SH-023"

# the calibration set: `sbm_engine.sample_waves` (CALIBRATION_SHOPPERS, LENIENT_SHOPPER, ...);
# timestamps and comments stay as in the case. The lenient evaluator's `visit` is 0.047 above the
# honest evaluators' mean on average (per case sd 0.035).


def _iso(moment: dt.datetime, offset: str) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + offset


def _surnames(first: str) -> tuple[str, ...]:
    return _LAST_F if _FIRST.index(first) < 8 else _LAST_M  # the first eight are women's


def _staff(rng: random.Random) -> list[tuple[str, str, float]]:
    """(point, specialist, level) for three or four front-desk agents per property."""
    out = []
    used: set[str] = set()
    for _region, point, _tz, _level in HOTELS:
        for _ in range(rng.choice((3, 4))):
            name = sample_waves.unique_name(rng, used, _FIRST, _surnames)
            out.append((point, name, rng.gauss(0.0, 0.06)))
    return out


def _visit(
    rng: random.Random,
    number: int,
    staff: list[tuple[str, str, float]],
    *,
    ids: str = "HS-2603",
    month: tuple[dt.date, int] = (dt.date(2026, 3, 1), 31),
    wave2: sample_waves.Wave2Plan | None = None,
) -> dict[str, Any]:
    if wave2 is not None:  # wave 2 is planned: the same number of visits at every hotel
        region, point, tz, hotel_level = HOTELS[(number - 1) % len(HOTELS)]
        _point, specialist, agent_level = rng.choice([s for s in staff if s[0] == point])
        hotel_level += wave2.drift
    else:
        point, specialist, agent_level = rng.choice(staff)
        region, _point, tz, hotel_level = next(h for h in HOTELS if h[1] == point)
    scenario = sample_waves.weighted(rng, _SCENARIOS)
    channel = sample_waves.weighted(rng, _CHANNELS)
    category = sample_waves.weighted(rng, _CATEGORIES)
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
        **(sample_waves.window(day) if wave2 is not None else {}),
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
            answers[item] = sample_waves.yes_no(rng, p)
        elif kind == "ynp":
            answers[item] = sample_waves.yes_partly_no(rng, p, 0.6)
        else:
            answers[item] = sample_waves.top_grade(rng, p)
    if wave2 is not None:
        on = wave2.trained and point in TREATED_POINTS
        sample_waves.train(rng, answers, TRAINED_ITEMS, TRAINING_CLOSES, on, na="na")
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


def _spoil(records: list[dict[str, Any]], index: int, kind: str) -> None:
    record = records[index]
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


#: The kinds of bad record, one of each planted, and the error code each is rejected with.
DEFECTS: tuple[tuple[str, str], ...] = (
    ("unknown_item", "unknown_item"),
    ("out_of_range", "out_of_range"),
    ("missing_required", "missing"),
    ("bad_timestamp", "bad_field"),
)
_BAD_KINDS = tuple(kind for kind, _code in DEFECTS)


def generate_wave(n: int = 300, seed: int = DEFAULT_SEED) -> Wave:
    """`n` visit records (n ≥ 4), of which :data:`BAD_RECORDS` are deliberately invalid."""
    if n < BAD_RECORDS:
        raise ValueError(f"a wave needs at least {BAD_RECORDS} visits, got {n}")
    rng = random.Random(seed)
    staff = _staff(rng)
    records = [_visit(rng, i + 1, staff) for i in range(n)]
    bad, _chosen = sample_waves.plant_at_random(records, rng, _BAD_KINDS, _spoil)
    return Wave(records, bad)


def generate(n: int = 300, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """`n` visit records for `hotel.stay`; :data:`BAD_RECORDS` of them are invalid."""
    return generate_wave(n, seed).records


def generate_wave2(n: int = 300, seed: int = DEFAULT_SEED, *, trained: bool = True) -> Wave:
    """The stays of April 2026 (``HS-2604-NNNN``) with the staff of `generate_wave(n,
    seed)`; see `sbm_engine.sample_waves` for the training (off with ``trained=False``) and
    field control.
    """
    if n < BAD_RECORDS:
        raise ValueError(f"a wave needs at least {BAD_RECORDS} visits, got {n}")
    staff = _staff(random.Random(seed))
    rng = random.Random(f"{seed}/wave2")
    plan = sample_waves.Wave2Plan(DRIFT, trained)
    records = [
        _visit(rng, i + 1, staff, ids="HS-2604", month=WAVE2_MONTH, wave2=plan) for i in range(n)
    ]
    bad, chosen = sample_waves.plant_at_random(records, rng, _BAD_KINDS, _spoil)
    return Wave(records, bad, sample_waves.plant_field_failures(records, set(chosen), LATE_SHOPPER))


# -- the calibration set ---------------------------------------------------------------------------

_RATINGS = frozenset({"guest_rating", "recommend"})  # the evaluator's own 0-10 ratings
_KINDS: dict[str, sample_waves.AnswerKind] = {"g5": "grade", "ynp": "partial", "yn": "yes_no"}
#: What an evaluator may record differently: not N/A, critical items, timestamps and comments.
_KIND = sample_waves.answer_kinds(
    kept=_REQUIRED,
    ratings=_RATINGS,
    na="na",
    by_item={item: _KINDS[kind] for item, (kind, *_rest) in ITEMS.items()},
)


def generate_calibration(
    n: int = CALIBRATION_CASES, seed: int = DEFAULT_SEED
) -> dict[str, list[dict[str, Any]]]:
    """`n` stays (``HS-CAL-NNNN``) at the hotels of `generate_wave(n, seed)`, each
    evaluator's records of them by shopper (`sbm_engine.sample_waves.calibration_sets`).
    """
    staff = _staff(random.Random(seed))

    def case(rng: random.Random, i: int) -> dict[str, Any]:
        return _visit(rng, i + 1, staff, ids="HS-CAL")

    return sample_waves.calibration_sets(n, seed, case, _KIND)


main = sample_waves.command(
    __name__, prog="sbm-hotel-sample", what="for hotel.stay", points="hotels"
)


if __name__ == "__main__":
    raise SystemExit(main())
