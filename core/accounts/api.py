"""Core JSON API: bearer tokens and the current user."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError

from core.accounts import operations as accounts
from core.accounts.schemas import MeSchema, TokenRequestSchema, TokenSchema
from core.accounts.views import client_address
from core.openapi import api_doc, document
from core.permissions import AUTHENTICATED, PUBLIC, access
from core.security import limit

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The name of the token scheme, not a secret (bandit B105 reads "token" as "password").
TOKEN_TYPE = "Bearer"  # noqa: S105  # nosec B105


def load_json(schema, partial=False):
    """The request body through a marshmallow schema; a bad body is a 422 naming the fields."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError({"_schema": ["The body must be a JSON object."]})
    return schema.load(data, partial=partial)


@bp.route("/tokens", methods=["POST"])
@api_doc(_l("Get a bearer token for a login name and password"), body=TokenRequestSchema,
         responses={201: TokenSchema}, errors=(401,), tags=("accounts",))
@access(PUBLIC)
@limit("20/minute;200/hour", config="RATELIMIT_TOKEN")
def create_token():
    data = load_json(TokenRequestSchema())
    user = accounts.authenticate(data["username"], data["password"], client_address())
    raw, token = accounts.issue_token(user)
    return TokenSchema().dump({"token": raw, "token_type": TOKEN_TYPE, "expires_at": token.expires_at}), 201


@bp.route("/me")
@api_doc(_l("The calling user: login, name, roles, jurisdiction and community"), responses={200: MeSchema},
         tags=("accounts",))
@access(AUTHENTICATED)
def me():
    user = current_user
    return MeSchema().dump({"id": user.id, "login": user.login, "name": user.name,
                            "roles": sorted(user.roles), "jurisdiction": user.jurisdiction,
                            "community": user.community})


@bp.route("/openapi.json")
@api_doc(_l("This API described as OpenAPI 3 (the document you are reading)"),
         responses={200: {"type": "object", "required": ["openapi", "paths"]}}, tags=("meta",))
@access(PUBLIC)
def openapi():
    return jsonify(document(current_app))
