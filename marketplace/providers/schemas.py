"""marshmallow schemas for the provider API."""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields


class ProviderDocumentSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String(attribute="file.original_name")
    content_type = fields.String(attribute="file.content_type")
    size = fields.Integer(attribute="file.size")
    sha256 = fields.String(attribute="file.sha256")
    uploaded_at = fields.DateTime(attribute="created_at")


class ProviderSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    credit_code = fields.String()
    kind = fields.String()
    legal_representative = fields.String()
    contact_name = fields.String()
    contact_phone = fields.String()
    address = fields.String()
    introduction = fields.String()
    category_ids = fields.List(fields.Integer())
    status = fields.String(metadata={"description": _l("The stored status; see effective_status.")})
    effective_status = fields.String(metadata={"description": _l("approved when a suspension has run out")})
    status_reason = fields.String()
    suspended_until = fields.DateTime(allow_none=True)
    may_bid = fields.Boolean()
    bidding_refusal = fields.String(allow_none=True)
    performance_score = fields.Decimal(as_string=True, allow_none=True)
    grade = fields.String(allow_none=True)
    created_at = fields.DateTime()
    approved_at = fields.DateTime(allow_none=True)
    documents = fields.List(fields.Nested(ProviderDocumentSchema))
