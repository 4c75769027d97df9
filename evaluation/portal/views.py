"""The public portal (信息公开): what the public and the press read without logging in.

One navigable area over what other pages already keep: open projects and their records, results
with the review's stored score breakdown, the provider directory with performance profiles,
rating summaries and the adjustment decisions in force. Everything here is read-only and public.

Rules kept here, each for a reason:
- nothing about bids is shown before the opening (sealed bids stay sealed): the project page
  links to the opening record only once it exists, and the score breakdown only once the result
  is published (the review report's own rule, `evaluation.views.result_published`);
- numbers are the review's stored ones (ReviewResult / ReviewBidResult / ReviewLine), never
  recomputed here;
- residents are never named, hidden comments never shown;
- every list page runs a fixed number of queries whatever the number of rows (eager loading).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from catalog.items.models import Item, ItemStatus
from core import cache
from core import versions as data_versions
from core.areas.models import Area
from core.db import db, utcnow
from core.permissions import PUBLIC, access
from core.views_util import ListPage, Page
from evaluation.adjustment import operations as adjustment
from evaluation.adjustment.models import AdjustmentDecision, DecisionAction, DecisionStatus
from evaluation.feedback.models import Rating, RatingStatus
from evaluation.feedback.views import PUBLIC_PROVIDER_STATES
from evaluation.performance.models import PerformanceSnapshot
from evaluation.performance.views import profile_of
from evaluation.review import operations as review
from evaluation.review.models import MemberStatus, ReviewResult
from evaluation.review.views import result_published
from marketplace.awards.models import Award, AwardStatus
from marketplace.awards.views import latest_award
from marketplace.bids import operations as bid_ops
from marketplace.projects import operations as project_ops
from marketplace.projects.models import PUBLIC_STATES, CriterionKind, ProjectLine, ProjectState, PurchaseProject
from marketplace.providers.models import Provider, ProviderStatus

bp = Blueprint("portal", __name__, url_prefix="/portal")


RECENT = 5
# Providers listed in the directory: approved ones (a suspension is shown on the entry).
DIRECTORY_STATES = (ProviderStatus.APPROVED, ProviderStatus.SUSPENDED)
# The rating dimensions as the portal's tables head them (ratings.DIMENSIONS, in that order).
DIMENSION_LABELS = {"content": _l("Service content"), "organisation": _l("How it was organised"),
                    "venue": _l("Venue and experience")}
# Decisions the public reads as "in force": what they do to a provider's bidding or an item's place.
PUBLIC_ACTIONS = (DecisionAction.SUSPEND, DecisionAction.WATCH, DecisionAction.RETIRE, DecisionAction.MORE_BUDGET)
IN_EFFECT = (DecisionStatus.CONFIRMED, DecisionStatus.AUTO_APPLIED)
BUDGET_FLAG_DAYS = adjustment.PERIOD_DAYS  # a budget flag speaks for the 12 months it looked at
REFERENCE = re.compile(r"^HM-\d{4}-0*(\d{1,9})$", re.IGNORECASE)  # a project number (fits an integer)
CENT = Decimal("0.01")
# What the home page's lists show is read from these tables only (their cached rendering's versions).
HOME_TABLES = ("purchase_projects", "awards", "areas", "providers")
# The rating summaries name items or providers (their rows read from these tables).
RATED_TABLES = ("items", "providers")


def _q() -> str:
    return request.args.get("q", "").strip()[:100]


def stars(value) -> Decimal | None:
    """An average of stars as shown: two decimals, half up (the database gives float or numeric)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


# --- home -------------------------------------------------------------------------------------

def headline() -> dict:
    """The portal's headline figures, in one statement; it counts every rating and award, so the
    figures are reused for the dashboards' cache time (core.cache)."""
    return cache.remember("portal:headline", cache.seconds(), _headline)[0]


def _headline() -> dict:
    now = utcnow()
    live = Award.status == AwardStatus.PUBLISHED
    counted = Rating.status == RatingStatus.COUNTED
    row = db.session.execute(select(
        select(func.count()).select_from(PurchaseProject)
        .where(PurchaseProject.state_is(ProjectState.PUBLISHED, now)).scalar_subquery().label("open"),
        select(func.count()).select_from(Award).where(live).scalar_subquery().label("awarded"),
        select(func.sum(Award.amount)).where(live).scalar_subquery().label("amount"),
        select(func.count()).select_from(Provider).where(Provider.status == ProviderStatus.APPROVED)
        .scalar_subquery().label("providers"),
        select(func.count()).select_from(Item).where(Item.status == ItemStatus.ACTIVE).scalar_subquery()
        .label("items"),
        select(func.count()).select_from(Rating).where(counted).scalar_subquery().label("ratings"),
        select(func.avg((Rating.content + Rating.organisation + Rating.venue) / 3.0)).where(counted)
        .scalar_subquery().label("satisfaction"),
    )).one()
    return {"open": row.open, "awarded": row.awarded, "amount": row.amount or Decimal("0.00"),
            "providers": row.providers, "catalog_items": row.items, "ratings": row.ratings,
            "satisfaction": stars(row.satisfaction) if row.ratings else None}


def _public_projects():
    return (select(PurchaseProject).where(PurchaseProject.state.in_(PUBLIC_STATES))
            .options(selectinload(PurchaseProject.area)))


def _live_awards():
    return (select(Award).where(Award.status == AwardStatus.PUBLISHED)
            .options(joinedload(Award.project).selectinload(PurchaseProject.area))
            .order_by(Award.published_at.desc(), Award.id.desc()))


@bp.route("")
@access(PUBLIC)
def home():
    # The lists are the same for every reader of one language: rendered once per version of the
    # tables they read, and again at the next bid deadline (an open project then leaves the list).
    lists = data_versions.remember(data_versions.page_key("portal:home"), HOME_TABLES, _home_lists)
    return render_template("evaluation/portal/home.html", figures=headline(), lists=lists)


def _home_lists():
    now = utcnow()
    open_projects = db.session.scalars(
        _public_projects().where(PurchaseProject.state_is(ProjectState.PUBLISHED, now))
        .order_by(PurchaseProject.published_at.desc(), PurchaseProject.id.desc()).limit(RECENT)).all()
    results = db.session.scalars(_live_awards().limit(RECENT)).unique().all()
    lists = data_versions.rendered("evaluation/portal/_home_lists.html", open_projects=open_projects,
                                   results=results, now=now)
    return lists, project_ops.next_deadline(now)


# --- projects ---------------------------------------------------------------------------------

def search_projects(stmt, q: str):
    """Title, reference, item (name or code) or area name."""
    if not q:
        return stmt
    ref = REFERENCE.match(q)
    items = select(ProjectLine.project_id).join(Item, Item.id == ProjectLine.item_id).where(
        or_(Item.name.contains(q, autoescape=True), Item.code.contains(q, autoescape=True)))
    areas = select(Area.id).where(Area.name.contains(q, autoescape=True))
    cond = or_(PurchaseProject.title.contains(q, autoescape=True), PurchaseProject.id.in_(items),
               PurchaseProject.area_id.in_(areas))
    if ref:
        cond = or_(cond, PurchaseProject.id == int(ref.group(1)))
    return stmt.where(cond)


PROJECT_STATES = [s for s in ProjectState if s != ProjectState.DRAFT]


@bp.route("/projects")
@access(PUBLIC)
def projects():
    now = utcnow()
    q, state = _q(), request.args.get("state", "")
    stmt = search_projects(_public_projects(), q)
    if state in {s.value for s in PROJECT_STATES}:
        stmt = stmt.where(PurchaseProject.state_is(ProjectState(state), now))
    else:
        state = ""
    stmt = stmt.order_by(PurchaseProject.published_at.desc(), PurchaseProject.id.desc())
    return render_template("evaluation/portal/projects.html", page=Page(stmt), q=q, state=state, now=now,
                           state_options=[(s.value, s.label) for s in PROJECT_STATES])


def public_project(project_id: int) -> PurchaseProject:
    project = db.session.get(PurchaseProject, project_id)
    if project is None or project.state not in PUBLIC_STATES:
        abort(404)
    return project


@bp.route("/projects/<int:project_id>")
@access(PUBLIC)
def project(project_id):
    p = public_project(project_id)
    # Before the opening nothing about bids exists here: not their number, not their bidders.
    opening = bid_ops.opening_of(p) if p.is_opened else None
    award = latest_award(p) if p.awarded_at is not None or p.state in (ProjectState.UNDER_REVIEW,
                                                                        ProjectState.CANCELLED) else None
    published = p.is_opened and result_published(p)
    return render_template("evaluation/portal/project.html",
        project=p, state=p.current_state, opening=opening, award=award,
                           published=published, kinds=CriterionKind)


def published_result(p: PurchaseProject) -> ReviewResult:
    """The review result the public may read: the current one, once the award is published."""
    if not p.is_opened or not result_published(p):
        abort(404)
    result = review.current_result(p)
    if result is None:
        abort(404)
    return result


def expert_scores_published(p: PurchaseProject) -> bool:
    """Per-expert scores are public with the result: the review report publishes them, named, from
    the award on (evaluation.views.report); the portal follows the same rule."""
    return result_published(p)


@bp.route("/projects/<int:project_id>/result")
@access(PUBLIC)
def result(project_id):
    p = public_project(project_id)
    res = published_result(p)
    criteria = p.criteria_of(CriterionKind.SUBJECTIVE)
    lines = {(b.id, ln.criterion_id): ln for b in res.bids for ln in b.lines}
    seated = sorted((m for m in res.panel.members if m.status != MemberStatus.RECUSED),
                    key=lambda m: m.draw_position)
    public_providers = set(db.session.scalars(select(Provider.id).where(
        Provider.id.in_([b.provider_id for b in res.bids]), Provider.status.in_(PUBLIC_PROVIDER_STATES))))
    return render_template("evaluation/portal/result.html", project=p, result=res, criteria=criteria, lines=lines,
                           seated=seated, per_expert=expert_scores_published(p), award=latest_award(p),
                           public_providers=public_providers)


# --- results ----------------------------------------------------------------------------------

@bp.route("/results")
@access(PUBLIC)
def results():
    q = _q()
    stmt = _live_awards()
    if q:
        matching = search_projects(select(PurchaseProject.id), q)
        stmt = stmt.where(or_(Award.project_id.in_(matching),
                              Award.provider_id.in_(select(Provider.id).where(
                                  Provider.name.contains(q, autoescape=True)))))
    return render_template("evaluation/portal/results.html", page=Page(stmt), q=q)


# --- providers --------------------------------------------------------------------------------

def latest_snapshots(provider_ids) -> dict[int, PerformanceSnapshot]:
    """Each provider's latest performance snapshot, in one query."""
    ids = list(provider_ids)
    rn = func.row_number().over(partition_by=PerformanceSnapshot.provider_id,
                                order_by=(PerformanceSnapshot.computed_at.desc(), PerformanceSnapshot.id.desc()))
    inner = select(PerformanceSnapshot.id, rn.label("rn")).where(PerformanceSnapshot.provider_id.in_(ids)).subquery()
    rows = db.session.scalars(select(PerformanceSnapshot).join(inner, inner.c.id == PerformanceSnapshot.id)
                              .where(inner.c.rn == 1))
    return {s.provider_id: s for s in rows}


def awards_won(provider_ids) -> dict[int, int]:
    rows = db.session.execute(select(Award.provider_id, func.count()).where(
        Award.provider_id.in_(list(provider_ids)), Award.status == AwardStatus.PUBLISHED)
        .group_by(Award.provider_id))
    return dict(rows.all())


@bp.route("/providers")
@access(PUBLIC)
def providers():
    q = _q()
    stmt = select(Provider).where(Provider.status.in_(DIRECTORY_STATES))
    if q:
        stmt = stmt.where(or_(Provider.name.contains(q, autoescape=True),
                              Provider.credit_code.contains(q.upper(), autoescape=True)))
    page = Page(stmt.order_by(Provider.name, Provider.id))
    ids = [p.id for p in page.items]
    snaps, won = latest_snapshots(ids), awards_won(ids)
    profiles = {p.id: profile_of(p, snaps.get(p.id)) for p in page.items}
    return render_template("evaluation/portal/providers.html", page=page, q=q, profiles=profiles, won=won, now=utcnow())


def public_provider(provider_id: int) -> Provider:
    p = db.session.get(Provider, provider_id)
    if p is None or p.status not in PUBLIC_PROVIDER_STATES:
        abort(404)
    return p


def _dimension_means(condition) -> dict:
    """Average stars per dimension and the number of counted ratings matching `condition`."""
    row = db.session.execute(select(func.avg(Rating.content), func.avg(Rating.organisation), func.avg(Rating.venue),
                                    func.count()).where(Rating.status == RatingStatus.COUNTED, condition)).one()
    return summary(row[0], row[1], row[2], row[3])


def summary(content, organisation, venue, n) -> dict:
    if not n:
        return {"n": 0}
    means = {"content": stars(content), "organisation": stars(organisation), "venue": stars(venue)}
    return means | {"n": n, "overall": stars(sum(means.values()) / 3)}


def public_comments(condition):
    """Counted ratings with a visible comment (hidden ones are left out), newest first, paginated.
    The resident is never loaded: nothing on these pages can name them."""
    return Page(select(Rating).where(Rating.status == RatingStatus.COUNTED, Rating.comment != "",
                                     Rating.comment_hidden_at.is_(None), condition)
                .options(selectinload(Rating.provider))
                .order_by(Rating.created_at.desc(), Rating.id.desc()))


def _items_of(page) -> dict[int, Item]:
    ids = {r.item_id for r in page.items}
    return {i.id: i for i in db.session.scalars(select(Item).where(Item.id.in_(ids)))}


@bp.route("/providers/<int:provider_id>")
@access(PUBLIC)
def provider(provider_id):
    p = public_provider(provider_id)
    won = db.session.scalars(select(Award).where(Award.provider_id == p.id, Award.status == AwardStatus.PUBLISHED)
                             .options(joinedload(Award.project).selectinload(PurchaseProject.area))
                             .order_by(Award.published_at.desc())).unique().all()
    decisions = db.session.scalars(in_force(select(AdjustmentDecision), utcnow())
                                   .where(AdjustmentDecision.provider_id == p.id)
                                   .order_by(AdjustmentDecision.decided_at.desc())).all()
    comments = public_comments(Rating.provider_id == p.id)
    return render_template("evaluation/portal/provider.html",
        p=p, profile=profile_of(p, latest_snapshots([p.id]).get(p.id)),
                           won=won, decisions=decisions, explain=adjustment.explain, rules=adjustment.RULES,
                           means=_dimension_means(Rating.provider_id == p.id), page=comments,
                           items=_items_of(comments), dimensions=DIMENSION_LABELS, now=utcnow())


# --- rating summaries -------------------------------------------------------------------------

def rating_sums(kind: str) -> tuple[dict[int, tuple[int, int, int, int]], dt.datetime]:
    """Counted ratings' star sums per item or per provider: {id: (content, organisation, venue, n)},
    with when they were summed. One aggregate over every rating, so it is reused for the
    dashboards' cache time (core.cache) instead of running on every public request."""
    key = Rating.item_id if kind == "item" else Rating.provider_id

    def compute():
        rows = db.session.execute(
            select(key, func.sum(Rating.content), func.sum(Rating.organisation), func.sum(Rating.venue), func.count())
            .where(Rating.status == RatingStatus.COUNTED).group_by(key))
        return {k: (int(c), int(o), int(v), int(n)) for k, c, o, v, n in rows}

    return cache.remember(f"portal:rating-sums:{kind}", cache.seconds(), compute)


def _ranked(candidates: list[tuple], sums: dict) -> list:
    """Ids of the candidates (id, name) that have ratings: most rated first, then by name."""
    return [i for i, name in sorted(((i, name) for i, name in candidates if i in sums),
                                    key=lambda c: (-sums[c[0]][3], c[1], c[0]))]


def _summary_of(sums: dict, key: int) -> dict:
    c, o, v, n = sums[key]
    return summary(Decimal(c) / n, Decimal(o) / n, Decimal(v) / n, n)


def _loaded(model, ids: list[int]) -> list:
    found = {m.id: m for m in db.session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids]


def _ratings_page(kind: str, model, candidates, template: str):
    """A page of rating summaries: the candidates (id, name) that have counted ratings, most
    rated first, each with its means from the cached sums. The table is rendered once per sum of
    the ratings and version of the candidates' table."""
    sums, at = rating_sums(kind)

    def table():
        page = ListPage(_ranked(db.session.execute(candidates).all(), sums), lambda ids: _loaded(model, ids))
        return data_versions.rendered(
            f"evaluation/portal/_ratings_{model.__tablename__}_table.html", page=page, dimensions=DIMENSION_LABELS,
            rows=[(o, _summary_of(sums, o.id)) for o in page.items]), None

    key = f"{data_versions.page_key('portal:ratings')}:{at.isoformat()}"
    return render_template(template, table=data_versions.remember(key, (model.__tablename__,), table), q=_q(),
                           figures_at=at, cache_seconds=cache.seconds())


@bp.route("/ratings")
@access(PUBLIC)
def ratings_items():
    q = _q()
    stmt = select(Item.id, Item.code).where(Item.status != ItemStatus.DRAFT)
    if q:
        stmt = stmt.where(or_(Item.name.contains(q, autoescape=True), Item.code.contains(q, autoescape=True)))
    return _ratings_page("item", Item, stmt, "evaluation/portal/ratings_items.html")


@bp.route("/ratings/providers")
@access(PUBLIC)
def ratings_providers():
    q = _q()
    stmt = select(Provider.id, Provider.name).where(Provider.status.in_(PUBLIC_PROVIDER_STATES))
    if q:
        stmt = stmt.where(Provider.name.contains(q, autoescape=True))
    return _ratings_page("provider", Provider, stmt, "evaluation/portal/ratings_providers.html")


@bp.route("/ratings/items/<int:item_id>")
@access(PUBLIC)
def ratings_item(item_id):
    it = db.session.get(Item, item_id)
    if it is None or it.status == ItemStatus.DRAFT:
        abort(404)
    comments = public_comments(Rating.item_id == it.id)
    public_providers = set(db.session.scalars(select(Provider.id).where(
        Provider.id.in_({r.provider_id for r in comments.items}), Provider.status.in_(PUBLIC_PROVIDER_STATES))))
    return render_template("evaluation/portal/ratings_item.html",
        item=it, means=_dimension_means(Rating.item_id == it.id),
                           page=comments, dimensions=DIMENSION_LABELS, public_providers=public_providers)


# --- adjustment decisions in force ------------------------------------------------------------

def in_force(stmt, now: dt.datetime):
    """Decisions that act now: a suspension not yet run out (and not lifted), an item still on
    watch or retired, a budget flag of the last 12 months for an item still active."""
    d = AdjustmentDecision
    return (stmt.outerjoin(Provider, Provider.id == d.provider_id).outerjoin(Item, Item.id == d.item_id)
            .where(d.status.in_(IN_EFFECT), d.action.in_(PUBLIC_ACTIONS), or_(
                and_(d.action == DecisionAction.SUSPEND, Provider.status == ProviderStatus.SUSPENDED,
                     d.effective_until > now),
                and_(d.action == DecisionAction.WATCH, Item.status == ItemStatus.WATCH),
                and_(d.action == DecisionAction.RETIRE, Item.status == ItemStatus.RETIRED),
                and_(d.action == DecisionAction.MORE_BUDGET, Item.status == ItemStatus.ACTIVE,
                     d.decided_at > now - dt.timedelta(days=BUDGET_FLAG_DAYS)))))


@bp.route("/adjustments")
@access(PUBLIC)
def adjustments():
    q, action = _q(), request.args.get("action", "")
    stmt = in_force(select(AdjustmentDecision), utcnow())
    if action in {a.value for a in PUBLIC_ACTIONS}:
        stmt = stmt.where(AdjustmentDecision.action == DecisionAction(action))
    else:
        action = ""
    if q:
        stmt = stmt.where(or_(Provider.name.contains(q, autoescape=True), Item.name.contains(q, autoescape=True),
                              Item.code.contains(q, autoescape=True)))
    stmt = stmt.options(selectinload(AdjustmentDecision.provider), selectinload(AdjustmentDecision.item)) \
        .order_by(AdjustmentDecision.decided_at.desc(), AdjustmentDecision.id.desc())
    return render_template("evaluation/portal/adjustments.html", page=Page(stmt), q=q, action=action,
                           action_options=[(a.value, a.label) for a in PUBLIC_ACTIONS],
                           explain=adjustment.explain, rules=adjustment.RULES)


def landing():
    """The anonymous visitor's landing page at / (set on the app by evaluation's init_app)."""
    return home()
