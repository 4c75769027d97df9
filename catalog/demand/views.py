"""Demand pages: a resident's request (点单) and support, "my requests", officers' list and decisions,
and the demand dashboard with its chart and export."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select

from catalog.demand import operations as ops
from catalog.demand.forms import DemandDecisionForm, DemandForm, SupportForm
from catalog.demand.models import ACTIVE_DEMAND, DEMAND_STATUS_LABELS, DemandRequest, DemandStatus, DemandSupport
from catalog.items.models import Category, Item, ItemStatus
from catalog.items.views import get_item
from core import cache
from core.accounts.models import Role
from core.areas.models import Area, AreaLevel, Venue
from core.charts import bar_chart
from core.db import db
from core.errors import DomainError
from core.i18n import LOCAL_TZ, local_now
from core.permissions import AUTHENTICATED, access, require
from core.refusals import refused
from core.spreadsheets.exports import Column, Table, requested_format, wants_export
from core.spreadsheets.files import csv_response, xlsx_response
from core.views_util import Page

bp = Blueprint("demand", __name__)


def _get_request(demand_id: int) -> DemandRequest:
    req = db.session.get(DemandRequest, demand_id)
    if req is None:
        abort(404)
    return req


def _venue_choices(user):
    venues = db.session.scalars(select(Venue).where(Venue.area_id == user.community_id, Venue.active.is_(True))
                                .order_by(Venue.name))
    return [(None, _("— choose —"))] + [(v.id, v.name) for v in venues]


# --- residents ---------------------------------------------------------------------------------------------

@bp.route("/demand/new/<item_code>", methods=["GET", "POST"])
@access(Role.RESIDENT)
def new(item_code):
    item = get_item(item_code)
    form = DemandForm()
    form.venue_id.choices = _venue_choices(current_user)
    if form.validate_on_submit():
        venue = db.session.get(Venue, form.venue_id.data) if form.venue_id.data else None
        try:
            req, merged = ops.request_item(current_user, item, venue, form.note.data)
        except DomainError as e:
            return refused(e, form=form, template="catalog/demand/new.html", item=item)
        if merged:
            flash(_("A request for %(name)s in your community was already open; your request was added to it as a "
                    "support.", name=item.name), "info")
        else:
            flash(_("Your request for %(name)s was sent. You can follow it under My requests.", name=item.name),
                  "success")
        return redirect(url_for("demand.detail", demand_id=req.id))
    return render_template("catalog/demand/new.html", form=form, item=item), (422 if form.errors else 200)


@bp.route("/demand/<int:demand_id>/support", methods=["POST"])
@access(Role.RESIDENT)
def support(demand_id):
    req = _get_request(demand_id)
    if not SupportForm().validate_on_submit():
        abort(400)
    # From the community list, back to the same page of it; otherwise to the request.
    page = request.form.get("back_page", type=int)
    back = (url_for("demand.community", page=page, _anchor=f"d{req.id}") if page and page > 0
            else url_for("demand.detail", demand_id=req.id))
    ops.support_request(current_user, req)
    flash(_("Thank you: your support was counted."), "success")
    return redirect(back)


@bp.route("/demand/community")
@access(Role.RESIDENT)
def community():
    """The open requests of the resident's own village or community, each supported in one tap."""
    area = current_user.community
    page = counts = supported = None
    if area is not None:
        page = Page(select(DemandRequest).where(DemandRequest.community_id == area.id,
                                                DemandRequest.status.in_(ACTIVE_DEMAND))
                    .order_by(DemandRequest.created_at.desc(), DemandRequest.id.desc()))
        ids = [r.id for r in page.items]
        counts, supported = ops.support_counts(ids), ops.supported_by(current_user, ids)
    items = db.session.execute(select(Item.code, Item.name).where(Item.status == ItemStatus.ACTIVE)
                               .order_by(Item.code)).all()
    return render_template("catalog/demand/community.html", area=area, page=page, counts=counts or {},
                           supported=supported or set(), support_form=SupportForm(), items=items)


@bp.route("/demand/new")
@access(Role.RESIDENT)
def choose_item():
    """The community page's "request a service" form names an item; its request form follows."""
    code = (request.args.get("item") or "").strip()
    if not code:
        flash(_("Choose a service to request."), "danger")
        return redirect(url_for("demand.community"))
    return redirect(url_for("demand.new", item_code=code))


@bp.route("/demand/mine")
@access(Role.RESIDENT)
def mine():
    mine_ids = select(DemandSupport.request_id).where(DemandSupport.user_id == current_user.id)
    page = Page(select(DemandRequest).where(DemandRequest.id.in_(mine_ids))
                .order_by(DemandRequest.created_at.desc(), DemandRequest.id.desc()))
    counts = ops.support_counts(r.id for r in page.items)
    return render_template("catalog/demand/mine.html", page=page, counts=counts)


def _may_see(req: DemandRequest) -> bool:
    user = current_user
    if user.has_role(Role.OFFICER) and user.covers_area(req.community):
        return True
    return user.has_role(Role.RESIDENT) and user.community_id == req.community_id


@bp.route("/demand/<int:demand_id>")
@access(AUTHENTICATED)
def detail(demand_id):
    req = _get_request(demand_id)
    require(_may_see(req))
    count = ops.support_counts([req.id]).get(req.id, 0)
    supported = bool(ops.supported_by(current_user, [req.id]))
    officer = current_user.has_role(Role.OFFICER) and current_user.covers_area(req.community)
    return render_template("catalog/demand/detail.html", req=req, count=count, supported=supported,
                           support_form=SupportForm(), decision_form=DemandDecisionForm(), officer=officer)


# --- officers ---------------------------------------------------------------------------------------------

def _scope_areas():
    """The towns an officer may look at: all for the district, their own for a town officer."""
    jur = current_user.jurisdiction
    if jur is None:
        return []
    if jur.level == AreaLevel.DISTRICT:
        return list(db.session.scalars(select(Area).where(Area.level == AreaLevel.TOWN).order_by(Area.code)))
    return [jur]


def _scope(area_id) -> Area | None:
    """The area chosen in a filter, within the officer's jurisdiction (the jurisdiction itself by default)."""
    jur = current_user.jurisdiction
    area = db.session.get(Area, area_id) if area_id else None
    if area is not None and current_user.covers_area(area):
        return area
    return jur


DEMAND_REQUESTS = Table("demand-requests", [
    Column(_l("Item code"), "item.code"),
    Column(_l("Item"), "item.name"),
    Column(_l("Community"), lambda r: r.community.path_name()),
    Column(_l("Venue"), "venue.name"),
    Column(_l("Asked on"), "created_at"),
    Column(_l("Supports"), lambda r, counts: counts.get(r.id, 0), batch=True),
    Column(_l("Status"), "status"),
    Column(_l("Reason"), "status_reason"),
], batch=lambda rows: ops.support_counts(r.id for r in rows))


@bp.route("/officer/demand")
@access(Role.OFFICER)
def officer_list():
    status = request.args.get("status", "open")
    q = request.args.get("q", "").strip()[:60]
    area = _scope(request.args.get("area", type=int))
    stmt = (select(DemandRequest).join(Item, Item.id == DemandRequest.item_id)
            .order_by(DemandRequest.created_at.desc(), DemandRequest.id.desc()))
    community_ids = ops.communities_in(area)
    if community_ids is not None:
        stmt = stmt.where(DemandRequest.community_id.in_(community_ids))
    if status in {s.value for s in DemandStatus}:
        stmt = stmt.where(DemandRequest.status == DemandStatus(status))
    if q:
        stmt = stmt.where(or_(Item.name.contains(q, autoescape=True), Item.code.contains(q, autoescape=True)))
    if wants_export():
        return DEMAND_REQUESTS.download(stmt)
    page = Page(stmt)
    counts = ops.support_counts(r.id for r in page.items)
    return render_template("catalog/demand/officer_list.html", page=page, counts=counts, status=status, q=q,
                           area=area, areas=_scope_areas(), statuses=DEMAND_STATUS_LABELS)


@bp.route("/demand/<int:demand_id>/decide", methods=["POST"])
@access(Role.OFFICER)
def decide(demand_id):
    req = _get_request(demand_id)
    form = DemandDecisionForm()
    if form.validate_on_submit():
        try:
            ops.decide_request(req, form.status.data, form.reason.data, current_user)
        except DomainError as e:
            if e.status == 403:
                raise
            count = ops.support_counts([req.id]).get(req.id, 0)
            return refused(e, form=form, template="catalog/demand/detail.html", req=req, count=count, supported=False,
                               support_form=SupportForm(), decision_form=form, officer=True)
        flash(_("Recorded: the request is now %(status)s; the residents were told.", status=req.status.label),
              "success")
        return redirect(url_for("demand.detail", demand_id=req.id))
    require(current_user.covers_area(req.community))
    count = ops.support_counts([req.id]).get(req.id, 0)
    return render_template("catalog/demand/detail.html", req=req, count=count, supported=False,
                           support_form=SupportForm(), decision_form=form, officer=True), 422


PERIODS = {"30": 30, "90": 90, "365": 365}
DASHBOARD_TOP = 10  # items ranked on the dashboard


def _period():
    """[since, until) in UTC from the filter: a preset number of days, or from/to dates (Beijing time)."""
    today = local_now().date()
    start_text, end_text = request.args.get("since", ""), request.args.get("until", "")
    try:
        start = dt.date.fromisoformat(start_text) if start_text else None
        end = dt.date.fromisoformat(end_text) if end_text else None
    except ValueError:
        start = end = None
    days = PERIODS.get(request.args.get("days", ""), 365)
    if start is None:
        start = (end or today) - dt.timedelta(days=days - 1)
    if end is None or end < start:
        end = max(today, start)
    since = dt.datetime.combine(start, dt.time(), LOCAL_TZ).astimezone(dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), LOCAL_TZ).astimezone(dt.UTC)
    return start, end, since, until


@bp.route("/officer/demand/dashboard")
@access(Role.OFFICER)
def dashboard():
    start, end, since, until = _period()
    area = _scope(request.args.get("area", type=int))
    category = db.session.get(Category, request.args.get("category", type=int) or 0)
    if category is not None and category.parent_id is not None:
        category = category.parent
    if wants_export():
        # The download is computed afresh, never from the page's cached figures: it must be exact.
        board = ops.dashboard(area, since, until, category=category)
        fmt = requested_format()
        heads = [_("Town / street"), _("Village / community"), _("Category"), _("Item code"), _("Item"),
                 _("Supports"), _("Requests"), _("Satisfaction (1–5)"), _("Ratings in 12 months")]
        rows = [[r.town, r.community, r.category, r.item_code, r.item_name, r.supports, r.requests,
                 r.satisfaction if r.ratings else None, r.ratings] for r in board.rows]
        name = f"demand-{start.isoformat()}-{end.isoformat()}.{fmt}"
        return (xlsx_response if fmt == "xlsx" else csv_response)(name, heads, rows)
    ttl = cache.seconds()
    key = (f"demand-dashboard:{area.id if area else 'district'}:{since.isoformat()}:{until.isoformat()}:"
           f"{category.id if category else 'all'}:{DASHBOARD_TOP}")
    board, figures_at = cache.remember(key, ttl, lambda: ops.dashboard(area, since, until, category=category,
                                                                       top=DASHBOARD_TOP, with_rows=False))
    unit = _("supports")
    charts = {
        "items": bar_chart([r.label for r in board.items], [r.supports for r in board.items],
                           title=_("Most supported items"), unit=" " + unit, empty_text=_("No demand in this period.")),
        "areas": bar_chart([r.label for r in board.areas[:15]], [r.supports for r in board.areas[:15]],
                           title=_("Supports by area"), unit=" " + unit, colour="#1f6f8b",
                           empty_text=_("No demand in this period.")),
        "categories": bar_chart([r.label for r in board.categories], [r.supports for r in board.categories],
                                title=_("Supports by category"), unit=" " + unit, colour="#3c8d2f",
                                empty_text=_("No demand in this period.")),
    }
    tops = list(db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                                   .order_by(Category.position, Category.code)))
    args = {k: v for k, v in request.args.items() if k != "format"}
    return render_template("catalog/demand/dashboard.html", board=board, charts=charts, start=start, end=end,
                           area=area, areas=_scope_areas(), category=category, categories=tops, args=args,
                           figures_at=figures_at, cache_seconds=ttl)
