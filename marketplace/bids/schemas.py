"""marshmallow schemas for the bids API: a provider's own bid in and out, and opened bids."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

# Standard base64 with its padding, never empty: what base64.b64decode(validate=True) takes, as the
# document states it (format byte). Whether the bytes are a PDF or a picture is the upload check's (415).
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$"
# Yuan with at most two decimals and more than zero; thousands separators are allowed (12,000.00).
PRICE_PATTERN = (r"^\s*(?:(?:[1-9]|[0-9][0-9,]*[1-9])[0-9,]*(?:\.[0-9]{1,2})?"
                 r"|[0-9][0-9,]*\.(?:[1-9][0-9]?|0[1-9]))\s*$")
# Some text besides spaces (the plan is stored stripped), and no NUL.
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"


class AttachmentInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    content_base64 = fields.String(required=True, validate=validate.Regexp(BASE64_PATTERN, error="Not valid base64."),
                                   metadata={"format": "byte"})


class BidInSchema(Schema):
    price = fields.String(required=True, validate=[
        validate.Length(min=1, max=20),
        validate.Regexp(PRICE_PATTERN, error=_l("Enter an amount in yuan, e.g. 12000.00."))],
        metadata={"description": _l("Offered price in yuan, e.g. 12000.00; more than zero and within the budget")})
    plan = fields.String(required=True, validate=[validate.Length(min=1, max=20_000),
                                                  validate.Regexp(NOT_BLANK, error=_l("Describe your service plan."))])
    team = fields.String(load_default="", validate=validate.Length(max=5000))
    conflicts = fields.String(load_default="", validate=validate.Length(max=5000))
    attachments = fields.List(fields.Nested(AttachmentInSchema), load_default=list,
                              validate=validate.Length(max=10))
    # PUT only: SHA-256 of attachments of the current revision to keep.
    keep_attachments = fields.List(fields.String(validate=[validate.Length(equal=64),
                                                           validate.Regexp(r"^[0-9a-f]{64}$")]),
                                   load_default=list, validate=validate.Length(max=10))


class AttachmentOutSchema(Schema):
    id = fields.Integer(allow_none=True)
    sha256 = fields.String()
    name = fields.String()
    size = fields.Integer()
    content_type = fields.String()


class RevisionSchema(Schema):
    number = fields.Integer()
    submitted_at = fields.DateTime()
    content_hash = fields.String()


class ReceiptSchema(Schema):
    bid_id = fields.Integer()
    status = fields.String()
    revision = fields.Integer()
    submitted_at = fields.DateTime()
    content_hash = fields.String()
    server_time = fields.DateTime()


class OwnBidSchema(ReceiptSchema):
    price = fields.String()
    plan = fields.String()
    team = fields.String()
    conflicts = fields.String()
    attachments = fields.List(fields.Nested(AttachmentOutSchema))
    revisions = fields.List(fields.Nested(RevisionSchema))


class OpenedBidSchema(Schema):
    bid_id = fields.Integer(attribute="id")
    provider_id = fields.Integer()
    provider_name = fields.String(attribute="provider.name")
    status = fields.String()
    price = fields.Decimal(as_string=True, allow_none=True)
    submitted_at = fields.DateTime()
    revision = fields.Integer(attribute="revision_no")


class OpenedBidListSchema(Schema):
    items = fields.List(fields.Nested(OpenedBidSchema))


class WithdrawalSchema(Schema):
    bid_id = fields.Integer()
    status = fields.String()
    withdrawn_at = fields.DateTime()
    server_time = fields.DateTime()


class OpeningEntrySchema(Schema):
    bid_id = fields.Integer()
    provider_id = fields.Integer()
    provider_name = fields.String()
    price = fields.String()
    submitted_at = fields.String()
    revision = fields.Integer()
    content_hash = fields.String()


class OpeningSchema(Schema):
    project_id = fields.Integer()
    opened_at = fields.DateTime()
    bid_count = fields.Integer()
    entries = fields.List(fields.Nested(OpeningEntrySchema))
