"""marshmallow schemas for the catalog and demand API, in and out."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, validate

from catalog.items.models import DecisionSource, ItemStatus, TargetGroup
from catalog.items.search import STATUS_FILTERS
from core.areas.models import AreaLevel
from core.views_util import MAX_ID, MAX_PAGE


class ItemQuerySchema(Schema):
    """Query arguments of GET /api/v1/catalog/items: the same filters and search as the catalog page."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=60))
    category = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_ID))
    target_group = fields.String(load_default="", validate=validate.OneOf(["", *[t.value for t in TargetGroup]]))
    level = fields.String(load_default="", validate=validate.OneOf(["", *[lv.value for lv in AreaLevel]]))
    status = fields.String(load_default="in_catalog", validate=validate.OneOf(STATUS_FILTERS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class CategoryRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    parent_code = fields.Function(lambda c: c.parent.code if c.parent else None,
                                  metadata={"type": "string", "nullable": True})


class ItemSummarySchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    category = fields.Nested(CategoryRefSchema)
    unit = fields.String()
    price_ceiling = fields.Decimal(as_string=True, places=2)
    target_groups = fields.List(fields.String())
    levels = fields.List(fields.String())
    status = fields.Enum(ItemStatus, by_value=True)
    revision = fields.Integer()
    url = fields.String()


class StandardSchema(Schema):
    content = fields.String(attribute="standard_content")
    duration = fields.String(attribute="standard_duration")
    staffing = fields.String(attribute="standard_staffing")
    quality = fields.String(attribute="standard_quality")


class DecisionSchema(Schema):
    from_status = fields.Enum(ItemStatus, by_value=True)
    to_status = fields.Enum(ItemStatus, by_value=True)
    reason = fields.String()
    source = fields.Enum(DecisionSource, by_value=True)
    rule = fields.String()
    decided_at = fields.DateTime()


class DemandFiguresSchema(Schema):
    active_requests = fields.Integer()
    active_supports = fields.Integer()
    fulfilled = fields.Integer()
    total_supports = fields.Integer()


class ItemDetailSchema(ItemSummarySchema):
    description = fields.String()
    standard = fields.Function(lambda i: StandardSchema().dump(i),
                               metadata={"type": "object", "description": _l("content, duration, staffing, quality")})
    status_decision = fields.Nested(DecisionSchema, allow_none=True)
    satisfaction = fields.Decimal(as_string=True, places=2, allow_none=True)
    rating_count = fields.Integer()
    demand = fields.Nested(DemandFiguresSchema)


class ItemPageSchema(Schema):
    items = fields.List(fields.Nested(ItemSummarySchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


