"""A review worked out by hand: three bids, five experts, every number checked.

Criteria: price 30, performance 10, two subjective criteria of 0–30 (weight 30 each), one
qualification check. Prices A 90 000, B 100 000, C 110 000 (lowest valid: 90 000).

Price points (lowest ÷ price × 30, rounded to 0.01 half up):
  A 90000/90000×30 = 30.00;  B 90000/100000×30 = 27.00;  C 90000/110000×30 = 24.5454… → 24.55
Performance (score ÷ 100 × 10): A 80 → 8.00; B no history → prior 75 → 7.50; C 92.5 → 9.25
Service plan (E1..E5):  A 24 25 26 22 27 = 124 → 24.80;  B 28 27 29 26 30 = 140 → 28.00;
                        C 20 21 19 22 18 = 100 → 20.00
Team:                   A 25 26 24 27 23 = 125 → 25.00;  B 22 21 23 20 24 = 110 → 22.00;
                        C 26 25 27 8 26  = 112 → 22.40
Totals: A 24.80+25.00+30.00+8.00 = 87.80 (1st); B 28.00+22.00+27.00+7.50 = 84.50 (2nd);
        C 20.00+22.40+24.55+9.25 = 76.20 (3rd)
Flags (> 30% of the range 30 = 9 from the panel mean): only E4's 8 on C's team (mean 22.4, off by 14.4).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from evaluation.review import draw, scoring
from evaluation.review import operations as review
from evaluation.review.models import MemberStatus, ReviewResult
from marketplace.awards.models import Award
from marketplace.projects.models import ProjectState
from tests.support import review as es

PLAN = {"A": [24, 25, 26, 22, 27], "B": [28, 27, 29, 26, 30], "C": [20, 21, 19, 22, 18]}
TEAM = {"A": [25, 26, 24, 27, 23], "B": [22, 21, 23, 20, 24], "C": [26, 25, 27, 8, 26]}


@pytest.fixture
def worked(session, make_user, town):
    officer = make_user("officer")
    cat = es.category(session)
    proj = es.project(session, officer, town, cat)
    providers = {"A": es.provider(session, make_user, "甲艺术团", performance=D("80.00")),
                 "B": es.provider(session, make_user, "乙文化中心", performance=None),
                 "C": es.provider(session, make_user, "丙剧社", performance=D("92.50"))}
    bids = {"A": es.bid(session, proj, providers["A"], "90000.00"),
            "B": es.bid(session, proj, providers["B"], "100000.00"),
            "C": es.bid(session, proj, providers["C"], "110000.00")}
    experts = [es.expert(session, make_user, [cat]) for _ in range(5)]
    return {"officer": officer, "project": proj, "bids": bids, "experts": experts}


def run_review(session, worked):
    proj, bids = worked["project"], worked["bids"]
    panel = draw.draw_panel(proj, worked["officer"], seed="worked-example")
    members = sorted(panel.members, key=lambda m: m.draw_position)
    _price, _perf, (plan, team), (qual,) = es.criteria(proj)
    for m in members:
        draw.confirm_no_conflict(m, m.expert.user)
    leader = panel.leader
    for b in bids.values():
        scoring.record_qualification(leader, b, qual, passed=True, reason="资质齐全", actor=leader.expert.user)
    result = None
    for i, m in enumerate(members):
        for key, b in bids.items():
            entries = {plan.id: (PLAN[key][i], "方案最完整" if PLAN[key][i] in (0, 30) else ""),
                       team.id: (TEAM[key][i], "")}
            scoring.save_scores(m, b, entries, m.expert.user)
        result = scoring.submit(m, m.expert.user)
    session.commit()  # kept when a later request in the test is refused (and rolls back)
    return panel, result


def test_the_worked_example_number_by_number(session, worked):
    panel, result = run_review(session, worked)
    assert isinstance(result, ReviewResult)
    bids = worked["bids"]
    assert worked["project"].state == ProjectState.UNDER_REVIEW
    assert result.lowest_valid_price == D("90000.00")
    assert (result.price_weight, result.performance_weight, result.performance_prior) == (D(30), D(10), D(75))
    assert result.trimmed is False and result.panel_size == 5
    rows = {key: next(r for r in result.bids if r.bid_id == b.id) for key, b in bids.items()}
    expected = {
        "A": {"price_points": "30.00", "perf": "80.00", "perf_points": "8.00", "plan": "24.80", "team": "25.00",
              "subjective": "49.80", "total": "87.80", "rank": 1, "prior": False},
        "B": {"price_points": "27.00", "perf": "75.00", "perf_points": "7.50", "plan": "28.00", "team": "22.00",
              "subjective": "50.00", "total": "84.50", "rank": 2, "prior": True},
        "C": {"price_points": "24.55", "perf": "92.50", "perf_points": "9.25", "plan": "20.00", "team": "22.40",
              "subjective": "42.40", "total": "76.20", "rank": 3, "prior": False},
    }
    sums = {"A": ("124.00", "125.00"), "B": ("140.00", "110.00"), "C": ("100.00", "112.00")}
    for key, e in expected.items():
        r = rows[key]
        assert r.price_points == D(e["price_points"]), key
        assert r.performance_snapshot == D(e["perf"]) and r.performance_from_prior is e["prior"], key
        assert r.performance_points == D(e["perf_points"]), key
        plan_line, team_line = sorted(r.lines, key=lambda ln: ln.position)
        assert plan_line.mean == D(e["plan"]) and team_line.mean == D(e["team"]), key
        assert (plan_line.score_sum, team_line.score_sum) == tuple(D(s) for s in sums[key]), key
        assert plan_line.used_count == team_line.used_count == 5
        assert plan_line.dropped_high_member_id is None and plan_line.dropped_low_member_id is None
        assert r.subjective_points == D(e["subjective"]), key
        assert r.total == D(e["total"]), key
        assert r.rank == e["rank"], key
    assert [r.bid_id for r in result.ranked] == [bids["A"].id, bids["B"].id, bids["C"].id]
    # Exactly one flag: the fourth expert's 8 on C's team criterion.
    (flag,) = result.flags
    fourth = sorted(panel.members, key=lambda m: m.draw_position)[3]
    assert (flag.member_id, flag.bid_id, flag.score) == (fourth.id, bids["C"].id, D("8.00"))
    assert flag.panel_mean == D("22.4000") and flag.difference == D("14.4000") and flag.limit == D("9.0000")
    # Each expert's scores are stored as given.
    c_team = sorted(rows["C"].lines, key=lambda ln: ln.position)[1]
    by_position = {m.id: m.draw_position for m in panel.members}
    assert [D(c_team.scores[str(mid)]) for mid in sorted(c_team.scores, key=lambda k: by_position[int(k)])] \
        == [D(s) for s in TEAM["C"]]


def test_sign_off_award_and_public_breakdown(session, worked, client):
    panel, _result = run_review(session, worked)
    proj = worked["project"]
    assert client.get(f"/api/v1/projects/{proj.id}/evaluation").status_code == 404
    review.sign_off(panel, panel.leader, panel.leader.expert.user)
    session.commit()
    assert client.get(f"/api/v1/projects/{proj.id}/evaluation").status_code == 404  # not yet awarded
    award = review.award_project(proj, worked["bids"]["A"], "", worked["officer"])
    session.commit()
    assert isinstance(award, Award) and award.top_ranked and award.amount == D("90000.00")
    assert proj.state == ProjectState.AWARDED
    assert [r["total"] for r in award.score_summary["ranking"]] == ["87.80", "84.50", "76.20"]
    body = client.get(f"/api/v1/projects/{proj.id}/evaluation").get_json()
    assert body["ranking"] == [worked["bids"][k].id for k in "ABC"]
    assert body["lowest_valid_price"] == "90000.00"
    a = body["bids"][0]
    assert (a["rank"], a["total"], a["price_points"], a["performance_points"]) == (1, "87.80", "30.00", "8.00")
    assert a["price_formula"] == {"lowest_valid_price": "90000.00", "price": "90000.00", "weight": "30.00"}
    c = next(b for b in body["bids"] if b["bid_id"] == worked["bids"]["C"].id)
    team = c["criteria"][1]
    assert team["mean"] == "22.40" and team["score_sum"] == "112.00"
    assert sorted(s["score"] for s in team["scores"]) == sorted(f"{s:.2f}" for s in TEAM["C"])
    assert [s["flagged"] for s in team["scores"]].count(True) == 1
    assert body["panel"]["seed"] == "worked-example" and body["panel"]["rerun_matches"] is True
    assert len(body["panel"]["members"]) == 5
    assert all(m["status"] == MemberStatus.CONFIRMED.value for m in body["panel"]["members"])
    assert body["award"]["provider_name"] == "甲艺术团"


def test_the_report_page_and_pdf_show_every_number(session, worked, client, login):
    from io import BytesIO

    from pypdf import PdfReader

    from tests.support.pages import html_text

    panel, _result = run_review(session, worked)
    review.sign_off(panel, panel.leader, panel.leader.expert.user)
    session.commit()
    proj = worked["project"]
    # Before the award only insiders see the report.
    assert client.get(f"/review/projects/{proj.id}/report").status_code == 404
    review.award_project(proj, worked["bids"]["A"], "", worked["officer"])
    session.commit()
    page = html_text(client.get(f"/review/projects/{proj.id}/report"))
    for number in ("87.80", "84.50", "76.20", "24.55", "22.40", "9.25", "7.50", "90000.00 ÷ 110000.00 × 30.00",
                   "worked-example", "14.4000"):
        assert number in page, number
    pdf = client.get(f"/review/projects/{proj.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.data)).pages)
    for number in ("87.80", "84.50", "76.20", "24.55", "worked-example"):
        assert number in text, number
    notice = client.get(f"/projects/{proj.id}/award.pdf")
    assert notice.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(notice.data)).pages)
    assert "甲艺术团" in text and "87.80" in text


def test_the_report_shows_the_stored_draw_check_and_the_record_reruns_it(session, worked, client):
    """The report reads the check stored when the panel was drawn; the public draw record re-runs
    the draw whenever it is opened, so a record changed afterwards is caught there at once."""
    from tests.support.pages import html_text

    panel, _result = run_review(session, worked)
    assert panel.check_matched is True and panel.checked_at is not None
    review.sign_off(panel, panel.leader, panel.leader.expert.user)
    proj = worked["project"]
    review.award_project(proj, worked["bids"]["A"], "", worked["officer"])
    session.commit()
    calls = []
    real = draw.rerun
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(draw, "rerun", lambda p: calls.append(p.id) or real(p))
        page = html_text(client.get(f"/review/projects/{proj.id}/report"))
        assert calls == []  # the report does not re-run the draw
        assert ("Re-running the draw from its record gives the same order" in page
                or "按抽取记录重新计算，得到相同的顺序" in page)
        # Someone changes the stored order: the draw record, re-run on opening, says so.
        panel.candidates = list(reversed(panel.candidates))
        session.commit()
        record = html_text(client.get(f"/review/projects/{proj.id}/draw-record"))
        assert calls == [panel.id]
        assert "does NOT give the stored order" in record or "与存档顺序不一致" in record


def test_the_report_body_is_rendered_once_until_what_it_shows_changes(session, worked, client):
    from evaluation.review import views as review_views
    from tests.support.pages import html_text

    panel, _result = run_review(session, worked)
    proj = worked["project"]
    review.sign_off(panel, panel.leader, panel.leader.expert.user)
    review.award_project(proj, worked["bids"]["A"], "", worked["officer"])
    session.commit()
    built = []
    real = review_views.report_context
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(review_views, "report_context", lambda *a: built.append(a) or real(*a))
        first = html_text(client.get(f"/review/projects/{proj.id}/report"))
        assert html_text(client.get(f"/review/projects/{proj.id}/report")) == first
        assert len(built) == 1 and "87.80" in first
        # An expert's name is corrected in the expert database: the report shows the new name.
        panel.leader.expert.name = "更正后的姓名"
        session.commit()
        renamed = html_text(client.get(f"/review/projects/{proj.id}/report"))
        assert len(built) == 2 and "更正后的姓名" in renamed
        # The draw is checked again and no longer matches its record: the report says so at once.
        panel.candidates = list(reversed(panel.candidates))
        draw.check(panel)
        session.commit()
        page = html_text(client.get(f"/review/projects/{proj.id}/report"))
        assert len(built) == 3
        assert "does NOT give the stored order" in page or "与存档顺序不一致" in page
