"""Scorecards of towns and communities, worked out by hand on the district of
tests/support/scorecards.py for March 2025 (default weights, C = 20, zero-points days 60,
complaint penalty 10). Every indicator has data for both towns: the weights sum to 110.

Town A (c1 + c2, 5,000 residents) by hand:
    facility       1 of 2 communities with a room            50 %      → 50
    reach          c1 + c2 covered: 5,000 of 5,000            100 %     → 100
    sessions       s1, s2, s3: 3 ÷ 5,000 × 1,000 = 0.6        best 0.6  → 100
    attendance     80 ÷ 5,000 × 1,000 = 16                    best 20   → 80
    fulfilment     1 fulfilled of 2 decided                   50 %      → 50
    days           median 10                                   100 × (1 − 10/60) → 83.33
    satisfaction   m = (5+4+3)/3 = 4; (20·4 + 9)/(20 + 2) = 4.0454…   (S−1)/4×100 → 76.14
    complaints     1 upheld per 3 sessions = 33.33 per 100    100 − 333.3 → 0
    special groups s1, s3 of s1–s3                            66.67 %   → 66.67
    spending       c1's project 900 + two thirds of the district-wide 1,500 (its lines: v1 1,200 and
                   v3 600 of ceiling) = 1,000: 1,900 ÷ 5,000 = 0.38 yuan   best 0.40 → 95
    assessment     c1 (80 + 70)/2 = 75, c2 50: (2,000·75 + 3,000·50) / 5,000 = 60   → 60
    index = (10·50 + 15·100 + 10·100 + 10·80 + 10·50 + 5·83.33 + 15·76.14 + 10·0 + 10·66.67 + 5·95 + 10·60) / 110
          = (500 + 1,500 + 1,000 + 800 + 500 + 416.65 + 1,142.1 + 0 + 666.7 + 475 + 600) / 110
          = 7,600.45 / 110 = 69.095 → 69.10
Town B (c3, 5,000): 100, 0, 33.33 (0.2/0.6), 100, 100, 66.67 (20 days), 73.81 ((80+3)/21 = 3.9524),
    100, 0, 100 (1,500 + the district-wide project's third, 500: 2,000 ÷ 5,000 = 0.40, the best), 60 (s4)
    → (1,000 + 0 + 333.3 + 1,000 + 1,000 + 333.35 + 1,107.15 + 1,000 + 0 + 500 + 600) / 110 = 6,873.8 / 110 = 62.49
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine

from core import settings
from core.areas.models import AreaLevel
from evaluation.scorecards import operations as scorecards
from tests.support import scorecards as world_of
from tests.support.figures import local
from tests.support.statements import request_statements

D = Decimal


@pytest.fixture
def world(session, make_user, make_area, district, town, community):
    return world_of.build(session, make_user, make_area, district, town, community)


def march():
    return scorecards.parse_period("2025-03")


def test_one_town_reproduced_by_hand(world):
    board = scorecards.compute(march(), AreaLevel.TOWN)
    a, b = board.card(world.town_a.id), board.card(world.town_b.id)
    values = {m.key: m.value for m in a.marks}
    assert values == {"facility": D("50.00"), "reach": D("100.00"), "sessions": D("0.60"), "attendance": D("16.00"),
                      "fulfilment": D("50.00"), "fulfilment_days": D("10.00"), "satisfaction": D("4.05"),
                      "complaints": D("33.33"), "special_groups": D("66.67"), "spending": D("0.38"),
                      "assessment": D("60.00")}
    points = {m.key: m.points for m in a.marks}
    assert points == {"facility": D("50.00"), "reach": D("100.00"), "sessions": D("100.00"), "attendance": D("80.00"),
                      "fulfilment": D("50.00"), "fulfilment_days": D("83.33"), "satisfaction": D("76.14"),
                      "complaints": D("0.00"), "special_groups": D("66.67"), "spending": D("95.00"),
                      "assessment": D("60.00")}
    assert all(m.share == (D("13.64") if m.weight == 15 else D("9.09") if m.weight == 10 else D("4.55"))
               for m in a.marks)  # 15, 10 and 5 of 110: nothing is shared out
    assert a.population == 5000 and a.index == D("69.10") and a.rank == 1
    assert {m.key: m.points for m in b.marks} == {
        "facility": D("100.00"), "reach": D("0.00"), "sessions": D("33.33"), "attendance": D("100.00"),
        "fulfilment": D("100.00"), "fulfilment_days": D("66.67"), "satisfaction": D("73.81"),
        "complaints": D("100.00"), "special_groups": D("0.00"), "spending": D("100.00"),
        "assessment": D("60.00")}
    assert b.index == D("62.49") and b.rank == 2
    assert [c.area.id for c in board.cards] == [world.town_a.id, world.town_b.id]
    # Budgets shared as the awards: A 1,000 + two thirds of 1,800 = 2,200; B 2,000 + 600 = 2,600.
    assert a.budget_per_resident == D("0.44") and b.budget_per_resident == D("0.52")


def test_spending_counts_where_the_project_buys(world, session, district):
    """The district-wide project's 1,500 is shared by its lines' ceiling totals (v1 1,200 : v3 600):
    c1 1,000, c3 500. A second district-wide project, 1,000 for v3 (500 of ceiling) and the district's
    own cultural centre (500), gives town B 500 more and counts for no town with the other 500."""
    from core.areas.models import Venue, VenueKind
    from marketplace.awards.models import Award, AwardStatus
    from marketplace.bids.models import Bid, BidStatus
    from marketplace.projects.models import ProjectLine, PurchaseProject

    towns = scorecards.compute(march(), AreaLevel.TOWN)
    assert towns.card(world.town_a.id).mark("spending").value == D("0.38")  # (900 + 1,000) / 5,000
    assert towns.card(world.town_b.id).mark("spending").value == D("0.40")  # (1,500 + 500) / 5,000
    communities = scorecards.compute(march(), AreaLevel.COMMUNITY)
    assert communities.card(world.c1.id).mark("spending").value == D("0.95")  # 1,900 / 2,000
    assert communities.card(world.c3.id).mark("spending").value == D("0.40")  # town B's 1,500 at v3 + 500
    assert not communities.card(world.c2.id).mark("spending").has_data

    centre = Venue(name="区文化馆", kind=VenueKind.CULTURAL_CENTRE, area=district, capacity=300)
    session.add(centre)
    session.flush()
    first = session.query(PurchaseProject).filter_by(title=f"{district.name}项目").one()
    second = PurchaseProject(title="区级第二项目", area=district, method=first.method, budget=D("1000.00"),
                             created_by_id=first.created_by_id, state=first.state, published_at=first.published_at,
                             bid_deadline=first.bid_deadline, opened_at=first.opened_at, awarded_at=first.awarded_at)
    session.add(second)
    session.flush()
    item_id = first.lines[0].item_id
    for position, v in enumerate((world.venues["v3"], centre)):
        session.add(ProjectLine(project_id=second.id, item_id=item_id, venue_id=v.id, quantity=1,
                                unit_ceiling=D("500.00"), position=position))
    model = session.query(Award).filter_by(project_id=first.id).one()
    bid = Bid(project_id=second.id, provider_id=model.provider_id, status=BidStatus.SUBMITTED, revision_no=1,
              price=D("1000.00"))
    session.add(bid)
    session.flush()
    session.add(Award(project_id=second.id, bid_id=bid.id, provider_id=model.provider_id, amount=D("1000.00"),
                      top_ranked=True, top_bid_id=bid.id, awarded_by_id=model.awarded_by_id,
                      published_at=model.published_at, publicity_ends_at=model.publicity_ends_at,
                      challenge_deadline=model.challenge_deadline, status=AwardStatus.PUBLISHED))
    session.flush()
    towns = scorecards.compute(march(), AreaLevel.TOWN)
    b = towns.card(world.town_b.id)
    assert b.mark("spending").value == D("0.50")  # (2,000 + 500) / 5,000; the centre's 500 counts for no town
    assert b.budget_per_resident == D("0.62")  # (2,600 + 500) / 5,000
    assert towns.card(world.town_a.id).mark("spending").points == D("76.00")  # 0.38 / 0.50 of the best


def test_no_data_shares_its_weight_out(world):
    """c2 has no ratings, requests or spending: 7 indicators with data, weights 75.
    sessions 1/3,000×1,000 = 0.333 (best c1 1.0) → 33.33; attendance 3.33 (best c1 35) → 9.52;
    facility 0 (a square is not a room); reach 100; complaints 0 per 100 → 100; groups 100 %;
    assessment 50 (s3).
    (10·0 + 15·100 + 10·33.33 + 10·9.52 + 10·100 + 10·100 + 10·50) / 75 = 4,428.5 / 75 = 59.05"""
    board = scorecards.compute(march(), AreaLevel.COMMUNITY)
    c2 = board.card(world.c2.id)
    missing = {m.key for m in c2.marks if not m.has_data}
    assert missing == {"fulfilment", "fulfilment_days", "satisfaction", "spending"}
    assert all(m.share == 0 and m.points is None for m in c2.marks if m.key in missing)
    assert c2.mark("reach").share == D("20.00")  # 15 of 75
    assert c2.mark("sessions").points == D("33.33") and c2.mark("attendance").points == D("9.52")
    assert c2.index == D("59.05")


def test_weights_are_settings_and_move_the_index(world, make_user):
    admin = make_user("admin")
    for key in ("facility", "reach", "sessions", "attendance", "fulfilment", "fulfilment_days", "complaints",
                "special_groups", "spending", "assessment"):
        settings.change(f"scorecards.weight_{key}", 0, admin)
    board = scorecards.compute(march(), AreaLevel.TOWN)
    # Satisfaction alone: the index is its points.
    assert board.card(world.town_a.id).index == D("76.14")
    assert board.weights["satisfaction"] == 15 and board.weights["reach"] == 0


def test_a_quarter_and_a_year_gather_their_months(world):
    q1 = scorecards.compute(scorecards.parse_period("2025-Q1"), AreaLevel.TOWN)
    year = scorecards.compute(scorecards.parse_period("2025"), AreaLevel.TOWN)
    assert q1.card(world.town_a.id).index == D("69.10")
    # The reach is measured at the period's end: on 1 January 2026 no session lies within 90 days,
    # so the year's reach is 0 and town A loses its 15 × 100 of 7,600.45: 6,100.45 / 110 = 55.46.
    assert year.card(world.town_a.id).mark("reach").value == D("0.00")
    assert year.card(world.town_a.id).index == D("55.46")
    april = scorecards.compute(scorecards.parse_period("2025-04"), AreaLevel.TOWN)
    # No sessions, ratings, requests, awards or visits in April: facility (50) and reach remain.
    assert {m.key for m in april.card(world.town_a.id).marks if m.has_data} == {"facility", "reach"}


@pytest.mark.parametrize("text", ["2025-13", "2025-Q5", "25-03", "2025/03", "", "2025-3", "1999"])
def test_malformed_periods_are_refused(app, text):
    from core.errors import Invalid

    with pytest.raises(Invalid) as e:
        scorecards.parse_period(text)
    assert e.value.field == "period"


def test_a_period_to_come_is_refused(app):
    from core.errors import Refused

    # Well formed, only not yet: a rule of the moment (409), not malformed input.
    with time_machine.travel(local(2025, 3, 15, 12), tick=False), pytest.raises(Refused) as info:
        scorecards.parse_period("2025-04")
    assert info.value.status == 409 and info.value.field == "period"


def test_what_moved_names_the_indicators(world):
    board = scorecards.compute(march(), AreaLevel.TOWN)
    feb = scorecards.compute(scorecards.previous_period(march()), AreaLevel.TOWN)
    assert scorecards.previous_period(march()).label == "2025-02"
    moves = scorecards.what_moved(feb.card(world.town_a.id), board.card(world.town_a.id))
    # February had only facility (50 points) and reach (0: no session in the 90 days to 1 March),
    # shares 40 % and 60 %: index 20. March (shares 9.09 %, 13.64 % and 4.55 % for weights 10, 15
    # and 5 of 110): facility 9.09 % × 50 = 4.545 (−15.455 → −15.46), reach 13.64 % × 100 = 13.64,
    # satisfaction 13.64 % × 76.14 = 10.39, sessions 9.09, attendance 9.09 % × 80 = 7.27,
    # groups 9.09 % × 66.67 = 6.06, assessment 9.09 % × 60 = 5.45, fulfilment 4.55, spending
    # 4.55 % × 95 = 4.32, days 4.55 % × 83.33 = 3.79, complaints 0: 49.10 in all, 69.10 − 20.
    assert feb.card(world.town_a.id).index == D("20.00")
    effect = {m.key: m.effect for m in moves}
    assert effect == {"facility": D("-15.46"), "reach": D("13.64"), "satisfaction": D("10.39"), "sessions": D("9.09"),
                      "attendance": D("7.27"), "special_groups": D("6.06"), "assessment": D("5.45"),
                      "fulfilment": D("4.55"), "spending": D("4.32"), "fulfilment_days": D("3.79"),
                      "complaints": D("0.00")}
    assert abs(sum(effect.values()) - (D("69.10") - D("20.00"))) <= D("0.05")
    assert [m.key for m in moves][:2] == ["facility", "reach"]  # the largest changes first


def test_an_added_indicator_counts_per_community_and_town(app, world):
    """The assessment package's hook: {community id: mean} → a town's population-weighted mean."""
    w = settings.define("scorecards.weight_probe", 100, "probe", int, 0, 100)

    def means(start, end):
        return {world.c1.id: D("90"), world.c2.id: D("40")}

    scorecards.add_indicator(app, "probe", w, means, label="probe")
    try:
        board = scorecards.compute(march(), AreaLevel.TOWN)
        a, b = board.card(world.town_a.id), board.card(world.town_b.id)
        assert a.mark("probe").value == D("60.00")  # (2,000·90 + 3,000·40) / 5,000
        assert not b.mark("probe").has_data
        assert b.index == D("62.49")  # town B unchanged: its weight is shared out
        # Town A: (7,600.45 + 100·60) / 210 = 64.76
        assert a.index == D("64.76")
    finally:
        app.extensions[scorecards.EXTENSION].pop("probe")
        app.extensions[settings.EXTENSION].pop("scorecards.weight_probe")


# --- the API and the pages, as each role ----------------------------------------------------------

def test_the_api_answers_the_towns(world, client, token_for, make_user):
    resp = client.get("/api/v1/scorecards?period=2025-03&level=town", headers=token_for(make_user("admin")))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["period"] == "2025-03" and body["level"] == "town"
    assert body["weights"]["satisfaction"] == 15 and sum(body["weights"].values()) == 110
    assert [(i["area_code"], i["rank"], i["index"]) for i in body["items"]] == [
        (world.town_a.code, 1, "69.10"), (world.town_b.code, 2, "62.49")]
    sat = body["items"][0]["indicators"]["satisfaction"]
    assert sat == {"value": "4.05", "points": "76.14", "weight": 15, "share": "13.64"}


def test_the_api_lists_one_towns_communities(world, client, token_for, make_user):
    token = token_for(make_user("officer"))
    body = client.get(f"/api/v1/scorecards?period=2025-03&level=community&parent={world.town_a.code}",
                      headers=token).get_json()
    assert {i["area_code"] for i in body["items"]} == {world.c1.code, world.c2.code}
    c2 = next(i for i in body["items"] if i["area_code"] == world.c2.code)
    assert c2["index"] == "59.05" and c2["indicators"]["satisfaction"]["value"] is None


@pytest.mark.parametrize(("query", "field"), [("period=2025-13", "period"), ("period=2025-Q7", "period"),
                                              ("period=soon", "period"), ("level=city", "level"),
                                              ("level=community&parent=NOPE", "parent")])
def test_the_api_refuses_bad_input_naming_the_field(world, client, token_for, make_user, session, query, field):
    from core.audit import AuditEvent

    token = token_for(make_user("admin"))
    before = session.query(AuditEvent).count()
    resp = client.get(f"/api/v1/scorecards?{query}", headers=token)
    # Malformed: 400; well formed but naming no town: 404.
    assert resp.status_code == (404 if field == "parent" else 400)
    assert list(resp.get_json()["error"]["fields"]) == [field]
    assert session.query(AuditEvent).count() == before


def test_a_town_officer_sees_their_villages_cards_only(world, client, token_for, login):
    officer = world.town_b_officer
    token = token_for(officer)
    body = client.get("/api/v1/scorecards?period=2025-03&level=community", headers=token).get_json()
    assert [i["area_code"] for i in body["items"]] == [world.c3.code]
    assert client.get(f"/api/v1/scorecards?period=2025-03&level=community&parent={world.town_a.code}",
                      headers=token).status_code == 403
    # The comparison of towns is theirs to see.
    towns = client.get("/api/v1/scorecards?period=2025-03", headers=token).get_json()
    assert len(towns["items"]) == 2
    login(officer)
    assert client.get(f"/scorecards/area/{world.c3.id}?period=2025-03").status_code == 200
    assert client.get(f"/scorecards/area/{world.town_b.id}?period=2025-03").status_code == 200
    assert client.get(f"/scorecards/area/{world.c1.id}?period=2025-03").status_code == 403
    assert client.get(f"/scorecards/area/{world.town_a.id}?period=2025-03").status_code == 403
    html = client.get("/scorecards/?period=2025-03&level=community").get_data(as_text=True)
    assert "三号村" in html and "二号社区" not in html


def test_the_card_shows_trend_and_what_moved(world, client, login, make_user):
    login(make_user("officer"))
    resp = client.get(f"/scorecards/area/{world.town_a.id}?period=2025-03")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "69.10" in html and "2025-02" in html and "-15.46" in html and "+13.64" in html
    assert 'data-indicator="satisfaction"' in html


def test_the_comparison_page_ranks_the_towns(world, client, login, make_user):
    login(make_user("admin"))
    html = client.get("/scorecards/?period=2025-03").get_data(as_text=True)
    assert html.index(f'data-area="{world.town_a.code}"') < html.index(f'data-area="{world.town_b.code}"')
    assert "69.10" in html and "62.49" in html
    assert client.get("/scorecards/?period=2025-14").status_code == 400


@pytest.mark.parametrize("role", ["resident", "provider", "expert"])
def test_others_see_no_cards(world, client, login, make_user, token_for, role):
    user = make_user(role)
    assert client.get("/api/v1/scorecards", headers=token_for(user)).status_code == 403
    login(user)
    assert client.get("/scorecards/").status_code == 403
    assert client.get(f"/scorecards/area/{world.town_a.id}").status_code == 403


def test_the_model_is_public(client):
    resp = client.get("/scorecards/model")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "15" in html
    assert 'data-testid="spending-rule"' in html and "区级项目" in html  # where spending counts, in Chinese


def test_the_briefing_carries_the_towns_cards_and_the_map(world, tmp_path):
    from evaluation.reporting import briefing
    from tests.test_briefing import pages_text, squeeze

    whole = squeeze("\n".join(pages_text(briefing.briefing_pdf("2025-03"), tmp_path)))
    assert "七、镇街绩效评估" in whole and "八、一刻钟文化服务圈地图" in whole
    part = whole.split("七、镇街绩效评估")[-1]
    assert part.index("69.10") < part.index("62.49")  # town A first
    # The circle at the end of March: c1 and c2 covered, c3 not.
    assert "10,000名居民中5,000名已覆盖（50.0%）" in whole


# --- the cards as the pages read them: reused until an audited edit -----------------------------------

def statements_of(client, url: str) -> int:
    return len(request_statements(client, url)[1])


def test_a_card_read_again_is_not_computed_again(world, client, login, make_user):
    login(make_user("admin"))
    url = f"/scorecards/area/{world.town_a.id}?period=2025-03"
    first, again = statements_of(client, url), statements_of(client, url)
    # Twelve months computed the first time; read back the second: the area, the audit log's
    # high-water mark and the sign-in's own reads.
    assert first > 12 * 8 and again < 12, (first, again)
    # The API reads the same cards: the towns of March are there already, the communities not yet.
    assert statements_of(client, "/api/v1/scorecards?period=2025-03") < 12
    api = "/api/v1/scorecards?period=2025-03&level=community"
    assert statements_of(client, api) > 12 > statements_of(client, api)


def test_an_audited_edit_shows_at_once(world, client, token_for, make_user, session):
    from core.areas import operations as areas

    admin = make_user("admin")
    headers = token_for(admin)

    def town_a_index():
        body = client.get("/api/v1/scorecards?period=2025-03", headers=headers).get_json()
        return next(i["index"] for i in body["items"] if i["area_code"] == world.town_a.code)

    assert town_a_index() == "69.10"
    # Written behind the operations' back (no audit event): the cards are reused, as computed.
    world.c2.population = 8000
    session.flush()
    assert town_a_index() == "69.10"
    # The same change through the admin's operation is audited: the next read recomputes.
    areas.save_area(world.c2, code=world.c2.code, name=world.c2.name, level=world.c2.level, parent=world.town_a,
                    population=8000, actor=admin, latitude=world.c2.latitude, longitude=world.c2.longitude)
    fresh = scorecards.compute(march(), AreaLevel.TOWN).card(world.town_a.id).index
    assert fresh != D("69.10") and town_a_index() == str(fresh)
