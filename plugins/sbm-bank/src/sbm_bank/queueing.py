"""Queue time from electronic-queue ticket timestamps, and the checks that keep it honest.

A bank branch's queue system prints the moment a ticket was issued and records the
moment the client was called to a window. `bank.branch` declares the two as
`datetime` fields and measures the wait with the language's own arithmetic::

    field ticket_issued "Время выдачи талона" datetime
    field called "Время вызова к окну" datetime
    coefficient queue_time "Время ожидания, минут" = visit.called - visit.ticket_issued

The engine rejects a value that is no date and time (``bad_field``); the visit
validator (:func:`validators_for`) adds the bank's rules for every pair of `datetime`
fields a standard measures between (`timestamps.datetime_pairs`): no call before the
ticket (``timestamp_order``), no wait longer than :data:`MAX_MINUTES`
(``implausible_wait``), and no pair of one value with a UTC offset and one without
(``bad_timestamp``, where the language alone would give N/A).

For standards that keep the timestamps in text fields, the pack adds a function to
the language::

    coefficient queue_time "Время ожидания, минут" =
        queue_minutes(visit.ticket_issued, visit.called)

``queue_minutes(ISSUED, CALLED)`` → number: minutes from ISSUED to CALLED, fractions
kept (90 seconds is 1.5). Both are ISO 8601 date-times, e.g. ``2026-03-14T10:05:00``,
``2026-03-14 10:05`` or ``2026-03-14T10:05:00+03:00``.

What happens to unusual values — decided once, here:

* missing (absent key, empty text, ``null``, an N/A token ``na``/``n/a``/``н/п``):
  N/A. A branch without an electronic queue simply has no queue time, and N/A is
  excluded from means, never counted as zero;
* present but not a date-time (``14:05``, ``14.03.2026 10:05``, a date without a
  time), called before issued, one value with a UTC offset and the other without,
  or a wait longer than :data:`MAX_MINUTES`: **the visit is rejected** by the
  visit validator (:func:`validators_for`) with a message naming the field. Such a
  value is a data error, and scoring it as N/A would quietly drop the visit's
  waiting time from the branch's figures. The function itself returns N/A for
  them (a formula must never raise), but a rejected visit is never scored.

A value with a UTC offset is converted to UTC; values without one are taken as
written (the branch's local time).

Parsing, the arithmetic and the checks common to all timestamps come from
:mod:`sbm_engine.timestamps`; what is the bank's own is here: the order (no call
before the ticket) and the :data:`MAX_MINUTES` limit. The scalar form takes
``str``, ``datetime.datetime``, ``numpy.datetime64`` or ``None``; the batch form
takes numpy arrays — ``datetime64`` (NaT for N/A) or object arrays of texts
(``None``/NaN for N/A) — and returns ``float64`` with NaN for N/A. Both agree exactly.
"""

from __future__ import annotations

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
    "MAX_MINUTES",
    "OWN_PREFIX",
    "TimestampError",
    "function_specs",
    "parse_timestamp",
    "queue_minutes",
    "queue_minutes_batch",
    "timestamp_pairs",
    "validators_for",
]

#: The ids of this pack's own standards start with this.
OWN_PREFIX = "bank."

#: The longest wait taken as real: a branch's working day. Longer means the two
#: timestamps belong to different days or different tickets.
MAX_MINUTES = 12 * 60


# -- the function ----------------------------------------------------------------------------


def queue_minutes(issued: Any, called: Any) -> float | None:
    """Minutes from ticket `issued` to `called`; None (N/A) when either is missing.

    Values the validator rejects (unreadable, called before issued, mixed offsets,
    longer than `MAX_MINUTES`) also give None here, so a formula never raises.
    """
    minutes = timestamps.minutes_between(issued, called)
    if minutes is None or minutes < 0 or minutes > MAX_MINUTES:
        return None
    return minutes


def queue_minutes_batch(issued: Any, called: Any) -> np.ndarray:
    """`queue_minutes` over arrays: float64 minutes, NaN for N/A (same rules, same values)."""
    import numpy as np

    minutes = timestamps.minutes_between_batch(issued, called)
    return np.where((minutes < 0) | (minutes > MAX_MINUTES), np.nan, minutes)


def function_specs(plugin: str = "bank") -> list[FunctionSpec]:
    return [
        FunctionSpec(
            name="queue_minutes",
            params=("str", "str"),
            returns="num",
            scalar=queue_minutes,
            batch=queue_minutes_batch,
            doc="queue_minutes(ISSUED, CALLED): minutes from the queue ticket being issued to "
            "the client being called (ISO 8601 date-times); N/A when either is missing",
            plugin=plugin,
        )
    ]


# -- the visit validators -------------------------------------------------------------------


def timestamp_pairs(model: StandardModel) -> tuple[tuple[str, str], ...]:
    """The (issued, called) record keys `queue_minutes` reads in `model`, in order of use.

    Only direct `visit.FIELD` arguments count: those are what a record must carry.
    """
    pairs = (args for _, args in timestamps.field_calls(model, ["queue_minutes"]) if len(args) == 2)
    return tuple(dict.fromkeys((a, b) for a, b in pairs))


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else repr(str(value))


def _check_wait(pair: TimestampPair, record: Mapping[str, Any]) -> list[VisitError]:
    issued, called = pair.first, pair.second
    minutes = pair.minutes
    if minutes < 0:
        return [
            VisitError(
                called,
                "timestamp_order",
                f"`{called}` ({_show(record.get(called))}) is earlier than `{issued}` "
                f"({_show(record.get(issued))}): a client cannot be called before the "
                "ticket is issued",
            )
        ]
    if minutes > MAX_MINUTES:
        return [
            VisitError(
                called,
                "implausible_wait",
                f"`{issued}` ({_show(record.get(issued))}) and `{called}` "
                f"({_show(record.get(called))}) are {minutes / 60:.1f} hours apart, more "
                f"than a working day ({MAX_MINUTES // 60} h): check the date of either",
            )
        ]
    return []


def validators_for(
    model: StandardModel,
) -> list[Callable[[Mapping[str, Any]], Iterable[VisitError]]]:
    """The pack's checks for `model`: the queue rules for any standard (this pack's or
    another) that passes visit fields to `queue_minutes`, and, for a bank standard
    (`industry "bank"`: `bank.branch` and the standards that extend it), for the
    pairs of `datetime` fields it measures between: the offset rule for every pair,
    the queue rules for the durations among them (the wait)
    (`timestamps.datetime_pair_validator`, as the hotel pack checks its pairs). The scenario is the
    standard's to check: `bank.branch` declares `field scenario required one of { … }`.
    """
    out: list[Callable[[Mapping[str, Any]], Iterable[VisitError]]] = []
    pairs = timestamp_pairs(model)
    if pairs:
        out.append(timestamps.timestamp_validator(pairs=pairs, check=_check_wait))
    measured, durations = timestamps.datetime_pairs(model) if model.industry == "bank" else ((), ())
    if measured:
        out.append(timestamps.datetime_pair_validator(measured, durations, _check_wait))
    return out
