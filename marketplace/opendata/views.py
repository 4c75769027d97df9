"""The open-data page: what the OCDS endpoints give, with example calls, and the bulk downloads
(every release in one package, every record in one package), streamed in slices so that memory
and queries per slice stay bounded whatever the number of releases."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request, stream_with_context

from core.db import db
from core.permissions import PUBLIC, access
from marketplace.opendata import ocds

bp = Blueprint("opendata", __name__, url_prefix="/opendata")

SLICE = 500  # releases (or processes) built per round of queries


@bp.route("/")
@access(PUBLIC)
def index():
    base = request.host_url.rstrip("/")
    return render_template("marketplace/opendata/index.html", base=base, prefix=ocds.ocid_prefix(),
                           version=ocds.OCDS_VERSION, example_ocid=_example_ocid())


def _example_ocid() -> str:
    first = db.session.scalar(ocds.published_processes().limit(1))
    return ocds.ocid_for(first) if first is not None else f"{ocds.ocid_prefix()}-1"


def _envelope(kind: str) -> tuple[str, str]:
    """The package around a streamed array: its opening up to `"<kind>": [` and its closing."""
    head = {"uri": request.url, "version": ocds.OCDS_VERSION, "publishedDate": ocds.published_date([]),
            "publisher": ocds.publisher()}
    text = json.dumps(head, ensure_ascii=False)
    return text[:-1] + f', "{kind}": [', "]}"


def _download(body, name: str) -> Response:
    resp = Response(stream_with_context(body), mimetype="application/json")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@bp.route("/releases.json")
@access(PUBLIC)
def releases_bulk():
    """Every release, oldest first, in one release package."""
    opening, closing = _envelope("releases")

    def body():
        yield opening
        first, offset = True, 0
        while True:
            events = db.session.execute(ocds.release_events().limit(SLICE).offset(offset)).all()
            for release in ocds.build_releases(db, events):
                yield ("" if first else ",") + json.dumps(release, ensure_ascii=False)
                first = False
            if len(events) < SLICE:
                break
            offset += SLICE
        yield closing

    return _download(body(), "ocds-releases.json")


@bp.route("/records.json")
@access(PUBLIC)
def records_bulk():
    """Every published contracting process's record (releases and compiled release), in one
    record package."""
    opening, closing = _envelope("records")

    def body():
        yield opening
        first, offset = True, 0
        while True:
            ids = list(db.session.scalars(ocds.published_processes().limit(SLICE // 10).offset(offset)))
            events = db.session.execute(ocds.release_events(project_ids=ids)).all() if ids else []
            by_project: dict[int, list[dict]] = {}
            for ev, release in zip(events, ocds.build_releases(db, events), strict=True):
                by_project.setdefault(ev.project_id, []).append(release)
            for pid in ids:
                if pid in by_project:
                    record = {"ocid": ocds.ocid_for(pid), "releases": by_project[pid],
                              "compiledRelease": ocds.merge(by_project[pid])}
                    yield ("" if first else ",") + json.dumps(record, ensure_ascii=False)
                    first = False
            if len(ids) < SLICE // 10:
                break
            offset += SLICE // 10
        yield closing

    return _download(body(), "ocds-records.json")

