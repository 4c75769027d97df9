"""Scorecard pages: the comparison of towns/streets (or of one town's villages/communities), one
area's card with its trend and what moved it, and the published model.

Officers of the district and admins see every card; an officer of a town/street sees the
comparison of towns and the cards of their own town and its villages/communities.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import audit, charts, settings
from core.accounts.models import Role
from core.areas.models import Area, AreaLevel
from core.db import db, utcnow
from core.errors import Forbidden, Invalid, Missing
from core.permissions import PUBLIC, access
from evaluation.scorecards import operations as scorecards

bp = Blueprint("scorecards", __name__, url_prefix="/scorecards")


def bad(message, field: str) -> Invalid:
    """Bad query input: a 400 naming the field (pages and the API alike)."""
    return Invalid(message, field, status=400, code="bad_request")


def read_period(raw: str | None, kind_default: str = "month"):
    text = (raw or "").strip() or scorecards.current_label(kind_default)
    return scorecards.parse_period(text)


def read_level(raw: str | None) -> AreaLevel:
    text = "town" if raw is None else raw.strip()
    if text not in (AreaLevel.TOWN.value, AreaLevel.COMMUNITY.value):
        raise bad(_("The level must be town or community."), "level")
    return AreaLevel(text)


def read_area(code: str | None, field: str, levels=(AreaLevel.TOWN,)) -> Area | None:
    code = (code or "").strip()
    if not code:
        return None
    area = db.session.scalar(select(Area).where(Area.code == code))
    if area is None or area.level not in levels:
        raise Missing(_("No area has the code %(code)s.", code=code), field)
    return area


def sees_all(user) -> bool:
    """An admin, or an officer of the district."""
    if user.has_role(Role.ADMIN):
        return True
    j = user.jurisdiction
    return j is not None and j.level == AreaLevel.DISTRICT


def may_see(user, area: Area) -> bool:
    return sees_all(user) or (user.jurisdiction is not None and user.covers_area(area))


def visible_parent(user, level: AreaLevel, parent: Area | None) -> Area | None:
    """The town whose communities the user may list: their own town's when they are a town officer
    (asking for another town is refused)."""
    if level != AreaLevel.COMMUNITY or sees_all(user):
        return parent
    own = user.jurisdiction
    if own is None:
        raise Forbidden(_("Your account has no jurisdiction yet; ask the administrator to set it."))
    town = own if own.level == AreaLevel.TOWN else own.parent
    if parent is not None and parent.id != town.id:
        raise Forbidden(_("You see the cards of your own town/street only."))
    return town


def board_items(board: scorecards.Board, parent: Area | None, user=None) -> list[scorecards.Card]:
    cards = board.cards
    if parent is not None:
        cards = [c for c in cards if c.area.parent_id == parent.id]
    if user is not None and board.level == AreaLevel.COMMUNITY and not sees_all(user):
        cards = [c for c in cards if user.covers_area(c.area)]
    return cards


@bp.route("/")
@access(Role.OFFICER, Role.ADMIN)
def index():
    kind = request.args.get("kind", "month")
    period = read_period(request.args.get("period"), kind if kind in scorecards.TREND_LENGTH else "month")
    level = read_level(request.args.get("level"))
    parent = read_area(request.args.get("parent"), "parent")
    if level == AreaLevel.COMMUNITY and parent is None and sees_all(current_user):
        parent = db.session.scalar(select(Area).where(Area.level == AreaLevel.TOWN).order_by(Area.code).limit(1))
    parent = visible_parent(current_user, level, parent)
    board = scorecards.board(period, level)
    cards = board_items(board, parent, current_user)
    towns = db.session.scalars(select(Area).where(Area.level == AreaLevel.TOWN).order_by(Area.code)).all()
    chart = charts.bar_chart([c.area.name for c in cards], [c.index or 0 for c in cards],
                             title=_("Index (0–100)"), width=560, bar_height=14, font_size=11,
                             empty_text=_("No areas"))
    return render_template("evaluation/scorecards/index.html", board=board, cards=cards, level=level,
                           parent=parent, towns=towns, chart=chart, indicators=scorecards.indicators(),
                           sees_all=sees_all(current_user))


@bp.route("/area/<int:area_id>")
@access(Role.OFFICER, Role.ADMIN)
def card(area_id):
    area = db.session.get(Area, area_id)
    if area is None or area.level not in (AreaLevel.TOWN, AreaLevel.COMMUNITY):
        return render_template("errors/error.html", status=404, message=_("No such town or community.")), 404
    if not may_see(current_user, area):
        raise Forbidden(_("You see the cards of your own town/street and its villages/communities only."))
    kind = request.args.get("kind", "month")
    period = read_period(request.args.get("period"), kind if kind in scorecards.TREND_LENGTH else "month")
    now, version = utcnow(), audit.high_water()
    history = scorecards.trend(period, area.level, area.id, now, version=version)
    this = history[-1][1]
    before = history[-2][1] if len(history) > 1 else None
    moves = scorecards.what_moved(before, this) if this else []
    labels = [label for label, _c in history]
    chart = charts.line_chart([lbl[2:] for lbl in labels],
                              {_("Index"): [c.index if c else None for _l, c in history]},
                              title=_("Index by period"), y_min=0, y_max=100, width=560, height=220,
                              empty_text=_("No data in these periods"))
    return render_template("evaluation/scorecards/card.html", area=area, period=period, card=this, history=history,
                           moves=moves, chart=chart, indicators=scorecards.indicators(),
                           peers=scorecards.peers(period, area.level, now, version))


@bp.route("/model")
@access(PUBLIC)
def model():
    return render_template("evaluation/scorecards/model.html", indicators=scorecards.indicators(),
                           weights={i.key: settings.get(i.weight.key) for i in scorecards.indicators()},
                           normalisation=scorecards.NORMALISATION, version=scorecards.MODEL_VERSION,
                           zero_days=settings.get(scorecards.ZERO_DAYS.key),
                           penalty=settings.get(scorecards.COMPLAINT_PENALTY.key))
