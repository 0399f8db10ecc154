"""Timing functions for hotel standards: durations and deadlines from visit timestamps.

A hotel visit carries moments the evaluator (or the property system) recorded: when the
guest reached the front desk, when the key was handed over, when the room was ready,
when a room-service order was placed and delivered, when check-out began and ended.
They arrive as visit fields (declared with `field` in the standard) holding ISO 8601
date-times, e.g. ``2026-03-14T14:05`` or ``2026-03-14T14:05:00+03:00``.

Functions added to the language (all take visit fields, i.e. texts):

``minutes_between(START, END)`` → number
    Minutes elapsed from START to END (fractions kept: 90 seconds is 1.5). A duration:
    END earlier than START is a data error that the visit validator rejects.
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
  written (local time of the property). Mixing the two within one call is rejected
  by the validator, since the difference would be off by the offset.

Scalar forms take one value per argument (``str``, ``datetime.datetime``,
``numpy.datetime64`` or ``None``). Batch forms take numpy arrays, either
``datetime64`` (NaT for N/A) or object/string arrays (``None``/NaN for N/A), and
return ``float64`` arrays with NaN for N/A (numbers) or object arrays of
``True``/``False``/``None`` (conditions), as ``docs/plugins.md`` asks. Scalar and batch
forms compute the same microsecond arithmetic, so they agree exactly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sbm_engine.functions import FunctionSpec
from sbm_engine.runtime import NA_TOKENS, VisitError

if TYPE_CHECKING:
    import numpy as np

    from sbm_engine.model import Bound, StandardModel

__all__ = [
    "FUNCTIONS",
    "TIMESTAMP_FUNCTIONS",
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

_MICROS_PER_MINUTE = 60_000_000
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EXAMPLE = "e.g. 2026-03-14T14:05 or 2026-03-14T14:05:00+03:00"


class TimestampError(ValueError):
    """A text that is present but is not an ISO 8601 date and time of day."""


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN from a table
        return True
    return isinstance(value, str) and (not value.strip() or value.strip().casefold() in NA_TOKENS)


def parse_timestamp(value: Any) -> dt.datetime | None:
    """A naive datetime (UTC if the value had an offset), ``None`` for N/A.

    Raises :class:`TimestampError` for a value that is present but unusable; the
    functions turn that into N/A and the validator into a rejection.
    """
    if _is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        raise TimestampError(f"{value.isoformat()!r} is a date without a time of day")
    elif type(value).__name__ == "datetime64":
        import numpy as np

        if np.isnat(value):
            return None
        micros = int(value.astype("datetime64[us]").astype("int64"))
        return _EPOCH + dt.timedelta(microseconds=micros)
    elif isinstance(value, str):
        text = value.strip()
        if _DATE_ONLY.match(text):
            raise TimestampError(f"{text!r} is a date without a time of day ({_EXAMPLE})")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise TimestampError(
                f"{text!r} is not an ISO 8601 date and time ({_EXAMPLE})"
            ) from None
    else:
        raise TimestampError(f"{value!r} is not a date and time ({_EXAMPLE})")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


_EPOCH = dt.datetime(1970, 1, 1)


def _has_offset(value: Any) -> bool | None:
    """Whether a present value carries a UTC offset (None when blank or unparseable)."""
    if _is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.tzinfo is not None
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip()).tzinfo is not None
        except ValueError:
            return None
    return False  # numpy datetime64 never has one


def _micros(value: Any) -> int | None:
    """Microseconds since the epoch, None for N/A or unparseable."""
    try:
        parsed = parse_timestamp(value)
    except TimestampError:
        return None
    if parsed is None:
        return None
    return (parsed - _EPOCH) // dt.timedelta(microseconds=1)


# -- scalar forms --------------------------------------------------------------------------


def minutes_between(start: Any, end: Any) -> float | None:
    """Minutes from `start` to `end`; N/A when either is missing or unreadable."""
    a, b = _micros(start), _micros(end)
    if a is None or b is None:
        return None
    return (b - a) / _MICROS_PER_MINUTE


def minutes_late(due: Any, actual: Any) -> float | None:
    """Minutes `actual` came after `due`, 0 when on time; N/A when either is missing."""
    a, b = _micros(due), _micros(actual)
    if a is None or b is None:
        return None
    return max(b - a, 0) / _MICROS_PER_MINUTE


def room_ready(due: Any, ready_at: Any) -> bool | None:
    """True when the room was ready no later than due; N/A when either is missing."""
    a, b = _micros(due), _micros(ready_at)
    if a is None or b is None:
        return None
    return b <= a


# -- batch forms ---------------------------------------------------------------------------


def _as_micros(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """int64 microseconds since the epoch and a mask of N/A, for any input array."""
    import numpy as np

    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        na = np.isnat(arr)
        micros = arr.astype("datetime64[us]").astype("int64")
        return np.where(na, 0, micros), na
    if arr.dtype.kind in "fiub":  # a column with no text at all: only NaN can mean anything
        na = np.ones(arr.shape, dtype=bool)
        return np.zeros(arr.shape, dtype="int64"), na
    flat = [_micros(v) for v in arr.ravel().tolist()]
    na = np.array([m is None for m in flat], dtype=bool).reshape(arr.shape)
    micros = np.array([0 if m is None else m for m in flat], dtype="int64").reshape(arr.shape)
    return micros, na


def minutes_between_batch(start: Any, end: Any) -> np.ndarray:
    import numpy as np

    a, na_a = _as_micros(start)
    b, na_b = _as_micros(end)
    out = (b - a) / _MICROS_PER_MINUTE
    return np.where(na_a | na_b, np.nan, out)


def minutes_late_batch(due: Any, actual: Any) -> np.ndarray:
    import numpy as np

    a, na_a = _as_micros(due)
    b, na_b = _as_micros(actual)
    out = np.maximum(b - a, 0) / _MICROS_PER_MINUTE
    return np.where(na_a | na_b, np.nan, out)


def room_ready_batch(due: Any, ready_at: Any) -> np.ndarray:
    """An object array of True/False, None for N/A (the contract for `"bool"` results)."""
    import numpy as np

    a, na_a = _as_micros(due)
    b, na_b = _as_micros(ready_at)
    out = np.empty(a.shape, dtype=object)
    out[...] = (b <= a).tolist()
    out[na_a | na_b] = None
    return out


FUNCTIONS: dict[str, tuple[tuple[str, ...], str, Callable[..., Any], Callable[..., Any], str]] = {
    "minutes_between": (
        ("str", "str"), "num", minutes_between, minutes_between_batch,
        "minutes_between(START, END): minutes elapsed from START to END (ISO date-times)",
    ),
    "minutes_late": (
        ("str", "str"), "num", minutes_late, minutes_late_batch,
        "minutes_late(DUE, ACTUAL): minutes ACTUAL came after DUE, 0 when on time",
    ),
    "room_ready": (
        ("str", "str"), "bool", room_ready, room_ready_batch,
        "room_ready(DUE, READY_AT): the room was ready no later than it was due",
    ),
}

#: Every function here reads timestamps; the validator checks the fields passed to them.
TIMESTAMP_FUNCTIONS = frozenset(FUNCTIONS)

#: Functions whose first argument must not come after the second (a duration).
_DURATIONS = frozenset({"minutes_between"})


def function_specs() -> list[FunctionSpec]:
    return [
        FunctionSpec(name, params, returns, scalar, batch, doc=doc)  # type: ignore[arg-type]
        for name, (params, returns, scalar, batch, doc) in FUNCTIONS.items()
    ]


# -- the visit validator ------------------------------------------------------------------


def _bounds(model: StandardModel) -> Iterator[Bound]:
    for item in model.items:
        for b in (item.when, item.section_when, item.score):
            if b is not None:
                yield b
    for section in model.sections:
        if section.when is not None:
            yield section.when
    for coef in model.coefficients:
        yield coef.expr
    for rollup in model.rollups:
        for term in rollup.terms:
            yield term.expr


def timestamp_uses(model: StandardModel) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The record keys passed to the timing functions, and the argument tuples of each call.

    Only direct `visit.FIELD` arguments count: those are what a record must carry as
    ISO date-times. Keys keep the order in which the standard first uses them.
    """
    keys: dict[str, None] = {}
    calls: dict[tuple[str, ...], None] = {}
    for root in _bounds(model):
        for node in root.walk():
            if node.op != "call" or not isinstance(node.data, tuple):
                continue
            kind, fn = node.data
            if kind != "plugin" or fn not in TIMESTAMP_FUNCTIONS:
                continue
            args = tuple(a.data if a.op == "field" else "" for a in node.args)
            for key in args:
                if key:
                    keys.setdefault(key)
            calls.setdefault((fn, *args))
    return tuple(keys), tuple(calls)


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else repr(str(value))


def make_validator(
    keys: Iterable[str], calls: Iterable[tuple[str, ...]]
) -> Callable[[Mapping[str, Any]], list[VisitError]]:
    keys = tuple(keys)
    calls = tuple(calls)

    def validate_timestamps(record: Mapping[str, Any]) -> list[VisitError]:
        errors: list[VisitError] = []
        bad: set[str] = set()
        for key in keys:
            try:
                parse_timestamp(record.get(key))
            except TimestampError as exc:
                bad.add(key)
                errors.append(VisitError(key, "bad_timestamp", f"`{key}`: {exc}"))
        for fn, first, second in calls:
            if not first or not second or first in bad or second in bad:
                continue
            a, b = record.get(first), record.get(second)
            offset_a, offset_b = _has_offset(a), _has_offset(b)
            if offset_a is None or offset_b is None:
                continue  # one of them is N/A: the function gives N/A, nothing to check
            if offset_a != offset_b:
                with_, without = (first, second) if offset_a else (second, first)
                errors.append(VisitError(
                    second, "bad_timestamp",
                    f"`{with_}` has a UTC offset and `{without}` has none; give both "
                    "with an offset or both without, or the difference is off by hours",
                ))
                continue
            if fn in _DURATIONS:
                start, end = parse_timestamp(a), parse_timestamp(b)
                assert start is not None and end is not None
                if end < start:
                    errors.append(VisitError(
                        second, "timestamp_order",
                        f"`{second}` ({_show(b)}) is earlier than `{first}` ({_show(a)}): "
                        "a duration cannot be negative",
                    ))
        unique: dict[tuple[str, str, str], VisitError] = {}
        for err in errors:
            unique.setdefault((err.item, err.code, err.message), err)
        return list(unique.values())

    return validate_timestamps


def validators_for(model: StandardModel) -> list[Callable[[Mapping[str, Any]], list[VisitError]]]:
    """A timestamp validator for a standard that passes visit fields to these functions."""
    keys, calls = timestamp_uses(model)
    if not keys:
        return []
    return [make_validator(keys, calls)]
