"""Residents on phones: the attendance code makes a rating eligible; the rating page states what
each star means and works without an account; the open requests of one's own community, each
supported in one tap."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from catalog.demand import operations as demand_ops
from catalog.demand.models import DemandStatus, DemandSupport
from core.audit import AuditEvent
from core.db import utcnow
from core.errors import Forbidden
from evaluation.feedback import operations as ratings
from evaluation.feedback.models import Rating, RatingStatus
from marketplace.sessions.models import ServiceSession

FIVE = {"content": 5, "organisation": 5, "venue": 5}


@pytest.fixture
def held(delivery):
    """A session that took place a day ago."""
    contract = delivery.contract(delivery.provider())
    return delivery.schedule(contract, utcnow().replace(microsecond=0) - dt.timedelta(days=1))


def _count(session, s):
    return session.scalar(select(func.count()).select_from(Rating).where(Rating.session_id == s.id))


# --- the attendance code ---------------------------------------------------------------------------

def test_every_session_gets_its_own_six_digit_code(delivery, held):
    other = delivery.schedule(held.contract, held.scheduled_at + dt.timedelta(days=1))
    for s in (held, other):
        assert len(s.attendance_code) == 6 and s.attendance_code.isdigit()
    # made by the model's default too (sessions written directly, e.g. by the demo seed)
    assert len(ServiceSession().attendance_code or "") in (0, 6)


@pytest.mark.parametrize("code, error", [(None, "attendance_code_missing"), ("", "attendance_code_missing"),
                                         ("   ", "attendance_code_missing"), ("wrong!", "attendance_code_wrong")])
def test_a_rating_without_the_right_code_is_refused(held, make_user, session, code, error):
    # Not shown to have been there: forbidden (403), whatever the code's form.
    with pytest.raises(Forbidden) as e:
        ratings.rate(held, make_user("resident"), FIVE, now=held.scheduled_at + dt.timedelta(hours=3),
                     attendance_code=code)
    assert e.value.field == "attendance_code" and e.value.code == error
    session.rollback()
    assert _count(session, held) == 0


def test_another_sessions_code_does_not_count(delivery, held, make_user, session):
    other = delivery.schedule(held.contract, held.scheduled_at + dt.timedelta(hours=1))
    other.attendance_code = "111111" if held.attendance_code != "111111" else "222222"
    with pytest.raises(Forbidden):
        ratings.rate(held, make_user("resident"), FIVE, now=held.scheduled_at + dt.timedelta(hours=3),
                     attendance_code=other.attendance_code)


def test_the_right_code_makes_a_counted_rating_and_a_change_needs_it_no_more(held, make_user):
    resident = make_user("resident")
    spaced = held.attendance_code[:3] + " " + held.attendance_code[3:]
    r, created = ratings.rate(held, resident, FIVE, now=held.scheduled_at + dt.timedelta(hours=3),
                              attendance_code=spaced)
    assert created and r.status == RatingStatus.COUNTED
    again, created = ratings.rate(held, resident, {"content": 3, "organisation": 3, "venue": 3},
                                  now=held.scheduled_at + dt.timedelta(hours=5))
    assert not created and again.content == 3


def test_ratings_beyond_the_attendance_stay_flagged(delivery, held, make_user):
    delivery.report(held, attendance=1)
    at = held.scheduled_at + dt.timedelta(hours=4)
    first, _c = ratings.rate(held, make_user("resident"), FIVE, address="10.9.0.1", now=at,
                             attendance_code=held.attendance_code)
    second, _c = ratings.rate(held, make_user("resident"), FIVE, address="10.9.0.2", now=at + dt.timedelta(minutes=9),
                              attendance_code=held.attendance_code)
    assert first.status == RatingStatus.COUNTED and second.status == RatingStatus.FLAGGED


def test_the_page_refuses_a_wrong_code_on_its_field_and_keeps_it_on_record(held, make_user, login, client, session):
    session.commit()
    login(make_user("resident"))
    wrong = "000000" if held.attendance_code != "000000" else "999999"
    resp = client.post(f"/rate/{held.id}", data={"content": "5", "organisation": "5", "venue": "5",
                                                 "attendance_code": wrong})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 403 and 'id="attendance-code-error"' in body and 'aria-invalid="true"' in body
    assert _count(session, held) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "refused.rating.attendance_code", AuditEvent.object_id == str(held.id))) == 1
    ok = client.post(f"/rate/{held.id}", data={"content": "4", "organisation": "4", "venue": "4",
                                              "attendance_code": held.attendance_code})
    assert ok.status_code == 302 and _count(session, held) == 1


def test_the_provider_sees_the_code_but_the_public_poster_and_page_do_not(held, delivery, login, client, session):
    session.commit()
    code = held.attendance_code
    public = client.get(f"/rate/{held.id}").get_data(as_text=True)
    assert code not in public
    poster = client.get(f"/rate/{held.id}/qr.svg").get_data(as_text=True)
    assert code not in poster
    login(held.provider.user)
    page = client.get(f"/delivery/sessions/{held.id}").get_data(as_text=True)
    assert f'data-testid="attendance-code">{code}<' in page
    sheet = client.get(f"/delivery/sessions/{held.id}/attendance-code")
    assert sheet.status_code == 200 and code in sheet.get_data(as_text=True)
    assert sheet.headers["Cache-Control"] == "no-store"
    client.post("/logout")
    stranger = delivery.provider()
    session.commit()
    login(stranger.user)
    assert client.get(f"/delivery/sessions/{held.id}/attendance-code").status_code == 403


def test_the_rating_page_says_what_the_stars_mean_and_starts_with_the_phone(held, client, session, make_user, login):
    session.commit()
    body = client.get(f"/rate/{held.id}").get_data(as_text=True)
    assert 'data-testid="phone-form"' in body and 'name="next" type="hidden" value="/rate/' in body
    login(make_user("resident"))
    body = client.get(f"/rate/{held.id}").get_data(as_text=True)
    for word in ("很不满意", "不满意", "一般", "满意", "很满意"):
        assert word in body
    # plain radio buttons in a form: nothing needs JavaScript
    assert 'name="attendance_code"' in body and body.count('type="radio"') == 15
    assert body.count('name="content"') == 5


# --- open requests in my community ----------------------------------------------------------------

@pytest.fixture
def requests_world(delivery, make_user, community, make_area, town):
    venue = delivery.venue(community)
    asker = make_user("resident", community_area=community)
    reqs = [demand_ops.request_item(asker, delivery.item(), venue, f"需求{i}")[0] for i in range(3)]
    closed = demand_ops.request_item(asker, delivery.item(), venue)[0]
    closed.status, closed.status_reason, closed.decided_at = DemandStatus.DECLINED, "已安排其他活动", utcnow()
    closed.decided_by_id = asker.id
    elsewhere_area = make_area("community", parent=town)
    elsewhere = demand_ops.request_item(make_user("resident", community_area=elsewhere_area), delivery.item(),
                                        delivery.venue(elsewhere_area))[0]
    return {"open": reqs, "closed": closed, "elsewhere": elsewhere}


def test_the_community_list_shows_only_my_communitys_open_requests(requests_world, make_user, login, client,
                                                                    session):
    session.commit()
    login(make_user("resident"))
    body = client.get("/demand/community").get_data(as_text=True)
    shown = {int(x.split('"')[0]) for x in body.split('data-id="')[1:]}
    assert shown == {r.id for r in requests_world["open"]}
    assert body.count('data-testid="support-button"') == 3 and 'data-testid="choose-item"' in body


def test_one_tap_supports_and_comes_back_to_the_list(requests_world, make_user, login, client, session):
    session.commit()
    login(make_user("resident"))
    target = requests_world["open"][1]
    resp = client.post(f"/demand/{target.id}/support", data={"back_page": "1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/demand/community?page=1#d{target.id}")
    supports = session.scalar(select(func.count()).select_from(DemandSupport).where(
        DemandSupport.request_id == target.id))
    assert supports == 2  # the asker's own and this one
    body = client.get("/demand/community").get_data(as_text=True)
    assert body.count('data-testid="you-support"') == 1
    again = client.post(f"/demand/{target.id}/support", data={"back_page": "1"})
    assert again.status_code == 409 and session.scalar(select(func.count()).select_from(DemandSupport).where(
        DemandSupport.request_id == target.id)) == 2


def test_the_community_list_paginates(delivery, make_user, community, login, client, session):
    venue = delivery.venue(community)
    asker = make_user("resident", community_area=community)
    for _ in range(23):
        demand_ops.request_item(asker, delivery.item(), venue)
    session.commit()
    login(make_user("resident"))
    first = client.get("/demand/community").get_data(as_text=True)
    second = client.get("/demand/community?page=2").get_data(as_text=True)
    ids1 = {x.split('"')[0] for x in first.split('data-id="')[1:]}
    ids2 = {x.split('"')[0] for x in second.split('data-id="')[1:]}
    assert ids1 and ids2 and not ids1 & ids2 and len(ids1 | ids2) == 23


def test_a_resident_without_a_community_is_asked_for_it(make_user, login, client, session, community):
    from core.accounts.models import User

    user = make_user("resident")
    user.community = None
    session.commit()
    login(user)
    body = client.get("/demand/community").get_data(as_text=True)
    assert 'data-testid="set-community"' in body
    assert client.post("/account/community?next=/demand/community",
                       data={"community_id": str(community.id)}).headers["Location"].endswith("/demand/community")
    assert session.get(User, user.id).community_id == community.id


def test_the_request_form_is_reachable_from_the_list(requests_world, make_user, login, client, session, delivery):
    item = delivery.item()
    session.commit()
    login(make_user("resident"))
    resp = client.get(f"/demand/new?item={item.code}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/demand/new/{item.code}")
    assert client.get(resp.headers["Location"]).status_code == 200
