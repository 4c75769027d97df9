"""The admin page of the working-day calendar: the warning for uncovered years, entering and
removing days (audited), refusals that change nothing."""

from __future__ import annotations

import datetime as dt

import time_machine
from sqlalchemy import func, select

from core import workdays
from core.audit import AuditEvent
from core.holidays.models import Holiday
from tests.support.pages import html_text

FALLBACK = workdays.package_years().stop
URL = "/admin/calendar/"


def _count(session):
    return session.scalar(select(func.count()).select_from(Holiday))


def test_warns_while_the_next_year_is_not_covered(client, make_user, login):
    with time_machine.travel(dt.datetime(FALLBACK - 1, 6, 1, 4, 0, tzinfo=dt.UTC), tick=False):
        login(make_user("admin"))
        resp = client.get(URL)
    assert resp.status_code == 200
    text = html_text(resp)
    assert f"日历数据包未覆盖 {FALLBACK} 年" in text
    assert "尚未录入任何日期" in text
    assert f"日历数据包未覆盖 {FALLBACK - 1} 年" not in text


def test_no_warning_when_both_years_are_covered(client, make_user, login):
    with time_machine.travel(dt.datetime(2024, 6, 1, tzinfo=dt.UTC), tick=False):
        login(make_user("admin"))
        body = client.get(URL).get_data(as_text=True)
    assert 'data-testid="uncovered-year"' not in body


def test_admin_enters_and_removes_a_holiday_audited(client, make_user, login, session):
    with time_machine.travel(dt.datetime(FALLBACK - 1, 12, 1, tzinfo=dt.UTC), tick=False):
        login(make_user("admin"))
        day = dt.date(FALLBACK, 10, 1)
        resp = client.post(URL, data={"day": day.isoformat(), "kind": "holiday", "name": "国庆节"})
        assert resp.status_code == 302 and resp.headers["Location"].endswith(f"?year={FALLBACK}")
        holiday = session.scalar(select(Holiday).where(Holiday.day == day))
        assert holiday is not None and not holiday.is_workday and holiday.name == "国庆节"
        assert not workdays.is_working_day(day)
        added = session.scalar(select(AuditEvent).where(AuditEvent.action == "calendar.holiday_add"))
        assert added.object_id == str(holiday.id) and added.summary == {"day": day.isoformat(), "kind": "holiday",
                                                                         "name": "国庆节"}

        text = html_text(client.get(URL, query_string={"year": FALLBACK}))
        assert f"{day.isoformat()}" in text and "国庆节" in text and "该年已录入 1 天" in text

        resp = client.post(f"/admin/calendar/{holiday.id}/delete")
        assert resp.status_code == 302
        assert _count(session) == 0
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "calendar.holiday_delete"))
        assert workdays.is_working_day(day) == (day.weekday() < 5)


def test_make_up_working_day_on_a_weekend(client, make_user, login, session):
    login(make_user("admin"))
    saturday = dt.date(FALLBACK, 9, 1)
    saturday += dt.timedelta(days=(5 - saturday.weekday()) % 7)
    resp = client.post(URL, data={"day": saturday.isoformat(), "kind": "workday", "name": "调休"})
    assert resp.status_code == 302
    assert workdays.is_working_day(saturday)


def test_refusals_show_the_reason_and_change_nothing(client, make_user, login, session):
    login(make_user("admin"))
    cases = [
        ({"day": "2025-10-09", "kind": "holiday", "name": ""}, "日历数据包已覆盖 2025 年"),
        ({"day": "", "kind": "holiday", "name": ""}, "请输入日期"),
        ({"day": "not-a-date", "kind": "holiday", "name": ""}, ""),
        ({"day": f"{FALLBACK}-03-03", "kind": "bogus", "name": ""}, ""),
    ]
    monday = dt.date(FALLBACK, 3, 1)
    monday += dt.timedelta(days=(0 - monday.weekday()) % 7)
    cases.append(({"day": monday.isoformat(), "kind": "workday", "name": ""}, "本来就是工作日"))
    for data, message in cases:
        resp = client.post(URL, data=data)
        assert resp.status_code == 422, data
        assert message in html_text(resp), data
    assert _count(session) == 0
    assert client.post(URL, data={"day": monday.isoformat(), "kind": "holiday"}).status_code == 302
    resp = client.post(URL, data={"day": monday.isoformat(), "kind": "holiday"})
    assert resp.status_code == 422 and "已经录入过" in html_text(resp)
    assert _count(session) == 1


def test_rows_in_covered_years_are_marked_unused(client, make_user, login, session):
    session.add(Holiday(day=dt.date(2025, 10, 9), is_workday=False, name="旧数据"))
    session.flush()
    login(make_user("admin"))
    text = html_text(client.get(URL, query_string={"year": 2025}))
    assert "旧数据" in text and "该年以数据包为准" in text
    assert workdays.is_working_day(dt.date(2025, 10, 9))  # the package still decides


def test_only_admins_see_it_in_the_navigation(client, make_user, login):
    login(make_user("officer"))
    assert client.get(URL).status_code == 403
    assert 'data-endpoint="calendar_admin.index"' not in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(make_user("admin"))
    assert 'data-endpoint="calendar_admin.index"' in client.get("/").get_data(as_text=True)
