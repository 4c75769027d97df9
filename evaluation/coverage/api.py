"""GET /api/v1/coverage: the 15-minute circle of the district or one area, with its gaps."""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.accounts.models import Role
from core.openapi import api_doc
from core.permissions import access
from evaluation.coverage import operations as coverage
from evaluation.coverage.schemas import CoverageQuerySchema, CoverageSchema
from evaluation.coverage.views import read_minutes, read_scope

bp = Blueprint("coverage_api", __name__, url_prefix="/api/v1")


@bp.route("/coverage")
@api_doc(_l("The m-minute walking circle: communities and residents within reach of a venue with sessions, "
         "and the gaps"),
         description=_l("Walk = straight-line distance × detour factor at a walking speed (settings). Malformed "
                     "minutes: 400 naming the field; an unknown area code: 404 naming it."),
         query=CoverageQuerySchema, responses={200: CoverageSchema}, errors=(400, 404), tags=("coverage",))
@access(Role.OFFICER, Role.ADMIN)
def index():
    minutes = read_minutes(request.args.get("minutes"))
    scope = read_scope(current_user, request.args.get("area"))
    c = coverage.compute(scope, minutes)
    gaps = [{"code": p.code, "name": p.name, "population": p.population,
             "nearest_venue_m": None if p.nearest_m is None else round(p.nearest_m)}
            for p in sorted(c.gaps, key=lambda p: p.code)]
    return CoverageSchema().dump({"minutes": c.minutes, "radius_m": round(c.radius_m), "communities": len(c.places),
                                  "covered": c.covered, "population": c.population,
                                  "population_covered": c.population_covered, "gaps": gaps})
