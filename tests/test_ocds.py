"""Open data in OCDS 1.1.5 over the demo district: every release and package produced (all
pages, every record) validates against the 1.1.5 schemas kept in tests/ocds_schema/ (offline
`$ref` resolution), every codelist-valued field holds a code of its codelist, sealed bids leave
no trace, and `since`, pagination and bad input behave.

The demo data is loaded once for the module with real commits and emptied afterwards; each
test still runs in its own rolled-back transaction, so tests that add a bid or change a setting
leave nothing behind.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from core import settings
from core.accounts.models import Role, User
from core.db import db, intends_to_write
from marketplace.awards import operations as award_ops
from marketplace.awards.models import Award, AwardStatus
from marketplace.bids import operations as bid_ops
from marketplace.bids.models import Bid, BidOpening, BidStatus
from marketplace.contracts.models import Contract, ContractState
from marketplace.opendata import ocds
from marketplace.projects.models import ProjectState, PurchaseProject
from marketplace.providers.models import Provider, ProviderStatus
from marketplace.sessions.models import ServiceSession, SessionState
from tests.conftest import _empty_tables

SCHEMA_DIR = Path(__file__).parent / "ocds_schema"
RELEASES = "/api/v1/ocds/releases"
RECORDS = "/api/v1/ocds/records"
# Codes of open codelists that Huimin adds, each documented in the README's "Open data".
LOCAL_CODES = {"itemClassificationScheme.csv": {ocds.ITEM_SCHEME}}


# --- validation, offline --------------------------------------------------------------------------

def _schema(name: str) -> dict:
    path = SCHEMA_DIR / name
    if not path.exists():
        pytest.fail(f"OCDS schema file missing: {path} (see tests/ocds_schema/README.md)")
    return json.loads(path.read_text(encoding="utf-8"))


def _codelists() -> dict[str, set[str]]:
    out = {}
    for path in sorted((SCHEMA_DIR / "codelists").glob("*.csv")):
        with path.open(encoding="utf-8") as f:
            out[path.name] = {row["Code"] for row in csv.DictReader(f)}
    return out


CODES = _codelists()
SCHEMAS = {n: _schema(n) for n in ("release-schema.json", "release-package-schema.json",
                                   "record-package-schema.json")}
# Every schema by its canonical id: a $ref is resolved here or fails; nothing is fetched.
REGISTRY = Registry().with_resources(
    (s["id"], Resource.from_contents(s, default_specification=DRAFT4)) for s in SCHEMAS.values())

FORMATS = FormatChecker(formats=())
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


@FORMATS.checks("date-time")
def _is_datetime(value) -> bool:
    return not isinstance(value, str) or (RFC3339.fullmatch(value) is not None
                                          and dt.datetime.fromisoformat(value).tzinfo is not None)


@FORMATS.checks("uri")
def _is_uri(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme in ("http", "https") and parts.netloc)


def _codelist(validator, codelist, instance, schema):
    """The schema's `codelist` keyword, enforced: closed and open codelists alike must hold a
    code of the CSV (or, for an open one, a documented local code)."""
    allowed = CODES[codelist] | LOCAL_CODES.get(codelist, set())
    for value in instance if isinstance(instance, list) else [instance]:
        if value is not None and value not in allowed:
            yield ValidationError(f"{value!r} is not a code of {codelist}")


OcdsValidator = validators.extend(Draft4Validator, {"codelist": _codelist})


def problems(document: dict, schema_name: str) -> list[str]:
    validator = OcdsValidator(SCHEMAS[schema_name], registry=REGISTRY, format_checker=FORMATS)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


# --- the demo district ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(app):
    from seeds import demo as seed

    with app.app_context():
        with intends_to_write():
            seed.run_demo(lambda *_a: None)
            db.session.commit()
        db.session.remove()
    yield
    with app.app_context():
        db.session.remove()
        _empty_tables()


def _get(client, url, status=200) -> dict:
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.status_code, resp.get_data(as_text=True)[:500])
    return resp.get_json()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def links(resp) -> dict[str, str]:
    """The HTTP `Link` header of a page: {rel: url}."""
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', resp.headers.get("Link", ""))}


def all_pages(client, per_page: int, since: str | None = None, base: str | None = None) -> list[dict]:
    url = f"{base or RELEASES}?per_page={per_page}" + (f"&since={since}" if since else "")
    packages = []
    while url:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        packages.append(resp.get_json())
        assert "links" not in packages[-1]  # not a field of the OCDS 1.1.5 packages
        url = _path(links(resp)["next"]) if "next" in links(resp) else None
    return packages


def _releases(packages) -> list[dict]:
    return [r for p in packages for r in p["releases"]]


def _opened_tender(releases) -> bool:
    return any("tenderers" in r.get("tender", {}) or "numberOfTenderers" in r.get("tender", {}) for r in releases)


# --- every release, package and record of the demo validates -----------------------------------------

def test_every_release_package_and_record_of_the_demo_validates(demo, client, session):
    packages = all_pages(client, per_page=7)
    assert len(packages) > 1
    for package in packages:
        assert problems(package, "release-package-schema.json") == []
        for release in package["releases"]:
            assert problems(release, "release-schema.json") == []
    releases = _releases(packages)
    ids = [(r["ocid"], r["id"]) for r in releases]
    assert len(ids) == len(set(ids))
    # Sorted by date across pages; one page of everything says the same.
    assert [r["date"] for r in releases] == sorted(r["date"] for r in releases)
    assert _releases(all_pages(client, per_page=100)) == releases

    public = session.scalars(select(PurchaseProject).where(PurchaseProject.published_at.isnot(None))).all()
    drafts = session.scalars(select(PurchaseProject).where(PurchaseProject.published_at.is_(None))).all()
    assert drafts, "the demo has a draft project"
    ocids = {r["ocid"] for r in releases}
    assert ocids == {ocds.ocid_for(p.id) for p in public}
    for p in public:
        body = _get(client, f"{RECORDS}?ocid={ocds.ocid_for(p.id)}")
        assert problems(body, "record-package-schema.json") == []
        (record,) = body["records"]
        # The record embeds exactly the releases the packages list for this process, in order.
        assert record["releases"] == [r for r in releases if r["ocid"] == record["ocid"]]
        compiled = record["compiledRelease"]
        assert compiled["tag"] == ["compiled"]
        assert compiled["tender"]["status"] == ocds.TENDER_STATUS[p.current_state]
        assert compiled["tender"]["value"] == {"amount": float(p.budget), "currency": "CNY"}
        assert compiled["tender"]["procurementMethod"] == ocds.METHOD[p.method]
        assert compiled["tender"]["awardCriteria"] == "ratedCriteria"
        assert [i["classification"]["id"] for i in compiled["tender"]["items"]] == [ln.item.code for ln in p.lines]
    for p in drafts:
        _get(client, f"{RECORDS}?ocid={ocds.ocid_for(p.id)}", 404)


def test_the_validator_does_find_faults(demo, client):
    """The checks above can fail: a wrong code, a missing field, a bad date are caught."""
    release = _get(client, f"{RELEASES}?per_page=1")["releases"][0]
    assert problems(release, "release-schema.json") == []
    for path, value in ((("tender", "status"), "open"), (("tag",), ["tender", "bidOpening"]),
                        (("date",), "2026-11-29 08:00"), (("tender", "value", "currency"), "RMB")):
        broken = json.loads(json.dumps(release))
        target = broken
        for key in path[:-1]:
            target = target.setdefault(key, {"id": "x"})
        target[path[-1]] = value
        assert problems(broken, "release-schema.json"), path
    del release["initiationType"]
    assert problems(release, "release-schema.json")


def test_the_compiled_release_matches_awards_contracts_and_delivery(demo, client, session):
    contracts = session.scalars(select(Contract)).all()
    assert contracts
    for c in contracts:
        body = _get(client, f"{RECORDS}?ocid={ocds.ocid_for(c.project_id)}")
        compiled = body["records"][0]["compiledRelease"]
        (award,) = [a for a in compiled["awards"] if a["id"] == f"award-{c.award_id}"]
        assert award["status"] == "active"
        assert award["value"]["amount"] == float(c.award.amount)
        assert award["suppliers"][0]["id"] == f"CN-USCC-{c.provider.credit_code}"
        (contract,) = [x for x in compiled["contracts"] if x["id"] == f"contract-{c.id}"]
        assert contract["value"] == {"amount": float(c.amount), "currency": "CNY"}
        assert contract["status"] == {"active": "active", "completed": "terminated", "pending": "pending"}[c.state]
        assert contract["period"]["startDate"].startswith(c.start_date.isoformat())
        sessions = session.scalars(select(ServiceSession).where(ServiceSession.contract_id == c.id)).all()
        milestones = {m["id"]: m for m in contract.get("implementation", {}).get("milestones", [])}
        expected = {SessionState.CONFIRMED: "met", SessionState.DISPUTED: "notMet", SessionState.MISSED: "notMet"}
        for s in sessions:
            if f"session-{s.id}" in milestones:
                assert milestones[f"session-{s.id}"]["status"] == expected.get(s.state, "scheduled")
        paid = [m for m in c.milestones if m.paid_at is not None]
        transactions = contract.get("implementation", {}).get("transactions", [])
        assert sorted(t["value"]["amount"] for t in transactions) == sorted(float(m.amount) for m in paid)
        supplier = next(p for p in compiled["parties"] if p["id"] == f"CN-USCC-{c.provider.credit_code}")
        assert supplier["identifier"] == {"scheme": "CN-USCC", "id": c.provider.credit_code,
                                          "legalName": c.provider.name}
        assert {"tenderer", "supplier"} <= set(supplier["roles"])
        buyer = next(p for p in compiled["parties"] if "buyer" in p["roles"])
        assert compiled["buyer"]["id"] == buyer["id"]
        # The contract's first implementation release says so; the later ones are updates. A
        # contract waiting for its signatures (the demo has one) has no implementation yet.
        tags = [r["tag"] for r in body["records"][0]["releases"]
                if any("implementation" in x for x in r.get("contracts", []))]
        if c.state == ContractState.PENDING:
            assert tags == [] and not sessions
            continue
        assert tags and tags[0] == ["implementation"] and all(t == ["implementationUpdate"] for t in tags[1:])


def test_opened_projects_name_their_tenderers_from_the_opening(demo, client, session):
    openings = session.scalars(select(BidOpening)).all()
    assert openings
    for o in openings:
        compiled = _get(client, f"{RECORDS}?ocid={ocds.ocid_for(o.project_id)}")["records"][0]["compiledRelease"]
        assert compiled["tender"]["numberOfTenderers"] == o.bid_count
        names = {e["provider_name"] for e in o.entries}
        assert {t["name"] for t in compiled["tender"]["tenderers"]} == names


# --- sealed bids ---------------------------------------------------------------------------------------

def _sealed_projects(session) -> list[PurchaseProject]:
    return session.scalars(select(PurchaseProject).where(
        PurchaseProject.opened_at.is_(None), PurchaseProject.published_at.isnot(None),
        PurchaseProject.id.in_(select(Bid.project_id).where(Bid.status == BidStatus.SUBMITTED)))).all()


def test_unopened_bids_leave_no_trace(demo, client, session):
    sealed = _sealed_projects(session)
    # The demo has a project still taking bids and one whose deadline passed unopened.
    assert {p.current_state for p in sealed} >= {ProjectState.PUBLISHED, ProjectState.CLOSED}
    everything = json.dumps(all_pages(client, per_page=100), ensure_ascii=False)
    for p in sealed:
        body = _get(client, f"{RECORDS}?ocid={ocds.ocid_for(p.id)}")
        releases = body["records"][0]["releases"] + [body["records"][0]["compiledRelease"]]
        assert not _opened_tender(releases)
        assert {r["tag"][0] for r in releases} <= {"tender", "compiled"}
        assert all(party["roles"] == ["buyer", "procuringEntity"] for r in releases for party in r["parties"])
        text = json.dumps(body, ensure_ascii=False)
        bidders = session.scalars(select(Provider).join(Bid, Bid.provider_id == Provider.id)
                                  .where(Bid.project_id == p.id)).all()
        assert bidders
        for provider in bidders:
            for needle in (provider.name, provider.credit_code):
                assert needle not in text
        # …nor in the releases of every process together, under this process's ocid.
        assert f'"{ocds.ocid_for(p.id)}-opening"' not in everything


def test_a_new_bid_changes_nothing_published(demo, client, session):
    project = next(p for p in _sealed_projects(session) if p.current_state == ProjectState.PUBLISHED)
    url = f"{RECORDS}?ocid={ocds.ocid_for(project.id)}"
    before = _get(client, url)
    package_before = _get(client, f"{RELEASES}?per_page=100")
    bidding = select(Bid.provider_id).where(Bid.project_id == project.id)
    provider = session.scalar(select(Provider).where(Provider.status == ProviderStatus.APPROVED,
                                                     Provider.id.not_in(bidding)).order_by(Provider.id))
    bid, _rev = bid_ops.submit_bid(project, provider, bid_ops.BidInput(price=str(project.budget / 2),
                                                                        plan="服务方案"), provider.user)
    session.flush()
    assert bid.project_id == project.id and bid.is_live
    assert _get(client, url) == before
    assert _get(client, f"{RELEASES}?per_page=100") == package_before


# --- since and pagination ----------------------------------------------------------------------------

def test_since_keeps_releases_dated_at_or_after(demo, client):
    releases = _releases(all_pages(client, per_page=100))
    dates = sorted({r["date"] for r in releases})
    assert len(dates) > 3
    middle = dates[len(dates) // 2]
    got = _releases(all_pages(client, per_page=9, since=middle.replace("+", "%2B")))
    assert got == [r for r in releases if r["date"] >= middle]
    assert 0 < len(got) < len(releases)
    # An offset's "+" sent unencoded (read as a space) means the same.
    assert _releases(all_pages(client, per_page=100, since=middle)) == got
    # The same instant in UTC, and a date (a Beijing day) or a time without offset (Beijing).
    utc = dt.datetime.fromisoformat(middle).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _releases(all_pages(client, per_page=100, since=utc)) == [r for r in releases if r["date"] >= middle]
    local = middle[:19]
    assert _releases(all_pages(client, per_page=100, since=local)) == [r for r in releases if r["date"] >= middle]
    day = middle[:10]
    assert _releases(all_pages(client, per_page=100, since=day)) == [r for r in releases if r["date"][:10] >= day]
    # Later than everything: an empty list, not an error.
    assert _get(client, f"{RELEASES}?since=2999-01-01")["releases"] == []


def test_pages_chain_with_link_headers(demo, client):
    everything = _releases(all_pages(client, per_page=100))
    resp = client.get(f"{RELEASES}?per_page=4&since=2000-01-01")
    first, first_links = resp.get_json(), links(resp)
    assert "prev" not in first_links and "links" not in first
    assert parse_qs(urlsplit(first_links["next"]).query) == {"page": ["2"], "per_page": ["4"],
                                                              "since": ["2000-01-01"]}
    resp = client.get(_path(first_links["next"]))
    second = resp.get_json()
    assert _get(client, _path(links(resp)["prev"]))["releases"] == first["releases"]
    assert first["releases"] + second["releases"] == everything[:8]
    pages = -(-len(everything) // 4)
    assert parse_qs(urlsplit(first_links["last"]).query)["page"] == [str(pages)]
    resp = client.get(f"{RELEASES}?per_page=4&page={pages}")
    assert "next" not in links(resp) and _path(links(resp)["first"]).startswith(RELEASES)
    assert resp.get_json()["releases"] == everything[(pages - 1) * 4:]
    # Default page size and the cap.
    assert len(_get(client, RELEASES)["releases"]) == min(50, len(everything))
    err = _get(client, f"{RELEASES}?per_page=101", 422)
    assert "per_page" in err["error"]["fields"]


def test_records_without_an_ocid_list_every_published_process_page_by_page(demo, client, session):
    packages = all_pages(client, per_page=3, base=RECORDS)
    assert len(packages) > 1
    records = [r for p in packages for r in p["records"]]
    for package in packages:
        assert problems(package, "record-package-schema.json") == []
        assert len(package["records"]) <= 3
    public = session.scalars(select(PurchaseProject).where(PurchaseProject.published_at.isnot(None))
                             .order_by(PurchaseProject.id)).all()
    assert [r["ocid"] for r in records] == [ocds.ocid_for(p.id) for p in public]
    # Each listed record is the one its ocid answers alone.
    for record in records[:4]:
        assert _get(client, f"{RECORDS}?ocid={record['ocid']}")["records"] == [record]
    resp = client.get(f"{RECORDS}?per_page=3&page={len(packages) + 1}")
    assert resp.status_code == 404 and "page" in resp.get_json()["error"]["fields"]


def test_query_count_does_not_grow_with_the_page(demo, client):
    counts = {}
    for per_page in (3, 100):
        statements = []

        def count(*_a, _s=statements, **_k):
            _s.append(1)

        event.listen(Engine, "before_cursor_execute", count)
        try:
            body = _get(client, f"{RELEASES}?per_page={per_page}")
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        counts[per_page] = (len(statements), len(body["releases"]))
    assert counts[100][1] > 10 * counts[3][1]
    # One statement more at most (the sessions, when the page has any), and few in all.
    assert counts[100][0] <= counts[3][0] + 1 and counts[100][0] <= 20, counts


# --- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "status", "field"), [
    ("since=yesterday", 422, "since"),
    ("since=", 422, "since"),
    ("since=2026-W01-1", 422, "since"),
    ("since=2026-13-01", 422, "since"),
    ("since=2026-11-01T25:00", 422, "since"),
    ("page=abc", 422, "page"),
    ("page=0", 422, "page"),
    ("per_page=0", 422, "per_page"),
    ("per_page=-5", 422, "per_page"),
    ("page=100000", 404, "page"),
    ("colour=red", 422, "colour"),
])
def test_bad_release_queries_name_the_field(demo, client, query, status, field):
    body = _get(client, f"{RELEASES}?{query}", status)
    assert set(body) == {"error"}
    assert field in body["error"]["fields"] and body["error"]["message"]


def test_bad_record_queries_name_the_field(demo, client, session):
    draft = session.scalar(select(PurchaseProject).where(PurchaseProject.state == ProjectState.DRAFT))
    top = session.scalar(select(func.max(PurchaseProject.id)))
    for query, status in (("ocid=", 422), ("ocid=HM-2026-00001", 422), (f"ocid=%20{ocds.ocid_for(top)}", 422),
                          ("ocid=ocds-zzzzzz-1", 404), (f"ocid={ocds.ocid_for(top + 1000)}", 404),
                          (f"ocid={ocds.ocid_for(draft.id)}", 404), (f"ocid={ocds.ocid_prefix()}-abc", 404),
                          (f"ocid={ocds.ocid_prefix()}-0{top}", 404)):
        body = _get(client, f"{RECORDS}?{query}", status)
        assert set(body) == {"error"} and "ocid" in body["error"]["fields"], query


# --- the ocid prefix is a setting ---------------------------------------------------------------------

def test_the_ocid_prefix_is_an_admin_setting(demo, client, session):
    admin = session.scalar(select(User).where(User.login == "admin@huimin.demo"))
    assert admin.has_role(Role.ADMIN)
    with pytest.raises(ValueError, match="must match"):
        settings.change(ocds.OCID_PREFIX.key, "HM-", admin)
    settings.change(ocds.OCID_PREFIX.key, "ocds-abc123", admin)
    session.flush()
    releases = _get(client, f"{RELEASES}?per_page=100")["releases"]
    assert all(r["ocid"].startswith("ocds-abc123-") and r["id"].startswith(r["ocid"] + "-") for r in releases)
    ocid = releases[0]["ocid"]
    assert _get(client, f"{RECORDS}?ocid={ocid}")["records"][0]["ocid"] == ocid
    _get(client, f"{RECORDS}?ocid=ocds-hm0001-{ocid.rsplit('-', 1)[1]}", 404)


# --- later events: published releases stay as they were ------------------------------------------

def _record_releases(client, project_id) -> list[dict]:
    body = _get(client, f"{RECORDS}?ocid={ocds.ocid_for(project_id)}")
    assert problems(body, "record-package-schema.json") == []
    return body["records"][0]["releases"]


def test_voids_terminations_and_cancellations_append_valid_releases(demo, client, session):
    admin = session.scalar(select(User).where(User.login == "admin@huimin.demo"))
    awarded = session.scalar(select(PurchaseProject).where(PurchaseProject.state == ProjectState.AWARDED))
    opened = session.scalar(select(PurchaseProject).where(PurchaseProject.state == ProjectState.OPENED))
    contract = session.scalar(select(Contract).where(Contract.state == ContractState.ACTIVE))
    before = {p: _record_releases(client, p) for p in (awarded.id, opened.id, contract.project_id)}

    award = session.scalar(select(Award).where(Award.project_id == awarded.id, Award.status == AwardStatus.PUBLISHED))
    award_ops.void_award(award, "质疑成立，重新评审", admin)
    awarded.return_to_review()
    opened.cancel("预算调整，终止采购")
    contract.terminate("承接主体无法继续履约")
    session.flush()

    after = {p: _record_releases(client, p) for p in before}
    for p, old in before.items():
        # Every release published before is unchanged; the new ones come after.
        assert after[p][:len(old)] == old
        assert len(after[p]) == len(old) + 1
    void = after[awarded.id][-1]
    assert void["tag"] == ["awardCancellation"] and void["awards"][0]["status"] == "cancelled"
    compiled = _get(client, f"{RECORDS}?ocid={ocds.ocid_for(awarded.id)}")["records"][0]["compiledRelease"]
    assert compiled["tender"]["status"] == ocds.TENDER_STATUS[ProjectState.UNDER_REVIEW] == "active"
    supplier_id = f"CN-USCC-{award.provider.credit_code}"
    assert "supplier" not in next(p for p in compiled["parties"] if p["id"] == supplier_id)["roles"]

    cancelled = after[opened.id][-1]
    assert cancelled["tag"] == ["tenderCancellation"] and cancelled["tender"]["status"] == "cancelled"
    assert cancelled["tender"]["documents"][0]["description"] == "预算调整，终止采购"
    compiled = _get(client, f"{RECORDS}?ocid={ocds.ocid_for(opened.id)}")["records"][0]["compiledRelease"]
    assert compiled["tender"]["status"] == "cancelled" and compiled["tender"]["tenderers"]

    ended = after[contract.project_id][-1]
    assert ended["tag"] == ["contractTermination"]
    assert ended["contracts"] == [{"id": f"contract-{contract.id}", "awardID": f"award-{contract.award_id}",
                                   "status": "terminated"}]
    # The package of every process still validates with these releases in it.
    for package in all_pages(client, per_page=100):
        assert problems(package, "release-package-schema.json") == []
