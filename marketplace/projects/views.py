"""Purchase project pages: the public list and detail, the officer's drafting, publishing,
cancelling and opening, clarifications, and the sealed view of bids (a count until opening)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import raiseload, selectinload

from catalog.items.models import Item, ItemStatus
from core import versions as data_versions
from core.accounts.models import Role
from core.areas.models import Area, AreaLevel, Venue
from core.db import db, utcnow
from core.errors import Invalid
from core.i18n import parse_local_datetime, to_local
from core.permissions import PUBLIC, access, require
from core.refusals import refused
from core.spreadsheets.exports import Column, Table, requested_format, wants_export
from core.views_util import Page
from marketplace.bids import operations as bid_ops
from marketplace.bids.models import Bid, BidOpening, BidStatus
from marketplace.projects import operations as project_ops
from marketplace.projects.forms import CRITERION_ROWS, LINE_ROWS, AnswerForm, ProjectForm, QuestionForm, ReasonForm
from marketplace.projects.models import (
    PUBLIC_STATES,
    Clarification,
    CriterionKind,
    ProjectLine,
    ProjectMethod,
    ProjectState,
    PurchaseProject,
)

bp = Blueprint("projects", __name__, url_prefix="/projects")
# What the public project list shows is read from these tables only (its cached content's versions).
LIST_TABLES = ("purchase_projects", "areas")


def get_project(project_id: int) -> PurchaseProject:
    return project_ops.visible_project(project_id, current_user) or abort(404)


def managed_project(project_id: int) -> PurchaseProject:
    project = db.session.get(PurchaseProject, project_id)
    if project is None:
        abort(404)
    require(project_ops.may_manage(current_user, project))
    return project


# --- public list and detail -------------------------------------------------------------------

def _filtered(stmt, args, public: bool):
    q = args.get("q", "").strip()
    state = args.get("state", "")
    method = args.get("method", "")
    area = args.get("area", type=int)
    if q:
        stmt = stmt.where(PurchaseProject.title.contains(q))
    if state in {s.value for s in ProjectState} and not (public and state == ProjectState.DRAFT):
        stmt = stmt.where(PurchaseProject.state_is(ProjectState(state)))
    if method in {m.value for m in ProjectMethod}:
        stmt = stmt.where(PurchaseProject.method == ProjectMethod(method))
    if area:
        stmt = stmt.where(PurchaseProject.area_id == area)
    return stmt, {"q": q, "state": state, "method": method, "area": area}


def public_projects_stmt():
    return (select(PurchaseProject).where(PurchaseProject.state.in_(PUBLIC_STATES))
            .options(selectinload(PurchaseProject.area))
            .order_by(PurchaseProject.published_at.desc(), PurchaseProject.id.desc()))


def _area_filter_choices():
    return db.session.scalars(select(Area).where(Area.level.in_([AreaLevel.DISTRICT, AreaLevel.TOWN]))
                              .order_by(Area.level, Area.code)).all()


@bp.route("/")
@access(PUBLIC)
def index():
    # The same content for every reader of one language: rendered once per version of the tables it
    # reads, and again at the next bid deadline (a published project then shows as closed).
    body = data_versions.remember(data_versions.page_key("projects:index"), LIST_TABLES, _index_body)
    return render_template("marketplace/projects/index.html", body=body)


def _index_body():
    now = utcnow()
    stmt, f = _filtered(public_projects_stmt(), request.args, public=True)
    # The list shows neither lines nor criteria: not loaded (an access would raise, not query per row).
    stmt = stmt.options(raiseload(PurchaseProject.lines), raiseload(PurchaseProject.criteria))
    body = data_versions.rendered(
        "marketplace/projects/_index_body.html", page=Page(stmt), f=f, now=now,
        states=[s for s in ProjectState if s != ProjectState.DRAFT], methods=list(ProjectMethod),
        areas=_area_filter_choices())
    return body, project_ops.next_deadline(now)


@bp.route("/<int:project_id>")
@access(PUBLIC)
def detail(project_id):
    project = get_project(project_id)
    manager = project_ops.may_manage(current_user, project)
    provider = bid_ops.provider_of(current_user) if current_user.is_authenticated else None
    answered = db.session.scalars(select(Clarification).where(
        Clarification.project_id == project.id, Clarification.answer.isnot(None))
        .order_by(Clarification.asked_at)).all()
    pending = mine = []
    if manager:
        pending = db.session.scalars(select(Clarification).where(
            Clarification.project_id == project.id, Clarification.answer.is_(None))
            .order_by(Clarification.asked_at)).all()
    if current_user.is_authenticated and current_user.has_role(Role.PROVIDER):
        mine = db.session.scalars(select(Clarification).where(
            Clarification.project_id == project.id, Clarification.asked_by_id == current_user.id,
            Clarification.answer.is_(None))).all()
    return render_template(
        "marketplace/projects/detail.html", project=project, state=project.current_state, manager=manager,
        bid_count=project_ops.live_bid_count(project) if manager else None,
        own_bid=bid_ops.own_bid(project, provider), answered=answered, pending=pending, mine=mine,
        opening=bid_ops.opening_of(project) if project.opened_at else None,
        question_form=QuestionForm(), answer_form=AnswerForm(), cancel_form=ReasonForm(),
        min_bids=project_ops.min_valid_bids(project.method), kinds=CriterionKind)


@bp.route("/<int:project_id>/opening")
@access(PUBLIC)
def opening(project_id):
    project = get_project(project_id)
    record = bid_ops.opening_of(project)
    if record is None:
        abort(404)
    return render_template("marketplace/bids/opening.html", project=project, opening=record)


# --- the officer's pages ----------------------------------------------------------------------

def _project_figures(projects) -> dict:
    """Live bid counts (a count only: bids stay sealed) and the opening records, which exist only
    from the opening on."""
    ids = [p.id for p in projects]
    return {"bids": project_ops.live_bid_counts(ids),
            "openings": {o.project_id: o for o in db.session.scalars(select(BidOpening).where(
                BidOpening.project_id.in_(ids)))}}


def _opened_prices(p, figures) -> str:
    o = figures["openings"].get(p.id)
    return "; ".join(f"{e['provider_name']}: {e['price']}" for e in o.entries) if o else ""


MANAGED_PROJECTS = Table("projects", [
    Column(_l("Reference"), "reference"),
    Column(_l("Title"), "title"),
    Column(_l("Area"), "area.name"),
    Column(_l("Method"), "method"),
    Column(_l("State"), "current_state"),
    Column(_l("Budget"), "budget"),
    Column(_l("Bid deadline"), "bid_deadline"),
    Column(_l("Bids"), lambda p, f: f["bids"].get(p.id, 0), batch=True),
    Column(_l("Opened prices"), _opened_prices, batch=True),
], options=[selectinload(PurchaseProject.area)], batch=_project_figures)


def _managed_stmt():
    stmt = (select(PurchaseProject).where(project_ops.projects_in_jurisdiction(current_user))
            .options(selectinload(PurchaseProject.area)).order_by(PurchaseProject.id.desc()))
    return _filtered(stmt, request.args, public=False)


@bp.route("/manage")
@access(Role.OFFICER)
def manage():
    stmt, f = _managed_stmt()
    if wants_export():
        return MANAGED_PROJECTS.download(stmt)
    page = Page(stmt)
    return render_template("marketplace/projects/manage.html", page=page, f=f, states=list(ProjectState),
                           methods=list(ProjectMethod), counts=project_ops.live_bid_counts(p.id for p in page.items),
                           areas=_area_filter_choices())


@bp.route("/export")
@access(Role.OFFICER)
def export():
    """The managed projects' download (.xlsx unless `?format=csv`), with the list's filters if given.
    Prices appear only from the opening on."""
    stmt, _f = _managed_stmt()
    return MANAGED_PROJECTS.download(stmt, requested_format(default="xlsx"))


def _choices(form: ProjectForm):
    items = db.session.scalars(select(Item).where(Item.status == ItemStatus.ACTIVE).order_by(Item.code)).all()
    venues = db.session.scalars(select(Venue).where(Venue.active.is_(True)).order_by(Venue.area_id, Venue.id)).all()
    venues = [v for v in venues if current_user.covers_area(v.area)]
    item_choices = [(None, "—")] + [(i.id, f"{i.code} {i.name} · {i.unit} · ≤¥{i.price_ceiling}") for i in items]
    venue_choices = [(None, "—")] + [(v.id, f"{v.name} ({v.area.path_name()})") for v in venues]
    for entry in form.lines:
        entry.item_id.choices = item_choices
        entry.venue_id.choices = venue_choices


def _defaults(form: ProjectForm):
    rows = [
        (CriterionKind.PRICE, _("Price"), "20", "", "", ""),
        (CriterionKind.SUBJECTIVE, _("Service plan"), "35", "0", "35",
         _("Fit to the service standard, content and schedule; full marks for a complete, concrete plan.")),
        (CriterionKind.SUBJECTIVE, _("Team and experience"), "25", "0", "25",
         _("Qualified staff and similar services delivered before.")),
        (CriterionKind.PERFORMANCE, _("Past performance"), "20", "", "", ""),
        (CriterionKind.QUALIFICATION, _("Legal registration"), "0", "", "",
         _("A valid registration certificate and no serious violation in the last three years.")),
    ]
    for entry, (kind, name, weight, lo, hi, rubric) in zip(form.criteria, rows, strict=False):
        entry.kind.data, entry.title.data, entry.weight.data = kind.value, name, weight
        entry.min_score.data, entry.max_score.data, entry.rubric.data = lo, hi, rubric


def _fill_from(form: ProjectForm, project: PurchaseProject):
    form.title.data, form.description.data = project.title, project.description
    form.method.data, form.justification.data = project.method.value, project.justification
    form.budget.data = str(project.budget)
    form.bid_deadline.data = to_local(project.bid_deadline).strftime("%Y-%m-%dT%H:%M") if project.bid_deadline else ""
    while len(form.lines) < len(project.lines) + 1:
        form.lines.append_entry()
    for entry, line in zip(form.lines, project.lines, strict=False):
        entry.item_id.data, entry.venue_id.data, entry.quantity.data = line.item_id, line.venue_id, line.quantity
    while len(form.criteria) < len(project.criteria) + 1:
        form.criteria.append_entry()
    for entry, c in zip(form.criteria, project.criteria, strict=False):
        entry.kind.data, entry.title.data, entry.weight.data = c.kind.value, c.name, _num(c.weight)
        entry.min_score.data = _num(c.min_score)
        entry.max_score.data = _num(c.max_score)
        entry.rubric.data = c.rubric


def _num(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def _data(form: ProjectForm) -> dict:
    """Form input as the operations take it; a bad deadline is a field error on the form."""
    deadline = None
    raw = (form.bid_deadline.data or "").strip()
    if raw:
        try:
            deadline = parse_local_datetime(raw)
        except ValueError:
            raise Invalid(_l("Enter the deadline as YYYY-MM-DD HH:MM."), "bid_deadline") from None
    lines = [{"item_id": e.item_id.data, "venue_id": e.venue_id.data, "quantity": e.quantity.data}
             for e in form.lines if e.item_id.data or e.venue_id.data]
    criteria = [{"kind": e.kind.data, "name": e.title.data, "weight": e.weight.data, "min_score": e.min_score.data,
                 "max_score": e.max_score.data, "rubric": e.rubric.data}
                for e in form.criteria if (e.title.data or "").strip() or e.kind.data]
    return {"title": form.title.data, "description": form.description.data, "method": form.method.data,
            "justification": form.justification.data, "budget": form.budget.data, "bid_deadline": deadline,
            "lines": lines, "criteria": criteria}


def _form_page(form, project, status: int | None = None):
    if status is None:
        status = 422 if form.errors else 200
    return render_template("marketplace/projects/form.html", form=form, project=project,
                           windows={m.value: project_ops.min_window(m).days for m in ProjectMethod},
                           line_rows=LINE_ROWS, criterion_rows=CRITERION_ROWS), status


@bp.route("/new", methods=["GET", "POST"])
@access(Role.OFFICER)
def new():
    form = ProjectForm()
    _choices(form)
    if request.method == "GET":
        _defaults(form)
        form.bid_deadline.data = (to_local(utcnow()).replace(hour=17, minute=0, second=0, microsecond=0)
                                  + project_ops.min_window(ProjectMethod.OPEN_TENDER)
                                  + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    if form.validate_on_submit():
        try:
            project = project_ops.create_project(_data(form), current_user)
        except Invalid as e:
            return refused(e, form=form, render=lambda status: _form_page(form, None, status))
        flash(_("Draft %(ref)s saved. Check it, then publish it.", ref=project.reference), "success")
        return redirect(url_for("projects.detail", project_id=project.id))
    return _form_page(form, None)


@bp.route("/<int:project_id>/edit", methods=["GET", "POST"])
@access(Role.OFFICER)
def edit(project_id):
    project = managed_project(project_id)
    form = ProjectForm()
    if request.method == "GET":
        _fill_from(form, project)
    _choices(form)
    if form.validate_on_submit():
        try:
            project_ops.update_project(project, _data(form), current_user)
        except Invalid as e:
            # Bad input goes back to the form; a rule that forbids the edit (locked criteria,
            # a closed project) is refused as such, and audited, by the error handler.
            return refused(e, form=form, render=lambda status: _form_page(form, project, status))
        flash(_("Project saved."), "success")
        return redirect(url_for("projects.detail", project_id=project.id))
    return _form_page(form, project)


@bp.route("/<int:project_id>/publish", methods=["POST"])
@access(Role.OFFICER)
def publish(project_id):
    project = managed_project(project_id)
    project_ops.publish(project, current_user)
    flash(_("Project published: it is public and open for bids until the deadline."), "success")
    return redirect(url_for("projects.detail", project_id=project.id))


@bp.route("/<int:project_id>/cancel", methods=["POST"])
@access(Role.OFFICER)
def cancel(project_id):
    project = managed_project(project_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        raise Invalid(_l("Give the reason for the cancellation."), "reason")
    project_ops.cancel(project, form.reason.data, current_user)
    flash(_("Project cancelled; the bidders have been told."), "success")
    return redirect(url_for("projects.detail", project_id=project.id))


@bp.route("/<int:project_id>/open", methods=["POST"])
@access(Role.OFFICER)
def open_bids(project_id):
    project = managed_project(project_id)
    record = bid_ops.open_bids(project, current_user)
    flash(_("%(n)d bid(s) opened. The opening record is public.", n=record.bid_count), "success")
    return redirect(url_for("projects.opening", project_id=project.id))


@bp.route("/<int:project_id>/reissue", methods=["POST"])
@access(Role.OFFICER)
def reissue(project_id):
    project = managed_project(project_id)
    copy = project_ops.reissue(project, current_user)
    flash(_("Re-issued as draft %(ref)s: set a new deadline and publish it.", ref=copy.reference), "success")
    return redirect(url_for("projects.edit", project_id=copy.id))


# --- bids as officers and admins see them: a count until opening ------------------------------

def _bids_viewer_project(project_id) -> PurchaseProject:
    project = get_project(project_id)
    # Supervisors (人大代表, media …) read every bid once opened; a sealed bid stays sealed (bid_content).
    require(current_user.has_role(Role.ADMIN, Role.SUPERVISOR) or project_ops.may_manage(current_user, project))
    return project


@bp.route("/<int:project_id>/bids")
@access(Role.OFFICER, Role.ADMIN, Role.SUPERVISOR)
def bids(project_id):
    project = _bids_viewer_project(project_id)
    rows = []
    if project.opened_at is not None:
        rows = db.session.scalars(select(Bid).where(Bid.project_id == project.id, Bid.status != BidStatus.WITHDRAWN)
                                  .options(selectinload(Bid.provider)).order_by(Bid.submitted_at, Bid.id)).all()
    return render_template("marketplace/bids/bids.html", project=project, rows=rows,
                           count=project_ops.live_bid_count(project))


@bp.route("/<int:project_id>/bids/<int:bid_id>")
@access(Role.OFFICER, Role.ADMIN, Role.SUPERVISOR)
def bid_detail(project_id, bid_id):
    project = _bids_viewer_project(project_id)
    bid = db.session.get(Bid, bid_id)
    if bid is None or bid.project_id != project.id:
        abort(404)
    content = bid_ops.bid_content(bid, current_user)
    return render_template("marketplace/bids/bid_detail.html", project=project, bid=bid, content=content,
                           files=bid_ops.attachments(bid), history=bid_ops.revisions(bid))


# --- clarifications ---------------------------------------------------------------------------

@bp.route("/<int:project_id>/clarifications", methods=["POST"])
@access(Role.PROVIDER)
def ask(project_id):
    project = get_project(project_id)
    form = QuestionForm()
    if not form.validate_on_submit():
        raise Invalid(_l("Write a question of at most 2000 characters."), "question")
    project_ops.ask(project, form.question.data, current_user)
    flash(_("Question sent. The answer will be published here without your name."), "success")
    return redirect(url_for("projects.detail", project_id=project.id, _anchor="clarifications"))


@bp.route("/<int:project_id>/clarifications/<int:clarification_id>/answer", methods=["POST"])
@access(Role.OFFICER)
def answer(project_id, clarification_id):
    project = managed_project(project_id)
    clarification = db.session.get(Clarification, clarification_id)
    if clarification is None or clarification.project_id != project.id:
        abort(404)
    form = AnswerForm()
    if not form.validate_on_submit():
        raise Invalid(_l("Write an answer of at most 4000 characters."), "answer")
    project_ops.answer(clarification, form.answer.data, current_user)
    flash(_("Answer published."), "success")
    return redirect(url_for("projects.detail", project_id=project.id, _anchor="clarifications"))



# --- filters for values kept as text (the opening record, unsealed content) --------------------

@bp.app_template_filter("money_text")
def money_text(value) -> str:
    from core.i18n import fmt_money

    return fmt_money(Decimal(str(value))) if value not in (None, "") else ""


@bp.app_template_filter("iso_datetime")
def iso_datetime(value) -> str:
    from core.i18n import fmt_datetime

    if not value:
        return ""
    return fmt_datetime(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")), seconds=True)


# States of a project whose award stands: the ones an item's page lists as past purchases.
PURCHASED = (ProjectState.AWARDED, ProjectState.CONTRACTED, ProjectState.IN_DELIVERY, ProjectState.COMPLETED)


def item_purchases(name: str, item):
    """The catalog item page's past purchases: the latest awarded projects that bought the item
    (catalog.signals.item_page_section); None while there are none."""
    projects = db.session.scalars(
        select(PurchaseProject).where(
            PurchaseProject.state.in_(PURCHASED),
            PurchaseProject.id.in_(select(ProjectLine.project_id).where(ProjectLine.item_id == item.id)))
        .order_by(PurchaseProject.awarded_at.desc(), PurchaseProject.id.desc()).limit(10)).all()
    if not projects:
        return None
    html = render_template("marketplace/projects/_item_purchases.html", projects=projects)
    return Markup(html)  # noqa: S704  # nosec B704  (an autoescaped template's output)
