"""marshmallow schemas for the demand API, in and out."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, validate

from catalog.demand.models import DemandStatus
from core.views_util import MAX_ID, MAX_PAGE


class DemandCreateSchema(Schema):
    item = fields.String(required=True, validate=validate.Length(min=1, max=30))
    venue_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    note = fields.String(load_default="", validate=validate.Length(max=500))


class SupportCreateSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=500))


class DemandSchema(Schema):
    id = fields.Integer()
    item = fields.String(attribute="item.code")
    item_name = fields.String(attribute="item.name")
    community = fields.String(attribute="community.code")
    venue_id = fields.Integer()
    venue = fields.String(attribute="venue.name")
    note = fields.String()
    status = fields.Enum(DemandStatus, by_value=True)
    status_reason = fields.String()
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    supports = fields.Integer()
    mine = fields.Boolean()


class DemandCreatedSchema(DemandSchema):
    merged = fields.Boolean(metadata={"description": _l("true: an active request for the item and venue existed; "
                                                     "the call became a support of it (200)")})


class DemandPageQuerySchema(Schema):
    """Query arguments of GET /api/v1/demand/mine."""

    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


class DemandPageSchema(Schema):
    requests = fields.List(fields.Nested(DemandSchema))
    page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()
