"""Open data API in OCDS 1.1.5: release packages (paginated, `since`) and one record per
contracting process. Public, read-only; the content is built by marketplace/ocds.py."""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import DomainError, Invalid
from core.openapi import api_doc
from core.permissions import PUBLIC, access
from core.views_util import Page
from marketplace.opendata import ocds
from marketplace.opendata.schemas import (
    OcdsRecordPackageSchema,
    OcdsRecordQuerySchema,
    OcdsReleasePackageSchema,
    OcdsReleasesQuerySchema,
)

bp = Blueprint("ocds_api", __name__, url_prefix="/api/v1/ocds")


class NotFound(DomainError):
    """A well-formed request for something that is not published (404, naming the field)."""

    status = 404
    code = "not_found"


def _args(schema) -> dict:
    return schema.load(request.args.to_dict())


def _link(page: int, args: dict) -> str:
    params = {"page": page, "per_page": args["per_page"]}
    if request.args.get("since"):
        params["since"] = request.args["since"]
    return url_for("ocds_api.releases", _external=True, **params)


@bp.route("/releases")
@api_doc("Open data: a release package in OCDS 1.1.5, oldest first, with links to the next and previous pages",
         description="One release per dated event of a published purchase project; nothing about bids before "
                     "their opening. `since` keeps the releases dated at or after it. A page past the last: 404.",
         query=OcdsReleasesQuerySchema, responses={200: OcdsReleasePackageSchema}, errors=(404,), tags=("ocds",))
@access(PUBLIC)
def releases():
    args = _args(OcdsReleasesQuerySchema())
    stmt = ocds.release_events(since=args["since"])
    page = Page(stmt, page=args["page"], per_page=args["per_page"], scalars=False)
    if page.page > page.pages:
        raise NotFound(_l("There is no page %(page)s; the last page is %(pages)s.", page=page.page,
                          pages=page.pages), "page")
    items = ocds.build_releases(db, page.items)
    package = {
        "uri": request.url,
        "version": ocds.OCDS_VERSION,
        "publishedDate": ocds.published_date(items),
        "publisher": ocds.publisher(),
        "releases": items,
    }
    # Pagination as the OCDS guidance for APIs describes it (links.next / links.prev).
    links = {}
    if page.has_next:
        links["next"] = _link(page.page + 1, args)
    if page.has_prev:
        links["prev"] = _link(page.page - 1, args)
    if links:
        package["links"] = links
    return package


@bp.route("/records")
@api_doc("Open data: the record package in OCDS 1.1.5 of one contracting process, with its compiled release",
         description="An ocid of another publisher or of no published process: 404 naming `ocid`.",
         query=OcdsRecordQuerySchema, responses={200: OcdsRecordPackageSchema}, errors=(404,), tags=("ocds",))
@access(PUBLIC)
def records():
    args = _args(OcdsRecordQuerySchema())
    ocid = args["ocid"].strip()
    if not ocds.OCID_FORM.fullmatch(ocid):
        raise Invalid(_l("An ocid is ocds-, six letters or digits, a hyphen and the process id."), "ocid")
    project_id = ocds.project_id_of(ocid)
    if project_id is None:
        raise NotFound(_l("This is not an ocid of this publisher (expected %(prefix)s-<number>).",
                          prefix=ocds.ocid_prefix()), "ocid")
    events = db.session.execute(ocds.release_events(project_id=project_id)).all()
    if not events:
        raise NotFound(_l("No published contracting process has this ocid."), "ocid")
    items = ocds.build_releases(db, events)
    return {
        "uri": request.url,
        "version": ocds.OCDS_VERSION,
        "publishedDate": ocds.published_date(items),
        "publisher": ocds.publisher(),
        "records": [{"ocid": ocds.ocid_for(project_id), "releases": items, "compiledRelease": ocds.merge(items)}],
    }
