"""Admin page of the working-day calendar: the holidays and make-up working days entered for
years the chinesecalendar package does not cover, with a warning while the current or the next
year is one of them."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import extract, func, select

from core import workdays
from core.accounts.models import Role
from core.db import db
from core.errors import DomainError
from core.forms import ConfirmForm
from core.holidays.forms import HolidayForm
from core.holidays.models import Holiday
from core.i18n import local_now
from core.permissions import access
from core.refusals import refused
from core.spreadsheets.exports import Column, Table, wants_export
from core.views_util import Page

bp = Blueprint("calendar_admin", __name__, url_prefix="/admin/calendar")


def _year_filter() -> int | None:
    year = request.args.get("year", type=int)
    return year if year and 1900 < year < 3000 else None


HOLIDAYS = Table("calendar", [
    Column(_l("Day"), "day"),
    Column(_l("Kind"),
           lambda h: workdays.KIND_LABELS[workdays.KIND_WORKDAY if h.is_workday else workdays.KIND_HOLIDAY]),
    Column(_l("Name"), "name"),
    Column(_l("In use"), lambda h: not workdays.covered(h.day.year)),
])


def _holidays_stmt():
    year = _year_filter()
    stmt = select(Holiday).order_by(Holiday.day)
    if year:
        stmt = stmt.where(Holiday.day >= dt.date(year, 1, 1), Holiday.day <= dt.date(year, 12, 31))
    return stmt


def _page(form, status=200):
    year = _year_filter()
    stmt = _holidays_stmt()
    this_year = local_now().year
    watched = [this_year, this_year + 1]
    year_of = extract("year", Holiday.day)
    entered = {int(y): n for y, n in db.session.execute(
        select(year_of, func.count())
        .where(Holiday.day >= dt.date(this_year, 1, 1), Holiday.day <= dt.date(this_year + 1, 12, 31))
        .group_by(year_of)
    )}
    warnings = [{"year": y, "entered": entered.get(y, 0)} for y in workdays.uncovered_years(watched)]
    span = workdays.package_years()
    return render_template(
        "core/holidays/index.html", page=Page(stmt, per_page=50), form=form, delete_form=ConfirmForm(),
        year=year, warnings=warnings, first_year=span.start, last_year=span.stop - 1,
        covered=workdays.covered, kind_labels=workdays.KIND_LABELS,
    ), status


@bp.route("/", methods=["GET", "POST"])
@access(Role.ADMIN)
def index():
    if request.method == "GET" and wants_export():
        return HOLIDAYS.download(_holidays_stmt())
    form = HolidayForm()
    if form.validate_on_submit():
        try:
            holiday = workdays.add_holiday(form.day.data, form.kind.data == workdays.KIND_WORKDAY,
                                           form.name.data, actor=current_user)
        except DomainError as e:
            return refused(e, form=form, render=lambda status: _page(form, status))
        flash(_("%(day)s entered.", day=holiday.day.isoformat()), "success")
        return redirect(url_for("calendar_admin.index", year=holiday.day.year))
    return _page(form, 422 if form.errors else 200)


@bp.route("/<int:holiday_id>/delete", methods=["POST"])
@access(Role.ADMIN)
def delete(holiday_id):
    holiday = db.session.get(Holiday, holiday_id)
    if holiday is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    day = holiday.day
    workdays.delete_holiday(holiday, actor=current_user)
    flash(_("%(day)s removed.", day=day.isoformat()), "success")
    return redirect(url_for("calendar_admin.index", year=day.year))
