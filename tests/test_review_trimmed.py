"""A panel of seven drops each criterion's highest and lowest score; the report says so."""

from __future__ import annotations

from decimal import Decimal as D

from core import settings
from evaluation.review import draw, rules, scoring
from evaluation.review import operations as review
from tests.support import review as es
from tests.support.pages import html_text


def test_seven_experts_trimmed_in_the_result_and_the_report(session, make_user, town, client):
    admin = make_user("admin")
    settings.change(rules.PANEL_SIZE.key, "7", admin)
    officer = make_user("officer")
    cat = es.category(session)
    proj = es.project(session, officer, town, cat)
    bids = [es.bid(session, proj, es.provider(session, make_user, n), p)
            for n, p in (("甲", "90000.00"), ("乙", "90000.00"))]
    for _ in range(7):
        es.expert(session, make_user, [cat])
    panel = draw.draw_panel(proj, officer, seed="seven")
    assert panel.size == 7
    members = sorted(panel.members, key=lambda m: m.draw_position)
    plan, team = proj.criteria_of("subjective")
    for m in members:
        draw.confirm_no_conflict(m, m.expert.user)
    for b in bids:
        scoring.record_qualification(panel.leader, b, proj.criteria_of("qualification")[0], passed=True,
                                     reason="齐全", actor=panel.leader.expert.user)
    plan_scores = [10, 20, 21, 22, 23, 24, 29]  # 10 and 29 dropped: (20+21+22+23+24) / 5 = 22.00
    result = None
    for m, s in zip(members, plan_scores, strict=True):
        scoring.save_scores(m, bids[0], {plan.id: (s, ""), team.id: (15, "")}, m.expert.user)
        scoring.save_scores(m, bids[1], {plan.id: (20, ""), team.id: (15, "")}, m.expert.user)
        result = scoring.submit(m, m.expert.user)
    assert result.trimmed and result.panel_size == 7
    row = next(r for r in result.bids if r.bid_id == bids[0].id)
    line = next(ln for ln in row.lines if ln.criterion_id == plan.id)
    assert (line.mean, line.used_count, line.score_sum) == (D("22.00"), 5, D("110.00"))
    assert (line.dropped_low_member_id, line.dropped_high_member_id) == (members[0].id, members[6].id)
    # Same price, so the higher subjective total wins: 22.00 + 15.00 against 20.00 + 15.00.
    assert result.top.bid_id == bids[0].id
    # The 10 is 11.29 from the untrimmed mean 21.29 (149 / 7), beyond 30% of 30 = 9: flagged; the 29 (7.71) is not.
    assert [(f.member_id, f.score) for f in result.flags] == [(members[0].id, D("10.00"))]
    review.sign_off(panel, panel.leader, panel.leader.expert.user)
    review.award_project(proj, bids[0], "", officer)
    session.commit()
    text = html_text(client.get(f"/review/projects/{proj.id}/report"))
    assert "[10.00]*" in text and "[29.00]" in text and "110.00 / 5" in text
    assert "去掉一个最高分和一个最低分" in text
