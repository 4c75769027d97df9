"""Purchase projects: the rules of creation, the state machine by the server clock, cancelling,
failing and re-issuing, clarifications, and what the public sees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from catalog.items.models import ItemStatus
from core import settings
from core.audit import AuditEvent
from core.db import utcnow
from core.errors import Forbidden, Invalid, Refused
from core.notifications import Notification
from marketplace.bids import operations as bid_ops
from marketplace.projects import operations as project_ops
from marketplace.projects.models import (
    TRANSITIONS,
    Clarification,
    CriterionKind,
    IllegalTransition,
    ProjectMethod,
    ProjectState,
    PurchaseProject,
)
from tests.support.market import criteria_rows
from tests.support.pages import html_text

pytestmark = pytest.mark.usefixtures("english")


def audit_actions(session, prefix=""):
    return [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
            if e.action.startswith(prefix)]


# --- creation rules ---------------------------------------------------------------------------

def test_officer_creates_a_draft_in_their_jurisdiction(market, session):
    officer = market.officer(market.town)
    project = project_ops.create_project(market.data(quantity=4, ceiling="1500.50", budget="6000.00"), officer)
    assert project.state == ProjectState.DRAFT
    assert project.area_id == market.town.id
    assert project.lines[0].unit_ceiling == Decimal("1500.50")
    assert project.ceiling_total == Decimal("6002.00")
    assert [c.kind for c in project.criteria].count(CriterionKind.PRICE) == 1
    assert sum(c.weight for c in project.criteria) == 100
    assert "project.create" in audit_actions(session)


def test_budget_never_above_ceiling_times_quantity(market):
    officer = market.officer()
    ok = project_ops.create_project(market.data(quantity=3, ceiling="1000.01", budget="3000.03"), officer)
    assert ok.budget == Decimal("3000.03")
    with pytest.raises(Invalid) as e:
        project_ops.create_project(market.data(quantity=3, ceiling="1000.01", budget="3000.04"), officer)
    assert e.value.field == "budget" and "3000.03" in str(e.value.message)


@pytest.mark.parametrize("status", [ItemStatus.WATCH, ItemStatus.DRAFT, ItemStatus.RETIRED, ItemStatus.SUSPENDED])
def test_only_active_catalog_items(market, status):
    officer = market.officer()
    data = market.data()
    item = market.item(status=status)
    data["lines"] = [{"item_id": item.id, "venue_id": data["lines"][0]["venue_id"], "quantity": 2}]
    with pytest.raises(Invalid) as e:
        project_ops.create_project(data, officer)
    assert e.value.field == "lines" and "active" in str(e.value.message)


def test_venues_must_lie_in_the_officers_jurisdiction(market, make_area, district):
    other_town = make_area("town", parent=district)
    officer = market.officer(market.town)
    data = market.data()
    data["lines"][0]["venue_id"] = market.venue(area=other_town).id
    with pytest.raises(Invalid) as e:
        project_ops.create_project(data, officer)
    assert "jurisdiction" in str(e.value.message)


def test_item_levels_are_respected(market, community):
    officer = market.officer()
    data = market.data()
    item = market.item(levels=["district"])
    data["lines"] = [{"item_id": item.id, "venue_id": market.venue(area=community).id, "quantity": 1}]
    data["budget"] = "100.00"
    with pytest.raises(Invalid, match="level"):
        project_ops.create_project(data, officer)


def test_single_source_needs_a_justification(market):
    officer = market.officer()
    with pytest.raises(Invalid) as e:
        project_ops.create_project(market.data(method="single_source"), officer)
    assert e.value.field == "justification"
    p = project_ops.create_project(market.data(method="single_source", justification="唯一版权方"), officer)
    assert p.method == ProjectMethod.SINGLE_SOURCE


def test_deadline_window_is_a_setting_per_method(market, make_user):
    officer = market.officer()
    admin = make_user("admin")
    window = project_ops.min_window(ProjectMethod.INQUIRY)
    too_soon = utcnow() + window - dt.timedelta(hours=1)
    with pytest.raises(Invalid) as e:
        project_ops.create_project(market.data(method="inquiry", deadline=too_soon), officer)
    assert e.value.field == "bid_deadline"
    settings.change("projects.min_window_days.inquiry", window.days - 1, admin)
    assert project_ops.create_project(market.data(method="inquiry", deadline=too_soon), officer).bid_deadline


@pytest.mark.parametrize("rows,needle", [
    (criteria_rows(price="20", plan="30"), "sum to 100"),
    (criteria_rows(price="35", plan="20"), "between 10 and 30"),
    (criteria_rows(price="5", plan="50"), "between 10 and 30"),
    ([r for r in criteria_rows() if r["kind"] != "performance"], "exactly one performance"),
    ([*criteria_rows(), {"kind": "price", "name": "价格二", "weight": "0"}], "between 10 and 30"),
    ([*criteria_rows(price="10", plan="45"), {"kind": "price", "name": "价格二", "weight": "10"}],
     "exactly one price"),
    ([*criteria_rows()[:4], {"kind": "qualification", "name": "资格", "weight": "5", "rubric": "证书"}],
     "pass/fail"),
    ([{**r, "rubric": ""} if r["kind"] == "subjective" else r for r in criteria_rows()], "rubric"),
    ([{**r, "max_score": "40"} if r["name"] == "服务方案" else r for r in criteria_rows()], "score range"),
])
def test_criteria_rules(market, rows, needle):
    with pytest.raises(Invalid) as e:
        project_ops.create_project(market.data(criteria=rows), market.officer())
    assert e.value.field == "criteria"
    assert needle in str(e.value.message)


def test_exactly_one_performance_criterion(market):
    rows = [*criteria_rows(performance="10"), {"kind": "performance", "name": "履约二", "weight": "10"}]
    with pytest.raises(Invalid, match="exactly one performance"):
        project_ops.create_project(market.data(criteria=rows), market.officer())


# --- the state machine ------------------------------------------------------------------------

def test_publish_then_closed_by_the_clock_without_any_job(market, client):
    project = market.published()
    assert project.state == ProjectState.PUBLISHED and project.published_at is not None
    assert project.accepts_bids()
    with time_machine.travel(project.bid_deadline + dt.timedelta(seconds=1), tick=False):
        assert project.state == ProjectState.PUBLISHED  # nothing stored it …
        assert project.current_state == ProjectState.CLOSED  # … yet it is closed
        assert not project.accepts_bids()
        resp = client.get(f"/projects/{project.id}")
        assert 'data-state="closed"' in resp.get_data(as_text=True)
        assert client.get(f"/api/v1/projects/{project.id}").get_json()["state"] == "closed"
        closed_ids = [p["id"] for p in client.get("/api/v1/projects?state=closed").get_json()["items"]]
        open_ids = [p["id"] for p in client.get("/api/v1/projects?state=published").get_json()["items"]]
        assert project.id in closed_ids and project.id not in open_ids
    with time_machine.travel(project.bid_deadline - dt.timedelta(seconds=1), tick=False):
        assert project.current_state == ProjectState.PUBLISHED


def test_publishing_twice_is_illegal(market):
    officer = market.officer()
    project = market.published(officer)
    with pytest.raises(IllegalTransition):
        project_ops.publish(project, officer)


def _bare(state: ProjectState) -> PurchaseProject:
    now = utcnow()
    p = PurchaseProject(state=state, bid_deadline=now + dt.timedelta(days=5), title="t", budget=Decimal(1))
    if state == ProjectState.CLOSED:
        p.bid_deadline = now - dt.timedelta(days=1)
    return p


MOVES = {
    ProjectState.PUBLISHED: lambda p: p.publish(),
    ProjectState.CLOSED: lambda p: p.close(),
    ProjectState.OPENED: lambda p: p.mark_opened(),
    ProjectState.UNDER_REVIEW: lambda p: p.start_review(),
    ProjectState.AWARDED: lambda p: p.award(),
    ProjectState.CONTRACTED: lambda p: p.contract(),
    ProjectState.IN_DELIVERY: lambda p: p.start_delivery(),
    ProjectState.COMPLETED: lambda p: p.complete(),
    ProjectState.CANCELLED: lambda p: p.cancel("预算调整"),
    ProjectState.FAILED: lambda p: p.fail("投标不足"),
}


@pytest.mark.parametrize("start", list(ProjectState))
@pytest.mark.parametrize("target", list(MOVES))
def test_every_transition_is_allowed_or_raises(start, target):
    p = _bare(start)
    legal = target in TRANSITIONS[start]
    if start == ProjectState.PUBLISHED and target == ProjectState.CLOSED:
        legal = False  # only the clock closes: the deadline has not passed
    if legal:
        MOVES[target](p)
        assert p.state == target
    else:
        with pytest.raises(IllegalTransition):
            MOVES[target](p)
        assert p.state == start


def test_published_project_past_deadline_may_be_stored_closed():
    p = _bare(ProjectState.PUBLISHED)
    p.bid_deadline = utcnow() - dt.timedelta(seconds=1)
    p.close()
    assert p.state == ProjectState.CLOSED and p.closed_at is not None
    with pytest.raises(IllegalTransition):
        p.close()


def test_review_award_contract_delivery_complete_are_audited(market, session):
    officer = market.officer()
    deadline = utcnow() + dt.timedelta(days=1)
    project = market.open_project(deadline, officer)
    providers = [market.provider() for _ in range(3)]
    for prov in providers:
        market.bid(project, prov)
    with time_machine.travel(deadline + dt.timedelta(minutes=1), tick=False):
        bid_ops.open_bids(project, officer)
        for step in (project_ops.start_review, project_ops.award):
            step(project, officer)
        project_ops.return_to_review(project, "质疑成立", officer)
        assert project.state == ProjectState.UNDER_REVIEW and project.awarded_at is None
        for step in (project_ops.award, project_ops.contract, project_ops.start_delivery, project_ops.complete):
            step(project, officer)
    assert project.state == ProjectState.COMPLETED
    assert audit_actions(session, "project.")[-7:] == [
        "project.start_review", "project.award", "project.return_to_review", "project.award",
        "project.contract", "project.start_delivery", "project.complete"]
    with pytest.raises(IllegalTransition):
        project_ops.cancel(project, "太晚了", officer)


def test_cancel_needs_a_reason_and_tells_the_bidders(market, session, client, login):
    officer = market.officer()
    project = market.published(officer)
    bidder = market.provider()
    market.bid(project, bidder)
    login(officer)
    resp = client.post(f"/projects/{project.id}/cancel", data={"reason": ""})
    assert resp.status_code == 422
    assert project.state == ProjectState.PUBLISHED
    resp = client.post(f"/projects/{project.id}/cancel", data={"reason": "预算调整"})
    assert resp.status_code == 302
    session.refresh(project)
    assert project.state == ProjectState.CANCELLED and project.cancel_reason == "预算调整"
    note = session.scalar(select(Notification).where(Notification.user_id == bidder.user_id))
    assert note is not None and project.title in note.subject and "预算调整" in note.body
    assert "预算调整" in html_text(client.get(f"/projects/{project.id}"))


def test_too_few_bids_fails_the_project_which_is_reissued_as_a_copy(market, session):
    officer = market.officer()
    project = market.published(officer)
    market.bid(project, market.provider())
    needed = project_ops.min_valid_bids(ProjectMethod.OPEN_TENDER)
    assert needed > 1
    with time_machine.travel(project.bid_deadline + dt.timedelta(minutes=1), tick=False):
        opening = bid_ops.open_bids(project, officer)
        assert opening.bid_count == 1
        assert project.state == ProjectState.FAILED and str(needed) in project.failed_reason
        copy = project_ops.reissue(project, officer)
    assert copy.state == ProjectState.DRAFT and copy.reissued_from_id == project.id
    assert copy.bid_deadline is None
    assert [(ln.item_id, ln.venue_id, ln.quantity) for ln in copy.lines] == \
        [(ln.item_id, ln.venue_id, ln.quantity) for ln in project.lines]
    assert [(c.kind, c.name, c.weight) for c in copy.criteria] == [(c.kind, c.name, c.weight) for c in project.criteria]
    with pytest.raises(Invalid):  # a copy needs its own deadline before it is published
        project_ops.publish(copy, officer)
    with pytest.raises(Refused):
        project_ops.reissue(copy, officer)


def test_min_valid_bids_is_a_setting(market, make_user):
    officer = market.officer()
    settings.change("projects.min_valid_bids.open_tender", 1, make_user("admin"))
    project = market.published(officer)
    market.bid(project, market.provider())
    with time_machine.travel(project.bid_deadline + dt.timedelta(minutes=1), tick=False):
        bid_ops.open_bids(project, officer)
    assert project.state == ProjectState.OPENED


# --- criteria lock at the first bid -------------------------------------------------------------

def test_criteria_editable_after_publishing_until_the_first_bid(market, session, client, login):
    officer = market.officer()
    project = market.published(officer)
    data = market.data(criteria=criteria_rows(price="30", plan="25"))
    data["lines"] = [{"item_id": ln.item_id, "venue_id": ln.venue_id, "quantity": ln.quantity} for ln in project.lines]
    data["budget"] = str(project.budget)
    project_ops.update_project(project, data, officer)
    assert project.price_criterion.weight == 30
    market.bid(project, market.provider())
    assert project.criteria_locked
    client.post("/lang", data={"lang": "en"})
    login(officer)
    form = {"title": "改名", "method": "open_tender", "budget": str(project.budget),
            "bid_deadline": "2030-01-01T10:00", "lines-0-item_id": project.lines[0].item_id,
            "lines-0-venue_id": project.lines[0].venue_id, "lines-0-quantity": 10,
            "criteria-0-kind": "price", "criteria-0-title": "价格", "criteria-0-weight": "10"}
    resp = client.post(f"/projects/{project.id}/edit", data=form)
    assert resp.status_code == 409
    assert "locked" in html_text(resp)
    session.refresh(project)
    assert project.title == "社区文艺演出" and project.price_criterion.weight == 30
    assert "refused.project.update" in audit_actions(session)


# --- who sees what ----------------------------------------------------------------------------

def test_published_projects_are_public_with_their_criteria(market, client):
    project = market.published()
    draft = market.draft()
    text = html_text(client.get(f"/projects/{project.id}"))
    for c in project.criteria:
        assert c.name in text
    assert client.get(f"/projects/{draft.id}").status_code == 404
    listing = html_text(client.get("/projects/"))
    assert project.reference in listing and draft.reference not in listing
    assert client.get(f"/api/v1/projects/{draft.id}").status_code == 404


def test_drafts_are_hidden_from_officers_of_other_towns(market, make_area, district, client, login):
    draft = market.draft(market.officer(market.town))
    other = market.officer(make_area("town", parent=district))
    login(other)
    assert client.get(f"/projects/{draft.id}").status_code == 404
    assert client.get(f"/projects/{draft.id}/edit").status_code == 403
    assert client.post(f"/projects/{draft.id}/publish").status_code == 403
    assert draft.reference not in html_text(client.get("/projects/manage"))


def test_officer_creates_and_publishes_through_the_pages(market, session, client, login):
    officer = market.officer()
    item, venue = market.item("800.00"), market.venue()
    client.post("/lang", data={"lang": "en"})
    login(officer)
    assert client.get("/projects/new").status_code == 200
    deadline = (utcnow() + dt.timedelta(days=30)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    form = {"title": "广场舞培训", "description": "", "method": "open_tender", "justification": "",
            "budget": "4000.00", "bid_deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
            "lines-0-item_id": item.id, "lines-0-venue_id": venue.id, "lines-0-quantity": 5}
    for i, row in enumerate(criteria_rows()):
        form |= {f"criteria-{i}-kind": row["kind"], f"criteria-{i}-title": row["name"],
                 f"criteria-{i}-weight": row["weight"], f"criteria-{i}-rubric": row.get("rubric", "")}
    bad = client.post("/projects/new", data=form | {"budget": "4000.01"})
    assert bad.status_code == 422 and "ceiling" in html_text(bad)
    assert session.scalar(select(PurchaseProject).where(PurchaseProject.title == "广场舞培训")) is None
    resp = client.post("/projects/new", data=form)
    assert resp.status_code == 302
    project = session.scalar(select(PurchaseProject).where(PurchaseProject.title == "广场舞培训"))
    assert project.state == ProjectState.DRAFT and project.bid_deadline.strftime("%H:%M") == \
        deadline.astimezone(dt.UTC).strftime("%H:%M")
    assert client.get(f"/projects/{project.id}/edit").status_code == 200
    assert client.post(f"/projects/{project.id}/publish").status_code == 302
    session.refresh(project)
    assert project.state == ProjectState.PUBLISHED


# --- clarifications ---------------------------------------------------------------------------

def test_clarifications_answers_public_askers_anonymous(market, session, client, login):
    officer = market.officer()
    project = market.published(officer)
    asker = market.provider()
    login(asker.user)
    resp = client.post(f"/projects/{project.id}/clarifications", data={"question": "可以联合投标吗？"})
    assert resp.status_code == 302
    c = session.scalar(select(Clarification).where(Clarification.project_id == project.id))
    assert "可以联合投标吗" in html_text(client.get(f"/projects/{project.id}"))  # the asker sees it waiting
    client.post("/logout")
    assert "可以联合投标吗" not in html_text(client.get(f"/projects/{project.id}"))  # the public does not, yet
    login(officer)
    resp = client.post(f"/projects/{project.id}/clarifications/{c.id}/answer", data={"answer": "不接受联合体。"})
    assert resp.status_code == 302
    note = session.scalar(select(Notification).where(Notification.user_id == asker.user_id))
    assert note is not None and "不接受联合体" in note.body
    client.post("/logout")
    text = html_text(client.get(f"/projects/{project.id}"))
    assert "可以联合投标吗" in text and "不接受联合体" in text
    assert asker.name not in text and asker.user.name not in text and asker.user.login not in text
    api = client.get(f"/api/v1/projects/{project.id}").get_json()
    assert api["clarifications"] == [{"question": "可以联合投标吗？", "answer": "不接受联合体。",
                                      "asked_at": api["clarifications"][0]["asked_at"],
                                      "answered_at": api["clarifications"][0]["answered_at"]}]
    # answering twice is refused
    login(officer)
    assert client.post(f"/projects/{project.id}/clarifications/{c.id}/answer",
                       data={"answer": "再答"}).status_code == 409


def test_questions_after_the_deadline_are_refused(market):
    project = market.published()
    asker = market.provider()
    with time_machine.travel(project.bid_deadline, tick=False), pytest.raises(Refused, match=r"server time"):
        project_ops.ask(project, "还能问吗？", asker.user)


def test_create_needs_an_officer_with_a_jurisdiction(market, make_user):
    with pytest.raises(Forbidden):
        project_ops.create_project(market.data(), make_user("resident"))
