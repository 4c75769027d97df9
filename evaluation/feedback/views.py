"""Pages of the feedback loop: the resident's rating page (from the QR code), the venue poster,
complaints, the officers' review queue; the performance model, public provider profiles, the
provider's own explanation, item satisfaction, and the adjustment decisions."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from catalog.demand.operations import demand_trend
from catalog.items.models import Item, ItemStatus
from core import settings
from core.accounts.models import Role
from core.areas.models import Area, Venue
from core.charts import line_chart
from core.db import db, utcnow
from core.errors import DomainError
from core.pdf import render_pdf_response
from core.permissions import PUBLIC, access, require
from core.qr import qr_svg
from core.refusals import refused
from core.security import by_caller, limit
from core.spreadsheets.exports import Column, Table, wants_export
from core.views_util import Page
from evaluation.adjustment import operations as adjustment
from evaluation.adjustment.models import AdjustmentDecision, DecisionStatus
from evaluation.feedback import operations as ratings
from evaluation.feedback.forms import (
    AppealAnswerForm,
    AppealForm,
    ComplaintDecisionForm,
    ComplaintForm,
    ConfirmDecisionForm,
    OverrideForm,
    RatingForm,
    ReasonForm,
    ReplyForm,
    ReviewForm,
)
from evaluation.feedback.models import Complaint, ComplaintStatus, Rating, RatingStatus
from evaluation.performance import operations as performance
from evaluation.performance.models import PerformanceSnapshot
from marketplace.providers.models import Provider, ProviderStatus
from marketplace.sessions import operations as session_ops
from marketplace.sessions.models import ServiceSession

bp = Blueprint("ratings", __name__)
perf = Blueprint("performance", __name__, url_prefix="/performance")


PUBLIC_PROVIDER_STATES = (ProviderStatus.APPROVED, ProviderStatus.SUSPENDED, ProviderStatus.BLACKLISTED)


def rating_url(s: ServiceSession, external: bool = True) -> str:
    return url_for("ratings.rate", session_id=s.id, _external=external)

# --- the resident's rating page ----------------------------------------------------------------

def _public_ratings(s: ServiceSession):
    return db.session.scalars(select(Rating).where(Rating.session_id == s.id, Rating.status == RatingStatus.COUNTED)
                              .order_by(Rating.created_at.desc()).limit(50)).all()


def _rate_page(s: ServiceSession, form=None, complaint_form=None, status=200):
    now = utcnow()
    mine = ratings.own_rating(s, current_user)
    if form is None:
        form = RatingForm()
        if mine is not None:
            form.content.data, form.organisation.data, form.venue.data = (str(mine.content), str(mine.organisation),
                                                                          str(mine.venue))
            form.comment.data = mine.comment
    start, end = ratings.window(s)
    resident = current_user.is_authenticated and current_user.has_role(Role.RESIDENT)
    my_complaints = []
    if resident:
        my_complaints = db.session.scalars(select(Complaint).where(
            Complaint.session_id == s.id, Complaint.resident_id == current_user.id)
            .order_by(Complaint.created_at)).all()
    return render_template(
        "evaluation/feedback/rate.html", s=s, form=form, complaint_form=complaint_form or ComplaintForm(),
        mine=mine, window_start=start, window_end=end, open_now=ratings.window_open(s, now),
        started=s.started(now), resident=resident, public=_public_ratings(s), my_complaints=my_complaints,
        reply_form=ReplyForm(), hide_form=ReasonForm(), own=session_ops.is_own(current_user, s),
        decide=session_ops.may_decide(current_user, s), dimensions=ratings.DIMENSION_LABELS,
        comment_max=ratings.COMMENT_MAX), status


@bp.route("/rate/<int:session_id>")
@access(PUBLIC)
def rate(session_id):
    return _rate_page(db.get_or_404(ServiceSession, session_id))


@bp.route("/rate/<int:session_id>", methods=["POST"])
@access(Role.RESIDENT)
@limit("10/minute;60/hour", key=by_caller, config="RATELIMIT_RATING")
def rate_submit(session_id):
    s = db.get_or_404(ServiceSession, session_id)
    form = RatingForm()
    if not form.validate_on_submit():
        return _rate_page(s, form=form, status=422)
    stars = {d: getattr(form, d).data for d in ratings.DIMENSIONS}
    try:
        _rating, created = ratings.rate(s, current_user, stars, form.comment.data or "", request.remote_addr)
    except DomainError as e:
        return refused(e, form=form,
                       render=lambda status: _rate_page(s, form=form, status=status))
    flash(_("Thank you: your rating was recorded.") if created else _("Your rating was changed."), "success")
    return redirect(url_for("ratings.rate", session_id=session_id))


@bp.route("/rate/<int:session_id>/complaint", methods=["POST"])
@access(Role.RESIDENT)
@limit("5/minute;20/hour", key=by_caller)
def complain(session_id):
    s = db.get_or_404(ServiceSession, session_id)
    form = ComplaintForm()
    if not form.validate_on_submit():
        return _rate_page(s, complaint_form=form, status=422)
    try:
        ratings.complain(s, current_user, form.text.data)
    except DomainError as e:
        return refused(e, form=form, render=lambda status: _rate_page(s, complaint_form=form, status=status))
    flash(_("Your complaint was lodged; an officer will decide on it."), "success")
    return redirect(url_for("ratings.rate", session_id=session_id))


@bp.route("/rate/<int:session_id>/qr.svg")
@access(PUBLIC)
def qr(session_id):
    s = db.get_or_404(ServiceSession, session_id)
    svg = str(qr_svg(rating_url(s), scale=6, title=_("Rate this session")))
    resp = Response('<?xml version="1.0" encoding="utf-8"?>\n' + svg, mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


@bp.route("/rate/<int:session_id>/poster.pdf")
@access(Role.PROVIDER, Role.OFFICER, Role.ADMIN)
def poster(session_id):
    s = db.get_or_404(ServiceSession, session_id)
    require(session_ops.may_view(current_user, s))
    start, end = ratings.window(s)
    return render_pdf_response("evaluation/feedback/poster.html", f"评价海报-{s.reference}.pdf", s=s,
                               link=rating_url(s), window_start=start, window_end=end, locale="zh_CN")


# --- replies, hiding, reviews, complaints -----------------------------------------------------

def _rating_or_404(rating_id: int) -> Rating:
    r = db.session.get(Rating, rating_id)
    if r is None:
        abort(404)
    return r


@bp.route("/ratings/<int:rating_id>/reply", methods=["POST"])
@access(Role.PROVIDER)
def reply(rating_id):
    r = _rating_or_404(rating_id)
    require(session_ops.is_own(current_user, r.session))
    form = ReplyForm()
    if not form.validate_on_submit():
        abort(422, description=_("Write an answer of at most 1000 characters."))
    ratings.reply(r, form.reply.data, current_user)
    flash(_("Your answer is published."), "success")
    return redirect(url_for("ratings.rate", session_id=r.session_id, _anchor=f"r{r.id}"))


@bp.route("/ratings/<int:rating_id>/hide", methods=["POST"])
@access(Role.OFFICER)
def hide(rating_id):
    r = _rating_or_404(rating_id)
    require(session_ops.may_decide(current_user, r.session))
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(422, description=_("Give the reason the comment is hidden."))
    ratings.hide_comment(r, form.reason.data, current_user)
    flash(_("The comment is hidden; the stars still count."), "success")
    return redirect(request.form.get("back") if request.form.get("back", "").startswith("/") and
                    not request.form.get("back", "").startswith("//") else url_for("ratings.review_queue"))


@bp.route("/ratings/<int:rating_id>/review", methods=["POST"])
@access(Role.OFFICER)
def review(rating_id):
    r = _rating_or_404(rating_id)
    require(session_ops.may_decide(current_user, r.session))
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(422, description=_("Choose a finding."))
    ratings.review_flagged(r, form.outcome.data == "genuine", form.note.data or "", current_user)
    flash(_("Finding recorded."), "success")
    return redirect(url_for("ratings.review_queue"))


@bp.route("/complaints/<int:complaint_id>/decide", methods=["POST"])
@access(Role.OFFICER)
def decide_complaint(complaint_id):
    c = db.session.get(Complaint, complaint_id)
    if c is None:
        abort(404)
    require(session_ops.may_decide(current_user, c.session))
    form = ComplaintDecisionForm()
    if not form.validate_on_submit():
        abort(422, description=_("Choose a decision and give the reason."))
    ratings.decide_complaint(c, form.outcome.data == "uphold", form.reason.data, current_user)
    flash(_("Decision recorded; the resident has been told."), "success")
    return redirect(url_for("ratings.review_queue"))


def _sessions_in_jurisdiction():
    """SQL: ids of sessions whose venue lies in the current officer's jurisdiction."""
    j = current_user.jurisdiction
    stmt = select(ServiceSession.id).join(Venue, Venue.id == ServiceSession.venue_id)
    if j is None:
        return stmt.where(ServiceSession.id.is_(None))
    if j.level.value == "district":
        return stmt
    return stmt.join(Area, Area.id == Venue.area_id).where(or_(Area.id == j.id, Area.parent_id == j.id))


_STARS = [Column(_l("Stars: content"), "content"), Column(_l("Stars: organisation"), "organisation"),
          Column(_l("Stars: venue and experience"), "venue")]
# The review queue's three lists; `?list=` chooses which one a download holds (comments by default).
REVIEW_LISTS = {
    "flagged": Table("flagged-ratings", [
        Column(_l("Session"), "session.reference"),
        Column(_l("Rated"), "created_at"),
        Column(_l("Flag"), "flag_reason"),
        *_STARS,
        Column(_l("Comment"), "comment"),
    ], options=[selectinload(Rating.session)]),
    "complaints": Table("complaints", [
        Column(_l("Session"), "session.reference"),
        Column(_l("Provider"), "provider.name"),
        Column(_l("Lodged"), "created_at"),
        Column(_l("Complaint"), "text"),
        Column(_l("Status"), "status"),
    ], options=[selectinload(Complaint.session), selectinload(Complaint.provider)]),
    "comments": Table("rating-comments", [
        Column(_l("Session"), "session.reference"),
        Column(_l("Rated"), "created_at"),
        *_STARS,
        Column(_l("Comment"), "comment"),
        Column(_l("Reply"), "reply"),
    ], options=[selectinload(Rating.session)]),
}


@bp.route("/ratings/review")
@access(Role.OFFICER)
def review_queue():
    scope = _sessions_in_jurisdiction()
    flagged = (select(Rating).where(Rating.status == RatingStatus.FLAGGED, Rating.session_id.in_(scope))
               .options(selectinload(Rating.session)).order_by(Rating.created_at))
    complaints = (select(Complaint).where(Complaint.status == ComplaintStatus.PENDING, Complaint.session_id.in_(scope))
                  .options(selectinload(Complaint.session), selectinload(Complaint.provider))
                  .order_by(Complaint.created_at))
    comments = (select(Rating).where(Rating.session_id.in_(scope), Rating.comment != "",
                                     Rating.comment_hidden_at.is_(None))
                .options(selectinload(Rating.session)).order_by(Rating.created_at.desc()))
    if wants_export():
        name = request.args.get("list", "comments")
        if name not in REVIEW_LISTS:
            abort(400, description=_("There is no list “%(name)s” on this page.", name=name[:30]))
        return REVIEW_LISTS[name].download({"flagged": flagged, "complaints": complaints, "comments": comments}[name])
    flagged = db.session.scalars(flagged.limit(100)).all()
    complaints = db.session.scalars(complaints.limit(100)).all()
    recent = Page(comments)
    return render_template("evaluation/feedback/review_queue.html", flagged=flagged, complaints=complaints,
                           page=recent, review_form=ReviewForm(), decision_form=ComplaintDecisionForm(),
                           hide_form=ReasonForm())


# --- the session page's panel (marketplace shows it; it never imports evaluation) -------------

def session_panel(s: ServiceSession, user):
    counted = db.session.execute(select(func.count(), func.avg((Rating.content + Rating.organisation + Rating.venue)
                                                               / 3.0))
                                 .where(Rating.session_id == s.id, Rating.status == RatingStatus.COUNTED)).one()
    flagged = db.session.scalar(select(func.count()).select_from(Rating).where(
        Rating.session_id == s.id, Rating.status == RatingStatus.FLAGGED))
    html = render_template("evaluation/feedback/_session_panel.html", s=s, link=rating_url(s), count=counted[0],
                           mean=counted[1], flagged=flagged)
    return Markup(html)  # noqa: S704  # nosec B704  (an autoescaped template's output)


# --- the performance model and profiles -------------------------------------------------------

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


def _public_provider(provider_id: int) -> Provider:
    p = db.session.get(Provider, provider_id)
    if p is None or p.status not in PUBLIC_PROVIDER_STATES:
        abort(404)
    return p


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


@perf.route("/providers/<int:provider_id>")
@access(PUBLIC)
def provider(provider_id):
    p = _public_provider(provider_id)
    adjustment.apply_due_lazily()
    comments = db.session.scalars(select(Rating).where(Rating.provider_id == p.id,
                                                       Rating.status == RatingStatus.COUNTED, Rating.comment != "")
                                  .options(selectinload(Rating.session)).order_by(Rating.created_at.desc())
                                  .limit(20)).all()
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

    p = _own_provider()
    form = report_views.PeriodForm()
    period = report_views.validated_period(form)
    if period is None:
        return _mine_page(p, report_form=form, status=422)
    job, created = provider_report.request(p, *period, user=current_user._get_current_object())
    return report_views.queued_response(job, created)


def _mine_page(p: Provider, report_form=None, status=200):
    from evaluation.reporting import views as report_views

    adjustment.apply_due_lazily()
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
    adjustment.apply_due_lazily()
    points, chart = _satisfaction_trend(it)
    demand_months, demand_chart = demand_trend(it.id, utcnow())
    decisions = db.session.scalars(select(AdjustmentDecision).where(AdjustmentDecision.item_id == it.id)
                                   .order_by(AdjustmentDecision.proposed_at.desc()).limit(10)).all()
    return render_template("evaluation/feedback/item.html", item=it, chart=chart, points=points,
                           demand_months=demand_months, demand_chart=demand_chart,
                           decisions=decisions, explain=adjustment.explain)


# --- adjustment decisions -----------------------------------------------------------------------

def _decision_or_404(decision_id: int) -> AdjustmentDecision:
    d = db.session.get(AdjustmentDecision, decision_id)
    if d is None:
        abort(404)
    return d


def _may_see_decision(d: AdjustmentDecision) -> bool:
    if current_user.has_role(Role.OFFICER):
        return True
    return d.provider is not None and d.provider.user_id == current_user.id


DECISIONS = Table("adjustment-decisions", [
    Column("#", "id"),
    Column(_l("Action"), "action"),
    Column(_l("Subject"), "subject_name"),
    Column(_l("Status"), "status"),
    Column(_l("Explanation"), adjustment.explain),
    Column(_l("Proposed on"), "proposed_at"),
    Column(_l("Takes effect by itself"), "due_at"),
    Column(_l("Decided"), "decided_at"),
    Column(_l("Appeal"), "appeal_status"),
], options=[selectinload(AdjustmentDecision.provider), selectinload(AdjustmentDecision.item)])


@perf.route("/decisions")
@access(Role.OFFICER)
def decisions():
    adjustment.apply_due_lazily()
    status = request.args.get("status", "proposed")
    stmt = select(AdjustmentDecision).order_by(AdjustmentDecision.proposed_at.desc(), AdjustmentDecision.id.desc())
    if status in {s.value for s in DecisionStatus}:
        stmt = stmt.where(AdjustmentDecision.status == DecisionStatus(status))
    stmt = stmt.options(selectinload(AdjustmentDecision.provider), selectinload(AdjustmentDecision.item))
    if wants_export():
        return DECISIONS.download(stmt)
    return render_template("evaluation/feedback/decisions.html", page=Page(stmt), status=status,
                           statuses=list(DecisionStatus), explain=adjustment.explain,
                           may_decide=adjustment.may_decide(current_user), form=ConfirmDecisionForm())


@perf.route("/decisions/<int:decision_id>")
@access(Role.OFFICER, Role.PROVIDER)
def decision(decision_id):
    adjustment.apply_due_lazily()
    d = _decision_or_404(decision_id)
    require(_may_see_decision(d))
    return _decision_page(d)


def _decision_page(d, override_form=None, appeal_form=None, answer_form=None, status=200):
    own = d.provider is not None and d.provider.user_id == current_user.id
    return render_template("evaluation/feedback/decision.html", d=d, rule=adjustment.rule_of(d),
                           explanation=adjustment.explain(d), may_decide=adjustment.may_decide(current_user),
                           own=own, confirm_form=ConfirmDecisionForm(), override_form=override_form or OverrideForm(),
                           appeal_form=appeal_form or AppealForm(), answer_form=answer_form or AppealAnswerForm()), \
        status


def _decision_action(decision_id, form_cls, form_key, run):
    d = _decision_or_404(decision_id)
    form = form_cls()
    if not form.validate_on_submit():
        return _decision_page(d, **{form_key: form}, status=422) if form_key else (
            _decision_page(d, status=422))
    try:
        run(d, form)
    except DomainError as e:
        if e.status == 403:
            raise
        return refused(e, form=form, render=lambda status: _decision_page(
            _decision_or_404(decision_id), **({form_key: form} if form_key else {}), status=status))
    return redirect(url_for("performance.decision", decision_id=decision_id))


@perf.route("/decisions/<int:decision_id>/confirm", methods=["POST"])
@access(Role.OFFICER)
def confirm(decision_id):
    require(adjustment.may_decide(current_user))
    return _decision_action(decision_id, ConfirmDecisionForm, None,
                            lambda d, f: adjustment.confirm(d, current_user))


@perf.route("/decisions/<int:decision_id>/override", methods=["POST"])
@access(Role.OFFICER)
def override(decision_id):
    require(adjustment.may_decide(current_user))
    return _decision_action(decision_id, OverrideForm, "override_form",
                            lambda d, f: adjustment.override(d, f.reason.data, current_user))


@perf.route("/decisions/<int:decision_id>/appeal", methods=["POST"])
@access(Role.PROVIDER)
def appeal(decision_id):
    d = _decision_or_404(decision_id)
    require(d.provider is not None and d.provider.user_id == current_user.id)
    return _decision_action(decision_id, AppealForm, "appeal_form",
                            lambda d, f: adjustment.appeal(d, f.text.data, current_user))


@perf.route("/decisions/<int:decision_id>/appeal-answer", methods=["POST"])
@access(Role.OFFICER)
def appeal_answer(decision_id):
    require(adjustment.may_decide(current_user))
    return _decision_action(decision_id, AppealAnswerForm, "answer_form",
                            lambda d, f: adjustment.answer_appeal(d, f.outcome.data == "uphold", f.answer.data,
                                                                  current_user))


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
