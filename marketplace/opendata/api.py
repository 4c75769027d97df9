"""Open data API in OCDS 1.1.5: release packages (paginated, `since`) and one record per
contracting process. Public, read-only; the content is built by marketplace/ocds.py."""

from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import Missing
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


def _args(schema) -> dict:
    return schema.load(request.args.to_dict())


def _link_header(endpoint: str, page: Page, args: dict, keep: tuple[str, ...] = ()) -> dict:
    """Pagination in HTTP `Link` headers (RFC 8288: rel next, prev, first, last): the OCDS 1.1.5
    package schemas define no `links` field, so the package itself stays as the standard has it."""
    def url(number: int) -> str:
        params = {"page": number, "per_page": args["per_page"]}
        for name in keep:
            if request.args.get(name):
                params[name] = request.args[name]
        return url_for(endpoint, _external=True, **params)

    links = [(url(1), "first"), (url(page.pages), "last")]
    if page.has_next:
        links.insert(0, (url(page.page + 1), "next"))
    if page.has_prev:
        links.insert(0, (url(page.page - 1), "prev"))
    return {"Link": ", ".join(f'<{u}>; rel="{rel}"' for u, rel in links)}


def _page_or_404(stmt, args, scalars: bool) -> Page:
    page = Page(stmt, page=args["page"], per_page=args["per_page"], scalars=scalars)
    if page.page > page.pages:
        raise Missing(_l("There is no page %(page)s; the last page is %(pages)s.", page=page.page,
                          pages=page.pages), "page")
    return page


@bp.route("/releases")
@api_doc(_l("Open data: a release package in OCDS 1.1.5, oldest first, paginated"),
         description=_l("One release per dated event of a published purchase project; nothing about bids before "
                     "their opening. `since` keeps the releases dated at or after it (an ISO 8601 date or "
                     "date-time; an empty `since` is refused with 422). A page past the last: 404."
                     " Pages are chained by the HTTP `Link` header (rel=\"next\", \"prev\", \"first\", \"last\"), "
                     "not by a field of the package: the OCDS 1.1.5 package schemas define none."),
         query=OcdsReleasesQuerySchema, responses={200: OcdsReleasePackageSchema}, errors=(404,), tags=("ocds",))
@access(PUBLIC)
def releases():
    args = _args(OcdsReleasesQuerySchema())
    page = _page_or_404(ocds.release_events(since=args["since"]), args, scalars=False)
    items = ocds.build_releases(db, page.items)
    package = {
        "uri": request.url,
        "version": ocds.OCDS_VERSION,
        "publishedDate": ocds.published_date(items),
        "publisher": ocds.publisher(),
        "releases": items,
    }
    return package, 200, _link_header("ocds_api.releases", page, args, keep=("since",))


@bp.route("/records")
@api_doc(_l("Open data: record packages in OCDS 1.1.5, each record with its releases and compiled release"),
         description=_l("With `ocid`: the record of that contracting process (an ocid of another publisher or "
                     "of no published process: 404 naming `ocid`). Without it: every published process, "
                     "oldest first, paginated. A page past the last: 404."
                     " Pages are chained by the HTTP `Link` header (rel=\"next\", \"prev\", \"first\", \"last\"), "
                     "not by a field of the package: the OCDS 1.1.5 package schemas define none."),
         query=OcdsRecordQuerySchema, responses={200: OcdsRecordPackageSchema}, errors=(404,), tags=("ocds",))
@access(PUBLIC)
def records():
    args = _args(OcdsRecordQuerySchema())
    if args.get("ocid") is None:
        page = _page_or_404(ocds.published_processes(), args, scalars=True)
        package = _record_package(list(page.items))
        return package, 200, _link_header("ocds_api.records", page, args)
    ocid = args["ocid"]  # of the form the document states (OcdsRecordQuerySchema)
    project_id = ocds.project_id_of(ocid)
    if project_id is None:
        raise Missing(_l("This is not an ocid of this publisher (expected %(prefix)s-<number>).",
                          prefix=ocds.ocid_prefix()), "ocid")
    package = _record_package([project_id])
    if not package["records"]:
        raise Missing(_l("No published contracting process has this ocid."), "ocid")
    return package


def _record_package(project_ids: list[int]) -> dict:
    """The records of these processes, in the order given: their events in one query."""
    events = db.session.execute(ocds.release_events(project_ids=project_ids)).all() if project_ids else []
    items = ocds.build_releases(db, events)
    by_project: dict[int, list[dict]] = {}
    for ev, item in zip(events, items, strict=True):
        by_project.setdefault(ev.project_id, []).append(item)
    return {
        "uri": request.url,
        "version": ocds.OCDS_VERSION,
        "publishedDate": ocds.published_date(items),
        "publisher": ocds.publisher(),
        "records": [{"ocid": ocds.ocid_for(pid), "releases": by_project[pid],
                     "compiledRelease": ocds.merge(by_project[pid])} for pid in project_ids if pid in by_project],
    }
