"""marshmallow schemas of the coverage API (documentation of the query; the answer's shape)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, validate


class CoverageQuerySchema(Schema):
    """GET /api/v1/coverage: malformed input is answered 400 naming the field, an unknown area 404."""

    class Meta:
        unknown = EXCLUDE

    minutes = fields.Integer(validate=validate.Range(1, 120),
                             metadata={"description": _l("minutes of walking, 1–120; default the setting (15)")})
    area = fields.String(metadata={"description": _l("a town's or community's area code; default the district "
                                                  "(no such area: 404)")})


class GapSchema(Schema):
    code = fields.String()
    name = fields.String()
    population = fields.Integer()
    nearest_venue_m = fields.Integer(allow_none=True, metadata={"description": _l("null: no coordinates, or no venue")})


class CoverageSchema(Schema):
    minutes = fields.Integer()
    radius_m = fields.Integer()
    communities = fields.Integer()
    covered = fields.Integer()
    population = fields.Integer()
    population_covered = fields.Integer()
    gaps = fields.List(fields.Nested(GapSchema))
