"""The penalty model of a food-safety inspection, as functions of the SBM language.

Demerit inspections (the health departments of King County, WA, and many others; the
internal sanitary audits of restaurant groups) work the same way: every violation cited
costs points, the critical ("red") ones more; the sum decides what happens next. The
language already gives the sums, exactly: each violation is an item answered on a
``penalty`` scale carrying its points, and ``points(in hygiene)``, ``points(tagged red)``
add them up (``restaurant.service``); or, where every item is a violation, the item's
weight is its points and ``lost(items)``, ``lost(tagged red)`` are the sums
(``restaurant.king_county``). These functions turn the sums into the outcome.

Outcome levels (a number, so that it can be compared, averaged and banded):

====  ================  =========================================================
0     satisfactory      no red point
1     unsatisfactory    any red point: one red critical violation is enough
2     reinspection      red points reach the reinspection threshold
3     closure           red points reach the closure threshold, or all points
                        reach the total closure threshold
====  ================  =========================================================

Levels are cumulative: a closure also needs the reinspection of a reopened business,
so ``level >= 2`` reads "a reinspection is required".

King County's published thresholds (Public Health - Seattle & King County, food
establishment inspection rating system) are the defaults:

* :data:`KC_REINSPECT_RED` = 35 red points → reinspection within 14 days;
* :data:`KC_CLOSE_RED` = 90 red points, or :data:`KC_CLOSE_TOTAL` = 120 red + blue
  points → the establishment is closed.

Functions added to the language:

``inspection_result(POINTS, RED_POINTS)`` → number 0–3, King County thresholds.
``inspection_level(POINTS, RED_POINTS, REINSPECT_RED, CLOSE_RED, CLOSE_TOTAL)``
    → number 0–3, thresholds of the standard's choosing (a pass-through for other
    jurisdictions and for internal audits with their own scales).
``requires_reinspection(POINTS, RED_POINTS)`` → condition: level ≥ 2 (King County).
``requires_closure(POINTS, RED_POINTS)`` → condition: level 3 (King County).
``penalty_score(POINTS, LIMIT)`` → number in [0, 1]: 1 without points, falling
    linearly to 0 at LIMIT points (e.g. the reinspection threshold), 0 beyond.

N/A: an N/A argument gives N/A (the engine does not call the function). Arguments that
make no sense — negative points, more red points than points, thresholds that are not
positive or out of order (closure below reinspection), a LIMIT that is not positive —
give N/A too rather than raising: the standard's author sees N/A in the examples and
fixes the formula. Scalar forms take floats; batch forms take float64 arrays with NaN for
N/A and return float64 (numbers) or object arrays of ``True``/``False``/``None``
(conditions), computing exactly what the scalar forms compute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sbm_engine.functions import FunctionSpec

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "CLOSURE",
    "KC_CLOSE_RED",
    "KC_CLOSE_TOTAL",
    "KC_REINSPECT_RED",
    "REINSPECTION",
    "SATISFACTORY",
    "UNSATISFACTORY",
    "function_specs",
    "inspection_level",
    "inspection_level_batch",
    "inspection_result",
    "inspection_result_batch",
    "penalty_score",
    "penalty_score_batch",
    "requires_closure",
    "requires_closure_batch",
    "requires_reinspection",
    "requires_reinspection_batch",
]

SATISFACTORY = 0
UNSATISFACTORY = 1
REINSPECTION = 2
CLOSURE = 3

KC_REINSPECT_RED = 35.0
KC_CLOSE_RED = 90.0
KC_CLOSE_TOTAL = 120.0


# -- scalar forms --------------------------------------------------------------------------


def _valid(points: float, red: float) -> bool:
    return points >= 0 and red >= 0 and red <= points


def _thresholds_ok(reinspect_red: float, close_red: float, close_total: float) -> bool:
    return 0 < reinspect_red <= close_red and close_total > 0


def inspection_level(
    points: float, red_points: float, reinspect_red: float, close_red: float, close_total: float
) -> float | None:
    """The outcome level 0–3 with the given thresholds; N/A for inconsistent input."""
    if not _valid(points, red_points) or not _thresholds_ok(reinspect_red, close_red, close_total):
        return None
    if red_points >= close_red or points >= close_total:
        return float(CLOSURE)
    if red_points >= reinspect_red:
        return float(REINSPECTION)
    if red_points > 0:
        return float(UNSATISFACTORY)
    return float(SATISFACTORY)


def inspection_result(points: float, red_points: float) -> float | None:
    """The outcome level 0–3 by King County's thresholds (35 / 90 red, 120 total)."""
    return inspection_level(points, red_points, KC_REINSPECT_RED, KC_CLOSE_RED, KC_CLOSE_TOTAL)


def requires_reinspection(points: float, red_points: float) -> bool | None:
    level = inspection_result(points, red_points)
    return None if level is None else level >= REINSPECTION


def requires_closure(points: float, red_points: float) -> bool | None:
    level = inspection_result(points, red_points)
    return None if level is None else level >= CLOSURE


def penalty_score(points: float, limit: float) -> float | None:
    """1 without points, linearly down to 0 at `limit` points, 0 beyond; N/A for odd input."""
    if points < 0 or limit <= 0:
        return None
    return max(0.0, 1.0 - points / limit)


# -- batch forms ---------------------------------------------------------------------------


def _arrays(*args: Any) -> list[np.ndarray]:
    import numpy as np

    return list(np.broadcast_arrays(*(np.asarray(a, dtype="float64") for a in args)))


def inspection_level_batch(
    points: Any, red_points: Any, reinspect_red: Any, close_red: Any, close_total: Any
) -> np.ndarray:
    import numpy as np

    p, r, ri, cr, ct = _arrays(points, red_points, reinspect_red, close_red, close_total)
    with np.errstate(invalid="ignore"):
        ok = (p >= 0) & (r >= 0) & (r <= p) & (ri > 0) & (ri <= cr) & (ct > 0)
        level = np.select(
            [(r >= cr) | (p >= ct), r >= ri, r > 0],
            [float(CLOSURE), float(REINSPECTION), float(UNSATISFACTORY)],
            default=float(SATISFACTORY),
        )
    return np.where(ok, level, np.nan)  # NaN anywhere fails `ok`: N/A in, N/A out


def inspection_result_batch(points: Any, red_points: Any) -> np.ndarray:
    return inspection_level_batch(
        points, red_points, KC_REINSPECT_RED, KC_CLOSE_RED, KC_CLOSE_TOTAL
    )


def _condition(level: np.ndarray, at_least: int) -> np.ndarray:
    import numpy as np

    out = np.empty(level.shape, dtype=object)
    with np.errstate(invalid="ignore"):
        out[...] = (level >= at_least).tolist()
    out[np.isnan(level)] = None
    return out


def requires_reinspection_batch(points: Any, red_points: Any) -> np.ndarray:
    return _condition(inspection_result_batch(points, red_points), REINSPECTION)


def requires_closure_batch(points: Any, red_points: Any) -> np.ndarray:
    return _condition(inspection_result_batch(points, red_points), CLOSURE)


def penalty_score_batch(points: Any, limit: Any) -> np.ndarray:
    import numpy as np

    p, lim = _arrays(points, limit)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (p >= 0) & (lim > 0)
        score = np.maximum(0.0, 1.0 - p / np.where(ok, lim, 1.0))
    return np.where(ok, score, np.nan)


def function_specs() -> list[FunctionSpec]:
    return [
        FunctionSpec(
            "inspection_result",
            ("num", "num"),
            "num",
            inspection_result,
            inspection_result_batch,
            doc="inspection_result(POINTS, RED_POINTS): 0 satisfactory, 1 unsatisfactory, "
            "2 reinspection, 3 closure (King County: 35/90 red, 120 total points)",
        ),
        FunctionSpec(
            "inspection_level",
            ("num", "num", "num", "num", "num"),
            "num",
            inspection_level,
            inspection_level_batch,
            doc="inspection_level(POINTS, RED_POINTS, REINSPECT_RED, CLOSE_RED, CLOSE_TOTAL): "
            "the outcome 0–3 with your own thresholds",
        ),
        FunctionSpec(
            "requires_reinspection",
            ("num", "num"),
            "bool",
            requires_reinspection,
            requires_reinspection_batch,
            doc="requires_reinspection(POINTS, RED_POINTS): 35+ red points (King County)",
        ),
        FunctionSpec(
            "requires_closure",
            ("num", "num"),
            "bool",
            requires_closure,
            requires_closure_batch,
            doc="requires_closure(POINTS, RED_POINTS): 90+ red or 120+ total points (King County)",
        ),
        FunctionSpec(
            "penalty_score",
            ("num", "num"),
            "num",
            penalty_score,
            penalty_score_batch,
            doc="penalty_score(POINTS, LIMIT): 1 without points, 0 at LIMIT points and beyond",
        ),
    ]
