"""Performance pages: the published scoring method, a provider's score and why, an item's satisfaction."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectinload

from catalog.demand.operations import demand_trend
from catalog.items.models import Item, ItemStatus
from core import settings
from core.accounts.models import Role
from core.charts import line_chart
from core.db import db, utcnow
from core.permissions import PUBLIC, access, require
from core.views_util import Page
from evaluation.adjustment import operations as adjustment
from evaluation.adjustment.models import AdjustmentDecision, DecisionStatus
from evaluation.feedback import operations as ratings
from evaluation.feedback.forms import (
    ConfirmDecisionForm,
    ReplyForm,
)
from evaluation.feedback.models import Rating, RatingStatus
from evaluation.feedback.views import PUBLIC_PROVIDER_STATES
from evaluation.performance import operations as performance
from evaluation.performance.models import PerformanceSnapshot
from marketplace.providers.models import Provider, ProviderStatus
from marketplace.sessions import operations as session_ops

perf = Blueprint("performance", __name__, url_prefix="/performance")


@perf.route("/model")
@access(PUBLIC)
def model():
    params = performance.Parameters.current()
    rule_settings = {k: settings.get(k) for k in (adjustment.AUTO_DAYS.key, adjustment.SUSPEND_MONTHS.key,
                                                   adjustment.WATCH_BELOW.key, adjustment.WATCH_MIN_RATINGS.key,
                                                   adjustment.BUDGET_SATISFACTION.key,
                                                   adjustment.BUDGET_MIN_RATINGS.key, adjustment.APPEAL_DAYS.key)}
    return render_template("evaluation/feedback/model.html", params=params, rules=adjustment.RULES.values(),
                           version=performance.MODEL_VERSION, rule_settings=rule_settings,
                           window_days=settings.get(ratings.WINDOW_DAYS.key))


def public_profile(p: Provider) -> dict:
    """What anyone may know of a provider's performance (also the API's body)."""
    return profile_of(p, performance.latest_snapshot(p.id))


def profile_of(p: Provider, snap: PerformanceSnapshot | None) -> dict:
    """The public profile from a given latest snapshot (lists load the snapshots of a page at once).
    Satisfaction is None without ratings: "no ratings yet", never a zero."""
    count = snap.rating_count if snap else 0
    return {"id": p.id, "name": p.name, "status": p.status.value, "grade": p.grade,
            "performance_score": p.performance_score,
            "satisfaction": snap.satisfaction.quantize(performance.CENT) if snap and count else None,
            "rating_count": count, "computed_at": snap.computed_at if snap else None,
            "model_version": snap.model_version if snap else None,
            "suspended_until": p.suspended_until if p.status == ProviderStatus.SUSPENDED else None}


def _public_provider(provider_id: int, *options) -> Provider:
    p = db.session.get(Provider, provider_id, options=options)
    if p is None or p.status not in PUBLIC_PROVIDER_STATES:
        abort(404)
    return p


# What the profile shows of a comment: its columns as a row, no Rating object (nor its session).
COMMENT_COLUMNS = (Rating.created_at, Rating.content, Rating.organisation, Rating.venue, Rating.comment,
                   Rating.comment_hidden_at, Rating.reply)


@perf.route("/providers/<int:provider_id>")
@access(PUBLIC)
def provider(provider_id):
    # The profile shows none of the account behind the provider.
    p = _public_provider(provider_id, lazyload(Provider.user))
    comments = db.session.execute(select(*COMMENT_COLUMNS).where(
        Rating.provider_id == p.id, Rating.status == RatingStatus.COUNTED, Rating.comment != "")
        .order_by(Rating.created_at.desc()).limit(20)).all()
    decisions = db.session.scalars(select(AdjustmentDecision).where(
        AdjustmentDecision.provider_id == p.id,
        AdjustmentDecision.status.in_([DecisionStatus.CONFIRMED, DecisionStatus.AUTO_APPLIED]))
        .order_by(AdjustmentDecision.decided_at.desc()).limit(10)).all()
    return render_template("evaluation/feedback/provider.html", p=p, profile=public_profile(p), comments=comments,
                           decisions=decisions, explain=adjustment.explain)


def _own_provider() -> Provider:
    p = session_ops.provider_of(current_user)
    if p is None:
        abort(404, description=_("Register your organisation first."))
    return p


@perf.route("/me")
@access(Role.PROVIDER)
def mine():
    return _mine_page(_own_provider())


@perf.route("/me/report", methods=["POST"])
@access(Role.PROVIDER)
def own_report():
    """The provider's own performance report over a period, produced in the background."""
    from evaluation.reporting import provider_report
    from evaluation.reporting import views as report_views
    from evaluation.reporting.forms import PeriodForm

    p = _own_provider()
    form = PeriodForm()
    period = report_views.validated_period(form)
    if period is None:
        return _mine_page(p, report_form=form, status=422)
    job, created = provider_report.request(p, *period, user=current_user._get_current_object())
    return report_views.queued_response(job, created)


def _mine_page(p: Provider, report_form=None, status=200):
    from evaluation.reporting import views as report_views

    snap = performance.latest_snapshot(p.id)
    history = db.session.scalars(select(PerformanceSnapshot).where(PerformanceSnapshot.provider_id == p.id,
                                                                   PerformanceSnapshot.trigger == "recompute")
                                 .order_by(PerformanceSnapshot.computed_at.desc()).limit(12)).all()
    page = Page(select(Rating).where(Rating.provider_id == p.id).options(selectinload(Rating.session))
                .order_by(Rating.created_at.desc()))
    decisions = db.session.scalars(select(AdjustmentDecision).where(AdjustmentDecision.provider_id == p.id)
                                   .order_by(AdjustmentDecision.proposed_at.desc()).limit(20)).all()
    return render_template("evaluation/feedback/mine.html", p=p, snap=snap, history=history, page=page,
                           decisions=decisions, levers=performance.what_would_move(snap) if snap else [],
                           explain=adjustment.explain, reply_form=ReplyForm(),
                           trigger=performance.TRIGGER_LABELS.get(snap.trigger, snap.trigger) if snap else "",
                           report_panel=report_views.provider_report_panel(report_form)), status


@perf.route("/items/<int:item_id>")
@access(PUBLIC)
def item(item_id):
    it = db.session.get(Item, item_id)
    if it is None or it.status == ItemStatus.DRAFT:
        abort(404)
    points, chart = _satisfaction_trend(it)
    demand_months, demand_chart = demand_trend(it.id, utcnow())
    decisions = db.session.scalars(select(AdjustmentDecision).where(AdjustmentDecision.item_id == it.id)
                                   .order_by(AdjustmentDecision.proposed_at.desc()).limit(10)).all()
    return render_template("evaluation/feedback/item.html", item=it, chart=chart, points=points,
                           demand_months=demand_months, demand_chart=demand_chart,
                           decisions=decisions, explain=adjustment.explain)


@perf.route("/recompute", methods=["POST"])
@access(Role.OFFICER)
def recompute():
    require(adjustment.may_decide(current_user))
    form = ConfirmDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    session_ops.record_overdue()
    results = performance.recompute_all(actor=current_user)
    made = adjustment.evaluate()
    flash(_("Scores recomputed for %(n)d providers; %(m)d new proposals.", n=len(results), m=len(made)), "success")
    return redirect(url_for("performance.decisions"))


def _satisfaction_trend(it: Item):
    """The item's counted ratings by month and their chart (mean stars on a 0–5 axis)."""
    points = ratings.monthly_satisfaction(it.id, utcnow())
    chart = line_chart([k for k, _m, _n in points], [(_("Satisfaction (1–5)"), [m for _k, m, _n in points])],
                       title=_("Satisfaction by month"), y_min=0, y_max=5, empty_text=_("No ratings yet."))
    return points, chart


def item_section(name: str, item: Item):
    """The catalog item page's satisfaction block (catalog.signals.item_page_section)."""
    points, chart = _satisfaction_trend(item)
    html = render_template("evaluation/feedback/_item_section.html", item=item, chart=chart, points=points)
    return Markup(html)  # noqa: S704  # nosec B704  (an autoescaped template's output)
