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

from core.accounts.forms import PhoneForm
from core.accounts.models import Role
from core.areas.models import Area, Venue
from core.db import db, utcnow
from core.errors import DomainError
from core.pdf import render_pdf_response
from core.permissions import PUBLIC, access, require
from core.qr import qr_svg
from core.refusals import refused
from core.security import by_caller, limit
from core.spreadsheets.exports import Column, Table, wants_export
from core.views_util import Page
from evaluation.feedback import operations as ratings
from evaluation.feedback.forms import (
    DIMENSION_QUESTIONS,
    STAR_WORDS,
    ComplaintDecisionForm,
    ComplaintForm,
    RatingForm,
    ReasonForm,
    ReplyForm,
    ReviewForm,
)
from evaluation.feedback.models import Complaint, ComplaintStatus, Rating, RatingStatus
from marketplace.providers.models import ProviderStatus
from marketplace.sessions import operations as session_ops
from marketplace.sessions.models import ServiceSession

bp = Blueprint("ratings", __name__)


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
        questions=DIMENSION_QUESTIONS, star_words=STAR_WORDS, phone_form=_phone_form(s),
        comment_max=ratings.COMMENT_MAX), status


def _phone_form(s: ServiceSession):
    """The first step for a resident without a session: a mobile number, then back here."""
    if current_user.is_authenticated:
        return None
    return PhoneForm(next=url_for("ratings.rate", session_id=s.id), formdata=None)


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
        _rating, created = ratings.rate(s, current_user, stars, form.comment.data or "", request.remote_addr,
                                        attendance_code=form.attendance_code.data)
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


# --- adjustment decisions -----------------------------------------------------------------------


