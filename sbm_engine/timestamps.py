"""ISO 8601 timestamps in visit fields: parsing, minutes between two, and a visit validator.

`datetime` visit fields are read by these rules (`field_types`), and pack authors whose
validators or functions deal with timestamps use them too (a queue ticket and the call
to the window, an appointment and the start of the procedure; `datetime_pairs` finds
the pairs of `datetime` fields a standard measures between). The rules, the same for
every pack that uses this module:

* **N/A**: ``None``, an empty text, an N/A token (``na``, ``n/a``, ``н/п``), NaN and
  NaT are N/A: :func:`parse_timestamp` gives ``None``, the minutes give N/A.
* **Errors**: a value that is present but is not a date *and* time of day (a date
  alone, ``14:05``, ``14.03.2026 14:05``, a number) raises :class:`TimestampError`
  in :func:`parse_timestamp`. The arithmetic turns it into N/A, since a formula must
  never raise; :func:`timestamp_validator` rejects the visit, naming the field.
* **Offsets**: a value with a UTC offset is converted to UTC (and made naive); one
  without is taken as written (local time). Two values of one pair, one with an
  offset and one without, would differ by the offset: the minutes are N/A and the
  validator rejects the visit.

Values may be ``str``, ``datetime.datetime``, ``numpy.datetime64`` (never with an
offset) or ``None``. :func:`minutes_between` and :func:`minutes_between_batch`
compute with integer microseconds and one final division, so they agree exactly;
numpy is imported only by the batch form and for ``datetime64`` values.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .messages import message
from .runtime import NA_TOKENS, VisitError

if TYPE_CHECKING:
    import numpy as np

    from .hookspecs import Validator
    from .model import StandardModel

__all__ = [
    "TimestampError",
    "TimestampPair",
    "datetime_pair_validator",
    "datetime_pairs",
    "field_calls",
    "field_value",
    "minutes_between",
    "minutes_between_batch",
    "parse_timestamp",
    "read_timestamp",
    "timestamp_validator",
]

_MICROS_PER_MINUTE = 60_000_000
_EPOCH = dt.datetime(1970, 1, 1)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TimestampError(ValueError):
    """A value that is present but is not an ISO 8601 date and time of day."""


def blank(value: Any) -> bool:
    """N/A: None, NaN, NaT, an empty text or an N/A token."""
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip()
        return not text or text.casefold() in NA_TOKENS
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, dt.datetime):
        return value != value  # pandas.NaT
    if type(value).__name__ == "datetime64":
        import numpy as np

        return bool(np.isnat(value))
    return False


def _parse(value: Any) -> tuple[dt.datetime, bool] | None:
    """(naive datetime, in UTC if the value had an offset; whether it had one), None for N/A."""
    if blank(value):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        raise TimestampError(message("visit.time.date_only", value=repr(value.isoformat())))
    elif type(value).__name__ == "datetime64":
        micros = int(value.astype("datetime64[us]").astype("int64"))
        return _EPOCH + dt.timedelta(microseconds=micros), False
    elif isinstance(value, str):
        text = value.strip()
        if _DATE_ONLY.match(text):
            raise TimestampError(message("visit.time.date_only_expected", value=repr(text)))
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise TimestampError(message("visit.time.not_timestamp", value=repr(text))) from None
    else:
        raise TimestampError(message("visit.time.not_timestamp", value=repr(value)))
    if parsed.tzinfo is not None:
        return parsed.astimezone(dt.UTC).replace(tzinfo=None), True
    return parsed, False


def read_timestamp(value: Any) -> tuple[dt.datetime, bool] | None:
    """(a naive datetime, converted to UTC when the value carried an offset; whether it
    carried one), None for N/A. Raises `TimestampError` like `parse_timestamp`; typed
    `datetime` visit fields read their values with it (`field_types`)."""
    return _parse(value)


def parse_timestamp(value: Any) -> dt.datetime | None:
    """A naive datetime (converted to UTC when the value carried an offset), None for N/A.

    Raises `TimestampError` for a value that is present but not a date and time of day.
    """
    parsed = _parse(value)
    return None if parsed is None else parsed[0]


def _micros(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def minutes_between(start: Any, end: Any) -> float | None:
    """Minutes from `start` to `end`, fractions kept (negative when `end` is earlier).

    None (N/A) when either is N/A or unreadable, or when one has a UTC offset and the
    other has none; never raises.
    """
    try:
        a, b = _parse(start), _parse(end)
    except TimestampError:
        return None
    if a is None or b is None or a[1] != b[1]:
        return None
    return (_micros(b[0]) - _micros(a[0])) / _MICROS_PER_MINUTE


def _column(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int64 microseconds, whether each had an offset, and the N/A mask, for an array."""
    import numpy as np

    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        na = np.isnat(arr)
        micros = np.where(na, 0, arr.astype("datetime64[us]").astype("int64"))
        return micros, np.zeros(arr.shape, dtype=bool), na
    if arr.dtype.kind in "fiub":  # no text at all: a column of NaN (all N/A)
        none = np.zeros(arr.shape, dtype=bool)
        return np.zeros(arr.shape, dtype="int64"), none, np.ones(arr.shape, dtype=bool)
    micros_list: list[int] = []
    offset_list: list[bool] = []
    na_list: list[bool] = []
    for value in arr.ravel().tolist():
        try:
            parsed = _parse(value)
        except TimestampError:
            parsed = None
        micros_list.append(0 if parsed is None else _micros(parsed[0]))
        offset_list.append(False if parsed is None else parsed[1])
        na_list.append(parsed is None)
    return (
        np.array(micros_list, dtype="int64").reshape(arr.shape),
        np.array(offset_list, dtype=bool).reshape(arr.shape),
        np.array(na_list, dtype=bool).reshape(arr.shape),
    )


def minutes_between_batch(starts: Any, ends: Any) -> np.ndarray:
    """`minutes_between` over arrays: float64 minutes, NaN for N/A, the same value per row.

    Takes ``datetime64`` arrays (NaT for N/A), object or string arrays of the values
    `parse_timestamp` takes (None/NaN for N/A), or float arrays (a column of NaN).
    """
    import numpy as np

    a, off_a, na_a = _column(starts)
    b, off_b, na_b = _column(ends)
    out = (b - a) / _MICROS_PER_MINUTE
    return np.where(na_a | na_b | (off_a != off_b), np.nan, out)


# -- the visit validator ---------------------------------------------------------------------


class TimestampPair(NamedTuple):
    """Two visit fields of one measurement, both present, readable and comparable."""

    first: str
    second: str
    start: dt.datetime
    end: dt.datetime

    @property
    def minutes(self) -> float:
        """Minutes from `start` to `end` (negative when `end` is earlier)."""
        return (self.end - self.start) / dt.timedelta(minutes=1)


def timestamp_validator(
    fields: Sequence[str] = (),
    *,
    pairs: Iterable[tuple[str, str]] = (),
    check: Callable[[TimestampPair, Mapping[str, Any]], Iterable[VisitError]] | None = None,
) -> Validator:
    """A visit validator for timestamp fields, for the `sbm_visit_validators` hook.

    Each of `fields`, and each field of `pairs`, that is present must be a date and
    time: otherwise a ``bad_timestamp`` error on that field. For each (first, second)
    of `pairs` whose two fields are both readable and not N/A, one with a UTC offset
    and one without is a ``bad_timestamp`` error on `second`; otherwise
    `check(pair, record)` (if given) returns the pack's own errors for the pair, e.g.
    an order or a maximum. N/A is never an error. Empty names (an argument that is not
    a visit field, see `field_calls`) are ignored.
    """
    pair_keys = tuple(dict.fromkeys((a, b) for a, b in pairs if a and b))
    keys = tuple(dict.fromkeys(k for k in (*fields, *(k for p in pair_keys for k in p)) if k))

    def validate_timestamps(record: Mapping[str, Any]) -> list[VisitError]:
        errors: list[VisitError] = []
        parsed: dict[str, tuple[dt.datetime, bool] | None] = {}
        for key in keys:
            try:
                parsed[key] = _parse(record.get(key))
            except TimestampError as exc:
                errors.append(
                    VisitError(
                        key, "bad_timestamp", message("visit.time.field", field=key, error=exc)
                    )
                )
        for first, second in pair_keys:
            if first not in parsed or second not in parsed:
                continue  # unreadable: reported above
            a, b = parsed[first], parsed[second]
            if a is None or b is None:
                continue  # N/A: nothing to compare
            if a[1] != b[1]:
                with_, without = (first, second) if a[1] else (second, first)
                errors.append(
                    VisitError(
                        second,
                        "bad_timestamp",
                        message("visit.time.mixed_offsets", with_offset=with_, without=without),
                    )
                )
            elif check is not None:
                errors.extend(check(TimestampPair(first, second, a[0], b[0]), record))
        return errors

    return validate_timestamps


def field_value(value: Any) -> Any:
    """A `datetime` field's value as these rules read it: a date alone (ISO text
    ``2026-03-14``, a ``date``) is its midnight, ``2026-03-14T00:00:00``, as a
    spreadsheet stores a date and time at 0:00 as a date; anything else as it is."""
    if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
        return value.strip() + "T00:00:00"
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat() + "T00:00:00"
    return value


def _readable(value: Any) -> bool:
    try:
        return _parse(value) is not None
    except TimestampError:
        return False


def datetime_pair_validator(
    pairs: Iterable[tuple[str, str]],
    durations: Iterable[tuple[str, str]],
    check: Callable[[TimestampPair, Mapping[str, Any]], Iterable[VisitError]],
) -> Validator:
    """A visit validator for the pairs of `datetime` fields a standard measures between
    (`datetime_pairs`), for a pack's `sbm_visit_validators`: one value with a UTC
    offset and one without is a ``bad_timestamp`` error for every pair, and
    `check(pair, record)` (the pack's order or maximum) runs for the `durations` among
    them. Values are read as the engine reads the fields (`field_value`); one the
    engine cannot read is the engine's to reject (`bad_field`): the validator leaves
    it out."""
    pairs = tuple(pairs)
    measured = frozenset(durations)
    keys = tuple(dict.fromkeys(k for pair in pairs for k in pair))

    def duration_check(pair: TimestampPair, record: Mapping[str, Any]) -> list[VisitError]:
        return list(check(pair, record)) if (pair.first, pair.second) in measured else []

    inner = timestamp_validator((), pairs=pairs, check=duration_check)

    def validate_datetime_pairs(record: Mapping[str, Any]) -> list[VisitError]:
        values = {k: field_value(record.get(k)) for k in keys}
        readable = {k: v for k, v in values.items() if _readable(v)}
        return list(inner(readable)) if len(readable) > 1 else []

    return validate_datetime_pairs


# -- finding the fields a standard passes to a pack's functions ------------------------------


def field_calls(
    model: StandardModel, functions: Iterable[str]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The calls of the named plugin functions in `model`, as (function, argument keys).

    An argument that is a visit field (``visit.ticket_issued``) gives its record key;
    any other argument gives ``""``. Each distinct call once, in order of first use.
    """
    from .model import expressions

    names = frozenset(functions)
    calls: dict[tuple[str, tuple[str, ...]], None] = {}
    for root in expressions(model):
        for node in root.walk():
            if node.op == "call" and isinstance(node.data, tuple) and len(node.data) == 2:
                kind, fn = node.data
                if kind == "plugin" and fn in names:
                    args = tuple(a.data if a.op == "field" else "" for a in node.args)
                    calls.setdefault((fn, args))
    return tuple(calls)


def datetime_pairs(
    model: StandardModel,
) -> tuple[tuple[tuple[str, str], ...], frozenset[tuple[str, str]]]:
    """(start, end) record keys of each pair of `datetime` fields the standard measures
    between: `minutes_between(visit.A, visit.B)`, `visit.B - visit.A` and `visit.B >
    visit.A` (which the checker makes that call too), each pair once in order of first
    use; and the durations among them: pairs whose minutes are used as they are, not
    only compared with 0 (`visit.B > visit.A`, `visit.B - visit.A >= 0`: which came
    first) or bounded by `max` or `min` (a delay, `max(visit.B - visit.A, 0)`), where
    an end before the start is no error. Minutes compared with another threshold
    (`visit.B - visit.A <= 5`) are a duration."""
    from .model import expressions

    pairs: dict[tuple[str, str], None] = {}
    durations: set[tuple[str, str]] = set()
    for root in expressions(model):
        stack: list[tuple[Any, Any]] = [(root, None)]
        while stack:
            node, parent = stack.pop()
            stack.extend((child, node) for child in node.args)
            if node.op != "call" or node.data != ("minutes_between", None):
                continue
            start, end = node.args
            if start.op == "field" and end.op == "field":
                pairs.setdefault((start.data, end.data))
                compared = (
                    parent is not None
                    and parent.op == "cmp"
                    and any(a.op == "const" and a.data == 0 for a in parent.args)
                )
                clamped = parent is not None and parent.data in (("max", None), ("min", None))
                if not (compared or clamped):
                    durations.add((start.data, end.data))
    return tuple(pairs), frozenset(durations)
