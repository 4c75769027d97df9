"""Ratings and provider profiles in the JSON API: a resident rates a session with a bearer
token; anyone reads a provider's public performance profile."""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.accounts.api import load_json
from core.accounts.models import Role
from core.db import db
from core.openapi import api_doc
from core.permissions import PUBLIC, access
from core.security import by_caller, limit
from evaluation.feedback import operations as ratings
from evaluation.feedback.schemas import ProviderProfileSchema, RatingInSchema, RatingOutSchema
from evaluation.feedback.views import PUBLIC_PROVIDER_STATES
from evaluation.performance.views import public_profile
from marketplace.providers.models import Provider
from marketplace.sessions.models import ServiceSession

bp = Blueprint("feedback_api", __name__, url_prefix="/api/v1")


@bp.route("/sessions/<int:session_id>/rating", methods=["POST"])
@api_doc(_l("Rate a delivered session (201), or change the caller's rating while the window is open (200)"),
         description=_l("A first rating needs the session's attendance code (shown at the event): without it, "
                     "or with another, 403 naming `attendance_code`. Outside the rating window: 409."),
         body=RatingInSchema, responses={200: RatingOutSchema, 201: RatingOutSchema}, errors=(409,),
         tags=("ratings",))
@access(Role.RESIDENT)
@limit("10/minute;60/hour", key=by_caller, config="RATELIMIT_RATING")
def rate(session_id):
    """Create the caller's rating of a session (201), or change it while the window is open (200)."""
    s = db.session.get(ServiceSession, session_id)
    if s is None:
        abort(404)
    data = load_json(RatingInSchema())
    stars = {d: data[d] for d in ratings.DIMENSIONS}
    rating, created = ratings.rate(s, current_user, stars, data["comment"], request.remote_addr,
                                   attendance_code=data["attendance_code"])
    fields = ("id", "session_id", "content", "organisation", "venue", "comment", "created_at", "updated_at")
    body = RatingOutSchema().dump({**{c: getattr(rating, c) for c in fields}, "status": rating.status.value,
                                   "editable_until": ratings.window(s)[1]})
    return body, 201 if created else 200


@bp.route("/providers/<int:provider_id>")
@api_doc(_l("A provider's public performance profile: grade, score, satisfaction and number of ratings"),
         responses={200: ProviderProfileSchema}, tags=("providers",))
@access(PUBLIC)
def provider(provider_id):
    """A provider's public performance profile: grade, score, satisfaction and number of ratings."""
    p = db.session.get(Provider, provider_id)
    if p is None or p.status not in PUBLIC_PROVIDER_STATES:
        abort(404)
    return ProviderProfileSchema().dump(public_profile(p))
