"""Chinese working days: the package's statutory holidays and make-up working days, weekends,
the fallback year with admin-entered days, and deadlines at the end of a Beijing working day."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import workdays
from core.errors import Invalid
from core.workdays import (
    add_working_days,
    is_working_day,
    uncovered_years,
    working_days_between,
    working_deadline,
)

D = dt.date
OCT_OFF = [D(2025, 10, d) for d in range(1, 9)]
MAKE_UP = [D(2025, 9, 28), D(2025, 10, 11)]  # a Sunday and a Saturday worked for National Day 2025


def test_the_package_says_what_the_state_council_announced_for_national_day_2025():
    assert all(not chinese_calendar.is_workday(d) for d in OCT_OFF)
    assert all(chinese_calendar.is_workday(d) and d.weekday() >= 5 for d in MAKE_UP)
    assert chinese_calendar.is_workday(D(2025, 10, 9)) and not chinese_calendar.is_workday(D(2025, 10, 12))


def test_working_days_follow_the_package_across_national_day_2025():
    assert [is_working_day(d) for d in OCT_OFF] == [False] * 8
    assert all(is_working_day(d) for d in MAKE_UP)
    # Friday 26 Sept: the next working day is the make-up Sunday, not Monday.
    assert add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)
    # From 30 Sept: 9 and 10 Oct, then the make-up Saturday 11 Oct, then Monday 13 Oct.
    assert [add_working_days(D(2025, 9, 30), n) for n in (1, 2, 3, 4)] == [
        D(2025, 10, 9), D(2025, 10, 10), D(2025, 10, 11), D(2025, 10, 13)]
    assert add_working_days(D(2025, 9, 30), 7) == D(2025, 10, 16)
    assert working_days_between(D(2025, 9, 30), D(2025, 10, 8)) == 0
    assert working_days_between(D(2025, 9, 30), D(2025, 10, 12)) == 3
    # 26, 28, 29 and 30 Sept, then 9, 10, 11, 13, 14, 15 and 16 Oct.
    assert working_days_between(D(2025, 9, 25), D(2025, 10, 16)) == 4 + 7
    assert add_working_days(D(2025, 10, 9), -1) == D(2025, 9, 30)


def test_across_an_ordinary_weekend():
    friday, monday = D(2025, 11, 14), D(2025, 11, 17)
    assert not is_working_day(D(2025, 11, 15)) and not is_working_day(D(2025, 11, 16))
    assert add_working_days(friday, 1) == monday
    assert add_working_days(friday, 5) == D(2025, 11, 21)
    assert add_working_days(monday, -1) == friday
    assert working_days_between(friday, monday) == 1
    assert working_days_between(monday, friday) == -1
    assert add_working_days(D(2025, 11, 15), 0) == D(2025, 11, 15)


def test_dates_only():
    with pytest.raises(TypeError):
        is_working_day(dt.datetime(2025, 10, 9, 12, 0))


covered_days = st.dates(min_value=D(2024, 1, 1), max_value=D(2026, 10, 1))


@given(start=covered_days, n=st.integers(min_value=0, max_value=40))
def test_counting_and_adding_agree(start, n):
    end = add_working_days(start, n)
    assert working_days_between(start, end) == n
    if n:
        assert is_working_day(end) and end > start
        # Nothing skipped: the day before the result has one working day fewer.
        assert working_days_between(start, end - dt.timedelta(days=1)) == n - 1
        assert add_working_days(end, -n) <= start


# --- deadlines -------------------------------------------------------------------------------

def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_a_seven_working_day_window_over_national_day_ends_at_beijing_midnight():
    published = utc(2025, 9, 30, 2, 0)  # 10:00 on 30 Sept in Beijing
    assert working_deadline(published, 7) == utc(2025, 10, 16, 15, 59, 59, 999999)
    assert working_deadline(published, 1) == utc(2025, 10, 9, 15, 59, 59, 999999)


def test_the_beijing_date_of_the_event_counts_not_the_utc_date():
    # 23:30 on Sunday 28 Sept (a make-up working day) in Beijing: day 1 is Monday 29 Sept.
    assert working_deadline(utc(2025, 9, 28, 15, 30), 1) == utc(2025, 9, 29, 15, 59, 59, 999999)
    # Same UTC date, but 00:30 on 29 Sept in Beijing: day 1 is 30 Sept.
    assert working_deadline(utc(2025, 9, 28, 16, 30), 1) == utc(2025, 9, 30, 15, 59, 59, 999999)


def test_deadline_refuses_naive_times_and_empty_periods():
    with pytest.raises(ValueError):
        working_deadline(dt.datetime(2025, 9, 30, 10, 0), 7)
    with pytest.raises(ValueError):
        working_deadline(utc(2025, 9, 30, 2, 0), 0)


# --- a year the package does not know -----------------------------------------------------------

FALLBACK = workdays.package_years().stop  # the first year the installed package does not cover


def first(weekday: int, start: dt.date) -> dt.date:
    return start + dt.timedelta(days=(weekday - start.weekday()) % 7)


def test_uncovered_years():
    span = workdays.package_years()
    assert span.start <= 2025 < span.stop
    assert uncovered_years([2025, FALLBACK + 1, FALLBACK, 2025]) == [FALLBACK, FALLBACK + 1]
    assert uncovered_years([2024, 2025]) == []


def test_fallback_year_without_entries_counts_monday_to_friday(session):
    monday = first(0, D(FALLBACK, 3, 1))
    assert [is_working_day(monday + dt.timedelta(days=i)) for i in range(7)] == [True] * 5 + [False] * 2
    assert add_working_days(monday, 5) == monday + dt.timedelta(days=7)
    assert working_days_between(monday - dt.timedelta(days=1), monday + dt.timedelta(days=13)) == 10


def test_fallback_year_uses_the_holidays_an_admin_entered(session, make_user):
    admin = make_user("admin")
    off = [D(FALLBACK, 10, d) for d in range(1, 8)]
    for day in off:
        workdays.add_holiday(day, False, "国庆节", actor=admin)
    saturday = first(5, D(FALLBACK, 9, 24))  # a Saturday in the last week of September
    workdays.add_holiday(saturday, True, "国庆节调休", actor=admin)

    assert not any(is_working_day(d) for d in off)
    assert is_working_day(saturday)
    assert working_days_between(D(FALLBACK, 9, 30), D(FALLBACK, 10, 7)) == 0
    after = D(FALLBACK, 10, 8)
    while after.weekday() >= 5:
        after += dt.timedelta(days=1)
    assert add_working_days(D(FALLBACK, 9, 30), 1) == after
    friday = saturday - dt.timedelta(days=1)
    assert add_working_days(friday, 1) == saturday
    published = dt.datetime.combine(D(FALLBACK, 9, 30), dt.time(10), workdays.LOCAL_TZ)
    assert working_deadline(published, 1) == dt.datetime.combine(after, workdays.END_OF_DAY, workdays.LOCAL_TZ)


def test_entered_days_reproduce_the_package_when_it_does_not_know_the_year(session, make_user, monkeypatch):
    """Pretend the package stops at 2024, enter 2025's National Day as the State Council
    published it, and get the same answers as the package gives."""
    with_package = [add_working_days(D(2025, 9, 26), n) for n in range(1, 12)]
    monkeypatch.setattr(workdays, "package_years", lambda: range(2004, 2025))
    admin = make_user("admin")
    assert add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 29)  # nothing entered yet: weekends only
    for day in OCT_OFF:
        workdays.add_holiday(day, False, "国庆节、中秋节", actor=admin)
    for day in MAKE_UP:
        workdays.add_holiday(day, True, "调休", actor=admin)
    assert [add_working_days(D(2025, 9, 26), n) for n in range(1, 12)] == with_package


def test_entries_are_refused_for_covered_years_weekday_workdays_and_duplicates(session, make_user):
    admin = make_user("admin")
    with pytest.raises(Invalid) as e:
        workdays.add_holiday(D(2025, 10, 9), False, "", actor=admin)
    assert e.value.field == "day"
    weekday = first(2, D(FALLBACK, 5, 10))
    with pytest.raises(Invalid):
        workdays.add_holiday(weekday, True, "调休", actor=admin)
    workdays.add_holiday(weekday, False, "节日", actor=admin)
    with pytest.raises(Invalid):
        workdays.add_holiday(weekday, False, "again", actor=admin)
    with pytest.raises(Invalid) as e:
        workdays.add_holiday(weekday + dt.timedelta(days=1), False, "长" * 61, actor=admin)
    assert e.value.field == "name"
