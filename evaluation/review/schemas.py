"""marshmallow schemas of the evaluation API (output only)."""

from marshmallow import Schema, fields

Num = fields.Decimal(as_string=True, allow_none=True)


class ScoreOut(Schema):
    member_id = fields.Integer()
    expert = fields.String()
    score = fields.Decimal(as_string=True)
    dropped = fields.Boolean()
    flagged = fields.Boolean()


class CriterionLineOut(Schema):
    criterion_id = fields.Integer()
    name = fields.String()
    min_score = fields.Decimal(as_string=True)
    max_score = fields.Decimal(as_string=True)
    scores = fields.List(fields.Nested(ScoreOut))
    used_count = fields.Integer()
    score_sum = fields.Decimal(as_string=True)
    mean = fields.Decimal(as_string=True)


class BidOut(Schema):
    bid_id = fields.Integer()
    provider_id = fields.Integer()
    provider_name = fields.String()
    price = fields.Decimal(as_string=True)
    submitted_at = fields.DateTime()
    valid = fields.Boolean()
    invalid_reason = fields.String()
    rank = fields.Integer(allow_none=True)
    price_points = Num
    price_formula = fields.Dict(keys=fields.String(), values=fields.String())
    performance_snapshot = Num
    performance_from_prior = fields.Boolean()
    performance_points = Num
    subjective_points = Num
    total = Num
    criteria = fields.List(fields.Nested(CriterionLineOut))


class MemberOut(Schema):
    member_id = fields.Integer()
    draw_position = fields.Integer()
    expert_id = fields.Integer()
    name = fields.String()
    employer = fields.String()
    status = fields.String()
    leader = fields.Boolean()
    replaces_member_id = fields.Integer(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)


class PanelOut(Schema):
    seed = fields.String()
    drawn_at = fields.DateTime()
    size = fields.Integer()
    candidates = fields.List(fields.Integer())
    method = fields.String()
    rerun_matches = fields.Boolean()
    members = fields.List(fields.Nested(MemberOut))


class FlagOut(Schema):
    member_id = fields.Integer()
    bid_id = fields.Integer()
    criterion_id = fields.Integer()
    score = fields.Decimal(as_string=True)
    panel_mean = fields.Decimal(as_string=True)
    difference = fields.Decimal(as_string=True)
    limit = fields.Decimal(as_string=True)


class RulesOut(Schema):
    price_weight = fields.Decimal(as_string=True)
    performance_weight = fields.Decimal(as_string=True)
    performance_prior = fields.Decimal(as_string=True)
    panel_size = fields.Integer()
    trimmed = fields.Boolean()
    deviation_percent = fields.Decimal(as_string=True)
    rounding = fields.String()


class AwardOut(Schema):
    bid_id = fields.Integer()
    provider_name = fields.String()
    amount = fields.Decimal(as_string=True)
    top_ranked = fields.Boolean()
    reason = fields.String()
    published_at = fields.DateTime()
    publicity_ends_at = fields.DateTime()
    challenge_deadline = fields.DateTime()


class EvaluationOut(Schema):
    project_id = fields.Integer()
    reference = fields.String()
    title = fields.String()
    review_number = fields.Integer()
    computed_at = fields.DateTime()
    signed_off_at = fields.DateTime(allow_none=True)
    lowest_valid_price = Num
    rules = fields.Nested(RulesOut)
    panel = fields.Nested(PanelOut)
    bids = fields.List(fields.Nested(BidOut))
    ranking = fields.List(fields.Integer())
    flags = fields.List(fields.Nested(FlagOut))
    award = fields.Nested(AwardOut, allow_none=True)
