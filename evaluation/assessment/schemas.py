"""JSON of the assessment plan's public record."""

from marshmallow import Schema, fields


class PublicVisitOut(Schema):
    position = fields.Integer()
    session_reference = fields.String()
    item = fields.String()
    venue = fields.String()
    provider = fields.String()
    status = fields.String()
    agency = fields.String(allow_none=True)
    score = fields.Integer(allow_none=True)
    counted_attendance = fields.Integer(allow_none=True)
    reported_attendance = fields.Integer(allow_none=True)
    discrepancy = fields.Boolean()


class PublicPlanOut(Schema):
    month = fields.String()
    seed = fields.String()
    share_percent = fields.Integer()
    min_per_town = fields.Integer()
    candidates = fields.List(fields.Integer())
    sample = fields.List(fields.Integer())
    rerun_matches = fields.Boolean()
    visits = fields.List(fields.Nested(PublicVisitOut))
