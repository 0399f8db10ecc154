"""Working days: weekends, public holidays and transferred working days, counted exactly.

A `WorkingCalendar` says which days are working days: every day but the weekend
(Saturday and Sunday unless told otherwise), minus the listed holidays, plus the listed
working days that fall on a weekend (the Russian production calendar moves a day off
and makes a Saturday a working day in some years). `count(a, b)` is the number of
working days after `a` up to and including `b`: a questionnaire submitted on `b` for a
visit on `a` came that many working days later. Visit on Friday, submitted on Monday: 1;
on the same day or the weekend after: 0.

Counting is arithmetic (whole weeks, then the listed days by bisection), so it costs the
same for one day or a century and is exact: 1M counts take about a second in pure Python.

A calendar file is either plain text, one ISO date per line (holidays; blank lines and
``#`` comments ignored), or TOML::

    # the Russian production calendar 2026 (Government decree of 24.09.2025 No. 1466)
    holidays = [2026-01-01, 2026-01-02, 2026-01-05, ...]
    workdays = []            # weekend days that are working days (transferred)
    weekend = ["sat", "sun"] # optional; the default

Dates in TOML may be TOML dates or ISO strings.
"""

from __future__ import annotations

import datetime as dt
import os
from bisect import bisect_right
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["WEEKDAYS", "CalendarError", "WorkingCalendar", "load_calendar"]

#: Weekday names as a calendar file may give them (Monday is 0, as in `date.weekday()`).
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RU = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
_TOML_KEYS = frozenset({"holidays", "workdays", "weekend", "name", "description"})


class CalendarError(ValueError):
    """A calendar that cannot be used: an unreadable date, a day both a holiday and a
    working day, no working day in the week, a file that cannot be read."""


def _day(value: Any, where: str = "") -> dt.date:
    """A date from a date, a datetime (its date) or an ISO text; CalendarError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    at = f"{where}: " if where else ""
    raise CalendarError(f"{at}{value!r} is not an ISO date such as 2026-01-01")


def _weekday(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str):
        key = value.strip().casefold()
        for names in (WEEKDAYS, _FULL, _RU):
            if key in names:
                return names.index(key)
    raise CalendarError(
        f"{value!r} is not a weekday: give mon, tue, wed, thu, fri, sat, sun (or 0-6, Monday 0)"
    )


class WorkingCalendar:
    """Which days are working days, and how many lie between two dates.

    `holidays` are days off (those on a weekend change nothing); `workdays` are weekend
    days that are working days; `weekend` the weekdays off (default Saturday and Sunday,
    by `date.weekday()` number or name). A day in both lists is a `CalendarError`.
    """

    __slots__ = ("_holidays", "_per_week", "_pre", "_workdays", "holidays", "weekend", "workdays")

    def __init__(
        self,
        holidays: Iterable[Any] = (),
        workdays: Iterable[Any] = (),
        weekend: Iterable[int | str] = (5, 6),
    ) -> None:
        self.weekend: frozenset[int] = frozenset(_weekday(w) for w in weekend)
        if len(self.weekend) == 7:
            raise CalendarError("the weekend cannot be the whole week")
        self.holidays: frozenset[dt.date] = frozenset(_day(d) for d in holidays)
        self.workdays: frozenset[dt.date] = frozenset(_day(d) for d in workdays)
        both = sorted(self.holidays & self.workdays)
        if both:
            days = ", ".join(d.isoformat() for d in both[:5])
            raise CalendarError(f"a day cannot be both a holiday and a working day: {days}")
        # only the listed days that change something, as ordinals, for bisection
        self._holidays = sorted(d.toordinal() for d in self.holidays if not self._off(d))
        self._workdays = sorted(d.toordinal() for d in self.workdays if self._off(d))
        self._per_week = 7 - len(self.weekend)
        # ordinals 0..6 fall on Sunday, Monday, …, Saturday; _pre[r]: working weekdays among
        # the first r of them
        self._pre = [0] * 8
        for r in range(7):
            self._pre[r + 1] = self._pre[r] + ((r + 6) % 7 not in self.weekend)

    def _off(self, day: dt.date) -> bool:
        return day.weekday() in self.weekend

    def is_working(self, day: dt.date) -> bool:
        """Whether `day` is a working day."""
        if day in self.workdays:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def _upto(self, ordinal: int) -> int:
        """Working weekdays (the lists aside) among the ordinals 0..`ordinal`."""
        weeks, rest = divmod(ordinal + 1, 7)
        return weeks * self._per_week + self._pre[rest]

    def count(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end`; minus the count from
        `end` to `start` when `end` is earlier. So `count(a, c) == count(a, b) +
        count(b, c)` for any three dates."""
        a, b = start.toordinal(), end.toordinal()
        n = self._upto(b) - self._upto(a)
        if self._holidays:
            n -= bisect_right(self._holidays, b) - bisect_right(self._holidays, a)
        if self._workdays:
            n += bisect_right(self._workdays, b) - bisect_right(self._workdays, a)
        return n

    def add(self, day: dt.date, n: int) -> dt.date:
        """The `n`-th working day after `day` (`day` itself for 0); n must not be negative."""
        if n < 0:
            raise ValueError("n must not be negative")
        while n:
            day += dt.timedelta(days=1)
            n -= self.is_working(day)
        return day

    @property
    def years(self) -> frozenset[int]:
        """The years the listed days belong to (empty for a weekends-only calendar)."""
        return frozenset(d.year for d in self.holidays | self.workdays)

    def describe(self) -> str:
        """One line for reports: the weekend and how many days are listed."""
        off = ", ".join(WEEKDAYS[d].capitalize() for d in sorted(self.weekend)) or "none"
        parts = [f"weekend {off}"]
        if self.holidays or self.workdays:
            years = sorted(self.years)
            span = f"{years[0]}" if len(years) == 1 else f"{years[0]}–{years[-1]}"
            parts.append(
                f"{len(self.holidays)} holidays, {len(self.workdays)} working weekend days ({span})"
            )
        else:
            parts.append("no holidays")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "weekend": [WEEKDAYS[d] for d in sorted(self.weekend)],
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "workdays": sorted(d.isoformat() for d in self.workdays),
        }

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> WorkingCalendar:
        return load_calendar(path)


def load_calendar(path: str | os.PathLike[str]) -> WorkingCalendar:
    """A calendar from a file: TOML (``.toml``: `holidays`, `workdays`, `weekend`) or text,
    one ISO holiday per line. Raises `CalendarError` naming the file (and line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CalendarError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CalendarError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if path.suffix.lower() == ".toml":
        return _from_toml(path, text)
    holidays = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if entry:
            holidays.append(_day(entry, f"{path}:{number}"))
    return WorkingCalendar(holidays)


def _from_toml(path: Path, text: str) -> WorkingCalendar:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"{path}: {exc}") from exc
    unknown = sorted(set(data) - _TOML_KEYS)
    if unknown:
        raise CalendarError(
            f"{path}: unknown key {unknown[0]!r}; a calendar has holidays, workdays and weekend"
        )
    lists: dict[str, list[Any]] = {}
    for key in ("holidays", "workdays", "weekend"):
        value = data.get(key, [])
        if not isinstance(value, list):
            raise CalendarError(f"{path}: `{key}` must be a list")
        lists[key] = value
    try:
        return WorkingCalendar(
            [_day(d, f"{path}: holidays") for d in lists["holidays"]],
            [_day(d, f"{path}: workdays") for d in lists["workdays"]],
            lists["weekend"] if "weekend" in data else (5, 6),
        )
    except CalendarError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise CalendarError(f"{path}: {exc}") from None
