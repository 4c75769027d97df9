"""Calendar months as the district counts them (Asia/Shanghai), for figures grouped by month.

Times are stored as naive UTC. China has kept UTC+8 without daylight saving since 1991, so a
stored time's local month is the month of `time + 8 hours` — one expression on both databases,
which keeps month grouping inside SQL.
"""

from __future__ import annotations

import calendar
import datetime as dt

from sqlalchemy import func, literal_column

from core.db import db
from core.i18n import LOCAL_TZ, to_local

UTC_OFFSET_HOURS = 8


def local_month(column):
    """SQL expression: the 'YYYY-MM' of a UTC datetime column in Shanghai time."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", column, f"+{UTC_OFFSET_HOURS} hours")
    return func.to_char(column + literal_column(f"interval '{UTC_OFFSET_HOURS} hours'"), "YYYY-MM")


def last_months(now: dt.datetime, count: int = 12) -> list[str]:
    """The `count` months up to and including now's local month, oldest first, as 'YYYY-MM'."""
    local = to_local(now)
    y, m = local.year, local.month
    keys = []
    for _ in range(count):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return keys[::-1]


def month_start(key: str) -> dt.datetime:
    """The UTC instant at which the local month 'YYYY-MM' begins."""
    return dt.datetime(int(key[:4]), int(key[5:7]), 1, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day `months` later (or the month's last day, if shorter)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))
