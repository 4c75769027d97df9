"""marshmallow schemas for the catalog and demand API, in and out."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from catalog.models import TargetGroup
from catalog.search import STATUS_FILTERS
from core.models import AreaLevel


class ItemQuerySchema(Schema):
    """Query arguments of GET /api/v1/catalog/items: the same filters and search as the catalog page."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=60))
    category = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    target_group = fields.String(load_default="", validate=validate.OneOf(["", *[t.value for t in TargetGroup]]))
    level = fields.String(load_default="", validate=validate.OneOf(["", *[lv.value for lv in AreaLevel]]))
    status = fields.String(load_default="in_catalog", validate=validate.OneOf(STATUS_FILTERS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class CategoryRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    parent_code = fields.Function(lambda c: c.parent.code if c.parent else None)


class ItemSummarySchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    category = fields.Nested(CategoryRefSchema)
    unit = fields.String()
    price_ceiling = fields.Decimal(as_string=True, places=2)
    target_groups = fields.List(fields.String())
    levels = fields.List(fields.String())
    status = fields.Function(lambda i: i.status.value)
    revision = fields.Integer()
    url = fields.String()


class StandardSchema(Schema):
    content = fields.String(attribute="standard_content")
    duration = fields.String(attribute="standard_duration")
    staffing = fields.String(attribute="standard_staffing")
    quality = fields.String(attribute="standard_quality")


class DecisionSchema(Schema):
    from_status = fields.Function(lambda d: d.from_status.value)
    to_status = fields.Function(lambda d: d.to_status.value)
    reason = fields.String()
    source = fields.Function(lambda d: d.source.value)
    rule = fields.String()
    decided_at = fields.DateTime()


class DemandFiguresSchema(Schema):
    active_requests = fields.Integer()
    active_supports = fields.Integer()
    fulfilled = fields.Integer()
    total_supports = fields.Integer()


class ItemDetailSchema(ItemSummarySchema):
    description = fields.String()
    standard = fields.Function(lambda i: StandardSchema().dump(i))
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


class DemandCreateSchema(Schema):
    item = fields.String(required=True, validate=validate.Length(min=1, max=30))
    venue_id = fields.Integer(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class SupportCreateSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=500))


class DemandSchema(Schema):
    id = fields.Integer()
    item = fields.Function(lambda r: r.item.code)
    item_name = fields.Function(lambda r: r.item.name)
    community = fields.Function(lambda r: r.community.code)
    venue_id = fields.Integer()
    venue = fields.Function(lambda r: r.venue.name)
    note = fields.String()
    status = fields.Function(lambda r: r.status.value)
    status_reason = fields.String()
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    supports = fields.Integer()
    mine = fields.Boolean()
