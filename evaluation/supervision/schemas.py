"""JSON of supervision items (public fields only)."""

from marshmallow import Schema, fields, validate


class ItemsQuery(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(["open", "answered", "overdue"]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000))


class ItemOut(Schema):
    id = fields.Integer()
    title = fields.String()
    text = fields.String()
    subject_type = fields.String()
    subject_name = fields.String()
    area = fields.String()
    status = fields.String()
    overdue = fields.Boolean()
    escalated = fields.Boolean()
    raised_at = fields.DateTime()
    due_at = fields.DateTime()
    days_open = fields.Integer()
    supervisor_kind = fields.String(allow_none=True)
    answer = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
    followers = fields.Integer()


class ItemsOut(Schema):
    page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(ItemOut))
