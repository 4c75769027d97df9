"""The coverage page: the 15-minute circle on a map of the district (or of a town), its table per
town/street, the gaps and the planning view. Officers and admins; a town's officer sees their town."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from core import cache, settings
from core import versions as data_versions
from core.accounts.models import Role
from core.areas.models import AreaLevel
from core.db import utcnow
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
    minutes = read_minutes(request.args.get("minutes")) or settings.get(coverage.MINUTES.key)
    scope = read_scope(current_user, request.args.get("area"))

    ttl = cache.seconds()

    def compute():
        circle = coverage.compute(scope, minutes)
        picks = coverage.plan(circle)
        gaps = sorted(circle.gaps, key=lambda p: (-p.population, p.code))
        # A walk's reach moves with the clock (sessions of the last 90 days): kept at most `ttl`.
        now = utcnow()
        svg = coverage_map.draw(circle, picks, width=720)
        return (circle, picks, svg, gaps[:GAPS_SHOWN], len(gaps), now), now + dt.timedelta(seconds=ttl)

    # The map's labels are in the reader's language: the key names it.
    key = f"coverage:{scope.id if scope else 0}:{minutes}:{coverage.radius_m(minutes):.3f}:{get_locale()}"
    circle, picks, svg, gaps, gaps_total, at = data_versions.remember(key, coverage.DATA_TABLES, compute)
    return render_template("evaluation/coverage/index.html", circle=circle, picks=picks, svg=svg, scope=scope,
                           gaps=gaps, gaps_total=gaps_total, reach_days=coverage.REACH_DAYS,
                           figures_at=at, cache_seconds=ttl)
