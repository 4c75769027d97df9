"""The panel draw: reproducible from its record, odd size by budget, conflicts skipped,
recusals replaced from the same ordered list."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal as D

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from catalog.items.models import Item
from core import settings
from core.audit import AuditEvent
from core.errors import Forbidden, Refused
from evaluation.review import draw, rules, scoring
from evaluation.review.models import MemberStatus, Panel, Score
from marketplace.projects.models import ProjectState
from tests.support import review as es
from tests.support.pages import html_text


@pytest.fixture
def setup(session, make_user, town):
    officer = make_user("officer")
    cat = es.category(session)
    proj = es.project(session, officer, town, cat)
    provs = [es.provider(session, make_user) for _ in range(2)]
    for i, p in enumerate(provs):
        es.bid(session, proj, p, f"{100000 + i * 1000}.00")
    experts = [es.expert(session, make_user, [cat]) for _ in range(9)]
    return {"officer": officer, "cat": cat, "project": proj, "providers": provs, "experts": experts, "town": town}


def by_hand(seed, ids):
    return sorted(ids, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())


def test_the_draw_is_recorded_and_anyone_can_rerun_it(session, setup):
    panel = draw.draw_panel(setup["project"], setup["officer"], seed="abc123")
    ids = [e.id for e in setup["experts"]]
    assert panel.candidates == by_hand("abc123", ids)
    assert [m.expert_id for m in sorted(panel.members, key=lambda m: m.draw_position)] == by_hand("abc123", ids)[:5]
    assert panel.size == 5 and panel.members[0].is_leader
    assert {p["expert_id"] for p in panel.pool} == set(ids)
    assert all(p["key"] == hashlib.sha256(f"abc123:{p['expert_id']}".encode()).hexdigest() for p in panel.pool)
    check = draw.rerun(panel)
    assert check["matches"] and check["initial"] == by_hand("abc123", ids)[:5]
    # The order does not depend on the order the experts are listed in.
    assert draw.order_candidates("abc123", list(reversed(ids))) == panel.candidates
    assert setup["project"].state == ProjectState.UNDER_REVIEW
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "panel.draw"))
    assert event.summary["seed"] == "abc123" and event.summary["members"] == panel.candidates[:5]
    # Tampering with the stored list is detected by the re-run.
    panel.candidates = list(reversed(panel.candidates))
    assert not draw.rerun(panel)["matches"]


def test_a_different_seed_gives_a_different_order(setup):
    ids = [e.id for e in setup["experts"]]
    orders = {tuple(draw.order_candidates(f"seed-{i}", ids)) for i in range(6)}
    assert len(orders) > 1


def test_panel_size_follows_the_budget_and_stays_odd(session, setup, make_user):
    proj = setup["project"]
    assert rules.panel_size_for(D("999999.99")) == 5
    assert rules.panel_size_for(D("1000000.01")) == 7
    settings.change(rules.PANEL_SIZE.key, "4", make_user("admin"))
    assert rules.panel_size_for(D("100")) == 5
    settings.change(rules.LARGE_BUDGET.key, "100000", make_user("admin"))
    assert proj.budget > D(100000)
    panel = draw.draw_panel(proj, setup["officer"], seed="big")
    assert panel.size == 7 and len(panel.members) == 7


def test_conflicts_are_skipped_with_their_reason(session, setup, make_user):
    proj, (p1, p2) = setup["project"], setup["providers"]
    experts = setup["experts"]
    experts[0].employer_credit_code = p1.credit_code  # works for a bidder
    from evaluation.experts import operations as expert_ops

    expert_ops.declare_conflict(experts[1], credit_code=p2.credit_code, organisation=p2.name,
                                reason="曾任该机构顾问", actor=experts[1].user)
    experts[2].active = False
    other = es.category(session, "阅读推广")
    outsider = es.expert(session, make_user, [other])
    parent_expert = es.expert(session, make_user, [setup["cat"]])
    sub = es.category(session, "戏曲", parent=setup["cat"])
    # The project is in a sub-category; experts of its parent match. (Set in SQL: the catalog
    # refuses to change an item in place, and this test is about the draw, not revisions.)
    item = proj.lines[0].item
    session.execute(sa.update(Item).where(Item.id == item.id).values(category_id=sub.id))
    session.expire(item)
    session.flush()
    panel = draw.draw_panel(proj, setup["officer"], seed="conflicts")
    pool = {p["expert_id"]: p for p in panel.pool}
    assert pool[experts[0].id]["reason"] == draw.EMPLOYER_IS_BIDDER and pool[experts[0].id]["detail"] == p1.name
    assert pool[experts[1].id]["reason"] == draw.DECLARED_CONFLICT
    assert experts[2].id not in pool and outsider.id not in pool
    assert pool[parent_expert.id]["eligible"]
    seated = {m.expert_id for m in panel.members}
    assert not seated & {experts[0].id, experts[1].id, experts[2].id, outsider.id}
    assert set(panel.candidates) == {e.id for e in experts[3:]} | {parent_expert.id}


def test_experts_who_reviewed_a_bidder_too_often_this_year_are_skipped(session, setup, make_user):
    settings.change(rules.REPEAT_LIMIT.key, "1", make_user("admin"))
    first = draw.draw_panel(setup["project"], setup["officer"], seed="first")
    sat = {m.expert_id for m in first.members}
    # A second project where one of the same providers bids.
    proj2 = es.project(session, setup["officer"], setup["town"], setup["cat"])
    es.bid(session, proj2, setup["providers"][0], "90000.00")
    es.bid(session, proj2, es.provider(session, make_user), "95000.00")
    for _ in range(3):
        es.expert(session, make_user, [setup["cat"]])
    second = draw.draw_panel(proj2, setup["officer"], seed="second")
    pool = {p["expert_id"]: p for p in second.pool}
    assert all(pool[e]["reason"] == draw.REVIEWED_TOO_OFTEN for e in sat)
    assert not sat & {m.expert_id for m in second.members}
    assert second.repeat_limit == 1


def test_too_few_eligible_experts_is_refused_and_nothing_is_drawn(session, setup):
    for e in setup["experts"][:5]:
        e.active = False
    with pytest.raises(Refused) as err:
        draw.draw_panel(setup["project"], setup["officer"])
    assert "4" in str(err.value.message) and "5" in str(err.value.message)
    session.rollback()
    assert session.scalar(select(func.count(Panel.id))) == 0
    assert setup["project"].state == ProjectState.OPENED


def test_only_an_opened_project_is_drawn_and_only_once(session, setup):
    draw.draw_panel(setup["project"], setup["officer"])
    with pytest.raises(Refused):
        draw.draw_panel(setup["project"], setup["officer"])


def test_a_recusal_is_replaced_by_the_next_candidate(session, setup):
    proj = setup["project"]
    panel = draw.draw_panel(proj, setup["officer"], seed="recuse")
    leader = panel.leader
    draw.confirm_no_conflict(leader, leader.expert.user)
    (_crit_plan, _crit_team) = proj.criteria_of("subjective")
    replacement = draw.recuse(leader, "申请人为本人原单位合作方", leader.expert.user)
    assert leader.status == MemberStatus.RECUSED and leader.recusal_reason
    assert replacement.expert_id == panel.candidates[5] and replacement.draw_position == 5
    assert replacement.replaces_id == leader.id
    assert len(panel.seated) == 5 and leader not in panel.seated
    new_leader = panel.leader
    assert new_leader is not None and new_leader.draw_position == 1
    assert draw.rerun(panel)["matches"]
    # The recused expert is no longer on the panel.
    with pytest.raises(Forbidden):
        draw.member_of(proj, leader.expert.user)
    # A second recusal takes the next one again.
    second = draw.recuse(panel.leader, "其他利害关系", panel.leader.expert.user)
    assert second.expert_id == panel.candidates[6]


def test_scoring_waits_for_the_conflict_confirmation(session, setup):
    proj = setup["project"]
    panel = draw.draw_panel(proj, setup["officer"], seed="wait")
    member = panel.members[1]
    plan = proj.criteria_of("subjective")[0]
    bid = draw.reviewing_bids(proj)[0]
    with pytest.raises(Refused):
        scoring.save_scores(member, bid, {plan.id: ("20", "")}, member.expert.user)
    draw.confirm_no_conflict(member, member.expert.user)
    scoring.save_scores(member, bid, {plan.id: ("20", "")}, member.expert.user)
    assert session.scalar(select(func.count(Score.id))) == 1


def test_the_draw_record_page(session, setup, client, login):
    proj = setup["project"]
    panel = draw.draw_panel(proj, setup["officer"], seed="page-seed")
    session.commit()
    assert client.get(f"/review/projects/{proj.id}/draw-record").status_code == 404  # not public yet
    login(setup["officer"])
    text = html_text(client.get(f"/review/projects/{proj.id}/draw-record"))
    assert "page-seed" in text and panel.pool[0]["key"] in text
    assert "同样的候选顺序" in text or "same candidate order" in text


def test_an_officer_draws_from_the_page(session, setup, client, login, make_user, make_area):
    proj = setup["project"]
    session.commit()
    login(setup["officer"])
    resp = client.post(f"/review/projects/{proj.id}/draw")
    assert resp.status_code == 302
    assert session.scalar(select(Panel).where(Panel.project_id == proj.id)).size == 5
    # An officer of another town may not.
    other = es.project(session, setup["officer"], setup["town"], setup["cat"])
    es.bid(session, other, setup["providers"][0], "100.00")
    town2 = make_area("town", parent=setup["town"].parent, name="别镇")
    other_officer = make_user("officer", jurisdiction=town2)
    session.commit()
    client.post("/logout")
    login(other_officer)
    assert client.post(f"/review/projects/{other.id}/draw").status_code == 403
    assert session.scalar(select(Panel).where(Panel.project_id == other.id)) is None


def test_the_check_is_stored_at_the_draw_and_after_a_recusal(session, setup):
    panel = draw.draw_panel(setup["project"], setup["officer"], seed="stored",
                            now=dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC))
    assert panel.check_matched is True and panel.checked_at == dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC)
    assert draw.stored_check(panel) == {"matches": True, "at": panel.checked_at}
    member = panel.leader
    draw.recuse(member, "利害关系", member.expert.user, now=dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC))
    assert panel.check_matched is True and panel.checked_at == dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC)
    # A record changed behind the check's back is caught by the next check, not hidden by the stored one.
    panel.candidates = list(reversed(panel.candidates))
    draw.check(panel)
    assert panel.check_matched is False and draw.stored_check(panel)["matches"] is False
    # A panel never checked (drawn before checks were stored) is re-run when shown.
    panel.checked_at = panel.check_matched = None
    assert draw.stored_check(panel)["matches"] is False and draw.stored_check(panel)["at"] is None
