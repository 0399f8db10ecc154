"""Timing for hotel standards: durations and deadlines from visit timestamps.

A hotel visit carries moments the evaluator (or the property system) recorded: when the
guest reached the front desk, when the key was handed over, when the room was ready,
when a room-service order was placed and delivered, when check-out began and ended.
They arrive as visit fields holding ISO 8601 date-times, e.g. ``2026-03-14T14:05`` or
``2026-03-14T14:05:00+03:00``. `hotel.stay` declares them `datetime` and measures
durations with the language's own arithmetic (``visit.checked_in_at -
visit.arrived_at`` is minutes; ``minutes_between`` is a built-in function); the engine
rejects a value that is no date and time (``bad_field``). The visit validator
(:func:`validators_for`) adds the hotel's rules for each pair of timestamp fields a
standard subtracts: the end must not come before the start (``timestamp_order``), and
one with a UTC offset and one without is ``bad_timestamp``, where the language would
only give N/A.

Functions added to the language, for standards that keep timestamps in text fields
(they take texts):

``minutes_late(DUE, ACTUAL)`` → number
    How many minutes ACTUAL came after DUE; 0 when it came on time or early.
``room_ready(DUE, READY_AT)`` → condition
    True when the room was ready (READY_AT) no later than it was due (DUE).

Rules shared by all three, in both forms:

* N/A in, N/A out: a missing field, an empty text or an N/A token (``na``, ``n/a``,
  ``н/п``) gives N/A, never 0 and never an error, so a visit without room service
  simply has no delivery time.
* A text that is not an ISO date-time (``25.03.2026 14:05``, ``вчера``, a date
  without a time) also gives N/A here, because a formula must never raise; the
  visit validator (:func:`validators_for`) rejects such a visit with a clear message
  before it is scored, so the N/A is never seen in results.
* A value with a UTC offset is converted to UTC; a value without one is taken as
  written (local time of the property). Mixing the two within one call gives N/A
  and is rejected by the validator, since the difference would be off by the offset.

Scalar forms take one value per argument (``str``, ``datetime.datetime``,
``numpy.datetime64`` or ``None``). Batch forms take numpy arrays, either
``datetime64`` (NaT for N/A) or object/string arrays (``None``/NaN for N/A), and
return ``float64`` arrays with NaN for N/A (numbers) or object arrays of
``True``/``False``/``None`` (conditions), as ``docs/plugins.md`` asks. Parsing and the
arithmetic are :mod:`sbm_engine.timestamps` (``minutes_between`` and
``minutes_between_batch`` are re-exported from there); the scalar and batch forms
agree exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sbm_engine import timestamps
from sbm_engine.functions import FunctionSpec
from sbm_engine.runtime import VisitError
from sbm_engine.timestamps import (
    TimestampError,
    TimestampPair,
    minutes_between,
    minutes_between_batch,
    parse_timestamp,
)

if TYPE_CHECKING:
    import numpy as np

    from sbm_engine.model import StandardModel

__all__ = [
    "FUNCTIONS",
    "TIMESTAMP_FUNCTIONS",
    "TimestampError",
    "function_specs",
    "minutes_between",
    "minutes_between_batch",
    "minutes_late",
    "minutes_late_batch",
    "parse_timestamp",
    "room_ready",
    "room_ready_batch",
    "validators_for",
]


# -- scalar forms (minutes_between is the engine's) ------------------------------------------


def minutes_late(due: Any, actual: Any) -> float | None:
    """Minutes `actual` came after `due`, 0 when on time; N/A when either is missing."""
    minutes = minutes_between(due, actual)
    return None if minutes is None else max(minutes, 0.0)


def room_ready(due: Any, ready_at: Any) -> bool | None:
    """True when the room was ready no later than due; N/A when either is missing."""
    minutes = minutes_between(due, ready_at)
    return None if minutes is None else minutes <= 0


# -- batch forms ---------------------------------------------------------------------------


def minutes_late_batch(due: Any, actual: Any) -> np.ndarray:
    import numpy as np

    return np.maximum(minutes_between_batch(due, actual), 0.0)  # NaN stays NaN


def room_ready_batch(due: Any, ready_at: Any) -> np.ndarray:
    """An object array of True/False, None for N/A (the contract for `"bool"` results)."""
    import numpy as np

    minutes = minutes_between_batch(due, ready_at)
    out = np.empty(minutes.shape, dtype=object)
    out[...] = (minutes <= 0).tolist()
    out[np.isnan(minutes)] = None
    return out


FUNCTIONS: dict[str, tuple[tuple[str, ...], str, Callable[..., Any], Callable[..., Any], str]] = {
    "minutes_late": (
        ("str", "str"),
        "num",
        minutes_late,
        minutes_late_batch,
        "minutes_late(DUE, ACTUAL): minutes ACTUAL came after DUE, 0 when on time",
    ),
    "room_ready": (
        ("str", "str"),
        "bool",
        room_ready,
        room_ready_batch,
        "room_ready(DUE, READY_AT): the room was ready no later than it was due",
    ),
}

#: Every function here reads timestamps; the validator checks the fields passed to them.
TIMESTAMP_FUNCTIONS = frozenset(FUNCTIONS)

#: Calls whose first argument must not come after the second (a duration): the
#: language's `minutes_between`, which `END - START` of two datetime fields is too.
_DURATIONS = frozenset({"minutes_between"})


def function_specs() -> list[FunctionSpec]:
    return [
        FunctionSpec(name, params, returns, scalar, batch, doc=doc)  # type: ignore[arg-type]
        for name, (params, returns, scalar, batch, doc) in FUNCTIONS.items()
    ]


# -- the visit validator ------------------------------------------------------------------


def timestamp_uses(model: StandardModel) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The record keys passed to the timing functions, and the argument tuples of each call.

    Only direct `visit.FIELD` arguments count: those are what a record must carry as
    ISO date-times. Keys keep the order in which the standard first uses them.
    """
    calls = tuple((fn, *args) for fn, args in timestamps.field_calls(model, TIMESTAMP_FUNCTIONS))
    keys = dict.fromkeys(key for call in calls for key in call[1:] if key)
    return tuple(keys), calls


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else repr(str(value))


def make_validator(
    keys: Iterable[str], calls: Iterable[tuple[str, ...]]
) -> Callable[[Mapping[str, Any]], Iterable[VisitError]]:
    calls = tuple(calls)
    durations = {(first, second) for fn, first, second in calls if fn in _DURATIONS}
    pairs = [(first, second) for _, first, second in calls]
    return timestamps.timestamp_validator(
        tuple(keys), pairs=pairs, check=make_order_check(durations)
    )


def make_order_check(
    durations: set[tuple[str, str]],
) -> Callable[[TimestampPair, Mapping[str, Any]], list[VisitError]]:
    """`timestamp_order` for a pair of `durations` whose end comes before its start."""

    def check_order(pair: TimestampPair, record: Mapping[str, Any]) -> list[VisitError]:
        first, second = pair.first, pair.second
        if (first, second) in durations and pair.end < pair.start:
            return [
                VisitError(
                    second,
                    "timestamp_order",
                    f"`{second}` ({_show(record.get(second))}) is earlier than `{first}` "
                    f"({_show(record.get(first))}): a duration cannot be negative",
                )
            ]
        return []

    return check_order


def validators_for(
    model: StandardModel,
) -> list[Callable[[Mapping[str, Any]], Iterable[VisitError]]]:
    """A timestamp validator for a standard that passes visit fields to these functions,
    and, for a hotel standard (`industry "hotel"`: `hotel.stay` and the standards that
    extend it), one for the pairs of `datetime` fields it measures between."""
    validators = []
    keys, calls = timestamp_uses(model)
    if keys:
        validators.append(make_validator(keys, calls))
    pairs, durations = timestamps.datetime_pairs(model) if model.industry == "hotel" else ((), ())
    if pairs:
        validators.append(
            timestamps.datetime_pair_validator(pairs, durations, make_order_check(set(durations)))
        )
    return validators
