"""Requesting reports produced in the background: the provider report (a provider its own, from
its performance page; officers any provider's) and the monthly briefing (officers), plus their
forms on the download page (/reports/, core/reports.py)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import or_, select

from core import signals
from core.accounts.models import Role
from core.db import db, utcnow
from core.errors import Invalid
from core.i18n import to_local
from core.jobs import operations as jobs
from core.jobs.views import index_page
from core.permissions import access
from core.refusals import refused
from evaluation.reporting import briefing, provider_report
from evaluation.reporting.forms import BriefingForm, OfficerProviderReportForm, PeriodForm
from marketplace.providers.models import Provider, ProviderStatus

bp = Blueprint("report_requests", __name__, url_prefix="/reports")

BRIEFING = "briefing"


REPORTABLE = (ProviderStatus.APPROVED, ProviderStatus.SUSPENDED, ProviderStatus.BLACKLISTED)


def find_provider(text: str) -> Provider:
    """The provider with this credit code, or else the one with exactly this name; Invalid naming
    the field when there is none, or when the name is not unique."""
    text = (text or "").strip()
    found = db.session.scalars(select(Provider).where(Provider.status.in_(REPORTABLE), or_(
        Provider.credit_code == text.upper(), Provider.name == text)).limit(3)).all()
    by_code = [p for p in found if p.credit_code == text.upper()]
    if by_code:
        return by_code[0]
    if not found:
        raise Invalid(_l("No provider has this credit code or name."), "provider")
    if len(found) > 1:
        raise Invalid(_l("Several providers have this name: give the credit code."), "provider")
    return found[0]


def default_period() -> tuple[str, str]:
    """The last twelve whole local months up to today."""
    today = to_local(utcnow()).date()
    start = today.replace(year=today.year - 1, day=1)
    return start.isoformat(), today.isoformat()


def period_form(cls=PeriodForm, **kw):
    form = cls(**kw)
    if not form.is_submitted():
        form.date_from.data, form.date_to.data = default_period()
    return form


def validated_period(form) -> tuple[dt.date, dt.date] | None:
    """Dates from a submitted form, or None with the problem attached to its field."""
    if not form.validate_on_submit():
        return None
    try:
        return provider_report.parse_period(form.date_from.data, form.date_to.data)
    except Invalid as e:
        refused(e, form=form)
        return None


def queued_response(job, created: bool):
    db.session.commit()
    if created:
        jobs.dispatch(job)
        flash(_("The report is being produced; it will be ready to download on this page."), "success")
    else:
        flash(_("The same report is already being produced; it is shown below."), "info")
    return redirect(url_for("reports.index"))


def provider_report_panel(form=None) -> Markup:
    """The provider's own request form, shown on its performance page."""
    html = render_template("evaluation/reporting/_provider_report_form.html", form=form or period_form(),
                           action=url_for("performance.own_report"))
    return Markup(html)  # noqa: S704  # nosec B704  (an autoescaped template's output)


def request_panel(user, forms: dict):
    """The officers' request forms on the download page (core.signals.report_request_panels)."""
    if not user.has_role(Role.OFFICER):
        return ""
    provider_form = forms.get(provider_report.KIND) or period_form(OfficerProviderReportForm)
    briefing_form = forms.get(BRIEFING) or BriefingForm()
    if not briefing_form.is_submitted():
        briefing_form.month.data = last_month()
    html = render_template("evaluation/reporting/_report_requests.html", provider_form=provider_form,
                           briefing_form=briefing_form)
    return Markup(html)  # noqa: S704  # nosec B704  (an autoescaped template's output)


@bp.route("/provider", methods=["POST"])
@access(Role.OFFICER)
def provider_report_request():
    form = OfficerProviderReportForm()
    period = validated_period(form)
    provider = None
    if period is not None:
        try:
            provider = find_provider(form.provider.data)
        except Invalid as e:
            refused(e, form=form)
    if provider is None:
        return index_page(forms={provider_report.KIND: form}, status=422)
    job, created = provider_report.request(provider, *period, user=_user())
    return queued_response(job, created)


# --- the monthly briefing (evaluation.briefing.briefing_pdf) -----------------------------------------

def last_month() -> str:
    today = to_local(utcnow()).date()
    first = today.replace(day=1) - dt.timedelta(days=1)
    return first.strftime("%Y-%m")


def parse_month(raw: str | None) -> str:
    """The month as YYYY-MM, by the briefing's rule (evaluation.briefing.parse_month); Invalid
    naming the field otherwise."""
    try:
        year, month = briefing.parse_month(raw)
    except briefing.BadMonth as e:
        raise Invalid(str(e), "month") from None
    return f"{year:04d}-{month:02d}"


def register_briefing(app, briefing_pdf):
    """The briefing job kind, from `briefing_pdf(month, progress=None) -> bytes`."""

    def render(params, progress):
        month = parse_month(params.get("month"))
        return f"文化惠民工作简报-{month}.pdf", "application/pdf", briefing_pdf(month, progress=progress)

    jobs.register_job(app, BRIEFING, render, label=_l("Monthly briefing"), officers_read=True)


@bp.route("/briefing", methods=["POST"])
@access(Role.OFFICER)
def briefing_request():
    form = BriefingForm()
    month = None
    if form.validate_on_submit():
        try:
            month = parse_month(form.month.data)
        except Invalid as e:
            refused(e, form=form)
    if month is None:
        return index_page(forms={BRIEFING: form}, status=422)
    job, created = jobs.request_job(BRIEFING, {"month": month}, user=_user(),
                                    title=_("Monthly briefing %(month)s", month=month))
    return queued_response(job, created)


def _user():
    from flask_login import current_user

    return current_user._get_current_object()


def init_app(app):
    """Job kinds, the download page's request forms and their endpoints."""
    provider_report.register(app)
    register_briefing(app, briefing.briefing_pdf)
    signals.report_request_panels.connect(request_panel)
    app.register_blueprint(bp)
