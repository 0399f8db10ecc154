"""Field control ("double control" of SBM programmes): was each visit made inside its
agreed window, and was its questionnaire submitted in time?

    from sbm_engine.field_control import FieldControl
    control = FieldControl(max_submit_days=2, holidays="ru-2026.toml")
    control.check(record)        # [] when the visit passes, else VisitErrors
    control.validator()          # the same, in the shape of a plugin visit validator

Checks, on the record as read (the visit fields of the JSONL/CSV input):

* **window** (unless ``window=False``): `date` must lie within `scheduled_from` …
  `scheduled_to`, both ends included. A visit without these fields is not checked; with
  only one of them, only that end is. Otherwise ``outside_window`` (item ``date``).
* **submission** (when `max_submit_days` is not None): `submitted` must come at most
  that many working days after `date` (see `sbm_engine.working_days`: working days after
  the visit day up to and including the submission day). A visit without `submitted`
  is not checked. Otherwise ``late_submission`` (item ``submitted``).
* a date that cannot be read, or that makes no sense (a window that ends before it
  starts, a questionnaire submitted before the visit, a window or a submission with no
  visit date), is ``bad_timestamp`` naming the field.

Dates are ISO 8601 dates (``2026-03-14``) or dates and times (``2026-03-14T10:05:00``,
with or without a UTC offset; read as `sbm_engine.timestamps` reads them, N/A values
``""``, ``na``, ``н/п`` counting as absent). Working days are counted between the days
as written (local days: an offset does not move a questionnaire to another day). The
window is compared by day, unless both the visit and that end of the window carry a
time of day (then by time; as written when only one of them has a UTC offset). A time
of exactly 00:00 without an offset is read as a date alone, which is how spreadsheets
store dates.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from .messages import message
from .runtime import VisitError
from .timestamps import TimestampError, blank
from .working_days import WorkingCalendar, load_calendar

if TYPE_CHECKING:
    from .hookspecs import Validator

__all__ = [
    "BAD_TIMESTAMP",
    "FIELDS",
    "LATE_SUBMISSION",
    "OUTSIDE_WINDOW",
    "FieldControl",
    "read_day",
]

OUTSIDE_WINDOW = "outside_window"
LATE_SUBMISSION = "late_submission"
BAD_TIMESTAMP = "bad_timestamp"
#: The visit fields field control reads.
FIELDS = ("date", "scheduled_from", "scheduled_to", "submitted")

_CACHE_LIMIT = 1 << 16


class _Moment(NamedTuple):
    day: dt.date
    at: dt.datetime | None  # the date and time, when a time of day was given


def read_day(value: Any) -> _Moment | None:
    """(the day as written, the datetime if a time of day was given) or None for N/A.

    Raises `TimestampError` for a value that is present but not an ISO date or date and
    time. A naive time of exactly midnight counts as no time (a spreadsheet date)."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                return _Moment(dt.date.fromisoformat(text), None)
            except ValueError:
                pass
        if blank(text):
            return None
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise TimestampError(message("visit.time.not_day", value=repr(text))) from None
        return _moment(moment)
    if blank(value):
        return None
    if isinstance(value, dt.datetime):
        return _moment(value)
    if isinstance(value, dt.date):
        return _Moment(value, None)
    if type(value).__name__ == "datetime64":
        micros = int(value.astype("datetime64[us]").astype("int64"))
        return _moment(dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=micros))
    raise TimestampError(message("visit.time.not_day", value=repr(value)))


def _moment(moment: dt.datetime) -> _Moment:
    if moment.tzinfo is None and moment.time() == dt.time(0):
        return _Moment(moment.date(), None)
    return _Moment(moment.date(), moment)


def _before(a: _Moment, b: _Moment) -> bool:
    """`a` is earlier than `b`: by time when both have one, else by day."""
    if a.at is None or b.at is None:
        return a.day < b.day
    x, y = a.at, b.at
    if (x.tzinfo is None) != (y.tzinfo is None):  # one with an offset: compare as written
        x, y = x.replace(tzinfo=None), y.replace(tzinfo=None)
    return x < y


def _show(m: _Moment) -> str:
    return m.at.isoformat() if m.at is not None else m.day.isoformat()


class FieldControl:
    """The field-control checks of one programme: the window, and the submission deadline
    of `max_submit_days` working days (None: not checked) on a calendar.

    `holidays`: dates (date objects or ISO texts), or the path of a calendar file (text,
    one ISO date per line, or TOML with `holidays`, `workdays`, `weekend`; see
    `sbm_engine.working_days`). `workdays`: weekend days that are working days, added to
    the file's. `weekend`: weekdays off, default Saturday and Sunday (a file's `weekend`
    wins). `calendar`: a ready `WorkingCalendar` instead of these three.
    """

    def __init__(
        self,
        max_submit_days: int | None = None,
        holidays: Iterable[Any] | str | os.PathLike[str] = (),
        workdays: Iterable[Any] = (),
        window: bool = True,
        *,
        weekend: Iterable[int | str] = (5, 6),
        calendar: WorkingCalendar | None = None,
    ) -> None:
        if max_submit_days is not None and (
            isinstance(max_submit_days, bool)
            or not isinstance(max_submit_days, int)
            or max_submit_days < 0
        ):
            raise ValueError(
                f"max_submit_days must be a whole number >= 0, got {max_submit_days!r}"
            )
        if calendar is None:
            if isinstance(holidays, str | os.PathLike):
                base = load_calendar(holidays)
                calendar = WorkingCalendar(
                    base.holidays, base.workdays | set(workdays), base.weekend
                )
            else:
                calendar = WorkingCalendar(holidays, workdays, weekend)
        self.max_submit_days = max_submit_days
        self.window = window
        self.calendar = calendar
        self._cache: dict[tuple[str | None, ...], tuple[VisitError, ...]] = {}

    def __repr__(self) -> str:
        return (
            f"FieldControl(max_submit_days={self.max_submit_days!r}, window={self.window!r}, "
            f"calendar={self.calendar.describe()!r})"
        )

    def describe(self) -> str:
        """The rules, in one line, for reports."""
        rules = []
        if self.window:
            rules.append(message("control.rule.window"))
        if self.max_submit_days is not None:
            days = self.max_submit_days
            rules.append(
                message("control.rule.submit", days=days, calendar=self.calendar.describe())
            )
        return "; ".join(rules) or message("control.rule.nothing")

    def _read(self, key: str, value: Any, errors: list[VisitError]) -> Any:
        """The field as a `_Moment`, None when absent, or False when unreadable (the
        error then appended)."""
        try:
            return read_day(value)
        except TimestampError as exc:
            errors.append(
                VisitError(key, BAD_TIMESTAMP, message("visit.time.field", field=key, error=exc))
            )
            return False

    def check(self, record: Mapping[str, Any]) -> list[VisitError]:
        """The field-control errors of one visit record; empty when it passes."""
        get = record.get
        values = (get("date"), get("scheduled_from"), get("scheduled_to"), get("submitted"))
        # Visits repeat the same few dates: the errors of texts already seen are reused.
        if all(type(v) is str or v is None for v in values):
            known = self._cache.get(values)
            if known is None:
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                known = self._cache[values] = tuple(self._check(*values))
            return list(known)
        return self._check(*values)

    def _check(self, date: Any, start: Any, end: Any, submitted: Any) -> list[VisitError]:
        errors: list[VisitError] = []
        visit = self._read("date", date, errors)
        no_date = False
        if self.window:
            lo = self._read("scheduled_from", start, errors)
            hi = self._read("scheduled_to", end, errors)
            if lo and hi and _before(hi, lo):
                errors.append(
                    VisitError(
                        "scheduled_to",
                        BAD_TIMESTAMP,
                        message("visit.time.window_reversed", end=_show(hi), start=_show(lo)),
                    )
                )
            elif visit:
                if lo and _before(visit, lo):
                    errors.append(
                        VisitError(
                            "date",
                            OUTSIDE_WINDOW,
                            message("visit.time.before_window", date=_show(visit), start=_show(lo)),
                        )
                    )
                elif hi and _before(hi, visit):
                    errors.append(
                        VisitError(
                            "date",
                            OUTSIDE_WINDOW,
                            message("visit.time.after_window", date=_show(visit), end=_show(hi)),
                        )
                    )
            elif visit is None and (lo or hi):
                no_date = True
        if self.max_submit_days is not None:
            sent = self._read("submitted", submitted, errors)
            if sent and visit:
                if _before(sent, visit):
                    errors.append(
                        VisitError(
                            "submitted",
                            BAD_TIMESTAMP,
                            message(
                                "visit.time.submitted_before",
                                submitted=_show(sent),
                                date=_show(visit),
                            ),
                        )
                    )
                else:
                    late = self.calendar.count(visit.day, sent.day)
                    if late > self.max_submit_days:
                        errors.append(
                            VisitError(
                                "submitted",
                                LATE_SUBMISSION,
                                message(
                                    "visit.time.late",
                                    submitted=sent.day.isoformat(),
                                    days=late,
                                    date=visit.day.isoformat(),
                                    limit=self.max_submit_days,
                                ),
                            )
                        )
            elif sent and visit is None:
                no_date = True
        if no_date:
            errors.insert(
                0,
                VisitError("date", BAD_TIMESTAMP, message("visit.time.no_date")),
            )
        return errors

    def validator(self) -> Validator:
        """`check` as a visit validator, for the `sbm_visit_validators` hook."""

        def validate_field_control(record: Mapping[str, Any]) -> list[VisitError]:
            return self.check(record)

        return validate_field_control
