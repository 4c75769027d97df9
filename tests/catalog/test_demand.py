"""Residents' demand (点单): requests for a venue of their community, merging into open requests,
supports once each, officers' decisions within their jurisdiction, and the dashboard."""

import datetime as dt
import io
import threading
from decimal import Decimal

import pytest
import time_machine
from bs4 import BeautifulSoup
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from catalog.demand import operations as ops
from catalog.demand.models import DemandRequest, DemandStatus, DemandSupport
from catalog.items.models import Item, ItemStatus
from core import cache
from core.areas.models import Venue, VenueKind
from core.audit import AuditEvent
from core.errors import Forbidden, Invalid, Refused
from core.notifications import Notification
from tests.support.pages import html_text
from tests.support.records import count_rows


@pytest.fixture
def venue(session, community):
    v = Venue(name="测试社区文化室", kind=VenueKind.CULTURAL_ROOM, area=community, capacity=60)
    session.add(v)
    session.flush()
    return v


@pytest.fixture
def elsewhere(session, make_area, town):
    other = make_area("community", parent=town, name="邻村")
    v = Venue(name="邻村文化室", kind=VenueKind.CULTURAL_ROOM, area=other, capacity=40)
    session.add(v)
    session.flush()
    return other, v


@pytest.fixture
def item(make_item):
    return make_item(code="DM-1", name="公益电影放映", unit="场", price_ceiling="800")


def test_a_resident_requests_an_item_for_a_venue_of_their_community(session, make_user, item, venue):
    resident = make_user("resident")
    req, merged = ops.request_item(resident, item, venue, "希望周末放映")
    assert not merged and req.status == DemandStatus.OPEN and req.community_id == venue.area_id
    assert req.note == "希望周末放映" and ops.support_counts([req.id]) == {req.id: 1}
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "demand.request"))


def test_a_venue_outside_the_residents_community_is_refused(client, login, session, make_user, item, elsewhere):
    resident = make_user("resident")
    login(resident)
    _other, foreign_venue = elsewhere
    resp = client.post(f"/demand/new/{item.code}", data={"venue_id": foreign_venue.id, "note": "x"})
    assert resp.status_code == 422
    # The form offers only the resident's own venues, so the foreign one is not even a valid choice;
    # the operation refuses it with the reason as well.
    with pytest.raises(Forbidden) as e:  # not the resident's to ask for (403)
        ops.request_item(resident, item, foreign_venue, "")
    message = str(e.value.message)
    assert e.value.field == "venue_id" and "邻村文化室" in message and "只能为本社区" in message
    assert count_rows(session, DemandRequest) == 0


def test_the_api_refusal_is_audited_and_nothing_is_kept(client, token_for, session, make_user, item, elsewhere):
    resident = make_user("resident")
    headers = token_for(resident)
    resp = client.post("/api/v1/demand", json={"item": item.code, "venue_id": elsewhere[1].id, "note": ""},
                       headers=headers)
    assert resp.status_code == 403
    body = resp.get_json()["error"]
    assert body["code"] == "forbidden" and "venue_id" in body["fields"]
    assert count_rows(session, DemandRequest) == 0
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "refused.demand.request"))


def test_a_second_request_while_one_is_open_becomes_a_support(session, make_user, item, venue):
    first, second, third = make_user("resident"), make_user("resident"), make_user("resident")
    req, merged = ops.request_item(first, item, venue, "")
    again, merged2 = ops.request_item(second, item, venue, "我也想看")
    assert not merged and merged2 and again.id == req.id
    ops.support_request(third, req)
    assert count_rows(session, DemandRequest) == 1
    assert ops.support_counts([req.id])[req.id] == 3
    assert session.scalar(select(DemandSupport.note).where(DemandSupport.user_id == second.id)) == "我也想看"
    # A planned request still gathers supports instead of duplicates.
    ops.decide_request(req, DemandStatus.PLANNED, "下月安排", make_user("officer"))
    fourth = make_user("resident")
    assert ops.request_item(fourth, item, venue, "")[1] is True
    assert count_rows(session, DemandRequest) == 1


def test_after_a_request_is_closed_a_new_one_may_be_made(session, make_user, item, venue):
    resident, officer = make_user("resident"), make_user("officer")
    req, _ = ops.request_item(resident, item, venue, "")
    ops.decide_request(req, DemandStatus.DECLINED, "预算已用完", officer)
    again, merged = ops.request_item(resident, item, venue, "明年再请")
    assert not merged and again.id != req.id


def test_support_is_once_per_resident(session, client, login, make_user, item, venue):
    requester, supporter = make_user("resident"), make_user("resident")
    req, _ = ops.request_item(requester, item, venue, "")
    ops.support_request(supporter, req)
    for who in (supporter, requester):
        with pytest.raises(Refused) as e:
            ops.support_request(who, req)
        assert "已附议" in str(e.value.message)
    with pytest.raises(Refused):
        ops.request_item(requester, item, venue, "")  # asking again is not a second support either
    assert ops.support_counts([req.id])[req.id] == 2
    # Through the page: refused with the reason, nothing counted.
    login(supporter)
    resp = client.post(f"/demand/{req.id}/support")
    assert resp.status_code == 409 and "已附议" in html_text(resp)
    assert ops.support_counts([req.id])[req.id] == 2


def test_the_database_enforces_one_support_per_resident(session, make_user, item, venue):
    resident = make_user("resident")
    req, _ = ops.request_item(resident, item, venue, "")
    session.add(DemandSupport(request_id=req.id, user_id=resident.id))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_the_database_enforces_one_open_request_per_item_and_community(session, make_user, item, venue):
    resident = make_user("resident")
    req, _ = ops.request_item(resident, item, venue, "")
    session.add(DemandRequest(item_id=item.id, community_id=req.community_id, venue_id=venue.id,
                              requester_id=make_user("resident").id))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_residents_of_other_communities_cannot_support(session, make_user, item, venue, elsewhere):
    req, _ = ops.request_item(make_user("resident"), item, venue, "")
    stranger = make_user("resident", community_area=elsewhere[0])
    with pytest.raises(Forbidden):
        ops.support_request(stranger, req)
    with pytest.raises(Forbidden):
        ops.support_request(make_user("officer"), req)


def test_items_not_open_for_requests_are_refused(session, make_user, make_item, venue):
    suspended = make_item(code="DM-S", name="暂停项目", status=ItemStatus.SUSPENDED)
    with pytest.raises(Refused) as e:
        ops.request_item(make_user("resident"), suspended, venue, "")
    assert "暂停" in str(e.value.message)


def test_officers_decide_within_their_jurisdiction(session, make_user, make_area, district, item, venue):
    requester, supporter = make_user("resident"), make_user("resident")
    req, _ = ops.request_item(requester, item, venue, "")
    ops.support_request(supporter, req)
    other_town = make_area("town", parent=district, name="别的镇")
    with pytest.raises(Forbidden):
        ops.decide_request(req, DemandStatus.PLANNED, "越权", make_user("officer", jurisdiction=other_town))
    town_officer = make_user("officer", jurisdiction=venue.area.parent)
    with pytest.raises(Invalid):
        ops.decide_request(req, DemandStatus.PLANNED, " ", town_officer)
    ops.decide_request(req, DemandStatus.PLANNED, "已列入下月计划", town_officer)
    assert req.status == DemandStatus.PLANNED and req.decided_by_id == town_officer.id
    told = session.scalars(select(Notification.user_id).where(Notification.subject.contains("公益电影放映"))).all()
    assert sorted(told) == sorted([requester.id, supporter.id])
    with pytest.raises(Refused):
        ops.decide_request(req, DemandStatus.OPEN, "重新打开", town_officer)
    ops.decide_request(req, DemandStatus.FULFILLED, "已放映两场", town_officer)
    with pytest.raises(Refused):
        ops.decide_request(req, DemandStatus.DECLINED, "晚了", town_officer)


def test_resident_walks_from_the_item_to_my_requests(client, login, session, make_user, make_item, item, venue):
    resident = make_user("resident", name="张阿姨")
    login(resident)
    page = html_text(client.get(f"/catalog/items/{item.code}"))
    assert "为本社区点单" in page
    form = client.get(f"/demand/new/{item.code}")
    assert form.status_code == 200 and "测试社区文化室" in form.get_data(as_text=True)
    resp = client.post(f"/demand/new/{item.code}", data={"venue_id": venue.id, "note": "周六晚上"})
    assert resp.status_code == 302
    req = session.scalar(select(DemandRequest))
    mine = html_text(client.get("/demand/mine"))
    assert "公益电影放映" in mine and "待处理" in mine and "1 人附议" in mine
    ops.decide_request(req, DemandStatus.DECLINED, "场地不足，改在镇文化中心", make_user("officer"))
    mine = html_text(client.get("/demand/mine"))
    assert "未采纳" in mine and "场地不足，改在镇文化中心" in mine
    detail = client.get(f"/demand/{req.id}")
    assert detail.status_code == 200 and "场地不足" in html_text(detail)


def test_a_neighbour_sees_the_open_request_and_supports_it(client, login, session, make_user, item, venue):
    req, _ = ops.request_item(make_user("resident"), item, venue, "")
    neighbour = make_user("resident")
    login(neighbour)
    page = html_text(client.get(f"/catalog/items/{item.code}"))
    assert "本社区已有此点单" in page and "1 人附议" in page
    assert client.post(f"/demand/{req.id}/support").status_code == 302
    assert "您已附议此点单" in html_text(client.get(f"/catalog/items/{item.code}"))
    assert ops.support_counts([req.id])[req.id] == 2


def test_request_pages_are_private_to_the_community_and_its_officers(client, login, make_user, make_area, district,
                                                                     item, venue, elsewhere):
    req, _ = ops.request_item(make_user("resident"), item, venue, "")
    login(make_user("resident", community_area=elsewhere[0]))
    assert client.get(f"/demand/{req.id}").status_code == 403
    client.post("/logout")
    login(make_user("officer", jurisdiction=make_area("town", parent=district)))
    assert client.get(f"/demand/{req.id}").status_code == 403
    assert client.post(f"/demand/{req.id}/decide", data={"status": "planned", "reason": "越权"}).status_code == 403
    assert req.status == DemandStatus.OPEN


def test_officer_decides_through_the_page(client, login, session, make_user, item, venue):
    req, _ = ops.request_item(make_user("resident"), item, venue, "")
    login(make_user("officer"))
    assert client.post(f"/demand/{req.id}/decide", data={"status": "declined", "reason": ""}).status_code == 422
    assert client.post(f"/demand/{req.id}/decide", data={"status": "declined", "reason": "预算不足"}).status_code == 302
    session.expire_all()
    assert session.get(DemandRequest, req.id).status == DemandStatus.DECLINED
    assert "公益电影放映" in html_text(client.get("/officer/demand?status=declined"))
    assert "预算不足" in html_text(client.get(f"/demand/{req.id}"))


# --- the dashboard ------------------------------------------------------------------------------------

@pytest.fixture
def demand_world(session, make_user, make_area, district, town, community, venue, make_item, categories):
    """Two towns; supports given in March and in June 2026 (Beijing time)."""
    other_town = make_area("town", parent=district, name="西镇")
    west = make_area("community", parent=other_town, name="西村")
    west_venue = Venue(name="西村文化室", kind=VenueKind.CULTURAL_ROOM, area=west, capacity=30)
    session.add(west_venue)
    film = make_item(code="D-FILM", name="公益电影放映", category=categories["other"])
    opera = make_item(code="D-OPERA", name="京剧演出")
    here = [make_user("resident") for _ in range(4)]
    there = [make_user("resident", community_area=west) for _ in range(3)]
    with time_machine.travel(dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC), tick=False):
        film_here, _ = ops.request_item(here[0], film, venue, "")
        for r in here[1:]:
            ops.support_request(r, film_here)
        ops.request_item(there[0], opera, west_venue, "")
    with time_machine.travel(dt.datetime(2026, 6, 10, 2, tzinfo=dt.UTC), tick=False):
        ops.request_item(here[0], opera, venue, "")
        ops.request_item(here[1], opera, venue, "")  # merged: a support
        film_there, _ = ops.request_item(there[1], film, west_venue, "")
        ops.support_request(there[2], film_there)
    return {"film": film, "opera": opera, "town": town, "other_town": other_town}


def _utc(y, m, d):
    return dt.datetime(y, m, d, tzinfo=dt.UTC)


def test_dashboard_counts_supports_in_the_period(session, demand_world):
    board = ops.dashboard(None, _utc(2026, 1, 1), _utc(2027, 1, 1))
    assert [(r.label, r.supports, r.requests) for r in board.items] == [("公益电影放映", 6, 2), ("京剧演出", 3, 2)]
    assert {r.label: r.supports for r in board.areas} == {"测试镇": 6, "西镇": 3}
    assert {r.label: r.top_item for r in board.areas} == {"测试镇": "公益电影放映", "西镇": "公益电影放映"}
    assert {r.label: r.supports for r in board.categories} == {"讲座培训": 6, "文艺演出": 3}
    assert (board.total_supports, board.total_requests) == (9, 4)
    spring = ops.dashboard(None, _utc(2026, 3, 1), _utc(2026, 4, 1))
    assert [(r.label, r.supports) for r in spring.items] == [("公益电影放映", 4), ("京剧演出", 1)]
    # A town's officer sees its communities only.
    town_board = ops.dashboard(demand_world["town"], _utc(2026, 1, 1), _utc(2027, 1, 1))
    assert [(r.label, r.supports) for r in town_board.areas] == [("测试社区", 6)]
    only_opera = ops.dashboard(None, _utc(2026, 1, 1), _utc(2027, 1, 1),
                               category=demand_world["opera"].category.top)
    assert [r.label for r in only_opera.items] == ["京剧演出"]


def test_dashboard_page_chart_and_exports(client, login, make_user, demand_world):
    login(make_user("officer"))
    resp = client.get("/officer/demand/dashboard?since=2026-01-01&until=2026-12-31")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and body.count("<svg") == 3 and "<script" not in body.split("<main")[1].split(
        "</main>")[0]
    text = html_text(resp)
    assert "附议 9 次，新点单 4 个" in text and "公益电影放映" in text
    xlsx = client.get("/officer/demand/dashboard?since=2026-01-01&until=2026-12-31&format=xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "镇/街道" and sum(r[5] for r in rows[1:]) == 9 and sum(r[6] for r in rows[1:]) == 4
    csv_text = client.get("/officer/demand/dashboard?since=2026-03-01&until=2026-03-31&format=csv").data.decode(
        "utf-8-sig")
    assert csv_text.count("\n") == 3 and "公益电影放映" in csv_text


def test_the_dashboard_reuses_its_figures_but_downloads_are_exact(client, login, make_user, demand_world, venue):
    from core.db import utcnow
    from tests.test_figures import _statements

    login(make_user("officer"))
    url = "/officer/demand/dashboard?since=2026-01-01&until=2026-12-31"
    client.get(url)  # the first request of a session loads what later ones reuse
    cache.clear()
    _first, computed = _statements(client, url)
    again, reused = _statements(client, url)
    assert reused < computed  # the demand statements are not run again
    assert "附议 9 次，新点单 4 个" in html_text(again) and "每 5 分钟更新" in html_text(again)

    with time_machine.travel(dt.datetime(2026, 6, 11, 2, tzinfo=dt.UTC), tick=False):
        ops.request_item(make_user("resident"), demand_world["film"], venue, "")  # a support of the open request
    assert "附议 9 次，新点单 4 个" in html_text(client.get(url))
    rows = list(load_workbook(io.BytesIO(client.get(url + "&format=xlsx").data)).active.iter_rows(values_only=True))
    assert sum(r[5] for r in rows[1:]) == 10  # the download is never the cached figures
    # Another period is other figures.
    spring = client.get("/officer/demand/dashboard?since=2026-03-01&until=2026-03-31")
    assert "附议 5 次，新点单 2 个" in html_text(spring)
    with time_machine.travel(utcnow() + dt.timedelta(seconds=301), tick=False):
        assert "附议 10 次，新点单 4 个" in html_text(client.get(url))


def test_a_town_officer_cannot_widen_the_dashboard(client, login, make_user, demand_world):
    login(make_user("officer", jurisdiction=demand_world["town"]))
    text = html_text(client.get(f"/officer/demand/dashboard?since=2026-01-01&until=2026-12-31"
                                f"&area={demand_world['other_town'].id}"))
    assert "附议 6 次" in text and "西村" not in text


# --- races ------------------------------------------------------------------------------------------------

@pytest.mark.concurrency
def test_simultaneous_requests_for_the_same_item_merge(app, session, make_user, make_item, venue):
    item = make_item(code="RACE-1", name="并发项目")
    residents = [make_user("resident") for _ in range(4)]
    session.commit()
    ids = [r.id for r in residents]
    item_id, venue_id = item.id, venue.id
    session.rollback()  # hold no snapshot while the threads write
    barrier = threading.Barrier(len(ids))
    errors = []

    def run(user_id):
        from catalog.items.models import Item
        from core.accounts.models import User
        from core.db import db, intends_to_write

        with app.app_context(), intends_to_write():
            try:
                barrier.wait(5)
                ops.request_item(db.session.get(User, user_id), db.session.get(Item, item_id),
                                 db.session.get(Venue, venue_id), "")
                db.session.commit()
            except Exception as e:  # reported below
                db.session.rollback()
                errors.append(repr(e))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    session.rollback()
    requests = session.scalars(select(DemandRequest).where(DemandRequest.item_id == item_id)).all()
    assert len(requests) == 1
    assert ops.support_counts([requests[0].id])[requests[0].id] == len(ids)


def test_supports_by_item_for_other_modules(session, demand_world):
    figures = ops.supports_by_item(_utc(2026, 6, 1), _utc(2026, 7, 1))
    assert figures == {demand_world["opera"].id: 2, demand_world["film"].id: 2}
    assert ops.supports_by_item(_utc(2026, 1, 1), _utc(2027, 1, 1), [demand_world["film"].id]) == {
        demand_world["film"].id: 6}


def test_demand_by_month_counts_in_beijing_months(session, make_user, demand_world, venue):
    film = demand_world["film"]
    # 16:30 UTC on 30 June is 00:30 on 1 July in Beijing: a July request.
    with time_machine.travel(dt.datetime(2026, 6, 30, 16, 30, tzinfo=dt.UTC), tick=False):
        late = make_user("resident", community_area=venue.area)
        session.flush()
    months = ops.monthly_demand(film.id, _utc(2026, 7, 15))
    assert [m for m, _s, _r in months][:1] == ["2025-08"] and months[-1][0] == "2026-07" and len(months) == 12
    by_month = {m: (s, r) for m, s, r in months}
    assert by_month["2026-03"] == (4, 1) and by_month["2026-06"] == (2, 1) and by_month["2026-07"] == (0, 0)
    assert sum(s for _m, s, _r in months) == 6
    # The request of 00:30 Beijing time on 1 July belongs to July, not June.
    film_here = session.scalar(select(DemandRequest).where(DemandRequest.item_id == film.id,
                                                           DemandRequest.community_id == venue.area_id))
    ops.decide_request(film_here, DemandStatus.DECLINED, "不在计划内", make_user("officer"))
    with time_machine.travel(dt.datetime(2026, 6, 30, 16, 30, tzinfo=dt.UTC), tick=False):
        ops.request_item(late, film, venue, "")
    by_month = {m: (s, r) for m, s, r in ops.monthly_demand(film.id, _utc(2026, 7, 15))}
    assert by_month["2026-06"] == (2, 1) and by_month["2026-07"] == (1, 1)


def test_dashboard_shows_satisfaction_beside_demand(client, login, session, make_user, demand_world):
    film, opera = demand_world["film"], demand_world["opera"]
    session.execute(Item.__table__.update().where(Item.id == film.id).values(satisfaction=Decimal("4.30"),
                                                                             rating_count=35))
    session.expire_all()
    board = ops.dashboard(None, _utc(2026, 1, 1), _utc(2027, 1, 1))
    assert {r.label: (r.satisfaction, r.ratings) for r in board.items} == {
        "公益电影放映": (Decimal("4.30"), 35), "京剧演出": (None, 0)}
    login(make_user("officer"))
    resp = client.get("/officer/demand/dashboard?since=2026-01-01&until=2026-12-31")
    cells = [c.get_text(" ", strip=True) for c in
             BeautifulSoup(resp.data, "html.parser").select("[data-testid=top-items] [data-testid=item-satisfaction]")]
    assert cells == ["4.30 (35 条评价)", "暂无评价。"]
    rows = list(load_workbook(io.BytesIO(client.get(
        "/officer/demand/dashboard?since=2026-01-01&until=2026-12-31&format=xlsx").data)).active.iter_rows(
        values_only=True))
    assert rows[0][7:9] == ("满意度（1–5）", "12个月内评价数")
    assert {(r[4], r[7] and Decimal(str(r[7])), r[8]) for r in rows[1:]} == {(film.name, Decimal("4.3"), 35),
                                                                             (opera.name, None, 0)}


def test_item_page_charts_demand_by_month(client, demand_world):
    film = demand_world["film"]
    with time_machine.travel(dt.datetime(2026, 7, 15, 4, tzinfo=dt.UTC), tick=False):
        resp = client.get(f"/catalog/items/{film.code}")
    soup = BeautifulSoup(resp.data, "html.parser")
    trend = soup.select_one("[data-testid=item-demand-trend]")
    assert trend.select_one("svg polyline") is not None
    rows = {tr.find_all("td")[0].text: [td.text for td in tr.find_all("td")[1:]]
            for tr in trend.select("[data-testid=demand-by-month] tbody tr")}
    assert len(rows) == 12 and rows["2026-03"] == ["4", "1"] and rows["2026-06"] == ["2", "1"]
    assert rows["2025-08"] == ["0", "0"]
