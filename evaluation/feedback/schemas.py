"""marshmallow schemas for the ratings and provider-profile API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class RatingInSchema(Schema):
    content = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    organisation = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    venue = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    comment = fields.String(load_default="", validate=validate.Length(max=500))
    # The session's attendance code (签到码), shown at the event: required for a first rating.
    attendance_code = fields.String(load_default="", validate=validate.Length(max=20))


class RatingOutSchema(Schema):
    id = fields.Integer()
    session_id = fields.Integer()
    content = fields.Integer()
    organisation = fields.Integer()
    venue = fields.Integer()
    comment = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    editable_until = fields.DateTime()


class ProviderProfileSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    status = fields.String()
    grade = fields.String(allow_none=True)
    performance_score = fields.Decimal(as_string=True, allow_none=True)
    satisfaction = fields.Decimal(as_string=True, allow_none=True)
    rating_count = fields.Integer()
    computed_at = fields.DateTime(allow_none=True)
    model_version = fields.String(allow_none=True)
    suspended_until = fields.DateTime(allow_none=True)
