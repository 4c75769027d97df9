"""Provider JSON API: the provider's own record."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from core.accounts.models import Role
from core.db import db
from core.openapi import api_doc
from core.permissions import access
from marketplace.providers import operations as ops
from marketplace.providers.models import ProviderDocument
from marketplace.providers.schemas import ProviderSchema

bp = Blueprint("providers_api", __name__, url_prefix="/api/v1/providers")


@bp.route("/me")
@api_doc(_l("The calling provider's organisation, its status, whether it may bid and why not"),
         responses={200: ProviderSchema}, errors=(404,), tags=("providers",))
@access(Role.PROVIDER)
def me():
    """The calling provider's organisation, its status, whether it may bid and why not."""
    provider = ops.provider_of(current_user)
    if provider is None:
        abort(404, description=_("Register your organisation first."))
    refusal = provider.bidding_refusal()
    documents = db.session.scalars(select(ProviderDocument).where(ProviderDocument.provider_id == provider.id)
                                   .order_by(ProviderDocument.id)).all()
    data = {c: getattr(provider, c) for c in ProviderSchema().fields if hasattr(provider, c)}
    data.update(effective_status=provider.effective_status(), may_bid=refusal is None,
                bidding_refusal=str(refusal) if refusal else None, documents=documents)
    return ProviderSchema().dump(data)
