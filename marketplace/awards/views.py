"""Award notices (public), challenges (bidders lodge, officers answer)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import uploads, workdays
from core.accounts.models import Role
from core.db import db, utcnow
from core.errors import DomainError
from core.i18n import fmt_datetime
from core.pdf import render_pdf_response
from core.permissions import AUTHENTICATED, PUBLIC, access, require
from core.refusals import refused
from core.signals import markup_for
from core.spreadsheets.exports import Column, Table, wants_export
from core.views_util import Page
from marketplace import signals
from marketplace.awards import challenge_files
from marketplace.awards import operations as award_ops
from marketplace.awards.forms import AnswerForm, ChallengeForm
from marketplace.awards.models import Award, Challenge, ChallengeAttachment, ChallengeOutcome, ChallengeStatus
from marketplace.bids.models import Bid
from marketplace.projects.models import PurchaseProject
from marketplace.providers.models import Provider

bp = Blueprint("awards", __name__)


def latest_award(project) -> Award | None:
    """The live award, or else the most recent void one (its notice stays public, marked void)."""
    return award_ops.live_award(project) or db.session.scalar(
        select(Award).where(Award.project_id == project.id).order_by(Award.id.desc()))


def _project_with_award(project_id):
    project = db.session.get(PurchaseProject, project_id)
    award = latest_award(project) if project is not None else None
    if award is None:
        abort(404)
    return project, award


def officer_covers(project) -> bool:
    return current_user.is_authenticated and current_user.has_role(Role.OFFICER) and \
        current_user.covers_area(project.area)


@bp.route("/projects/<int:project_id>/award")
@access(PUBLIC)
def notice(project_id):
    project, award = _project_with_award(project_id)
    own_bid = None
    if current_user.is_authenticated and current_user.has_role(Role.PROVIDER):
        own_bid = db.session.scalar(select(Bid).join(Provider).where(Bid.project_id == project.id,
                                                                      Provider.user_id == current_user.id))
    links = markup_for(signals.award_notice_links, project, award=award)
    officer = officer_covers(project)
    gaps = workdays.calendar_gaps(award.published_at, award.challenge_deadline) if officer else []
    return render_template("marketplace/awards/notice.html", project=project, award=award, own_bid=own_bid,
                           officer=officer, links=links, calendar_gaps=gaps)


@bp.route("/projects/<int:project_id>/award.pdf")
@access(PUBLIC)
def notice_pdf(project_id):
    project, award = _project_with_award(project_id)
    return render_pdf_response("marketplace/awards/notice_pdf.html",
                               _("Award notice %(ref)s", ref=project.reference) + ".pdf", project=project, award=award)


def _own_bid(project) -> Bid | None:
    return db.session.scalar(select(Bid).join(Provider).where(Bid.project_id == project.id,
                                                              Provider.user_id == current_user.id))


@bp.route("/projects/<int:project_id>/challenge", methods=["GET", "POST"])
@access(Role.PROVIDER)
def lodge(project_id):
    project, award = _project_with_award(project_id)
    bid = _own_bid(project)
    require(bid is not None)
    form = ChallengeForm()
    status = 200
    if form.validate_on_submit():
        try:
            files = [(f.filename, f.read()) for f in (form.files.data or []) if getattr(f, "filename", "")]
            stored = challenge_files.check_and_store(files)
            challenge = award_ops.lodge_challenge(project, bid, form.text.data, stored, current_user)
        except DomainError as e:
            refused(e, form=form)
            status = e.status
        else:
            flash(_("Your challenge was lodged; the answer is due by %(due)s.",
                    due=fmt_datetime(challenge.answer_due)), "success")
            return redirect(url_for("awards.challenge", challenge_id=challenge.id))
    elif form.errors:
        status = 422
    return render_template("marketplace/awards/lodge.html", project=project, award=award, form=form), status


CHALLENGES = Table("challenges", [
    Column(_l("Reference"), "award.project.reference"),
    Column(_l("Project"), "award.project.title"),
    Column(_l("Bidder"), "provider.name"),
    Column(_l("Lodged"), "lodged_at"),
    Column(_l("Answer due"), "answer_due"),
    Column(_l("Status"), "status"),
    Column(_l("Outcome"), "outcome"),
    Column(_l("Answered"), "answered_at"),
], options=[selectinload(Challenge.award)])


@bp.route("/challenges")
@access(Role.OFFICER, Role.ADMIN)
def challenges():
    stmt = select(Challenge).order_by((Challenge.status == ChallengeStatus.PENDING).desc(), Challenge.lodged_at.desc())
    if not current_user.has_role(Role.ADMIN) and current_user.jurisdiction is not None \
            and current_user.jurisdiction.town_id is not None:
        stmt = stmt.join(PurchaseProject, PurchaseProject.id == Challenge.project_id) \
            .where(PurchaseProject.area_id == current_user.jurisdiction_id)
    if wants_export():
        return CHALLENGES.download(stmt)
    return render_template("marketplace/awards/challenges.html", page=Page(stmt), now=utcnow(),
                           projects={p.id: p for p in db.session.scalars(select(PurchaseProject).where(
                               PurchaseProject.id.in_(select(Challenge.project_id))))})


def _challenge(challenge_id) -> Challenge:
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None:
        abort(404)
    project = challenge.award.project
    require(current_user.has_role(Role.ADMIN) or officer_covers(project)
            or challenge.provider.user_id == current_user.id)
    return challenge


@bp.route("/challenges/<int:challenge_id>", methods=["GET", "POST"])
@access(AUTHENTICATED)
def challenge(challenge_id):
    challenge = _challenge(challenge_id)
    project = challenge.award.project
    form = AnswerForm()
    status = 200
    if form.is_submitted():
        require(officer_covers(project))
        if form.validate():
            decision = form.decision.data
            try:
                award_ops.answer_challenge(
                    challenge, upheld=decision != "dismiss", answer=form.answer.data,
                    outcome=None if decision == "dismiss" else ChallengeOutcome(decision), actor=current_user)
            except DomainError as e:
                refused(e, form=form)
                challenge = db.session.get(Challenge, challenge_id)
                status = e.status
            else:
                flash(_("The challenge is answered."), "success")
                return redirect(url_for("awards.challenge", challenge_id=challenge.id))
        else:
            status = 422
    officer = officer_covers(project)
    gaps = workdays.calendar_gaps(challenge.lodged_at, challenge.answer_due, challenge.award.published_at,
                                  challenge.award.challenge_deadline) if officer else []
    return render_template("marketplace/awards/challenge.html", challenge=challenge, project=project, form=form,
                           officer=officer, calendar_gaps=gaps), status


@bp.route("/challenges/<int:challenge_id>/files/<int:attachment_id>")
@access(AUTHENTICATED)
def challenge_file(challenge_id, attachment_id):
    challenge = _challenge(challenge_id)
    att = db.session.get(ChallengeAttachment, attachment_id)
    if att is None or att.challenge_id != challenge.id:
        abort(404)
    return uploads.send_bytes(att.sha256, mimetype=att.content_type, name=att.filename)
