"""Object-level access: every URL rule that takes an id, walked by users who own a different
object of the same kind, is refused (403/404) and changes nothing.

The objects in the URLs are the strangers' objects the route × role builders make
(tests/support/access). The walkers are "peers": a provider with its own approved registration,
its own bid on the same project, its own contract and session; a resident of another community
with its own demand request and rating; an expert on no panel of the project, with its own
conflict declaration; a town officer of another town with its own venue. Every rule with
arguments must be classified: object-guarded (refuses peers), or listed in SHARED / ACTOR_SCOPED
below with the reason a peer may pass. A new rule fails `test_every_rule_with_ids_is_classified`
until it is classified.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select, update

from core.areas.models import Area, AreaLevel
from core.audit import AuditEvent
from core.db import db, utcnow
from core.permissions import AUTHENTICATED, PUBLIC, endpoint_access
from tests.support.access import BUILDERS, rules
from tests.support.access import delivery as access_delivery
from tests.support.access import evaluation as access_evaluation
from tests.support.access import projects as access_projects

PEER_ROLES = ("officer", "expert", "provider", "resident")

# Endpoints open to any user of an allowed role whatever object the id names, with the reason.
SHARED = {
    # The catalog is the district's, not an area's: every officer keeps it.
    "catalog_admin.category_edit": "district-wide catalog",
    "catalog_admin.item_edit": "district-wide catalog",
    "catalog_admin.item_status": "district-wide catalog",
    "catalog_admin.version_detail": "district-wide catalog",
    "catalog_admin.version_delete": "district-wide catalog",
    "catalog_admin.version_publish": "district-wide catalog",
    # Providers register with the district (no area): every officer reviews them.
    "providers.detail": "district-wide provider register",
    "providers.approve": "district-wide provider register",
    "providers.reject": "district-wide provider register",
    "providers.request_documents": "district-wide provider register",
    "providers.suspend": "district-wide provider register",
    "providers.blacklist": "district-wide provider register",
    "providers.lift": "district-wide provider register",
    "providers.document": "district-wide provider register (officers; providers only their own)",
    "performance.decision": "district-wide provider register (officers; providers only their own)",
    # Provider reports and briefings are about the district's register: every officer reads
    # them and may retry a failed one; providers only their own.
    "reports.download": "district-wide reports (officers; providers only their own)",
    "reports.retry": "district-wide reports (officers; providers only their own)",
    # Third-party assessment is the district's: every officer reads the plan and its visits; providers
    # only their own session's visit once it is recorded.
    "assessment.plan": "district-wide assessment plan",
    "assessment.visit": "district-wide assessment plan (officers; providers only their own, once recorded)",
    "assessment.photo": "district-wide assessment plan (officers; providers only their own, once recorded)",
    # Supervision items are public on the portal; officers read every item, answer only their own.
    "supervision.item": "public supervision items",
    "supervision.evidence": "public supervision items",
}
# The roles SHARED applies to, where it is not every allowed role.
SHARED_ROLES = {"providers.document": {"officer"}, "performance.decision": {"officer"},
                "assessment.visit": {"officer"}, "assessment.photo": {"officer"},
                "reports.download": {"officer"}, "reports.retry": {"officer"}}

# The id names a public container (a published project, a catalog item, a session's rating
# page); what the user reads or changes is their own object inside it.
ACTOR_SCOPED = {
    "bids.edit": "the provider's own bid on a published project",
    "bids.withdraw": "the provider's own bid",
    "projects_api.own_bid": "the provider's own bid",
    "projects_api.submit_bid": "the provider's own bid",
    "projects_api.revise_bid": "the provider's own bid",
    "projects_api.withdraw_bid": "the provider's own bid",
    "projects.ask": "any provider may ask about a published project",
    "awards.lodge": "a bidder's own challenge (refused by the challenge rules otherwise)",
    "demand.new": "a resident's own request for a catalog item",
    "ratings.rate_submit": "a resident's own rating of a session (once each)",
    "ratings.complain": "a resident's own complaint about a session they rated or that was held where they live",
    "feedback_api.rate": "a resident's own rating of a session",
    "supervision_portal.follow": "a resident's own follow of a public supervision item",
}


def _with_ids(app):
    for rule, method in rules(app):
        if rule.arguments and rule.endpoint != "static":
            yield rule, method


def _peers_for(endpoint) -> tuple[str, ...]:
    """The peer roles that must be refused on the endpoint (none for public/admin/shared ones)."""
    allowed = endpoint_access(endpoint)
    if PUBLIC in allowed or endpoint in ACTOR_SCOPED:
        return ()
    if endpoint in SHARED and endpoint not in SHARED_ROLES:
        return ()
    roles = PEER_ROLES if AUTHENTICATED in allowed else tuple(r for r in PEER_ROLES if r in allowed)
    return tuple(r for r in roles if r not in SHARED_ROLES.get(endpoint, ()))


def test_every_rule_with_ids_is_classified(app):
    """A rule with ids must be public, admin-only, shared/actor-scoped with a reason, or refuse peers."""
    with app.app_context():
        for rule, _m in _with_ids(app):
            allowed = endpoint_access(rule.endpoint)
            assert allowed, rule.endpoint
        listed = set(SHARED) | set(ACTOR_SCOPED)
        endpoints = {r.endpoint for r, _m in _with_ids(app)}
        assert listed <= endpoints, f"classified endpoints that no longer exist: {sorted(listed - endpoints)}"


def fingerprint(session) -> dict[str, str]:
    """A digest of every table's rows (the audit log apart: refusals are meant to reach it)."""
    out = {}
    for table in db.metadata.sorted_tables:
        if table.name == "audit_events":
            continue
        rows = session.execute(select(table)).all()
        out[table.name] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
    return out


def _peers(ctx) -> dict:
    """Users who own objects of the same kinds as the strangers' in the URLs."""
    from catalog.demand import operations as demand_ops
    from evaluation.experts.operations import declare_conflict
    from evaluation.feedback import operations as ratings
    from evaluation.review.models import Panel
    from marketplace.bids import operations as bid_ops
    from marketplace.projects.models import PurchaseProject
    from marketplace.sessions import operations as session_ops
    from tests.support import review as es
    from tests.support.delivery import Delivery
    from tests.support.files import png_bytes

    session, make_user = ctx["session"], ctx["make_user"]
    district = Area(code="PEER-D", name="邻区", level=AreaLevel.DISTRICT, population=1)
    town = Area(code="PEER-T", name="邻镇", level=AreaLevel.TOWN, population=1, parent=district)
    community = Area(code="PEER-C", name="邻社区", level=AreaLevel.COMMUNITY, population=1, parent=town)
    session.add_all([district, town, community])
    session.flush()
    d = Delivery(session, make_user, district, town, community)

    # Town officer of another town, with a venue of its own.
    officer = d.officer(jurisdiction=town)
    d.venue(area=town)

    # Provider with its own bid on the strangers' project, its own contract and a reported session.
    provider = d.provider()
    project = access_projects._world(ctx)["project"]
    bid_ops.submit_bid(project, provider, bid_ops.BidInput(
        price="3900.00", plan="我方方案", files=[bid_ops.NewFile("mine.pdf", b"%PDF-1.4 peer\n%%EOF\n")]),
        provider.user)
    contract = d.contract(provider, officer=d.officer(jurisdiction=district), sessions=2)
    when = utcnow().replace(microsecond=0) - dt.timedelta(days=1)
    own_session = session_ops.schedule_session(contract, contract.lines[0], when, 40, provider.user,
                                               now=when - dt.timedelta(days=10))
    d.report(own_session, attendance=20, at=when + dt.timedelta(hours=3),
             photos=[session_ops.NewPhoto("mine.png", png_bytes())])

    # Resident of another community, with its own request and its own rating.
    resident = make_user("resident", community_area=community)
    item = d.item()
    demand_ops.request_item(resident, item, d.venue(area=community), "")
    ratings.rate(own_session, resident, {"content": 5, "organisation": 5, "venue": 5}, "好",
                 now=when + dt.timedelta(hours=4), attendance_code=own_session.attendance_code)

    # Expert of the project's category who is not on its panel, with a conflict of its own.
    ev = access_evaluation.scenario(ctx)
    ev_project = session.get(PurchaseProject, ev["project"])
    panel = session.scalars(select(Panel).where(Panel.project_id == ev_project.id)).one()
    expert = es.expert(session, make_user, list(panel.members[0].expert.specialties))
    declare_conflict(expert, credit_code=es.code(778), organisation="别的机构", reason="任职", actor=expert.user)
    session.flush()
    return {"officer": officer, "provider": provider.user, "resident": resident, "expert": expert.user,
            "own_session": own_session, "own_contract": contract}


def _login(client, user):
    with client.session_transaction() as s:
        s.clear()
    r = client.post("/login", data={"login": user.login, "password": "Correct-Horse-42"})
    assert r.status_code == 302, r.status_code


def _awarded_world(ctx, bidding) -> dict:
    """The same URL rules over the reviewed and awarded project, its contract in force and provider."""

    ev = access_evaluation.scenario(ctx)
    delivery = access_delivery._world(ctx)
    return {**bidding, "project_id": ev["project"], "bid_id": ev["bid"], "attachment_id": ev["attachment"],
            "contract_id": delivery["contract"].id, "provider_id": delivery["provider"].id}


def _draft_world(ctx, bidding) -> dict:
    """A stranger officer's draft project (nothing but its officers may see a draft)."""
    from marketplace.projects.models import Criterion, ProjectLine, ProjectMethod, ProjectState, PurchaseProject

    published = access_projects._world(ctx)["project"]
    line = published.lines[0]
    draft = PurchaseProject(
        title="草稿项目", area=published.area, method=ProjectMethod.OPEN_TENDER, budget=published.budget,
        created_by=published.created_by, state=ProjectState.DRAFT, bid_deadline=utcnow() + dt.timedelta(days=30),
        lines=[ProjectLine(item=line.item, venue=line.venue, quantity=line.quantity, unit_ceiling=line.unit_ceiling)],
        criteria=[Criterion(kind=c.kind, name=c.name, weight=c.weight, min_score=c.min_score, max_score=c.max_score,
                            rubric=c.rubric) for c in published.criteria])
    ctx["session"].add(draft)
    ctx["session"].flush()
    return {**bidding, "project_id": draft.id}


def _draft_peers(endpoint) -> tuple[str, ...]:
    """On a draft every peer is refused, public pages and the actor's own bid included."""
    allowed = endpoint_access(endpoint)
    if PUBLIC in allowed or AUTHENTICATED in allowed:
        return PEER_ROLES
    return tuple(r for r in PEER_ROLES if r in allowed)


def _opened(ctx, bidding) -> dict:
    """The bidding world after the opening: the bids are no longer sealed, but still not the rivals'."""
    from marketplace.projects.models import ProjectState, PurchaseProject

    session = ctx["session"]
    now = utcnow()
    session.execute(update(PurchaseProject).where(PurchaseProject.id == bidding["project_id"]).values(
        bid_deadline=now - dt.timedelta(hours=1), opened_at=now, state=ProjectState.OPENED))
    session.expire_all()
    return bidding


def _walk_one(client, session, url, method, user) -> str | None:
    """One request by a peer: None if refused with nothing changed, else what went wrong."""
    _login(client, user)
    before = fingerprint(session) if method != "GET" else None
    last_event = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    resp = client.open(url, method=method, data={} if method != "GET" else None)
    if resp.status_code not in (403, 404):
        return f"status {resp.status_code}"
    if before is not None:
        after = fingerprint(session)
        changed = [t for t in before if before[t] != after[t]]
        if changed:
            return f"changed {changed}"
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.id > last_event)).all()
    stray = [a for a in actions if not a.startswith("refused.")]
    if stray:
        return f"audit events {stray}"
    return str(resp.status_code)


def test_peers_are_refused_on_others_objects(app, client, make_user, session):
    users = {r: make_user(r) for r in ("admin", "officer", "expert", "provider", "resident")}
    ctx = {"users": users, "session": session, "make_user": make_user}
    bidding = {name: fn(ctx) for name, fn in BUILDERS.items()}
    peers = _peers(ctx)
    session.flush()
    worlds = [("bidding", lambda: bidding), ("draft", lambda: _draft_world(ctx, bidding)),
              ("awarded", lambda: _awarded_world(ctx, bidding)), ("opened", lambda: _opened(ctx, bidding))]
    failures, cases, statuses = [], 0, {}
    for world, make_values in worlds:
        values = make_values()
        for rule, method in _with_ids(app):
            if world == "draft" and "project_id" not in rule.arguments:
                continue
            url = rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)[1]
            roles = _draft_peers(rule.endpoint) if world == "draft" else _peers_for(rule.endpoint)
            for role in roles:
                outcome = _walk_one(client, session, url, method, peers[role])
                cases += 1
                if outcome in ("403", "404"):
                    statuses.setdefault((world, rule.endpoint), set()).add(outcome)
                else:
                    failures.append(f"{method} {url} ({world}) as peer {role}: {outcome}")
    mixed = {k: v for k, v in statuses.items() if len(v) > 1}
    assert not failures, f"{len(failures)} of {cases}:\n" + "\n".join(failures)
    assert not mixed, f"inconsistent refusals (403 and 404 on one endpoint): {mixed}"
    assert cases > 0
    print(f"object-level cases: {cases} over {len({ep for _w, ep in statuses})} endpoints")


def test_an_own_parent_does_not_open_another_users_child(app, client, make_user, session):
    """Ids crossed: the peer's own session, contract or project with the stranger's photo,
    milestone or attachment is 404, the child being looked up under its parent."""

    users = {r: make_user(r) for r in ("admin", "officer", "expert", "provider", "resident")}
    ctx = {"users": users, "session": session, "make_user": make_user}
    peers = _peers(ctx)
    stranger = access_delivery._world(ctx)
    ev = access_evaluation.scenario(ctx)
    bidding = access_projects._world(ctx)
    own_session, own_contract = peers["own_session"], peers["own_contract"]
    buyer = own_contract.project.created_by
    own_bid_project = bidding["project"].id
    cases = [
        (peers["provider"], "GET", f"/delivery/sessions/{own_session.id}/photos/{stranger['photo'].id}"),
        (buyer, "POST", f"/contracts/{own_contract.id}/milestones/{ev['milestone']}/paid"),
        (peers["provider"], "GET", f"/projects/{own_contract.project_id}/attachments/{bidding['attachment'].id}"),
        (peers["provider"], "GET", f"/projects/{own_bid_project}/attachments/{bidding['attachment'].id}"),
    ]
    session.flush()
    for user, method, url in cases:
        outcome = _walk_one(client, session, url, method, user)
        assert outcome in ("403", "404"), (url, outcome)


def test_ids_carried_in_forms_stay_within_the_users_objects(client, login, session, make_user, district, town,
                                                            community, make_area):
    """Another object's id in a form field (not the URL) is refused and changes nothing: a line of
    another contract, a bid of another project, a venue of another town."""
    from core.errors import DomainError
    from evaluation.review import operations as review
    from marketplace.projects import operations as project_ops
    from tests.support import review as es
    from tests.support.delivery import Delivery
    from tests.support.market import Market

    d = Delivery(session, make_user, district, town, community)
    provider = d.provider()
    own = d.contract(provider, sessions=2)
    other = d.contract(d.provider(), sessions=2)
    r = es.reviewed_project(session, make_user, town, sign=False)
    foreign = es.reviewed_project(session, make_user, town, sign=False)
    session.commit()
    when = utcnow() + dt.timedelta(days=3)
    local = when.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")

    def refused(user, url, data):
        with client.session_transaction() as s:
            s.clear()
        login(user)
        before = fingerprint(session)
        resp = client.post(url, data=data)
        after = fingerprint(session)
        assert 400 <= resp.status_code < 500, (url, resp.status_code)
        assert [t for t in before if before[t] != after[t]] == [], url

    refused(provider.user, f"/delivery/contracts/{own.id}/sessions",
            {"line_id": other.lines[0].id, "scheduled_at": local, "planned_audience": "45"})
    leader = r["panel"].leader
    qualification = next(c for c in r["project"].criteria if c.kind.value == "qualification")
    refused(leader.expert.user, f"/review/projects/{r['project'].id}/qualification",
            {"bid_id": foreign["bids"][0].id, "criterion_id": qualification.id, "passed": "0", "reason": "不符"})
    # The award names a ranked bid of its own project only.
    review.sign_off(foreign["panel"], foreign["panel"].leader, foreign["panel"].leader.expert.user)
    with pytest.raises(DomainError) as refusal:
        review.award_project(foreign["project"], r["bids"][0], "", foreign["officer"])
    assert refusal.value.field == "bid_id"
    session.rollback()
    # A town officer's project may list only venues of its town.
    market = Market(session, make_user, district, town)
    other_town = make_area("town", parent=district)
    officer = make_user("officer", jurisdiction=other_town)
    with pytest.raises(DomainError) as refusal:
        project_ops.create_project(market.data(officer), officer)
    assert refusal.value.field == "lines" and "管辖" in str(refusal.value.message)
    session.rollback()


def test_supervisors_read_opened_bids_reviews_and_contracts_never_a_sealed_bid(app, client, make_user, session):
    from tests.support.access import projects as access_projects_world

    users = {r: make_user(r) for r in ("admin", "officer", "expert", "provider", "resident")}
    ctx = {"users": users, "session": session, "make_user": make_user}
    bidding = access_projects_world._world(ctx)
    project, bid, att = bidding["project"], bidding["bid"], bidding["attachment"]
    contract = access_delivery._world(ctx)["contract"]
    supervisor = make_user("supervisor")
    session.flush()
    sealed = [f"/projects/{project.id}/bids/{bid.id}", f"/projects/{project.id}/attachments/{att.id}",
              f"/review/projects/{project.id}"]
    for url in sealed:
        assert _walk_one(client, session, url, "GET", supervisor) in ("403", "404"), url
    listing = client.get(f"/projects/{project.id}/bids")
    assert listing.status_code == 200 and f"/bids/{bid.id}" not in listing.get_data(as_text=True)
    _opened(ctx, {"project_id": project.id})
    _login(client, supervisor)
    for url in sealed:
        assert client.get(url).status_code == 200, url
    assert f"/bids/{bid.id}" in client.get(f"/projects/{project.id}/bids").get_data(as_text=True)
    assert client.get(f"/contracts/{contract.id}").status_code == 200
