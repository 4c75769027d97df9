"""URL arguments of the shared infrastructure pages (working-day calendar)."""

import datetime as dt

from core import workdays
from core.holidays.models import Holiday
from tests.support.access.registry import builds


@builds("holiday_id")
def _holiday(ctx):
    session = ctx["session"]
    holiday = Holiday(day=dt.date(workdays.package_years().stop, 3, 3), is_workday=False, name="测试")
    session.add(holiday)
    session.flush()
    return holiday.id
