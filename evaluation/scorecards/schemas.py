"""marshmallow schemas of the scorecards API (documentation of the query; the answer's shape)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, validate

from evaluation.scorecards.operations import PERIOD_PATTERN


class ScorecardQuerySchema(Schema):
    """GET /api/v1/scorecards: malformed input is answered 400 naming the field, an unknown area 404."""

    class Meta:
        unknown = EXCLUDE

    period = fields.String(metadata={"pattern": PERIOD_PATTERN, "description": _l("YYYY-MM, YYYY-Qn or YYYY from 2000 "
                                     "(local calendar); default this month. A period not begun yet: 409")})
    level = fields.String(validate=validate.OneOf(["town", "community"]), metadata={"description": _l("default town")})
    parent = fields.String(metadata={"description": _l("a town's area code: only its villages/communities (no such "
                                                    "town: 404)")})


class IndicatorMarkSchema(Schema):
    value = fields.Decimal(as_string=True, allow_none=True, metadata={"description": _l("null: no data")})
    points = fields.Decimal(as_string=True, allow_none=True)
    weight = fields.Integer(metadata={"description": _l("the published weight")})
    share = fields.Decimal(as_string=True,
                           metadata={"description": _l("share of the index it carries (%), after redistribution")})


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
