"""Appointment punctuality from the salon's booking system, and the checks that keep it honest.

A salon's CRM records the time a client was booked for and the moment the procedure
actually started. A standard declares them as visit fields and measures the delay
with the function this pack adds to the language::

    field appointment_at "Время, на которое записан клиент"
    field started_at "Фактическое начало процедуры"
    coefficient delay_minutes "Задержка начала, минут" =
        appointment_delay(visit.appointment_at, visit.started_at)

``appointment_delay(APPOINTMENT, STARTED)`` → number: how many minutes after the
appointment the procedure started, fractions kept; 0 when it started on time or
early (the client is not owed anything for an early start). Both values are ISO
8601 date-times, e.g. ``2026-04-10T12:00:00``, ``2026-04-10 12:00`` or
``2026-04-10T12:00:00+03:00``.

(The name is not ``minutes_late``: function names share one namespace across all
installed packs, and the hotel pack already declares ``minutes_late``.)

Unusual values, decided once, here:

* missing (absent key, empty text, ``null``, an N/A token ``na``/``n/a``/``н/п``):
  N/A — no CRM data for this visit; the shopper's own measurement is used;
* present but not a date-time (``12:00``, ``10.04.2026 12:00``, a date alone), one
  value with a UTC offset and the other without, or the two more than
  :data:`MAX_HOURS` apart (a different day): **the visit is rejected** by the visit
  validator (:func:`validators_for`) with a message naming the field. The function
  returns N/A for them, since a formula must never raise, but a rejected visit is
  never scored.

Parsing, the arithmetic and the checks common to all timestamps come from
:mod:`sbm_engine.timestamps`; the salon's own rules (0 when early, the
:data:`MAX_HOURS` limit) are here. Scalar form: ``str``, ``datetime.datetime``,
``numpy.datetime64`` or ``None``. Batch form: numpy arrays, ``datetime64`` (NaT for
N/A) or object arrays of texts (``None``/NaN for N/A), returning ``float64`` with NaN
for N/A. Both agree exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sbm_engine import timestamps
from sbm_engine.functions import FunctionSpec
from sbm_engine.runtime import VisitError
from sbm_engine.timestamps import TimestampError, TimestampPair, parse_timestamp

if TYPE_CHECKING:
    import numpy as np

    from sbm_engine.model import StandardModel

__all__ = [
    "MAX_HOURS",
    "OWN_PREFIX",
    "TimestampError",
    "appointment_delay",
    "appointment_delay_batch",
    "function_specs",
    "parse_timestamp",
    "timestamp_pairs",
    "validators_for",
]

#: The ids of this pack's own standards start with this.
OWN_PREFIX = "salon."

#: The two moments of one visit cannot be further apart than this (either way).
MAX_HOURS = 12


# -- the function ----------------------------------------------------------------------------


def appointment_delay(appointment: Any, started: Any) -> float | None:
    """Minutes `started` came after `appointment`, 0 when on time or early; None for N/A.

    Values the validator rejects (unreadable, mixed offsets, more than `MAX_HOURS`
    apart) also give None here, so a formula never raises.
    """
    minutes = timestamps.minutes_between(appointment, started)
    if minutes is None or abs(minutes) > MAX_HOURS * 60:
        return None
    return max(minutes, 0.0)


def appointment_delay_batch(appointment: Any, started: Any) -> np.ndarray:
    """`appointment_delay` over arrays: float64 minutes, NaN for N/A (same rules, same values)."""
    import numpy as np

    minutes = timestamps.minutes_between_batch(appointment, started)
    return np.where(np.abs(minutes) > MAX_HOURS * 60, np.nan, np.maximum(minutes, 0.0))


def function_specs(plugin: str = "salon") -> list[FunctionSpec]:
    return [
        FunctionSpec(
            name="appointment_delay",
            params=("str", "str"),
            returns="num",
            scalar=appointment_delay,
            batch=appointment_delay_batch,
            doc="appointment_delay(APPOINTMENT, STARTED): minutes the procedure started after "
            "the appointment time, 0 when on time or early (ISO 8601 date-times); N/A when "
            "either is missing",
            plugin=plugin,
        )
    ]


# -- the visit validators -------------------------------------------------------------------


def timestamp_pairs(model: StandardModel) -> tuple[tuple[str, str], ...]:
    """The (appointment, started) record keys `appointment_delay` reads in `model`."""
    pairs = (
        args for _, args in timestamps.field_calls(model, ["appointment_delay"]) if len(args) == 2
    )
    return tuple(dict.fromkeys((a, b) for a, b in pairs))


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else repr(str(value))


def _check_delay(pair: TimestampPair, record: Mapping[str, Any]) -> list[VisitError]:
    first, second = pair.first, pair.second
    hours = abs((pair.end - pair.start) / dt.timedelta(hours=1))
    if hours > MAX_HOURS:
        return [
            VisitError(
                second,
                "implausible_delay",
                f"`{first}` ({_show(record.get(first))}) and `{second}` "
                f"({_show(record.get(second))}) are {hours:.1f} hours apart, more than "
                f"{MAX_HOURS} h: check the date of either",
            )
        ]
    return []


def validators_for(
    model: StandardModel,
) -> list[Callable[[Mapping[str, Any]], Iterable[VisitError]]]:
    """The pack's checks for `model`: the appointment times, for any standard that
    passes visit fields to `appointment_delay`. The scenario and the booking channel
    are the standard's to check: `salon.visit` declares both `required one of { … }`.
    """
    out: list[Callable[[Mapping[str, Any]], Iterable[VisitError]]] = []
    pairs = timestamp_pairs(model)
    if pairs:
        out.append(timestamps.timestamp_validator(pairs=pairs, check=_check_delay))
    return out
