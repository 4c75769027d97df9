"""marshmallow schemas for the bids API: a provider's own bid in and out, and opened bids."""

from __future__ import annotations

import base64
import binascii

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates


class AttachmentInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    content_base64 = fields.String(required=True)

    @validates("content_base64")
    def _is_base64(self, value, **_kw):
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("Not valid base64.") from None


class BidInSchema(Schema):
    price = fields.String(required=True, validate=[
        validate.Length(min=1, max=20),
        # Yuan with at most two decimals; thousands separators are allowed (12,000.00).
        validate.Regexp(r"^\s*[0-9][0-9,]*(\.[0-9]{1,2})?\s*$", error=_l("Enter an amount in yuan, e.g. 12000.00."))],
        metadata={"description": "Offered price in yuan, e.g. 12000.00; more than zero and within the budget"})
    plan = fields.String(required=True, validate=validate.Length(min=1, max=20_000))
    team = fields.String(load_default="", validate=validate.Length(max=5000))
    conflicts = fields.String(load_default="", validate=validate.Length(max=5000))
    attachments = fields.List(fields.Nested(AttachmentInSchema), load_default=list,
                              validate=validate.Length(max=10))
    # PUT only: SHA-256 of attachments of the current revision to keep.
    keep_attachments = fields.List(fields.String(validate=validate.Length(equal=64)), load_default=list)


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
