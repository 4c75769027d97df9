"""Chinese working days (工作日): statutory holidays and make-up working days (调休).

For the years the `chinesecalendar` package covers, its data decides. For any other year a
working day is a Monday to Friday, except the holidays an admin has entered in the Holiday
table, plus the make-up working days entered there (`/admin/calendar`). The admin page warns
while the current or the next year is not covered.

Counting follows the procurement rules' "within N working days": the day of the event is
not counted, day 1 is the first working day after it, and the period ends at the end of
day N in Beijing time (`working_deadline`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache

import chinese_calendar
from chinese_calendar.constants import holidays as _PACKAGE_HOLIDAYS
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import audit
from core.db import db
from core.errors import Invalid
from core.holidays.models import Holiday
from core.i18n import LOCAL_TZ

END_OF_DAY = dt.time(23, 59, 59, 999999)
# No sane calendar has a year without a working day; this only stops a runaway loop.
_MAX_STEPS_PER_DAY = 370


@cache
def package_years() -> range:
    """The years whose holidays the installed chinesecalendar package knows."""
    years = {d.year for d in _PACKAGE_HOLIDAYS}
    return range(min(years), max(years) + 1)


def covered(year: int) -> bool:
    return year in package_years()


def uncovered_years(years: Iterable[int]) -> list[int]:
    """Those of `years` the package does not cover (sorted), for a warning."""
    return sorted({y for y in years if not covered(y)})


def calendar_gaps(*moments) -> list[int]:
    """The years of `moments` (datetimes, shown in local time, or dates; None skipped) that the
    calendar package does not cover and for which no holiday has been entered yet: a deadline
    counted through such a year treats every Monday to Friday as a working day."""
    years = set()
    for m in moments:
        if m is None:
            continue
        years.add(m.astimezone(LOCAL_TZ).year if isinstance(m, dt.datetime) else m.year)
    gaps = []
    for year in uncovered_years(years):
        entered = db.session.scalar(select(Holiday.id).where(
            Holiday.day >= dt.date(year, 1, 1), Holiday.day <= dt.date(year, 12, 31)).limit(1))
        if entered is None:
            gaps.append(year)
    return gaps


class WorkCalendar:
    """Answers working-day questions, reading admin-entered days once per uncovered year.

    Make one per computation; the module functions below do.
    """

    def __init__(self):
        self._entered: dict[int, dict[dt.date, bool]] = {}

    def _entered_days(self, year: int) -> dict[dt.date, bool]:
        if year not in self._entered:
            rows = db.session.execute(
                select(Holiday.day, Holiday.is_workday)
                .where(Holiday.day >= dt.date(year, 1, 1), Holiday.day <= dt.date(year, 12, 31))
            )
            self._entered[year] = {row.day: row.is_workday for row in rows}
        return self._entered[year]

    def is_working_day(self, day: dt.date) -> bool:
        day = _as_date(day)
        if covered(day.year):
            return chinese_calendar.is_workday(day)
        entered = self._entered_days(day.year).get(day)
        if entered is not None:
            return entered
        return day.weekday() < 5

    def add(self, start: dt.date, n: int) -> dt.date:
        start = _as_date(start)
        step = 1 if n >= 0 else -1
        day, remaining = start, abs(n)
        for _step in range(_MAX_STEPS_PER_DAY * (remaining + 1)):
            if remaining == 0:
                return day
            day += dt.timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        raise ValueError(f"no {n} working days found from {start}: check the holidays entered")

    def between(self, start: dt.date, end: dt.date) -> int:
        start, end = _as_date(start), _as_date(end)
        if end < start:
            return -self.between(end, start)
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        raise TypeError("give a date; turn a time into a Beijing date with core.i18n.to_local(t).date()")
    return value


def is_working_day(day: dt.date) -> bool:
    """Whether people work on `day` in mainland China."""
    return WorkCalendar().is_working_day(day)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The Nth working day after `start` (before it, for a negative N); `start` itself for 0.

    `start` is not counted, whether or not it is a working day.
    """
    return WorkCalendar().add(start, n)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """The number of working days after `start` up to and including `end` (negative when
    `end` is earlier), so that ``working_days_between(d, add_working_days(d, n)) == n``."""
    return WorkCalendar().between(start, end)


def working_deadline(event_at: dt.datetime, n: int) -> dt.datetime:
    """The end (23:59:59.999999 Beijing time, as aware UTC) of the Nth working day after the
    Beijing date of `event_at` — e.g. the close of a challenge window of N working days after
    the result is published."""
    if event_at.tzinfo is None:
        raise ValueError("event_at must be an aware datetime")
    if n < 1:
        raise ValueError("a period of working days has at least one")
    local_day = event_at.astimezone(LOCAL_TZ).date()
    last = add_working_days(local_day, n)
    return dt.datetime.combine(last, END_OF_DAY, LOCAL_TZ).astimezone(dt.UTC)


# --- the admin's entries --------------------------------------------------------------------

KIND_HOLIDAY = "holiday"
KIND_WORKDAY = "workday"
KIND_LABELS = {KIND_HOLIDAY: _l("Holiday (day off)"), KIND_WORKDAY: _l("Make-up working day")}


def add_holiday(day: dt.date, is_workday: bool, name: str, actor) -> Holiday:
    """Enter a statutory holiday or a make-up working day for a year the package does not cover."""
    name = (name or "").strip()
    if covered(day.year):
        span = package_years()
        raise Invalid(_("The calendar package already covers %(year)d (it knows %(first)d–%(last)d); "
                        "its data is used for that year.", year=day.year, first=span.start, last=span.stop - 1),
                      "day")
    if is_workday and day.weekday() < 5:
        raise Invalid(_("%(day)s is a weekday and so already a working day.", day=day.isoformat()), "day")
    if len(name) > 60:
        raise Invalid(_("At most 60 characters."), "name")
    if db.session.scalar(select(Holiday.id).where(Holiday.day == day)) is not None:
        raise Invalid(_("%(day)s has already been entered.", day=day.isoformat()), "day")
    holiday = Holiday(day=day, is_workday=is_workday, name=name)
    try:
        with db.session.begin_nested():
            db.session.add(holiday)
    except IntegrityError:
        # Another admin entered the same day a moment ago.
        raise Invalid(_("%(day)s has already been entered.", day=day.isoformat()), "day") from None
    audit.record("calendar.holiday_add", holiday, actor=actor, day=day,
                 kind=KIND_WORKDAY if is_workday else KIND_HOLIDAY, name=name)
    return holiday


def delete_holiday(holiday: Holiday, actor) -> None:
    audit.record("calendar.holiday_delete", holiday, actor=actor, day=holiday.day,
                 kind=KIND_WORKDAY if holiday.is_workday else KIND_HOLIDAY, name=holiday.name)
    db.session.delete(holiday)
    db.session.flush()
