"""Ratings and complaints: the window, stars, one per resident, edits, flags (attendance and
bursts) kept out of scores until reviewed, replies, hidden comments, complaints."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.db import utcnow
from core.errors import Forbidden, Invalid, Refused
from evaluation.feedback import operations as ratings
from evaluation.feedback.models import Complaint, ComplaintStatus, FlagReason, Rating, RatingStatus
from marketplace.sessions import operations as session_ops

FIVE = {"content": 5, "organisation": 5, "venue": 5}


@pytest.fixture
def held(delivery):
    """A session that took place a day ago, not yet reported."""
    contract = delivery.contract(delivery.provider())
    return delivery.schedule(contract, utcnow().replace(microsecond=0) - dt.timedelta(days=1))


def _count(session, s):
    return session.scalar(select(func.count()).select_from(Rating).where(Rating.session_id == s.id))


def test_a_resident_rates_once_and_may_change_it_while_the_window_is_open(held, make_user, session):
    resident = make_user("resident")
    r, created = ratings.rate(held, resident, {"content": 4, "organisation": 3, "venue": 5}, "很好",
                              now=held.scheduled_at + dt.timedelta(hours=3), attendance_code=held.attendance_code)
    assert created and r.status == RatingStatus.COUNTED and str(r.stars) == "4.00"
    again, created = ratings.rate(held, resident, {"content": 2, "organisation": 2, "venue": 2}, "改了",
                                  now=held.scheduled_at + dt.timedelta(days=6), attendance_code=held.attendance_code)
    assert not created and again.id == r.id and (again.content, again.comment) == (2, "改了")
    assert _count(session, held) == 1
    with pytest.raises(Refused):
        ratings.rate(held, resident, FIVE, now=held.scheduled_at + dt.timedelta(days=7, seconds=1),
                     attendance_code=held.attendance_code)
    assert r.content == 2


def test_ratings_outside_the_window_are_refused(held, make_user):
    resident = make_user("resident")
    with pytest.raises(Refused):
        ratings.rate(held, resident, FIVE, now=held.scheduled_at - dt.timedelta(minutes=1),
                     attendance_code=held.attendance_code)
    with pytest.raises(Refused):
        ratings.rate(held, resident, FIVE, now=held.scheduled_at + dt.timedelta(days=7, minutes=1),
                     attendance_code=held.attendance_code)


@pytest.mark.parametrize("stars", [
    {"content": 0, "organisation": 3, "venue": 3},
    {"content": 6, "organisation": 3, "venue": 3},
    {"content": 3, "organisation": "x", "venue": 3},
    {"content": 3, "organisation": 3, "venue": 2.5},
    {"content": 3, "organisation": 3},
    {"content": True, "organisation": 3, "venue": 3},
])
def test_stars_outside_one_to_five_are_refused_by_field(held, make_user, session, stars):
    with pytest.raises(Invalid) as e:
        ratings.rate(held, make_user("resident"), stars, now=held.scheduled_at + dt.timedelta(hours=3),
                     attendance_code=held.attendance_code)
    assert e.value.field in ratings.DIMENSIONS
    session.rollback()
    assert _count(session, held) == 0


def test_comment_limit_and_only_residents(held, make_user, delivery):
    with pytest.raises(Invalid) as e:
        ratings.rate(held, make_user("resident"), FIVE, "好" * 501, now=held.scheduled_at + dt.timedelta(hours=3),
                     attendance_code=held.attendance_code)
    assert e.value.field == "comment"
    with pytest.raises(Forbidden):
        ratings.rate(held, delivery.officer(), FIVE, now=held.scheduled_at + dt.timedelta(hours=3),
                     attendance_code=held.attendance_code)


def test_a_missed_session_cannot_be_rated(delivery, make_user, session):
    s = delivery.schedule(delivery.contract(delivery.provider()), utcnow() - dt.timedelta(days=20))
    session_ops.record_overdue()
    session.refresh(s)
    with pytest.raises(Refused) as e:
        ratings.rate(s, make_user("resident"), FIVE, now=s.scheduled_at + dt.timedelta(days=1),
                     attendance_code=s.attendance_code)
    assert "not delivered" in str(e.value.message) or "未" in str(e.value.message)


def test_more_ratings_than_the_reported_attendance_are_flagged_until_reviewed(held, delivery, make_user, session):
    delivery.report(held, attendance=2, at=held.scheduled_at + dt.timedelta(hours=3))
    at = held.scheduled_at + dt.timedelta(hours=4)
    rs = [ratings.rate(held, make_user("resident"), FIVE, address=f"10.0.0.{i}", now=at + dt.timedelta(minutes=10 * i),
                       attendance_code=held.attendance_code)
          [0] for i in range(3)]
    assert [r.status for r in rs] == [RatingStatus.COUNTED, RatingStatus.COUNTED, RatingStatus.FLAGGED]
    assert rs[2].flag_reason == FlagReason.OVER_ATTENDANCE
    provider = held.provider
    session.refresh(provider)
    from evaluation.performance import operations as performance

    assert performance.latest_snapshot(provider.id).rating_count == 2
    officer = delivery.officer(jurisdiction=delivery.town)
    with pytest.raises(Invalid):
        ratings.review_flagged(rs[2], False, "", officer)
    ratings.review_flagged(rs[2], True, "签到表共三人", officer)
    assert rs[2].status == RatingStatus.COUNTED and rs[2].reviewed_by_id == officer.id
    assert performance.latest_snapshot(provider.id).rating_count == 3
    with pytest.raises(Refused):
        ratings.review_flagged(rs[2], False, "再审", officer)


def test_a_late_report_flags_the_ratings_beyond_its_attendance(held, delivery, make_user):
    at = held.scheduled_at + dt.timedelta(hours=3)
    rs = [ratings.rate(held, make_user("resident"), FIVE, address=f"10.1.0.{i}", now=at + dt.timedelta(minutes=7 * i),
                       attendance_code=held.attendance_code)
          [0] for i in range(3)]
    delivery.report(held, attendance=1, at=at + dt.timedelta(hours=1))
    assert [r.status for r in rs] == [RatingStatus.COUNTED, RatingStatus.FLAGGED, RatingStatus.FLAGGED]


def test_a_burst_from_one_address_is_flagged(held, make_user, delivery):
    at = held.scheduled_at + dt.timedelta(hours=3)
    first = [ratings.rate(held, make_user("resident"), FIVE, address="192.0.2.7", now=at + dt.timedelta(seconds=30 * i),
                          attendance_code=held.attendance_code)
             [0] for i in range(4)]
    assert all(r.status == RatingStatus.COUNTED for r in first)
    fifth, _ = ratings.rate(held, make_user("resident"), FIVE, address="192.0.2.7", now=at + dt.timedelta(minutes=2),
                            attendance_code=held.attendance_code)
    assert all(r.status == RatingStatus.FLAGGED and r.flag_reason == FlagReason.BURST for r in [*first, fifth])
    # Another address at the same time is not part of the burst.
    other, _ = ratings.rate(held, make_user("resident"), FIVE, address="198.51.100.1", now=at + dt.timedelta(minutes=2),
                            attendance_code=held.attendance_code)
    assert other.status == RatingStatus.COUNTED
    assert first[0].address_hash != other.address_hash and "192.0.2.7" not in first[0].address_hash


def test_provider_replies_and_officer_hides_an_abusive_comment(held, delivery, make_user, session, make_area,
                                                              district):
    r, _ = ratings.rate(held, make_user("resident"), FIVE, "<script>alert(1)</script>骂人的话",
                        now=held.scheduled_at + dt.timedelta(hours=3), attendance_code=held.attendance_code)
    with pytest.raises(Forbidden):
        ratings.reply(r, "谢谢", delivery.provider().user)
    ratings.reply(r, "感谢您的意见，我们会改进。", held.provider.user)
    assert r.reply.startswith("感谢") and r.replied_at is not None
    outsider = delivery.officer(jurisdiction=make_area("town", parent=district))
    with pytest.raises(Forbidden):
        ratings.hide_comment(r, "辱骂", outsider)
    with pytest.raises(Invalid):
        ratings.hide_comment(r, " ", delivery.officer())
    officer = delivery.officer()
    ratings.hide_comment(r, "含有辱骂内容", officer)
    assert r.comment_hidden_at is not None and r.hidden_reason == "含有辱骂内容"
    ev = session.scalar(select(AuditEvent).where(AuditEvent.action == "rating.hide"))
    assert ev.actor_id == officer.id and ev.summary["reason"] == "含有辱骂内容" and "骂人" not in str(ev.summary)
    with pytest.raises(Refused):
        ratings.hide_comment(r, "again", officer)


def test_complaints_are_upheld_or_dismissed_with_a_reason(held, delivery, make_user, session):
    resident = make_user("resident")
    c = ratings.complain(held, resident, "演出迟到一小时", now=held.scheduled_at + dt.timedelta(hours=3))
    with pytest.raises(Refused):
        ratings.complain(held, resident, "再投诉", now=held.scheduled_at + dt.timedelta(hours=4))
    with pytest.raises(Invalid):
        ratings.complain(held, make_user("resident"), "  ", now=held.scheduled_at + dt.timedelta(hours=4))
    with pytest.raises(Refused):
        ratings.complain(held, make_user("resident"), "太晚", now=held.scheduled_at + dt.timedelta(days=31))
    officer = delivery.officer()
    with pytest.raises(Invalid):
        ratings.decide_complaint(c, True, "", officer)
    ratings.decide_complaint(c, True, "经核实属实", officer)
    assert c.status == ComplaintStatus.UPHELD and c.decided_by_id == officer.id
    with pytest.raises(Refused):
        ratings.decide_complaint(c, False, "改判", officer)
    again = ratings.complain(held, resident, "第二次", now=held.scheduled_at + dt.timedelta(hours=5))
    ratings.decide_complaint(again, False, "不属实", officer)
    assert session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.status == ComplaintStatus.UPHELD)) == 1



def test_only_a_resident_who_rated_or_lives_where_it_was_held_may_complain(
        held, delivery, make_user, make_area, town, community, session, client, login):
    """A session at a community's venue: residents of that community, and residents who rated it,
    may complain; a resident of another community (of the same town or another) is refused, on the
    page too, with the reason, and the refusal is on record. A town's venue takes complaints from
    every community of that town."""
    neighbours = make_area("community", parent=town, name="邻村")
    elsewhere = make_area("community", name="别镇的村")
    later = held.scheduled_at + dt.timedelta(hours=3)

    def refused_events():
        return session.scalars(select(AuditEvent).where(AuditEvent.action == "refused.complaint.lodge")).all()

    assert ratings.complain(held, make_user("resident"), "迟到", now=later).resident_id  # lives there
    for place in (neighbours, elsewhere):
        with pytest.raises(Forbidden, match="居住"):
            ratings.complain(held, make_user("resident", community_area=place), "路过", now=later)
    rater = make_user("resident", community_area=elsewhere)
    ratings.rate(held, rater, FIVE, now=later, attendance_code=held.attendance_code)
    assert ratings.complain(held, rater, "看过，有问题", now=later).resident_id == rater.id

    stranger = login(make_user("resident", community_area=neighbours))
    resp = client.post(f"/rate/{held.id}/complaint", data={"text": "我没去过"})
    assert resp.status_code == 403
    assert "居住" in resp.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.resident_id == stranger.id)) == 0
    (event,) = refused_events()
    assert (event.actor_id, event.object_id) == (stranger.id, str(held.id))

    at_the_town = delivery.schedule(delivery.contract(delivery.provider(), venue=delivery.venue(town)),
                                    utcnow().replace(microsecond=0) - dt.timedelta(days=1))
    when = at_the_town.scheduled_at + dt.timedelta(hours=3)
    for place in (community, neighbours):
        ratings.complain(at_the_town, make_user("resident", community_area=place), "声音太小", now=when)
    with pytest.raises(Forbidden):
        ratings.complain(at_the_town, make_user("resident", community_area=elsewhere), "声音太小", now=when)


def test_one_rating_per_resident_and_session_is_enforced_by_the_database(held, make_user, session):
    from sqlalchemy.exc import IntegrityError

    resident = make_user("resident")
    ratings.rate(held, resident, FIVE, now=held.scheduled_at + dt.timedelta(hours=3),
                 attendance_code=held.attendance_code)
    session.commit()
    session.add(Rating(session_id=held.id, provider_id=held.provider_id, item_id=held.item_id,
                       resident_id=resident.id, content=1, organisation=1, venue=1))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    assert _count(session, held) == 1
