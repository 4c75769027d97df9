"""Adjustment rules and the whole loop: residents' ratings and officers' acceptance lower a provider
to grade D, a confirmed decision suspends it, its next bid is refused, and the next opening takes
another provider's performance from the new scores. Also: overrides, automatic effect, appeals,
warnings, items on watch and retired, items flagged for more budget."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from catalog.items.models import ItemStatus
from core import periods
from core.audit import AuditEvent
from core.db import utcnow
from core.errors import Forbidden, Invalid, Refused
from evaluation.adjustment import operations as adjustment
from evaluation.adjustment.models import AdjustmentDecision, AppealStatus, DecisionAction, DecisionStatus
from evaluation.feedback import operations as ratings
from evaluation.feedback.models import Rating, RatingStatus
from evaluation.performance import operations as performance
from marketplace.bids import operations as bid_ops
from marketplace.projects import operations as project_ops
from marketplace.projects.models import ProjectMethod
from marketplace.providers.models import ProviderStatus

DAY = dt.timedelta(days=1)


def _stars(n):
    return {"content": n, "organisation": n, "venue": n}


def _deliver_and_rate(delivery, make_user, provider, officer, acceptance, stars, now, sessions=3):
    contract = delivery.contract(provider, officer=officer, sessions=sessions)
    for k in range(sessions):
        s = delivery.schedule(contract, now - (20 - 5 * k) * DAY)
        delivery.report(s, attendance=30, at=s.scheduled_at + dt.timedelta(hours=2))
        delivery.confirm(s, acceptance, officer, at=s.scheduled_at + DAY)
        for j in range(4):
            ratings.rate(s, make_user("resident"), _stars(stars), "", address=f"10.{k}.{j}.1",
                         now=s.scheduled_at + dt.timedelta(hours=3 + j), attendance_code=s.attendance_code)
    return contract


def test_the_loop_closes(delivery, market, make_user, session):
    now = utcnow().replace(microsecond=0)
    officer = delivery.officer()
    poor, good, third = delivery.provider(), delivery.provider(), delivery.provider()
    _deliver_and_rate(delivery, make_user, poor, officer, acceptance=30, stars=1, now=now)
    _deliver_and_rate(delivery, make_user, good, officer, acceptance=95, stars=5, now=now)
    session.commit()

    results = performance.recompute_all(now)
    assert results[poor.id].grade == "D" and results[good.id].grade in ("A", "B")
    session.refresh(poor)
    session.refresh(good)
    assert (poor.grade, poor.performance_score) == ("D", results[poor.id].score)

    proposals = adjustment.evaluate(now)
    assert [(d.rule, d.provider_id) for d in proposals] == [("provider_grade_d", poor.id)]
    decision = proposals[0]
    assert decision.status == DecisionStatus.PROPOSED and decision.rule_version == "2026.1"
    assert decision.figures["score"] == str(results[poor.id].score)
    assert str(results[poor.id].score) in adjustment.explain(decision)
    assert adjustment.evaluate(now) == []  # not proposed twice

    adjustment.confirm(decision, officer, now=now)
    session.commit()
    session.refresh(poor)
    assert poor.status == ProviderStatus.SUSPENDED
    assert poor.suspended_until == periods.add_months(now, 6) == decision.effective_until

    project = market.open_project(now + 10 * DAY, officer=officer, method=ProjectMethod.COMPETITIVE_CONSULTATION)
    with pytest.raises(Forbidden) as refused:
        market.bid(project, poor, price="8000.00")
    assert "Suspended" in str(refused.value.message) or "暂停" in str(refused.value.message)
    session.rollback()
    market.bid(project, good, price="8000.00")
    market.bid(project, third, price="8500.00")
    with time_machine.travel(now + 11 * DAY, tick=False):
        bid_ops.open_bids(project, officer)
    bids = {b.provider_id: b for b in session.scalars(select(bid_ops.Bid).where(bid_ops.Bid.project_id == project.id))}
    assert poor.id not in bids
    # The review's performance criterion reads the score written from the new ratings.
    assert bids[good.id].performance_at_opening == results[good.id].score == good.performance_score
    assert performance.snapshot_at(good.id, now + 11 * DAY).score == results[good.id].score
    assert bids[third.id].performance_at_opening is None  # no history: the review uses its prior


def _grade_d_proposal(delivery, make_user, session, now):
    officer = delivery.officer()
    p = delivery.provider()
    _deliver_and_rate(delivery, make_user, p, officer, acceptance=10, stars=1, now=now, sessions=2)
    performance.recompute_all(now)
    [d] = adjustment.evaluate(now)
    return d, p, officer


def test_override_needs_a_reason_and_a_district_officer(delivery, make_user, session, town):
    now = utcnow()
    d, p, officer = _grade_d_proposal(delivery, make_user, session, now)
    with pytest.raises(Forbidden):
        adjustment.override(d, "理由", delivery.officer(jurisdiction=town))
    with pytest.raises(Invalid):
        adjustment.override(d, " ", officer)
    adjustment.override(d, "该团队已更换负责人并完成整改", officer)
    assert d.status == DecisionStatus.OVERRIDDEN and p.status == ProviderStatus.APPROVED
    with pytest.raises(Refused):
        adjustment.confirm(d, officer)
    assert adjustment.apply_due(now + 30 * DAY) == 0


def test_a_proposal_takes_effect_by_itself_after_the_set_days_unless_appealed(delivery, make_user, session):
    now = utcnow()
    d, p, _officer = _grade_d_proposal(delivery, make_user, session, now)
    assert adjustment.apply_due(now + 13 * DAY) == 0
    assert adjustment.apply_due(now + 14 * DAY) == 1
    assert d.status == DecisionStatus.AUTO_APPLIED and d.decided_by_id is None
    session.refresh(p)
    assert p.status == ProviderStatus.SUSPENDED
    ev = session.scalar(select(AuditEvent).where(AuditEvent.action == "adjustment.auto_apply"))
    assert ev.object_id == str(d.id) and ev.actor_id is None


def test_an_upheld_appeal_lifts_the_suspension(delivery, make_user, session):
    now = utcnow()
    d, p, officer = _grade_d_proposal(delivery, make_user, session, now)
    with pytest.raises(Forbidden):
        adjustment.appeal(d, "不服", delivery.provider().user, now=now)
    adjustment.appeal(d, "评分期间场馆停电，影响满意度。", p.user, now=now + DAY)
    assert d.appeal_status == AppealStatus.PENDING
    assert adjustment.apply_due(now + 20 * DAY) == 0  # held while the appeal is pending
    with pytest.raises(Refused):
        adjustment.appeal(d, "再申诉", p.user, now=now + DAY)
    adjustment.answer_appeal(d, False, "停电不影响评分", officer, now=now + 2 * DAY)
    assert adjustment.apply_due(now + 20 * DAY) == 1
    session.refresh(p)
    assert p.status == ProviderStatus.SUSPENDED

    d2, p2, officer2 = _grade_d_proposal(delivery, make_user, session, now)
    adjustment.confirm(d2, officer2, now=now)
    adjustment.appeal(d2, "有新证据", p2.user, now=now + 3 * DAY)
    with pytest.raises(Invalid):
        adjustment.answer_appeal(d2, True, "", officer2)
    adjustment.answer_appeal(d2, True, "经复核，撤销暂停。", officer2, now=now + 4 * DAY)
    session.refresh(p2)
    assert d2.status == DecisionStatus.REVERSED and p2.status == ProviderStatus.APPROVED
    assert p2.bidding_refusal() is None
    with pytest.raises(Refused):
        adjustment.appeal(d2, "x", p2.user, now=now + 40 * DAY)


def test_grade_c_twice_running_brings_a_warning(delivery, make_user, session):
    now = utcnow()
    officer = delivery.officer()
    p = delivery.provider()
    contract = delivery.contract(p, officer=officer, sessions=2)
    for k in range(2):
        s = delivery.schedule(contract, now - (10 - k) * DAY)
        delivery.report(s)
        delivery.confirm(s, 20, officer)
    # No ratings: satisfaction 4.0 (75 points); acceptance 20; on time; no complaints:
    # 0.4·75 + 0.3·20 + 0.15·100 + 0.15·100 = 66 → C
    assert performance.recompute_all(now)[p.id].score == Decimal("66.00")
    assert adjustment.evaluate(now) == []  # once is not twice
    performance.recompute_all(now + DAY)
    [d] = adjustment.evaluate(now + DAY)
    assert (d.rule, d.action, d.figures["previous_score"]) == ("provider_grade_c_twice", DecisionAction.WARN, "66.00")
    adjustment.confirm(d, officer)
    performance.recompute_all(now + 2 * DAY)
    assert adjustment.evaluate(now + 2 * DAY) == []  # the same pair of C's warns once


def _rate_item(session, s, make_user, stars, at, n):
    for _ in range(n):
        r = make_user("resident")
        session.add(Rating(session_id=s.id, provider_id=s.provider_id, item_id=s.item_id, resident_id=r.id,
                           content=stars, organisation=stars, venue=stars, created_at=at, updated_at=at,
                           status=RatingStatus.COUNTED))
    session.flush()


def test_a_poorly_rated_item_goes_on_watch_then_out_of_the_catalog(delivery, market, make_user, session):
    now = utcnow().replace(microsecond=0)
    officer = delivery.officer()
    item = delivery.item()
    contract = delivery.contract(delivery.provider(), officer=officer, item=item)
    s = delivery.schedule(contract, now - 30 * DAY)
    _rate_item(session, s, make_user, 3, now - 20 * DAY, 29)
    assert not [d for d in adjustment.evaluate(now) if d.item_id == item.id]  # 29 ratings are not enough
    _rate_item(session, s, make_user, 4, now - 20 * DAY, 1)
    # 30 ratings, mean (29·3 + 4)/30 = 3.03 < 3.5
    [watch] = [d for d in adjustment.evaluate(now) if d.item_id == item.id]
    assert (watch.rule, watch.figures["rating_count"], watch.figures["satisfaction"]) == \
        ("item_low_satisfaction", 30, "3.03")
    adjustment.confirm(watch, officer, now=now)
    session.refresh(item)
    assert item.status == ItemStatus.WATCH and not item.open_for_purchase
    with pytest.raises(Invalid) as e:
        project_ops.create_project(market.data(officer) | {"lines": [
            {"item_id": item.id, "venue_id": s.venue_id, "quantity": 2}]}, officer)
    assert item.name in str(e.value.message)

    later = now + 366 * DAY
    assert not [d for d in adjustment.evaluate(now + 100 * DAY) if d.item_id == item.id]  # period not over
    _rate_item(session, s, make_user, 2, now + 50 * DAY, 30)
    [retire] = [d for d in adjustment.evaluate(later) if d.item_id == item.id]
    assert retire.rule == "item_second_low_period" and retire.figures["rating_count"] == 30
    adjustment.confirm(retire, officer, now=later)
    session.refresh(item)
    assert item.status == ItemStatus.RETIRED
    ev = session.scalars(select(AuditEvent).where(AuditEvent.action == "catalog.item.status")
                         .order_by(AuditEvent.seq)).all()
    assert [e.summary["after"] for e in ev] == ["watch", "retired"]
    assert ev[0].summary["rule"] == "item_low_satisfaction@2026.1"


def test_an_item_on_watch_that_recovers_returns_to_active(delivery, make_user, session):
    now = utcnow().replace(microsecond=0)
    officer = delivery.officer()
    item = delivery.item()
    s = delivery.schedule(delivery.contract(delivery.provider(), officer=officer, item=item), now - 30 * DAY)
    _rate_item(session, s, make_user, 2, now - 20 * DAY, 30)
    [watch] = [d for d in adjustment.evaluate(now) if d.item_id == item.id]
    adjustment.confirm(watch, officer, now=now)
    _rate_item(session, s, make_user, 5, now + 40 * DAY, 12)
    [back] = [d for d in adjustment.evaluate(now + 366 * DAY) if d.item_id == item.id]
    assert back.rule == "item_recovered"
    adjustment.apply_due(now + 400 * DAY)
    session.refresh(item)
    assert item.status == ItemStatus.ACTIVE


def test_a_wanted_and_liked_item_is_flagged_for_more_budget(delivery, make_user, session, monkeypatch):
    now = utcnow().replace(microsecond=0)
    items = [delivery.item() for _ in range(5)]
    contract = delivery.contract(delivery.provider(), lines=[(i, delivery.venue(), 1) for i in items])
    sessions = [delivery.schedule(contract, now - 30 * DAY, line=ln) for ln in contract.lines]
    _rate_item(session, sessions[0], make_user, 5, now - 10 * DAY, 10)  # top demand, well liked
    _rate_item(session, sessions[1], make_user, 5, now - 10 * DAY, 10)  # well liked, demand not in top quarter
    _rate_item(session, sessions[2], make_user, 4, now - 10 * DAY, 10)  # top demand, 4.0 < 4.2
    demand = {items[0].id: 40, items[2].id: 40, items[1].id: 5, items[3].id: 3, items[4].id: 1}
    monkeypatch.setattr(adjustment.demand_ops, "supports_by_item", lambda since, until: demand)
    made = [d for d in adjustment.evaluate(now) if d.action == DecisionAction.MORE_BUDGET]
    # five items with demand → the top quarter is the first two (cutoff 40)
    assert [(d.item_id, d.figures["cutoff"]) for d in made] == [(items[0].id, 40)]
    assert "40" in adjustment.explain(made[0])
    assert adjustment.evaluate(now) == []


def test_rules_are_published_with_versions(client):
    body = client.get("/performance/model").get_data(as_text=True)
    for rule in adjustment.RULES.values():
        assert rule.key in body and rule.version in body
    assert session_count_words(body)


def session_count_words(body: str) -> bool:
    return "180" in body and "20" in body


def test_decisions_list_and_detail_pages(delivery, make_user, session, client, login):
    now = utcnow()
    d, _p, officer = _grade_d_proposal(delivery, make_user, session, now)
    session.commit()
    login(officer)
    assert str(d.id) in client.get("/performance/decisions").get_data(as_text=True)
    resp = client.post(f"/performance/decisions/{d.id}/confirm")
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(AdjustmentDecision, d.id).status == DecisionStatus.CONFIRMED
