"""The coverage page: the 15-minute circle on a map of the district (or of a town), its table per
town/street, the gaps and the planning view. Officers and admins; a town's officer sees their town."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from core.accounts.models import Role
from core.areas.models import AreaLevel
from core.errors import Forbidden
from core.permissions import access
from evaluation.coverage import map as coverage_map
from evaluation.coverage import operations as coverage
from evaluation.scorecards.views import read_area, sees_all

bp = Blueprint("coverage", __name__, url_prefix="/coverage")
GAPS_SHOWN = 200


def read_minutes(raw):
    if raw is None:
        return None
    return coverage.check_minutes(raw)


def read_scope(user, code):
    """The area asked about (None: the district); a town's officer is held to their town."""
    area = read_area(code, "area", (AreaLevel.TOWN, AreaLevel.COMMUNITY))
    if sees_all(user):
        return area
    own = user.jurisdiction
    if own is None:
        raise Forbidden(_("Your account has no jurisdiction yet; ask the administrator to set it."))
    if area is None:
        return own
    if not user.covers_area(area):
        raise Forbidden(_("You see the circle of your own town/street only."))
    return area


@bp.route("/")
@access(Role.OFFICER, Role.ADMIN)
def index():
    minutes = read_minutes(request.args.get("minutes"))
    scope = read_scope(current_user, request.args.get("area"))
    circle = coverage.compute(scope, minutes)
    picks = coverage.plan(circle)
    svg = coverage_map.draw(circle, picks, width=720)
    gaps = sorted(circle.gaps, key=lambda p: (-p.population, p.code))
    return render_template("evaluation/coverage/index.html", circle=circle, picks=picks, svg=svg, scope=scope,
                           gaps=gaps[:GAPS_SHOWN], gaps_total=len(gaps), reach_days=coverage.REACH_DAYS)
