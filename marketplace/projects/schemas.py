"""marshmallow schemas for the projects and bids API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.views_util import MAX_ID, MAX_PAGE


class AreaRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class CriterionSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    rubric = fields.String()
    weight = fields.Decimal(as_string=True)
    min_score = fields.Decimal(as_string=True, allow_none=True)
    max_score = fields.Decimal(as_string=True, allow_none=True)


class ItemRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    unit = fields.String()


class VenueRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    area = fields.Nested(AreaRefSchema)


class LineSchema(Schema):
    item = fields.Nested(ItemRefSchema)
    venue = fields.Nested(VenueRefSchema)
    quantity = fields.Integer()
    unit_ceiling = fields.Decimal(as_string=True)


class ClarificationSchema(Schema):
    question = fields.String()
    answer = fields.String()
    asked_at = fields.DateTime()
    answered_at = fields.DateTime()


class ProjectSummarySchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    title = fields.String()
    area = fields.Nested(AreaRefSchema)
    method = fields.String()
    state = fields.Function(lambda p: p.current_state.value, metadata={"type": "string"})
    budget = fields.Decimal(as_string=True)
    bid_deadline = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    opened_at = fields.DateTime(allow_none=True)


class ProjectSchema(ProjectSummarySchema):
    description = fields.String()
    justification = fields.String()
    cancel_reason = fields.String()
    failed_reason = fields.String()
    reissued_from_id = fields.Integer(allow_none=True)
    lines = fields.List(fields.Nested(LineSchema))
    criteria = fields.List(fields.Nested(CriterionSchema))
    # The view sets the answered questions only (unanswered ones are not public).
    clarifications = fields.List(fields.Nested(ClarificationSchema), attribute="answered_clarifications")


class ProjectPageSchema(Schema):
    items = fields.List(fields.Nested(ProjectSummarySchema))
    page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()


class ProjectQuerySchema(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=100))
    state = fields.String(load_default=None, validate=validate.OneOf([
        "published", "closed", "opened", "under_review", "awarded", "contracted", "in_delivery", "completed",
        "cancelled", "failed"]))
    method = fields.String(load_default=None, validate=validate.OneOf([
        "open_tender", "competitive_consultation", "inquiry", "single_source"]))
    area = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


# --- open data (OCDS) query parameters ----------------------------------------------------------


