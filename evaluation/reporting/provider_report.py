"""The provider report (PDF): one provider's performance over a period, produced by the job queue.

Contents: the score and grade at the period's end with each component (the published model of
evaluation.performance, with the current parameters), counted ratings by month (figures only:
no resident's identity and no comment), acceptance scores, on-time reporting, complaints,
sessions delivered, and the adjustment decisions concerning the provider; two SVG charts.

Months are local (Asia/Shanghai) months; the period covers whole local days from..to.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from core import charts
from core.db import db
from core.errors import Invalid
from core.i18n import to_local
from core.jobs import operations as jobs
from core.pdf import create_pdf
from evaluation.adjustment import operations as adjustment
from evaluation.adjustment.models import AdjustmentDecision
from evaluation.feedback.models import Complaint, ComplaintStatus, Rating, RatingStatus
from evaluation.performance import operations as performance
from marketplace.providers.models import Provider
from marketplace.sessions.models import ServiceSession, SessionState

KIND = "provider_report"
LOCAL = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has no daylight saving time
MAX_DAYS = 3 * 366
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TWO = Decimal("0.01")


def parse_period(start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    """('2026-01-01', '2026-06-30') → dates; Invalid naming the field for anything else."""
    dates = []
    for name, raw in (("date_from", start), ("date_to", end)):
        raw = (raw or "").strip()
        try:
            if not _DATE.fullmatch(raw):
                raise ValueError
            dates.append(dt.date.fromisoformat(raw))
        except ValueError:
            raise Invalid(_l("Give the date as YYYY-MM-DD."), name) from None
    if dates[0] > dates[1]:
        raise Invalid(_l("The period must start on or before the day it ends."), "date_from")
    if (dates[1] - dates[0]).days > MAX_DAYS:
        raise Invalid(_l("A report covers at most three years."), "date_to")
    return dates[0], dates[1]


def bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[first local midnight, the local midnight after the last day) in UTC."""
    lo = dt.datetime.combine(start, dt.time(), LOCAL).astimezone(dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), LOCAL).astimezone(dt.UTC)
    return lo, hi


def months(start: dt.date, end: dt.date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _month(moment: dt.datetime) -> str:
    return to_local(moment).strftime("%Y-%m")


def _mean(values) -> Decimal | None:
    values = list(values)
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(TWO, rounding=ROUND_HALF_UP)


@dataclass
class MonthRow:
    month: str
    ratings: int = 0
    content: Decimal | None = None
    organisation: Decimal | None = None
    venue: Decimal | None = None
    overall: Decimal | None = None
    delivered: int = 0
    attendance: int = 0
    accepted: int = 0
    disputed: int = 0
    acceptance_mean: Decimal | None = None
    due: int = 0
    on_time: int = 0
    missed: int = 0


@dataclass
class ReportData:
    provider: Provider
    start: dt.date
    end: dt.date
    result: performance.Result
    weights: dict
    rows: list[MonthRow] = field(default_factory=list)
    totals: MonthRow = None
    complaints: dict = field(default_factory=dict)
    decisions: list = field(default_factory=list)


def gather(provider_id: int, start: dt.date, end: dt.date, progress=None) -> ReportData:
    progress = progress or (lambda *_a: None)
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        raise LookupError(f"no provider {provider_id}")
    lo, hi = bounds(start, end)
    keys = months(start, end)
    by_month = {k: MonthRow(k) for k in keys}

    progress(0.1, _("Computing the score"))
    params = performance.Parameters.current()
    figures = performance.aggregate(hi, params, [provider_id]).get(provider_id) or performance.Figures()
    result = performance.compute(figures, params, performance.district_figures(hi, params))

    progress(0.25, _("Summing up the ratings"))
    stars = defaultdict(list)
    for created, content, organisation, venue in db.session.execute(
            select(Rating.created_at, Rating.content, Rating.organisation, Rating.venue).where(
                Rating.provider_id == provider_id, Rating.status == RatingStatus.COUNTED,
                Rating.created_at >= lo, Rating.created_at < hi)):
        stars[_month(created)].append((content, organisation, venue))
    for k, values in stars.items():
        row = by_month[k]
        row.ratings = len(values)
        row.content = _mean(v[0] for v in values)
        row.organisation = _mean(v[1] for v in values)
        row.venue = _mean(v[2] for v in values)
        row.overall = _mean(Decimal(sum(v)) / 3 for v in values)

    progress(0.45, _("Counting sessions and acceptance"))
    acceptance = defaultdict(list)
    for when, state, late, attendance, score in db.session.execute(
            select(ServiceSession.scheduled_at, ServiceSession.state, ServiceSession.reported_late,
                   ServiceSession.attendance, ServiceSession.acceptance_score).where(
                ServiceSession.provider_id == provider_id, ServiceSession.scheduled_at >= lo,
                ServiceSession.scheduled_at < hi)):
        row = by_month[_month(when)]
        if state in performance.DUE_STATES:
            row.due += 1
        if state in performance.DELIVERED_STATES:
            row.delivered += 1
            row.attendance += attendance or 0
            if late is False:
                row.on_time += 1
        if state == SessionState.MISSED:
            row.missed += 1
        if state == SessionState.DISPUTED:
            row.disputed += 1
            acceptance[row.month].append(0)
        elif state == SessionState.CONFIRMED:
            row.accepted += 1
            if score is not None:
                acceptance[row.month].append(score)
    for k, values in acceptance.items():
        by_month[k].acceptance_mean = _mean(values)

    progress(0.6, _("Reading complaints and decisions"))
    complaints = dict.fromkeys(ComplaintStatus, 0)
    for (status,) in db.session.execute(select(Complaint.status).where(
            Complaint.provider_id == provider_id, Complaint.created_at >= lo, Complaint.created_at < hi)):
        complaints[status] += 1
    decisions = db.session.scalars(select(AdjustmentDecision).where(
        AdjustmentDecision.provider_id == provider_id,
        or_((AdjustmentDecision.proposed_at >= lo) & (AdjustmentDecision.proposed_at < hi),
            (AdjustmentDecision.decided_at >= lo) & (AdjustmentDecision.decided_at < hi)))
        .order_by(AdjustmentDecision.proposed_at)).all()

    rows = [by_month[k] for k in keys]
    totals = MonthRow(_("Whole period"))
    for attr in ("ratings", "delivered", "attendance", "accepted", "disputed", "due", "on_time", "missed"):
        setattr(totals, attr, sum(getattr(r, attr) for r in rows))
    all_stars = [v for values in stars.values() for v in values]
    totals.content = _mean(v[0] for v in all_stars)
    totals.organisation = _mean(v[1] for v in all_stars)
    totals.venue = _mean(v[2] for v in all_stars)
    totals.overall = _mean(Decimal(sum(v)) / 3 for v in all_stars)
    totals.acceptance_mean = _mean(v for values in acceptance.values() for v in values)
    return ReportData(provider, start, end, result, params.weights, rows, totals, complaints, decisions)


def render(params: dict, progress=None) -> tuple[str, str, bytes]:
    """The job kind's renderer: params {"provider_id", "from", "to"} (ISO dates)."""
    progress = progress or (lambda *_a: None)
    start, end = parse_period(params.get("from"), params.get("to"))
    data = gather(int(params["provider_id"]), start, end, progress)
    progress(0.7, _("Drawing the charts"))
    labels = [r.month for r in data.rows]
    satisfaction_chart = charts.line_chart(
        labels, {_("Satisfaction (1–5)"): [r.overall for r in data.rows]},
        title=_("Resident satisfaction by month"), y_min=0, y_max=5)
    sessions_chart = charts.bar_chart(labels, [r.delivered for r in data.rows],
                                      title=_("Sessions delivered by month"))
    progress(0.8, _("Laying out the PDF"))
    pdf = create_pdf("evaluation/reporting/provider_report_pdf.html", locale="zh_CN", d=data, p=data.provider,
                     result=data.result, explain=adjustment.explain, satisfaction_chart=satisfaction_chart,
                     sessions_chart=sessions_chart, statuses=list(ComplaintStatus))
    return f"服务主体绩效报告-{data.provider.name}-{start}-{end}.pdf", "application/pdf", pdf


def title(provider: Provider, start: dt.date, end: dt.date) -> str:
    return _("Provider report: %(name)s, %(start)s to %(end)s", name=provider.name, start=start.isoformat(),
             end=end.isoformat())


def request(provider: Provider, start: dt.date, end: dt.date, user):
    """Queue (or find the running) report; the caller commits and dispatches."""
    return jobs.request_job(KIND, {"provider_id": provider.id, "from": start.isoformat(), "to": end.isoformat()},
                            user=user, title=title(provider, start, end))


def register(app):
    jobs.register_job(app, KIND, render, label=_l("Provider report"), officers_read=True)
