"""Language choice and the display of times (stored in UTC, shown in Asia/Shanghai)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from core.money import CENT

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
LANG_COOKIE = "lang"


def select_locale() -> str:
    langs = current_app.config["LANGUAGES"]
    choice = request.cookies.get(LANG_COOKIE) if request else None
    if choice in langs:
        return choice
    user = current_user if request else None
    if user is not None and getattr(user, "is_authenticated", False) and user.locale in langs:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale() -> str:
    """'zh_CN' or 'en' (Babel itself calls Simplified Chinese 'zh_Hans_CN')."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def to_local(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(LOCAL_TZ)


def local_now() -> dt.datetime:
    return dt.datetime.now(LOCAL_TZ)


def fmt_datetime(value: dt.datetime | None, seconds: bool = False) -> str:
    """Shanghai time in a fixed, unambiguous form for both languages."""
    if value is None:
        return ""
    return to_local(value).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def fmt_time(value: dt.datetime | None) -> str:
    """Shanghai time of day, HH:MM."""
    return to_local(value).strftime("%H:%M") if value is not None else ""


def fmt_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = to_local(value).date()
    return value.isoformat()


def fmt_money(value: Decimal | None) -> str:
    if value is None:
        return ""
    # Both locales group by thousands with "," and use "." (zh_CN and en alike), so Python's own
    # formatting gives the same text as Babel's pattern "#,##0.00" at a fraction of its cost (lists
    # show many amounts). Half up, as amounts are rounded in China.
    return f"¥{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):,}"


def parse_local_datetime(text: str) -> dt.datetime:
    """Parse 'YYYY-MM-DD HH:MM' or the HTML datetime-local form as Shanghai time; return UTC."""
    text = text.strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=LOCAL_TZ).astimezone(dt.UTC)
        except ValueError:
            continue
    raise ValueError(text)


_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def as_data(value):
    """Data shown in the page (a name, a title, a place as entered), marked with its language when
    it is Chinese: screen readers read it in Chinese in the English UI, and the English UI's test
    tells it from interface text."""
    if value is None or value == "":
        return value
    text = str(value)
    if not _CJK.search(text):
        return value
    return Markup('<span lang="zh-CN">%s</span>') % text


def init_app(app):
    app.jinja_env.filters["data"] = as_data
    app.jinja_env.filters["datetime"] = fmt_datetime
    app.jinja_env.filters["date"] = fmt_date
    app.jinja_env.filters["time"] = fmt_time
    app.jinja_env.filters["money"] = fmt_money
    app.jinja_env.globals["current_locale"] = current_locale
    # Pager links keep the view's own arguments (e.g. an id in the path) beside the query.
    app.jinja_env.filters["combine_view_args"] = lambda args: {**(request.view_args or {}), **args}
