"""Typed visit fields (`field NAME TYPE`): reading a visit's value, and the date functions.

Every backend reads a typed field through `read_value` (the per-visit code once per
visit, the batch code once per distinct value of a column) and computes with what it
gives, a float (N/A as None per visit, NaN in the batch):

* **number**: the number, read as item answers read numbers (`runtime.number_of`);
* **duration**: minutes: a number of minutes, ISO 8601 ``PT1H30M`` (``P1DT2H`` too), or
  ``H:MM`` / ``H:MM:SS``, each negative with a leading minus (``-10``, ``-PT10M``,
  ``-0:10``), or a ``timedelta`` (the readers give a Parquet duration or a spreadsheet
  duration as ISO text, `io.records.iso_duration`);
* **date**: days since 1970-01-01: ISO ``YYYY-MM-DD`` text, a ``date`` value, or a date
  and time at midnight without a UTC offset (how spreadsheets and Parquet store dates);
* **datetime**: read by `timestamps` (an offset converted to UTC, a value without one
  taken as written); a date alone (``2026-03-14``, a ``date`` value) is its midnight,
  since a spreadsheet stores a date and time at 0:00 as a date, which the readers give
  as date text; kept as 2 × the microseconds since 1970-01-01T00:00, plus 1 when
  the value had a UTC offset. For years `DATETIME_YEARS` these are integers below
  2**53, exact in a float: the difference of two is exact, minutes are one division of
  it (`minutes_between`, as `timestamps.minutes_between` computes them), and a pair of
  one value with an offset and one without is told apart by parity (its minutes are
  N/A).

N/A tokens, empty texts, NaN and NaT are N/A. A value present but not of the field's
type raises `FieldValueError`, which rejects the visit (`bad_field`); a `required`
field without a value rejects it too (`missing_field`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .diagnostics import did_you_mean
from .messages import message
from .runtime import VisitError, number_of
from .timestamps import TimestampError, blank, field_value, read_timestamp

if TYPE_CHECKING:
    import numpy as np

    from .model import FieldModel

__all__ = [
    "DATETIME_YEARS",
    "FieldValueError",
    "date_literal",
    "datetime_literal",
    "read_fields",
    "read_value",
]

#: The years a datetime field's value may fall in (see the module docstring).
DATETIME_YEARS = (1900, 2100)

_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_DAY = dt.date(1970, 1, 1)
_MICROS_PER_DAY = 86_400_000_000
_MICROS_PER_HOUR = 3_600_000_000
#: two units of the encoding per microsecond: minutes are a difference over this
_UNITS_PER_MINUTE = 120_000_000
_LOWEST = dt.datetime(DATETIME_YEARS[0], 1, 1)
_HIGHEST = dt.datetime(DATETIME_YEARS[1] + 1, 1, 1)

_ISO_DURATION = re.compile(
    r"(-?)P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)
_CLOCK_DURATION = re.compile(r"(-?)(\d+):([0-5]\d)(?::([0-5]\d(?:\.\d+)?))?")


class FieldValueError(ValueError):
    """A value present but not of its field's type; the text says what was expected."""


# -- reading one value ---------------------------------------------------------------------------


def read_value(field: FieldModel, value: Any) -> Any:
    """The value of `field` a formula reads: a float for a typed field (None for N/A),
    the declared value for `one of`, else the value as given. Raises `FieldValueError`."""
    kind = field.type
    if kind == "text":
        if value is None or field.values is None:
            return value
        canonical = field.canonical(value)
        if canonical is None:
            raise FieldValueError(", ".join(field.values))
        return canonical
    if blank(value):
        return None
    if kind == "number":
        number = number_of(value)
        if number is None:
            raise FieldValueError(message("field_type.number"))
        return number
    if kind == "duration":
        return _duration(value)
    if kind == "date":
        return _date(value)
    return _datetime(value)


def _duration(value: Any) -> float:
    if isinstance(value, dt.timedelta):
        return (value // dt.timedelta(microseconds=1)) / 60_000_000
    number = number_of(value)
    if number is not None:
        return number
    if isinstance(value, str):
        text = value.strip()
        iso = _ISO_DURATION.fullmatch(text)
        if iso and any(iso.groups()[1:]) and not text.upper().endswith("T"):
            sign = -1 if iso.group(1) else 1
            days, hours, minutes, seconds = (float(g) if g else 0.0 for g in iso.groups()[1:])
            return sign * (days * 86_400 + hours * 3_600 + minutes * 60 + seconds) / 60
        clock = _CLOCK_DURATION.fullmatch(text)
        if clock:
            sign = -1 if clock.group(1) else 1
            hours, minutes = int(clock.group(2)), int(clock.group(3))
            seconds = float(clock.group(4) or 0)
            return sign * (hours * 3_600 + minutes * 60 + seconds) / 60
    raise FieldValueError(message("field_type.duration"))


def _date(value: Any) -> float:
    day: dt.date | None = None
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                day = None
        if day is None:
            try:
                moment = dt.datetime.fromisoformat(text)
            except ValueError:
                raise FieldValueError(message("field_type.date")) from None
            day = _midnight(moment)
    elif isinstance(value, dt.datetime):
        day = _midnight(value)
    elif isinstance(value, dt.date):
        day = value
    elif type(value).__name__ == "datetime64":
        micros = int(value.astype("datetime64[us]").astype("int64"))
        day = _midnight(_EPOCH + dt.timedelta(microseconds=micros))
    else:
        raise FieldValueError(message("field_type.date"))
    return float((day - _EPOCH_DAY).days)


def _midnight(moment: dt.datetime) -> dt.date:
    """The day of a date and time at midnight without a UTC offset (a stored date)."""
    if moment.tzinfo is not None or moment.time() != dt.time(0):
        raise FieldValueError(message("field_type.date_with_time"))
    return moment.date()


def _datetime(value: Any) -> float:
    try:
        parsed = read_timestamp(field_value(value))  # a date alone is its midnight
    except TimestampError:
        raise FieldValueError(message("field_type.datetime")) from None
    if parsed is None:  # pragma: no cover - blank values are N/A before this
        raise FieldValueError(message("field_type.datetime"))
    moment, offset = parsed
    if not _LOWEST <= moment < _HIGHEST:
        raise FieldValueError(
            message("field_type.datetime_years", low=DATETIME_YEARS[0], high=DATETIME_YEARS[1])
        )
    micros = (moment - _EPOCH) // dt.timedelta(microseconds=1)
    return float(2 * micros + (1 if offset else 0))


def date_literal(text: str) -> float | None:
    """A date written in a formula (`visit.date >= "2026-03-01"`), None if it is none."""
    if len(text.strip()) != 10:
        return None
    try:
        return _date(text)
    except FieldValueError:
        return None


def datetime_literal(text: str) -> float | None:
    """A date and time written in a formula, None if it is none (a date alone too: a
    formula says the time of day)."""
    if field_value(text) != text:
        return None
    try:
        return None if blank(text) else _datetime(text)
    except FieldValueError:
        return None


# -- reading a visit's fields --------------------------------------------------------------------


def read_fields(
    fields: Iterable[FieldModel], record: Mapping[str, Any]
) -> tuple[dict[str, Any], list[VisitError]]:
    """The values of `fields` (those with `FieldModel.read`) a visit gives, by record
    key, and the errors that reject it: `missing_field` for a required field without
    a value (absent, empty or N/A), `bad_field` for a value not of its type."""
    values: dict[str, Any] = {}
    errors: list[VisitError] = []
    for field in fields:
        key = field.key
        raw = record.get(key)
        if field.type != "text":
            values[key] = None  # what formulas read of a visit rejected for it
        if field.required and blank(raw):
            errors.append(
                VisitError(key, "missing_field", message("field_type.missing", field=field.name))
            )
            continue
        try:
            values[key] = read_value(field, raw)
        except FieldValueError as exc:
            if field.values is not None:
                near = did_you_mean(str(raw), field.values)
                text = message(
                    "visit.bad_choice", field=key, value=repr(raw), values=", ".join(field.values)
                ) + (message("visit.did_you_mean", name=near) if near else "")
            else:
                text = message("field_type.bad", field=key, value=repr(raw), expected=exc)
            errors.append(VisitError(key, "bad_field", text))
    return values, errors


# -- the functions on dates and datetimes (scalar: floats; batch: float arrays) -------------------


def _micros(encoded: float) -> int:
    units = int(encoded)
    return (units - (units & 1)) // 2


def _day_of(value: float, datetime: bool) -> int:
    return _micros(value) // _MICROS_PER_DAY if datetime else int(value)


def weekday(value: float, datetime: bool = False) -> float:
    """1 for Monday … 7 for Sunday (1970-01-01 was a Thursday)."""
    return float((_day_of(value, datetime) + 3) % 7 + 1)


def month(value: float, datetime: bool = False) -> float:
    return float((_EPOCH_DAY + dt.timedelta(days=_day_of(value, datetime))).month)


def year(value: float, datetime: bool = False) -> float:
    return float((_EPOCH_DAY + dt.timedelta(days=_day_of(value, datetime))).year)


def hour(value: float) -> float:
    return float(_micros(value) // _MICROS_PER_HOUR % 24)


def days_between(start: float, end: float) -> float:
    return end - start


def minutes_between(start: float, end: float) -> float | None:
    """Minutes from `start` to `end`; N/A when one has a UTC offset and the other none."""
    if int(start) & 1 != int(end) & 1:
        return None
    return (end - start) / _UNITS_PER_MINUTE


def _days_batch(values: np.ndarray, datetime: bool) -> tuple[np.ndarray, np.ndarray]:
    """int64 days (0 where N/A) and the N/A mask."""
    import numpy as np

    arr = np.asarray(values, dtype=float)
    na = np.isnan(arr)
    units = np.where(na, 0.0, arr).astype("int64")
    if datetime:
        micros = (units - (units & 1)) // 2
        return micros // _MICROS_PER_DAY, na
    return units, na


def weekday_batch(values: np.ndarray, datetime: bool = False) -> np.ndarray:
    import numpy as np

    days, na = _days_batch(values, datetime)
    return np.where(na, np.nan, ((days + 3) % 7 + 1).astype(float))


def month_batch(values: np.ndarray, datetime: bool = False) -> np.ndarray:
    import numpy as np

    days, na = _days_batch(values, datetime)
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype("int64")
    return np.where(na, np.nan, (months % 12 + 1).astype(float))


def year_batch(values: np.ndarray, datetime: bool = False) -> np.ndarray:
    import numpy as np

    days, na = _days_batch(values, datetime)
    years = days.astype("datetime64[D]").astype("datetime64[Y]").astype("int64")
    return np.where(na, np.nan, (years + 1970).astype(float))


def hour_batch(values: np.ndarray) -> np.ndarray:
    import numpy as np

    arr = np.asarray(values, dtype=float)
    na = np.isnan(arr)
    units = np.where(na, 0.0, arr).astype("int64")
    micros = (units - (units & 1)) // 2
    return np.where(na, np.nan, (micros // _MICROS_PER_HOUR % 24).astype(float))


def days_between_batch(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    import numpy as np

    out: np.ndarray = np.asarray(end, dtype=float) - np.asarray(start, dtype=float)
    return out


def minutes_between_batch(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    import numpy as np

    a = np.asarray(start, dtype=float)
    b = np.asarray(end, dtype=float)
    na = np.isnan(a) | np.isnan(b)
    fa = np.where(na, 0.0, a).astype("int64") & 1
    fb = np.where(na, 0.0, b).astype("int64") & 1
    return np.where(na | (fa != fb), np.nan, (b - a) / _UNITS_PER_MINUTE)


def as_text(value: float | None, kind: str) -> str | None:
    """A date or datetime value as ISO text (for `sbm explain`), None for N/A."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "date":
        return (_EPOCH_DAY + dt.timedelta(days=int(value))).isoformat()
    units = int(value)
    moment = _EPOCH + dt.timedelta(microseconds=_micros(value))
    return moment.isoformat() + ("Z" if units & 1 else "")
