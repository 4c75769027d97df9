"""`GET /api/v1/supervision/items`: the public tracker as JSON."""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l

from core.db import utcnow
from core.openapi import api_doc
from core.permissions import PUBLIC, access
from core.views_util import Page
from evaluation.supervision import operations as supervision
from evaluation.supervision.schemas import ItemsOut, ItemsQuery
from evaluation.supervision.views import public_row, tracker_query

bp = Blueprint("supervision_api", __name__, url_prefix="/api/v1")


@bp.route("/supervision/items")
@api_doc(_l("Supervision items: status, days open and answers (public fields)"), query=ItemsQuery,
         responses={200: ItemsOut}, tags=("evaluation",))
@access(PUBLIC)
def items():
    args = ItemsQuery().load(request.args)
    now = utcnow()
    page = Page(tracker_query(args["status"], now), page=args["page"])
    kinds = supervision.kinds_of([i.raised_by_id for i in page.items])
    follows = supervision.followers_count([i.id for i in page.items])
    return ItemsOut().dump({"page": page.page, "pages": page.pages, "total": page.total,
                            "items": [public_row(i, now, kinds, follows) for i in page.items]})
