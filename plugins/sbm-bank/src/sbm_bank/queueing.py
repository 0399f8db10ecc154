"""Queue time from electronic-queue ticket timestamps, and the checks that keep it honest.

A bank branch's queue system prints the moment a ticket was issued and records the
moment the client was called to a window. A standard declares the two as visit
fields and measures the wait with the function this pack adds to the language::

    field ticket_issued "Время выдачи талона"
    field called "Время вызова к окну"
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

import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sbm_engine import timestamps
from sbm_engine.diagnostics import did_you_mean
from sbm_engine.functions import FunctionSpec
from sbm_engine.model import expressions
from sbm_engine.runtime import NA_TOKENS, VisitError
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
    "scenario_values",
    "timestamp_pairs",
    "validators_for",
]

#: The ids of this pack's own standards start with this.
OWN_PREFIX = "bank."

#: The longest wait taken as real: a branch's working day. Longer means the two
#: timestamps belong to different days or different tickets.
MAX_MINUTES = 12 * 60


def _blank(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() in {"", *NA_TOKENS}
    return value is None or (isinstance(value, float) and math.isnan(value))


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


def scenario_values(model: StandardModel) -> tuple[str, ...]:
    """The texts `visit.scenario` is compared with in `model`'s conditions and formulas."""
    found: dict[str, None] = {}
    for root in expressions(model):
        for node in root.walk():
            if node.op != "cmp" or len(node.args) != 2:
                continue
            left, right = node.args
            for field, const in ((left, right), (right, left)):
                if (
                    field.op == "field"
                    and field.data == "scenario"
                    and const.op == "const"
                    and isinstance(const.data, str)
                ):
                    found.setdefault(const.data)
    return tuple(found)


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


def make_scenario_validator(
    values: Iterable[str],
) -> Callable[[Mapping[str, Any]], list[VisitError]]:
    values = tuple(values)
    shown = ", ".join(f'"{v}"' for v in values)

    def validate_scenario(record: Mapping[str, Any]) -> list[VisitError]:
        scenario = record.get("scenario")
        if _blank(scenario):
            return [
                VisitError(
                    "scenario",
                    "missing_scenario",
                    f"the visit has no scenario; this standard's items depend on it ({shown})",
                )
            ]
        if scenario in values:
            return []
        hint = did_you_mean(str(scenario), values)
        return [
            VisitError(
                "scenario",
                "bad_scenario",
                f"scenario {_show(scenario)} is not one of {shown}"
                + (f'; did you mean "{hint}"?' if hint else ""),
            )
        ]

    return validate_scenario


def validators_for(
    model: StandardModel,
) -> list[Callable[[Mapping[str, Any]], Iterable[VisitError]]]:
    """The pack's checks for `model`.

    - timestamps: for any standard (this pack's or another) that passes visit fields
      to `queue_minutes`;
    - scenario: for this pack's own standards (ids `bank.…`) whose formulas compare
      `visit.scenario` with texts: the scenario must be one of them, since with any
      other value every product item would silently be N/A. Not for other authors'
      standards, even bank ones: there a scenario no item names may well be legitimate
      (the engine's own conformance case scores "loan" visits against a standard that
      names only "deposit").
    """
    out: list[Callable[[Mapping[str, Any]], Iterable[VisitError]]] = []
    pairs = timestamp_pairs(model)
    if pairs:
        out.append(timestamps.timestamp_validator(pairs=pairs, check=_check_wait))
    if model.name.startswith(OWN_PREFIX):
        values = scenario_values(model)
        if values:
            out.append(make_scenario_validator(values))
    return out
