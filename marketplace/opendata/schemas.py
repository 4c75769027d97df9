"""marshmallow schemas of the OCDS open-data API: queries and packages."""

from __future__ import annotations

import datetime as dt
import re

from marshmallow import Schema, fields, validate

from core.i18n import LOCAL_TZ


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
