"""marshmallow schemas of the scorecards API (documentation of the query; the answer's shape)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class ScorecardQuerySchema(Schema):
    """GET /api/v1/scorecards: malformed input is answered 400 naming the field."""

    class Meta:
        unknown = EXCLUDE

    period = fields.String(metadata={"description": "YYYY-MM, YYYY-Qn or YYYY (local calendar); default this month"})
    level = fields.String(validate=validate.OneOf(["town", "community"]), metadata={"description": "default town"})
    parent = fields.String(metadata={"description": "a town's area code: only its villages/communities"})


class IndicatorMarkSchema(Schema):
    value = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "null: no data"})
    points = fields.Decimal(as_string=True, allow_none=True)
    weight = fields.Integer(metadata={"description": "the published weight"})
    share = fields.Decimal(as_string=True, metadata={"description": "% of the index it carries, after redistribution"})


class ScorecardItemSchema(Schema):
    area_code = fields.String()
    name = fields.String()
    population = fields.Integer()
    rank = fields.Integer(allow_none=True)
    index = fields.Decimal(as_string=True, allow_none=True)
    indicators = fields.Dict(keys=fields.String(), values=fields.Nested(IndicatorMarkSchema))


class ScorecardsSchema(Schema):
    period = fields.String()
    level = fields.String()
    model_version = fields.String()
    weights = fields.Dict(keys=fields.String(), values=fields.Integer())
    items = fields.List(fields.Nested(ScorecardItemSchema))
