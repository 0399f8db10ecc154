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
`Wave.bad` maps their `visit_id` to the reason, and :data:`DEFECTS` each reason to the
error code it is rejected with:

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
  NSK-LENINA, KRR-KRASNAYA) on `TRAINED_ITEMS` (every yes/no, yes/partly/no and 1–5
  item, the critical ones included; not the serving times nor the guest's ratings): it
  closes half of each gap to a full score (`TRAINING_CLOSES` = 0.5);
* everywhere, a mild drift: every restaurant's level + `DRIFT` = 0.01 (pass rates + 1
  point, serving a little faster), about +0.012 on the mean `visit`;
* effect of the training alone on the treated restaurants' mean `visit`: 0.096
  (`EXPECTED_VISIT_EFFECT`), 0.119 in the committed wave, 0.113 by difference in
  differences between the committed waves, give or take 0.05 across seeds. Treated
  restaurants: three cities, chosen for balance (see `sbm_engine.sample_waves`);
* bad records as in wave 1: :data:`BAD_RECORDS` (4), one of each kind; field control
  failures (`Wave.field_failures`) as `sbm_engine.sample_waves` plants them, the late
  ones by `LATE_SHOPPER` SH-017.

**Calibration set** (``generate_calibration()``, ``--calibration DIR``, in
``sample/calibration/``): 40 visits in March 2026 (``RS-CAL-NNNN``), scored as in
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
#: The shopper who submitted the planted late questionnaires.
LATE_SHOPPER = "SH-017"

# the calibration set: `sbm_engine.sample_waves` (CALIBRATION_SHOPPERS, LENIENT_SHOPPER, ...);
# serving times and comments stay as in the case. The lenient evaluator's `visit` is 0.043 above the
# honest evaluators' mean on average (per case sd 0.034).


def _minutes(rng: random.Random, median: float, spread: float, cap: float) -> int:
    return max(1, min(int(cap), round(rng.lognormvariate(0, spread) * median)))


def _surnames(first: str) -> tuple[str, ...]:
    return _LAST_F if _FIRST.index(first) < 8 else _LAST_M  # the first eight are women's


def _waiters(rng: random.Random) -> list[tuple[str, str, float]]:
    """(point, waiter, level) for four or five waiters per restaurant."""
    out = []
    used: set[str] = set()
    for _region, point, _level in RESTAURANTS:
        for _ in range(rng.choice((4, 5))):
            name = sample_waves.unique_name(rng, used, _FIRST, _surnames)
            out.append((point, name, rng.gauss(0.0, 0.07)))
    return out


def _visit(
    rng: random.Random,
    number: int,
    waiters: list[tuple[str, str, float]],
    *,
    ids: str = "RS-2603",
    month: tuple[dt.date, int] = (dt.date(2026, 3, 1), 31),
    wave2: sample_waves.Wave2Plan | None = None,
) -> dict[str, Any]:
    if wave2 is not None:  # wave 2 is planned: the same number of visits at every restaurant
        region, point, level = RESTAURANTS[(number - 1) % len(RESTAURANTS)]
        _point, waiter, waiter_level = rng.choice([w for w in waiters if w[0] == point])
        level += wave2.drift
    else:
        point, waiter, waiter_level = rng.choice(waiters)
        region, _point, level = next(r for r in RESTAURANTS if r[1] == point)
    scenario = sample_waves.weighted(rng, _SCENARIOS)
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
            answers[item] = sample_waves.yes_no(rng, p)
        elif kind == "ynp":
            answers[item] = sample_waves.yes_partly_no(rng, p, 0.5)
        else:
            answers[item] = sample_waves.top_grade(rng, p)
    if wave2 is not None:
        on = wave2.trained and point in TREATED_POINTS
        sample_waves.train(rng, answers, TRAINED_ITEMS, TRAINING_CLOSES, on)

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
        **(sample_waves.window(day) if wave2 is not None else {}),
        "allergen_test": allergen_test,
        "answers": answers,
    }


#: The kinds of bad record and the error code each is rejected with, planted in this order at
#: records 1..n-1 picked by the stream: the duplicate at the first of them, so that the record
#: whose id it repeats (the one before) is a good one and is scored.
DEFECTS: tuple[tuple[str, str], ...] = (
    ("duplicate_visit", "duplicate_visit"),
    ("unknown_item", "unknown_item"),
    ("out_of_range", "out_of_range"),
    ("missing_required", "missing"),
)
_BAD_KINDS = tuple(kind for kind, _code in DEFECTS)


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
    bad, _chosen = sample_waves.plant_at_random(records, rng, _BAD_KINDS, _spoil, start=1)
    return Wave(records, bad)


def generate(n: int = 300, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """`n` visit records for `restaurant.service`; :data:`BAD_RECORDS` of them are invalid."""
    return generate_wave(n, seed).records


def generate_wave2(n: int = 300, seed: int = DEFAULT_SEED, *, trained: bool = True) -> Wave:
    """April's wave (``RS-2604-NNNN``) at the restaurants of `generate_wave(n, seed)`:
    :data:`BAD_RECORDS` bad ones, windows and field failures by `sbm_engine.sample_waves`;
    ``trained=False`` for the same visits untrained.
    """
    if n < BAD_RECORDS + 1:
        raise ValueError(f"a wave needs at least {BAD_RECORDS + 1} visits, got {n}")
    waiters = _waiters(random.Random(seed))
    rng = random.Random(f"{seed}/wave2")
    plan = sample_waves.Wave2Plan(DRIFT, trained)
    records = [
        _visit(rng, i + 1, waiters, ids="RS-2604", month=WAVE2_MONTH, wave2=plan) for i in range(n)
    ]
    bad, chosen = sample_waves.plant_at_random(records, rng, _BAD_KINDS, _spoil, start=1)
    # the record whose id the duplicate repeats is left alone too
    taken = {*chosen, chosen[0] - 1}
    return Wave(records, bad, sample_waves.plant_field_failures(records, taken, LATE_SHOPPER))


# -- the calibration set ---------------------------------------------------------------------------

_RATINGS = frozenset({"guest_rating", "recommend"})  # the evaluator's own 0-10 ratings
_KINDS: dict[str, sample_waves.AnswerKind] = {"g5": "grade", "ynp": "partial", "yn": "yes_no"}
#: What an evaluator may record differently: not N/A, critical items, serving times and comments.
_KIND = sample_waves.answer_kinds(
    kept=_REQUIRED,
    ratings=_RATINGS,
    by_item={item: _KINDS[kind] for item, (kind, *_rest) in ITEMS.items()},
)


def generate_calibration(
    n: int = CALIBRATION_CASES, seed: int = DEFAULT_SEED
) -> dict[str, list[dict[str, Any]]]:
    """Cases for `sbm calibrate`: `n` visits (``RS-CAL-NNNN``, March 2026) served by the
    waiters of `generate_wave(n, seed)`, scored by each evaluator
    (`sbm_engine.sample_waves`).
    """
    waiters = _waiters(random.Random(seed))

    def case(rng: random.Random, i: int) -> dict[str, Any]:
        return _visit(rng, i + 1, waiters, ids="RS-CAL")

    return sample_waves.calibration_sets(n, seed, case, _KIND)


main = sample_waves.command(
    __name__, prog="sbm-restaurant-sample", what="for restaurant.service", points="restaurants"
)


if __name__ == "__main__":
    raise SystemExit(main())
