"""Refusals in the review: each with a clear reason, and nothing changed."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.errors import Forbidden, Refused
from evaluation.review import draw, scoring
from evaluation.review import operations as review
from evaluation.review.models import Score
from marketplace.awards.models import Award
from marketplace.bids.models import BidStatus
from marketplace.projects.models import ProjectState
from tests.support import review as es
from tests.support.pages import html_text


@pytest.fixture
def panel_setup(session, make_user, town):
    officer = make_user("officer")
    cat = es.category(session)
    proj = es.project(session, officer, town, cat)
    bids = [es.bid(session, proj, es.provider(session, make_user, name), price)
            for name, price in (("甲团", "90000.00"), ("乙团", "95000.00"))]
    for _ in range(5):
        es.expert(session, make_user, [cat])
    panel = draw.draw_panel(proj, officer, seed="bad-input")
    for m in panel.members:
        draw.confirm_no_conflict(m, m.expert.user)
    for b in bids:
        scoring.record_qualification(panel.leader, b, proj.criteria_of("qualification")[0], passed=True,
                                     reason="齐全", actor=panel.leader.expert.user)
    session.commit()
    plan, team = proj.criteria_of("subjective")
    members = sorted(panel.members, key=lambda m: m.draw_position)
    return {"officer": officer, "project": proj, "bids": bids, "panel": panel, "plan": plan, "team": team,
            "members": members, "category": cat}


def _scores(session):
    return session.scalar(select(func.count(Score.id)))


def _url(s, bid=0):
    return f"/review/projects/{s['project'].id}/bids/{s['bids'][bid].id}"


def test_a_score_out_of_range_is_refused(session, panel_setup, client, login):
    s = panel_setup
    login(s["members"][1].expert.user)
    resp = client.post(_url(s), data={f"score_{s['plan'].id}": "31", f"score_{s['team'].id}": "20"})
    assert resp.status_code == 422
    assert "0.00" in html_text(resp) and "30.00" in html_text(resp)
    assert _scores(session) == 0
    refused = session.scalar(select(AuditEvent).where(AuditEvent.action == "refused.review.score"))
    assert refused is not None and refused.summary["score"] == "31"
    resp = client.post(_url(s), data={f"score_{s['plan'].id}": "abc", f"score_{s['team'].id}": "20"})
    assert resp.status_code == 422 and _scores(session) == 0
    resp = client.post(_url(s), data={f"score_{s['plan'].id}": "12.345", f"score_{s['team'].id}": "20"})
    assert resp.status_code == 422 and _scores(session) == 0


def test_a_score_at_either_end_needs_a_reason(session, panel_setup, client, login):
    s = panel_setup
    login(s["members"][1].expert.user)
    for extreme in ("30", "0"):
        resp = client.post(_url(s), data={f"score_{s['plan'].id}": extreme, f"score_{s['team'].id}": "20"})
        assert resp.status_code == 422, extreme
        assert _scores(session) == 0
    resp = client.post(_url(s), data={f"score_{s['plan'].id}": "30", f"reason_{s['plan'].id}": "方案细致完整",
                                      f"score_{s['team'].id}": "20"})
    assert resp.status_code == 302 and _scores(session) == 2
    stored = session.scalar(select(Score).where(Score.criterion_id == s["plan"].id))
    assert stored.score == D("30.00") and stored.reason == "方案细致完整"


def test_an_expert_not_on_the_panel_cannot_score(session, panel_setup, client, login, make_user):
    s = panel_setup
    outsider = es.expert(session, make_user, [s["category"]])
    session.commit()
    login(outsider.user)
    assert client.get(_url(s)).status_code == 403
    resp = client.post(_url(s), data={f"score_{s['plan'].id}": "20", f"score_{s['team'].id}": "20"})
    assert resp.status_code == 403 and _scores(session) == 0
    assert client.get(f"/review/projects/{s['project'].id}").status_code == 403
    with pytest.raises(Forbidden):
        draw.member_of(s["project"], outsider.user)


def test_no_award_before_every_expert_has_submitted(session, panel_setup, client, login):
    s = panel_setup
    for m in s["members"][:4]:
        for b in s["bids"]:
            scoring.save_scores(m, b, {s["plan"].id: (20, ""), s["team"].id: (20, "")}, m.expert.user)
        scoring.submit(m, m.expert.user)
    session.commit()
    with pytest.raises(Refused) as err:
        review.award_project(s["project"], s["bids"][0], "", s["officer"])
    assert "submitted" in str(err.value.message) or "提交" in str(err.value.message)
    session.rollback()
    login(s["officer"])
    assert client.get(f"/review/projects/{s['project'].id}/award").status_code == 409
    assert client.post(f"/review/projects/{s['project'].id}/award", data={"bid_id": s["bids"][0].id}).status_code \
        == 409
    assert session.scalar(select(func.count(Award.id))) == 0
    assert s["project"].state == ProjectState.UNDER_REVIEW


def test_submitting_needs_every_score_and_then_locks_them(session, panel_setup, client, login):
    s = panel_setup
    m = s["members"][2]
    scoring.save_scores(m, s["bids"][0], {s["plan"].id: (20, ""), s["team"].id: (20, "")}, m.expert.user)
    session.commit()
    with pytest.raises(Refused):
        scoring.submit(m, m.expert.user)
    session.rollback()
    scoring.save_scores(m, s["bids"][1], {s["plan"].id: (18, ""), s["team"].id: (19, "")}, m.expert.user)
    scoring.submit(m, m.expert.user)
    session.commit()
    login(m.expert.user)
    resp = client.post(_url(s), data={f"score_{s['plan'].id}": "25", f"score_{s['team'].id}": "25"})
    assert resp.status_code == 409
    assert {sc.score for sc in session.scalars(select(Score).where(Score.bid_id == s["bids"][0].id))} == {D(20)}


def test_experts_see_others_scores_only_after_submitting(session, panel_setup, client, login):
    s = panel_setup
    a, b = s["members"][1], s["members"][2]
    for m, value in ((a, "17.5"), (b, "23.5")):
        for bid in s["bids"]:
            scoring.save_scores(m, bid, {s["plan"].id: (value, ""), s["team"].id: (value, "")}, m.expert.user)
    session.commit()
    login(a.expert.user)
    page = html_text(client.get(f"/review/projects/{s['project'].id}"))
    assert "23.50" not in page
    scoring.submit(b, b.expert.user)
    session.commit()
    assert "23.50" not in html_text(client.get(f"/review/projects/{s['project'].id}"))  # a has not submitted
    scoring.submit(a, a.expert.user)
    session.commit()
    assert "23.50" in html_text(client.get(f"/review/projects/{s['project'].id}"))
    # The officer sees who submitted, never the scores before the report.
    client.post("/logout")
    login(s["officer"])
    page = html_text(client.get(f"/review/projects/{s['project'].id}"))
    assert "23.50" not in page and "17.50" not in page


def test_a_failed_qualification_check_invalidates_the_bid(session, panel_setup):
    s = panel_setup
    leader, other = s["panel"].leader, s["members"][1]
    qual = s["project"].criteria_of("qualification")[0]
    with pytest.raises(Forbidden):
        scoring.record_qualification(other, s["bids"][1], qual, passed=False, reason="缺证", actor=other.expert.user)
    scoring.record_qualification(leader, s["bids"][1], qual, passed=False, reason="缺少登记证书",
                                 actor=leader.expert.user)
    assert s["bids"][1].status == BidStatus.INVALID and "缺少登记证书" in s["bids"][1].invalid_reason
    with pytest.raises(Refused):
        scoring.save_scores(other, s["bids"][1], {s["plan"].id: (20, "")}, other.expert.user)
    # Corrected before anyone submitted: the bid is valid again.
    scoring.record_qualification(leader, s["bids"][1], qual, passed=True, reason="补正后齐全", actor=leader.expert.user)
    assert s["bids"][1].status == BidStatus.SUBMITTED
    scoring.record_qualification(leader, s["bids"][1], qual, passed=False, reason="缺少登记证书",
                                 actor=leader.expert.user)
    for m in s["members"]:
        scoring.save_scores(m, s["bids"][0], {s["plan"].id: (20, ""), s["team"].id: (20, "")}, m.expert.user)
        result = scoring.submit(m, m.expert.user)
    rows = {r.bid_id: r for r in result.bids}
    assert rows[s["bids"][1].id].rank is None and not rows[s["bids"][1].id].valid
    assert rows[s["bids"][0].id].rank == 1 and rows[s["bids"][0].id].price_points == D("30.00")
    with pytest.raises(Refused):
        scoring.record_qualification(leader, s["bids"][1], qual, passed=True, reason="晚了", actor=leader.expert.user)


def test_only_the_leader_signs_off(session, panel_setup, client, login):
    s = panel_setup
    for m in s["members"]:
        for bid in s["bids"]:
            scoring.save_scores(m, bid, {s["plan"].id: (20, ""), s["team"].id: (20, "")}, m.expert.user)
        scoring.submit(m, m.expert.user)
    session.commit()
    login(s["members"][1].expert.user)
    assert client.post(f"/review/projects/{s['project'].id}/sign-off").status_code == 403
    assert review.current_result(s["project"]).signed_off_at is None
    client.post("/logout")
    login(s["panel"].leader.expert.user)
    assert client.post(f"/review/projects/{s['project'].id}/sign-off").status_code == 302
    assert review.current_result(s["project"]).signed_off_at is not None
