"""marshmallow schemas for the projects and bids API."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates

from core.i18n import LOCAL_TZ
from core.views_util import MAX_ID, MAX_PAGE


class AreaRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class CriterionSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    rubric = fields.String()
    weight = fields.Decimal(as_string=True)
    min_score = fields.Decimal(as_string=True, allow_none=True)
    max_score = fields.Decimal(as_string=True, allow_none=True)


class ItemRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    unit = fields.String()


class VenueRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    area = fields.Nested(AreaRefSchema)


class LineSchema(Schema):
    item = fields.Nested(ItemRefSchema)
    venue = fields.Nested(VenueRefSchema)
    quantity = fields.Integer()
    unit_ceiling = fields.Decimal(as_string=True)


class ClarificationSchema(Schema):
    question = fields.String()
    answer = fields.String()
    asked_at = fields.DateTime()
    answered_at = fields.DateTime()


class ProjectSummarySchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    title = fields.String()
    area = fields.Nested(AreaRefSchema)
    method = fields.String()
    state = fields.Function(lambda p: p.current_state.value, metadata={"type": "string"})
    budget = fields.Decimal(as_string=True)
    bid_deadline = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    opened_at = fields.DateTime(allow_none=True)


class ProjectSchema(ProjectSummarySchema):
    description = fields.String()
    justification = fields.String()
    cancel_reason = fields.String()
    failed_reason = fields.String()
    reissued_from_id = fields.Integer(allow_none=True)
    lines = fields.List(fields.Nested(LineSchema))
    criteria = fields.List(fields.Nested(CriterionSchema))
    # The view sets the answered questions only (unanswered ones are not public).
    clarifications = fields.List(fields.Nested(ClarificationSchema), attribute="answered_clarifications")


class ProjectPageSchema(Schema):
    items = fields.List(fields.Nested(ProjectSummarySchema))
    page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()


class ProjectQuerySchema(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=100))
    state = fields.String(load_default=None, validate=validate.OneOf([
        "published", "closed", "opened", "under_review", "awarded", "contracted", "in_delivery", "completed",
        "cancelled", "failed"]))
    method = fields.String(load_default=None, validate=validate.OneOf([
        "open_tender", "competitive_consultation", "inquiry", "single_source"]))
    area = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


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


# --- open data (OCDS) query parameters ----------------------------------------------------------

class IsoDateOrDateTime(fields.Field):
    """An ISO 8601 date or date-time; without an offset it is Beijing time. Loads an aware
    datetime (a date is the start of that day)."""

    default_error_messages = {"invalid": "Not a valid ISO 8601 date or date-time."}  # noqa: RUF012

    def _deserialize(self, value, attr, data, **kwargs):
        text = str(value).strip()
        # An unencoded "+" of an offset arrives as a space ("…T08:00:00 08:00").
        text = re.sub(r"(T[0-9:.]+) ([0-9]{2}:[0-9]{2})$", r"\1+\2", text)
        try:
            if len(text) == 10:
                parsed = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
            else:
                parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise self.make_error("invalid") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=LOCAL_TZ)
        return parsed.astimezone(dt.UTC)


class OcdsReleasesQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    since = IsoDateOrDateTime(load_default=None, metadata={
        "type": "string", "description": "An ISO 8601 date or date-time (Beijing time without an offset)"})


class OcdsRecordQuerySchema(Schema):
    ocid = fields.String(required=True, validate=validate.Length(min=1, max=100))


# The packages' envelopes, for the API document; what is inside a release is defined by the OCDS
# 1.1.5 release schema (tests/ocds_schema/), against which the tests validate every one.
class OcdsPublisherSchema(Schema):
    name = fields.String(required=True)
    scheme = fields.String()
    uid = fields.String()
    uri = fields.String()


class OcdsLinksSchema(Schema):
    next = fields.String()
    prev = fields.String()


class _OcdsPackageSchema(Schema):
    uri = fields.String(required=True)
    version = fields.String(required=True, metadata={"enum": ["1.1"]})
    publishedDate = fields.String(required=True)  # the standard's names
    publisher = fields.Nested(OcdsPublisherSchema, required=True)


class OcdsReleasePackageSchema(_OcdsPackageSchema):
    releases = fields.List(fields.Dict(), required=True,
                           metadata={"description": "OCDS 1.1.5 releases (release-schema.json)"})
    links = fields.Nested(OcdsLinksSchema)


class OcdsRecordSchema(Schema):
    ocid = fields.String(required=True)
    releases = fields.List(fields.Dict(), required=True)
    compiledRelease = fields.Dict(required=True)


class OcdsRecordPackageSchema(_OcdsPackageSchema):
    records = fields.List(fields.Nested(OcdsRecordSchema), required=True)
