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

Scalar form: ``str``, ``datetime.datetime``, ``numpy.datetime64`` or ``None``.
Batch form: numpy arrays, ``datetime64`` (NaT for N/A) or object arrays of texts
(``None``/NaN for N/A), returning ``float64`` with NaN for N/A. Both compute in
integer microseconds with one final division, so they agree exactly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sbm_engine.diagnostics import did_you_mean
from sbm_engine.functions import FunctionSpec
from sbm_engine.runtime import NA_TOKENS, VisitError

if TYPE_CHECKING:
    import numpy as np

    from sbm_engine.model import Bound, StandardModel

__all__ = [
    "MAX_HOURS",
    "OWN_PREFIX",
    "TimestampError",
    "appointment_delay",
    "appointment_delay_batch",
    "choice_fields",
    "function_specs",
    "parse_timestamp",
    "timestamp_pairs",
    "validators_for",
]

#: The ids of this pack's own standards start with this.
OWN_PREFIX = "salon."

#: The two moments of one visit cannot be further apart than this (either way).
MAX_HOURS = 12

_MICROS_PER_MINUTE = 60_000_000
_MAX_MICROS = MAX_HOURS * 60 * _MICROS_PER_MINUTE
_EPOCH = dt.datetime(1970, 1, 1)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FORMAT = "an ISO 8601 date and time, e.g. 2026-04-10T12:00:00 or 2026-04-10T12:00:00+03:00"


class TimestampError(ValueError):
    """A value that is present but is not an ISO 8601 date and time of day."""


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN from a table
        return True
    if isinstance(value, str):
        text = value.strip()
        return not text or text.casefold() in NA_TOKENS
    return False


def _parse(value: Any) -> tuple[dt.datetime, bool] | None:
    """(naive datetime, in UTC if the value had an offset; whether it had one), None for N/A."""
    if _blank(value):
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
        return _EPOCH + dt.timedelta(microseconds=micros), False
    elif isinstance(value, str):
        text = value.strip()
        if _DATE_ONLY.match(text):
            raise TimestampError(f"{text!r} is a date without a time of day; expected {_FORMAT}")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise TimestampError(f"{text!r} is not {_FORMAT}") from None
    else:
        raise TimestampError(f"{value!r} is not {_FORMAT}")
    if parsed.tzinfo is not None:
        return parsed.astimezone(dt.UTC).replace(tzinfo=None), True
    return parsed, False


def parse_timestamp(value: Any) -> dt.datetime | None:
    """A naive datetime (UTC when the value carried an offset), None for N/A.

    Raises `TimestampError` for a value that is present but not a date and time.
    """
    parsed = _parse(value)
    return None if parsed is None else parsed[0]


def _to_micros(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


# -- the function ----------------------------------------------------------------------------


def appointment_delay(appointment: Any, started: Any) -> float | None:
    """Minutes `started` came after `appointment`, 0 when on time or early; None for N/A.

    Values the validator rejects (unreadable, mixed offsets, more than `MAX_HOURS`
    apart) also give None here, so a formula never raises.
    """
    try:
        a, b = _parse(appointment), _parse(started)
    except TimestampError:
        return None
    if a is None or b is None or a[1] != b[1]:
        return None
    delta = _to_micros(b[0]) - _to_micros(a[0])
    if abs(delta) > _MAX_MICROS:
        return None
    return max(delta, 0) / _MICROS_PER_MINUTE


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
    micros, offset, na = [], [], []
    for value in arr.ravel().tolist():
        try:
            parsed = _parse(value)
        except TimestampError:
            parsed = None
        micros.append(0 if parsed is None else _to_micros(parsed[0]))
        offset.append(False if parsed is None else parsed[1])
        na.append(parsed is None)
    return (
        np.array(micros, dtype="int64").reshape(arr.shape),
        np.array(offset, dtype=bool).reshape(arr.shape),
        np.array(na, dtype=bool).reshape(arr.shape),
    )


def appointment_delay_batch(appointment: Any, started: Any) -> np.ndarray:
    """`appointment_delay` over arrays: float64 minutes, NaN for N/A (same rules, same values)."""
    import numpy as np

    a, off_a, na_a = _column(appointment)
    b, off_b, na_b = _column(started)
    delta = b - a
    bad = na_a | na_b | (off_a != off_b) | (np.abs(delta) > _MAX_MICROS)
    out = np.maximum(delta, 0) / _MICROS_PER_MINUTE
    return np.where(bad, np.nan, out)


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


def _roots(model: StandardModel) -> Iterator[Bound]:
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


def timestamp_pairs(model: StandardModel) -> tuple[tuple[str, str], ...]:
    """The (appointment, started) record keys `appointment_delay` reads in `model`."""
    pairs: dict[tuple[str, str], None] = {}
    for root in _roots(model):
        for node in root.walk():
            if node.op == "call" and node.data == ("plugin", "appointment_delay"):
                keys = [a.data if a.op == "field" else "" for a in node.args]
                if len(keys) == 2:
                    pairs.setdefault((keys[0], keys[1]))
    return tuple(pairs)


def choice_fields(model: StandardModel) -> dict[str, tuple[str, ...]]:
    """Visit fields the standard's formulas compare with texts, and those texts.

    `{"scenario": ("окрашивание", "маникюр", "стрижка"), "channel": (...)}`: the
    fields whose value decides which items apply.
    """
    found: dict[str, dict[str, None]] = {}
    for root in _roots(model):
        for node in root.walk():
            if node.op != "cmp" or len(node.args) != 2:
                continue
            left, right = node.args
            for field, const in ((left, right), (right, left)):
                if field.op == "field" and const.op == "const" and isinstance(const.data, str):
                    found.setdefault(field.data, {}).setdefault(const.data)
    return {key: tuple(values) for key, values in found.items()}


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else repr(str(value))


def make_timestamp_validator(
    pairs: Iterable[tuple[str, str]],
) -> Callable[[Mapping[str, Any]], list[VisitError]]:
    pairs = tuple(pairs)
    keys = tuple(dict.fromkeys(k for pair in pairs for k in pair if k))

    def validate_appointment_times(record: Mapping[str, Any]) -> list[VisitError]:
        errors: list[VisitError] = []
        parsed: dict[str, tuple[dt.datetime, bool] | None] = {}
        for key in keys:
            try:
                parsed[key] = _parse(record.get(key))
            except TimestampError as exc:
                errors.append(VisitError(key, "bad_timestamp", f"visit field `{key}`: {exc}"))
        for first, second in pairs:
            if first not in parsed or second not in parsed:
                continue  # unreadable (reported above) or not a visit field
            a, b = parsed[first], parsed[second]
            if a is None or b is None:
                continue  # N/A: the shopper's measurement is used
            if a[1] != b[1]:
                with_, without = (first, second) if a[1] else (second, first)
                errors.append(VisitError(
                    second, "bad_timestamp",
                    f"`{with_}` has a UTC offset and `{without}` has none: give both with an "
                    "offset or both without, or the delay is off by hours",
                ))
                continue
            hours = abs((b[0] - a[0]) / dt.timedelta(hours=1))
            if hours > MAX_HOURS:
                errors.append(VisitError(
                    second, "implausible_delay",
                    f"`{first}` ({_show(record.get(first))}) and `{second}` "
                    f"({_show(record.get(second))}) are {hours:.1f} hours apart, more than "
                    f"{MAX_HOURS} h: check the date of either",
                ))
        return errors

    return validate_appointment_times


def make_choice_validator(
    fields: Mapping[str, tuple[str, ...]], checked_by_engine: Iterable[str] = ()
) -> Callable[[Mapping[str, Any]], list[VisitError]]:
    fields = dict(fields)
    engine = frozenset(checked_by_engine)

    def validate_choices(record: Mapping[str, Any]) -> list[VisitError]:
        errors = []
        for key, values in fields.items():
            shown = ", ".join(f'"{v}"' for v in values)
            value = record.get(key)
            if _blank(value):
                errors.append(VisitError(
                    key, f"missing_{key}",
                    f"the visit has no `{key}`; which items apply depends on it ({shown})",
                ))
            elif key not in engine and value not in values:
                hint = did_you_mean(str(value), values)
                errors.append(VisitError(
                    key, f"bad_{key}",
                    f"`{key}` {_show(value)} is not one of {shown}"
                    + (f'; did you mean "{hint}"?' if hint else ""),
                ))
        return errors

    return validate_choices


def validators_for(model: StandardModel) -> list[Callable[[Mapping[str, Any]], list[VisitError]]]:
    """The pack's checks for `model`.

    - appointment times: for any standard that passes visit fields to
      `appointment_delay`;
    - choices: for this pack's own standards (ids `salon.…`), every visit field the
      formulas compare with texts (here `scenario` and `channel`) must be given, and
      `scenario` must be one of those texts: with any other value the items that
      depend on it would silently be N/A. Declared `one of` fields are already
      checked by the engine for their values; only their presence is checked here.
      Not for other authors' standards, where a value no item names may be legitimate.
    """
    out: list[Callable[[Mapping[str, Any]], list[VisitError]]] = []
    pairs = timestamp_pairs(model)
    if pairs:
        out.append(make_timestamp_validator(pairs))
    if model.name.startswith(OWN_PREFIX):
        fields = choice_fields(model)
        if fields:
            with_values = [name for name, f in model.fields.items() if f.values is not None]
            out.append(make_choice_validator(fields, with_values))
    return out
