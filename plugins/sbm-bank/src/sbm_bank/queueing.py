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

The scalar form takes ``str``, ``datetime.datetime``, ``numpy.datetime64`` or
``None``; the batch form takes numpy arrays — ``datetime64`` (NaT for N/A) or
object arrays of texts (``None``/NaN for N/A) — and returns ``float64`` with NaN
for N/A. Both compute with integer microseconds and one final division, so they
agree exactly.
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

_MICROS_PER_MINUTE = 60_000_000
_EPOCH = dt.datetime(1970, 1, 1)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FORMAT = "an ISO 8601 date and time, e.g. 2026-03-14T10:05:00 or 2026-03-14T10:05:00+03:00"


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
    """(naive datetime in UTC if the value had an offset, whether it had one); None for N/A.

    Raises `TimestampError` for a present value that is not a date and time.
    """
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


def _micros_pair(issued: Any, called: Any) -> tuple[int, int] | None:
    """Both moments in microseconds since the epoch, or None when the pair gives N/A."""
    try:
        a, b = _parse(issued), _parse(called)
    except TimestampError:
        return None
    if a is None or b is None or a[1] != b[1]:
        return None
    ma = (a[0] - _EPOCH) // dt.timedelta(microseconds=1)
    mb = (b[0] - _EPOCH) // dt.timedelta(microseconds=1)
    if mb < ma or mb - ma > MAX_MINUTES * _MICROS_PER_MINUTE:
        return None
    return ma, mb


# -- the function ----------------------------------------------------------------------------


def queue_minutes(issued: Any, called: Any) -> float | None:
    """Minutes from ticket `issued` to `called`; None (N/A) when either is missing.

    Values the validator rejects (unreadable, called before issued, mixed offsets,
    longer than `MAX_MINUTES`) also give None here, so a formula never raises.
    """
    pair = _micros_pair(issued, called)
    if pair is None:
        return None
    return (pair[1] - pair[0]) / _MICROS_PER_MINUTE


def _column(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int64 microseconds, whether each had an offset, and the N/A mask, for an array."""
    import numpy as np

    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        na = np.isnat(arr)
        micros = np.where(na, 0, arr.astype("datetime64[us]").astype("int64"))
        return micros, np.zeros(arr.shape, dtype=bool), na
    if arr.dtype.kind in "fiub":  # no text at all: a column of NaN (all N/A)
        shape = arr.shape
        none = np.zeros(shape, dtype=bool)
        return np.zeros(shape, dtype="int64"), none, np.ones(shape, dtype=bool)
    micros, offset, na = [], [], []
    for value in arr.ravel().tolist():
        try:
            parsed = _parse(value)
        except TimestampError:
            parsed = None
        if parsed is None:
            micros.append(0)
            offset.append(False)
            na.append(True)
        else:
            micros.append((parsed[0] - _EPOCH) // dt.timedelta(microseconds=1))
            offset.append(parsed[1])
            na.append(False)
    return (
        np.array(micros, dtype="int64").reshape(arr.shape),
        np.array(offset, dtype=bool).reshape(arr.shape),
        np.array(na, dtype=bool).reshape(arr.shape),
    )


def queue_minutes_batch(issued: Any, called: Any) -> np.ndarray:
    """`queue_minutes` over arrays: float64 minutes, NaN for N/A (same rules, same values)."""
    import numpy as np

    a, off_a, na_a = _column(issued)
    b, off_b, na_b = _column(called)
    delta = b - a
    bad = na_a | na_b | (off_a != off_b) | (delta < 0) | (delta > MAX_MINUTES * _MICROS_PER_MINUTE)
    out = delta / _MICROS_PER_MINUTE
    return np.where(bad, np.nan, out)


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
    """The (issued, called) record keys `queue_minutes` reads in `model`, in order of use.

    Only direct `visit.FIELD` arguments count: those are what a record must carry.
    """
    pairs: dict[tuple[str, str], None] = {}
    for root in _roots(model):
        for node in root.walk():
            if node.op == "call" and node.data == ("plugin", "queue_minutes"):
                keys = [a.data if a.op == "field" else "" for a in node.args]
                if len(keys) == 2:
                    pairs.setdefault((keys[0], keys[1]))
    return tuple(pairs)


def scenario_values(model: StandardModel) -> tuple[str, ...]:
    """The texts `visit.scenario` is compared with in `model`'s conditions and formulas."""
    found: dict[str, None] = {}
    for root in _roots(model):
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


def make_timestamp_validator(
    pairs: Iterable[tuple[str, str]],
) -> Callable[[Mapping[str, Any]], list[VisitError]]:
    pairs = tuple(pairs)
    keys = tuple(dict.fromkeys(k for pair in pairs for k in pair if k))

    def validate_queue_timestamps(record: Mapping[str, Any]) -> list[VisitError]:
        errors: list[VisitError] = []
        parsed: dict[str, tuple[dt.datetime, bool] | None] = {}
        for key in keys:
            try:
                parsed[key] = _parse(record.get(key))
            except TimestampError as exc:
                errors.append(VisitError(key, "bad_timestamp", f"visit field `{key}`: {exc}"))
        for issued, called in pairs:
            if issued not in parsed or called not in parsed:
                continue  # unreadable (reported above) or not a visit field
            a, b = parsed[issued], parsed[called]
            if a is None or b is None:
                continue  # N/A: no queue time, nothing to check
            if a[1] != b[1]:
                with_, without = (issued, called) if a[1] else (called, issued)
                errors.append(VisitError(
                    called, "bad_timestamp",
                    f"`{with_}` has a UTC offset and `{without}` has none: give both with an "
                    "offset or both without, or the queue time is off by hours",
                ))
                continue
            minutes = (b[0] - a[0]) / dt.timedelta(minutes=1)
            if minutes < 0:
                errors.append(VisitError(
                    called, "timestamp_order",
                    f"`{called}` ({_show(record.get(called))}) is earlier than `{issued}` "
                    f"({_show(record.get(issued))}): a client cannot be called before the "
                    "ticket is issued",
                ))
            elif minutes > MAX_MINUTES:
                errors.append(VisitError(
                    called, "implausible_wait",
                    f"`{issued}` ({_show(record.get(issued))}) and `{called}` "
                    f"({_show(record.get(called))}) are {minutes / 60:.1f} hours apart, more "
                    f"than a working day ({MAX_MINUTES // 60} h): check the date of either",
                ))
        return errors

    return validate_queue_timestamps


def make_scenario_validator(
    values: Iterable[str],
) -> Callable[[Mapping[str, Any]], list[VisitError]]:
    values = tuple(values)
    shown = ", ".join(f'"{v}"' for v in values)

    def validate_scenario(record: Mapping[str, Any]) -> list[VisitError]:
        scenario = record.get("scenario")
        if _blank(scenario):
            return [VisitError(
                "scenario", "missing_scenario",
                f"the visit has no scenario; this standard's items depend on it ({shown})",
            )]
        if scenario in values:
            return []
        hint = did_you_mean(str(scenario), values)
        return [VisitError(
            "scenario", "bad_scenario",
            f"scenario {_show(scenario)} is not one of {shown}"
            + (f"; did you mean \"{hint}\"?" if hint else ""),
        )]

    return validate_scenario


def validators_for(model: StandardModel) -> list[Callable[[Mapping[str, Any]], list[VisitError]]]:
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
    out: list[Callable[[Mapping[str, Any]], list[VisitError]]] = []
    pairs = timestamp_pairs(model)
    if pairs:
        out.append(make_timestamp_validator(pairs))
    if model.name.startswith(OWN_PREFIX):
        values = scenario_values(model)
        if values:
            out.append(make_scenario_validator(values))
    return out
