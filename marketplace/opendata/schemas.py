"""marshmallow schemas of the OCDS open-data API: queries and packages."""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from core.i18n import LOCAL_TZ

# What the API refuses, stated in the document so that a client (or a fuzzer) knows it: an ISO
# 8601 date or date-time for `since` (never empty, a day that exists: no 2026-02-30, 29 February
# only in leap years, no year 0000), the ocid form, and no NUL character anywhere. The server
# checks input with these very patterns (re.match, as a JSON Schema validator in Python reads them).
# (A "+" sent unencoded in a query arrives as a space, so a space may stand for it.)
_YEAR = r"(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = (r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
              r"|02-(?:0[1-9]|1[0-9]|2[0-8]))")
ISO_DATE_OR_DATETIME = (rf"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
                        r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
                        r"([Zz]|[+ -]([01][0-9]|2[0-3]):[0-5][0-9])?)?$")
_ISO_FORM = re.compile(ISO_DATE_OR_DATETIME)
OCID_PATTERN = r"^ocds-[a-z0-9]{6}-[^#\s\x00]+$"


class IsoDateOrDateTime(fields.Field):
    """An ISO 8601 date or date-time; without an offset it is Beijing time. Loads an aware
    datetime (a date is the start of that day)."""

    default_error_messages = {"invalid": "Not a valid ISO 8601 date or date-time."}  # noqa: RUF012

    def _deserialize(self, value, attr, data, **kwargs):
        text = str(value)
        # Exactly the form the API document states (ISO_DATE_OR_DATETIME), nothing looser.
        if not _ISO_FORM.match(text):
            raise self.make_error("invalid")
        text = text.rstrip("\n")  # the one newline "$" lets through
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
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:  # 0001-01-01 in Beijing time is before year 1 in UTC: everything is after it
            return (dt.datetime.min if parsed.year == 1 else dt.datetime.max).replace(tzinfo=dt.UTC)


class _PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class OcdsReleasesQuerySchema(_PageQuerySchema):
    since = IsoDateOrDateTime(load_default=None, metadata={
        "type": "string", "minLength": 10, "maxLength": 35, "pattern": ISO_DATE_OR_DATETIME,
        "description": _l("An ISO 8601 date (2026-11-01) or date-time (2026-11-01T08:00, with seconds, fraction and "
                       "offset or Z optional; Beijing time without an offset). Empty or anything else: 422.")})


class OcdsRecordQuerySchema(_PageQuerySchema):
    ocid = fields.String(load_default=None, validate=[
        validate.Length(min=1, max=100),
        validate.Regexp(OCID_PATTERN, error="An ocid is ocds-, six letters or digits, a hyphen and the process id.")],
        metadata={"description": _l("An ocid: ocds-, six lower-case letters or digits, a hyphen and the process id. "
                                 "Without it, every published process is listed, page by page (`page`, `per_page`).")})


# The packages' envelopes, for the API document; what is inside a release is defined by the OCDS
# 1.1.5 release schema (tests/ocds_schema/), against which the tests validate every one.
class OcdsPublisherSchema(Schema):
    name = fields.String(required=True)
    scheme = fields.String()
    uid = fields.String()
    uri = fields.String()


class _OcdsPackageSchema(Schema):
    uri = fields.String(required=True)
    version = fields.String(required=True, metadata={"enum": ["1.1"]})
    publishedDate = fields.String(required=True)  # the standard's names
    publisher = fields.Nested(OcdsPublisherSchema, required=True)


class OcdsReleasePackageSchema(_OcdsPackageSchema):
    releases = fields.List(fields.Dict(), required=True,
                           metadata={"description": _l("OCDS 1.1.5 releases (release-schema.json)")})


class OcdsRecordSchema(Schema):
    ocid = fields.String(required=True)
    releases = fields.List(fields.Dict(), required=True)
    compiledRelease = fields.Dict(required=True)


class OcdsRecordPackageSchema(_OcdsPackageSchema):
    records = fields.List(fields.Nested(OcdsRecordSchema), required=True)
