"""Service sessions: scheduling from contract lines, reports with photos, acceptance or dispute by
the venue's officer, missed and late reports, and the contract and project moving on."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.db import utcnow
from core.errors import Forbidden, Invalid, Refused
from marketplace.contracts.models import ContractState
from marketplace.projects.models import ProjectState
from marketplace.sessions import operations as session_ops
from marketplace.sessions import photos as session_photos
from marketplace.sessions.models import ServiceSession, SessionPhoto, SessionState
from tests.support.files import jpeg_with_exif, png_bytes


def _at(days=-10, hour=10):
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    return now.replace(hour=hour) + dt.timedelta(days=days)


# --- scheduling --------------------------------------------------------------------------------

def test_provider_schedules_each_contracted_session_and_no_more(delivery, session):
    provider = delivery.provider()
    contract = delivery.contract(provider, sessions=2)
    first = delivery.schedule(contract, _at(5))
    second = delivery.schedule(contract, _at(6))
    assert (first.provider_id, first.item_id, first.venue_id) == (provider.id, contract.lines[0].item_id,
                                                                  contract.lines[0].venue_id)
    assert first.state == second.state == SessionState.SCHEDULED
    with pytest.raises(Refused) as e:
        delivery.schedule(contract, _at(7))
    assert "2" in str(e.value.message)
    assert session_ops.line_counts(contract) == {contract.lines[0].id: 2}


def test_scheduling_is_refused_outside_the_term_for_strangers_and_for_contracts_not_in_force(delivery, session):
    provider = delivery.provider()
    contract = delivery.contract(provider, start=_at(1).date(), end=_at(30).date())
    with pytest.raises(Invalid) as e:
        delivery.schedule(contract, _at(40))
    assert e.value.field == "scheduled_at"
    stranger = delivery.provider()
    with pytest.raises(Forbidden):
        delivery.schedule(contract, _at(5), actor=stranger.user)
    with pytest.raises(Invalid):
        session_ops.schedule_session(contract, contract.lines[0], _at(5), -3, provider.user)
    pending = delivery.contract(provider, state=ContractState.PENDING)
    with pytest.raises(Refused):
        delivery.schedule(pending, _at(5))
    assert session.scalar(select(ServiceSession.id).where(ServiceSession.contract_id.in_(
        [contract.id, pending.id]))) is None


def test_the_buyer_officer_may_schedule_too(delivery):
    officer = delivery.officer()
    contract = delivery.contract(delivery.provider(), officer=officer)
    s = delivery.schedule(contract, _at(3), actor=officer)
    assert s.scheduled_by_id == officer.id


# --- reports -----------------------------------------------------------------------------------

def test_report_on_time_moves_the_project_into_delivery(delivery, app):
    contract = delivery.contract(delivery.provider())
    s = delivery.schedule(contract, _at(-5))
    delivery.report(s, attendance=37, at=s.scheduled_at + dt.timedelta(days=1))
    assert s.state == SessionState.REPORTED and s.attendance == 37 and s.reported_late is False
    assert contract.project.state == ProjectState.IN_DELIVERY


def test_report_after_the_on_time_days_is_recorded_late(delivery):
    contract = delivery.contract(delivery.provider())
    s = delivery.schedule(contract, _at(-10))
    delivery.report(s, at=s.scheduled_at + dt.timedelta(days=3, minutes=1))
    assert s.reported_late is True


def test_report_before_the_session_and_after_the_missed_limit_are_refused(delivery, session):
    contract = delivery.contract(delivery.provider())
    future = delivery.schedule(contract, _at(3))
    with pytest.raises(Refused):
        delivery.report(future, at=future.scheduled_at - dt.timedelta(hours=1))
    old = delivery.schedule(contract, _at(-30))
    with pytest.raises(Refused) as e:
        delivery.report(old, at=old.scheduled_at + dt.timedelta(days=14, minutes=1))
    assert "missed" in str(e.value.message) or "未履约" in str(e.value.message)
    assert future.state == old.state == SessionState.SCHEDULED


def test_report_for_another_providers_session_is_refused_and_nothing_changes(delivery, session):
    contract = delivery.contract(delivery.provider())
    s = delivery.schedule(contract, _at(-2))
    session.commit()
    other = delivery.provider()
    data = session_ops.ReportInput(actual_start=s.scheduled_at, actual_end=s.scheduled_at + dt.timedelta(hours=1),
                                   attendance=10)
    with pytest.raises(Forbidden):
        session_ops.report_session(s, data, other.user, now=s.scheduled_at + dt.timedelta(hours=2))
    session.rollback()
    fresh = session.get(ServiceSession, s.id)
    assert fresh.state == SessionState.SCHEDULED and fresh.attendance is None and fresh.reported_at is None


@pytest.mark.parametrize(("change", "field"), [
    ({"attendance": -1}, "attendance"),
    ({"attendance": "many"}, "attendance"),
    ({"attendance": 2.5}, "attendance"),
    ({"actual_end": "before"}, "actual_end"),
    ({"notes": "x" * 5001}, "notes"),
])
def test_bad_report_input_is_refused_by_field(delivery, change, field):
    contract = delivery.contract(delivery.provider())
    s = delivery.schedule(contract, _at(-2))
    data = session_ops.ReportInput(actual_start=s.scheduled_at, actual_end=s.scheduled_at + dt.timedelta(hours=1),
                                   attendance=10)
    for k, v in change.items():
        setattr(data, k, s.scheduled_at - dt.timedelta(hours=1) if v == "before" else v)
    with pytest.raises(Invalid) as e:
        session_ops.report_session(s, data, s.provider.user, now=s.scheduled_at + dt.timedelta(hours=3))
    assert e.value.field == field
    assert s.state == SessionState.SCHEDULED


def test_photos_are_checked_by_content_reencoded_and_limited_to_five(delivery, app):
    contract = delivery.contract(delivery.provider())
    s = delivery.schedule(contract, _at(-2))
    with pytest.raises(Invalid) as e:
        delivery.report(s, photos=[session_ops.NewPhoto("fake.jpg", b"%PDF-1.4 not a photo")])
    assert e.value.field == "photos"
    with pytest.raises(Invalid):
        delivery.report(s, photos=[session_ops.NewPhoto(f"{i}.png", png_bytes()) for i in range(6)])
    with pytest.raises(Invalid):  # JPEG magic bytes, garbage body
        delivery.report(s, photos=[session_ops.NewPhoto("broken.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100)])
    original = jpeg_with_exif()
    assert b"SecretCamera" in original
    delivery.report(s, photos=[session_ops.NewPhoto("a.jpg", original), session_ops.NewPhoto("b.png", png_bytes())])
    photos = s.photos
    assert [p.content_type for p in photos] == ["image/jpeg", "image/png"]
    stored = session_photos.read(photos[0].sha256)
    assert stored is not None and stored.startswith(b"\xff\xd8\xff") and b"SecretCamera" not in stored
    assert photos[0].width == 10 and photos[1].width == 8


def test_photo_paths_never_come_from_input(app):
    with app.app_context(), pytest.raises(ValueError):
        session_photos.read("../../etc/passwd")


# --- the officer's decision --------------------------------------------------------------------

def test_venue_officer_confirms_with_a_score_and_a_stranger_officer_is_refused(delivery, session, make_area,
                                                                              district):
    other_town = make_area("town", parent=district)
    contract = delivery.contract(delivery.provider())
    s = delivery.schedule(contract, _at(-3))
    delivery.report(s)
    session.commit()
    outsider = delivery.officer(jurisdiction=other_town)
    with pytest.raises(Forbidden):
        session_ops.confirm_session(s, 80, "", outsider, now=s.reported_at + dt.timedelta(hours=1))
    session.rollback()
    assert session.get(ServiceSession, s.id).state == SessionState.REPORTED
    town_officer = delivery.officer(jurisdiction=delivery.town)
    for bad in (101, -1, "x", None, 50.5):
        with pytest.raises(Invalid):
            session_ops.confirm_session(s, bad, "", town_officer, now=s.reported_at + dt.timedelta(hours=1))
    session_ops.confirm_session(s, 85, "符合标准", town_officer, now=s.reported_at + dt.timedelta(hours=1))
    assert (s.state, s.acceptance_score, s.decided_by_id) == (SessionState.CONFIRMED, 85, town_officer.id)
    with pytest.raises(Refused):
        session_ops.dispute_session(s, "再议", town_officer, now=s.reported_at + dt.timedelta(hours=2))


def test_dispute_needs_a_reason_and_the_window_closes(delivery):
    officer = delivery.officer()
    contract = delivery.contract(delivery.provider())
    s = delivery.schedule(contract, _at(-20))
    delivery.report(s)
    with pytest.raises(Invalid):
        session_ops.dispute_session(s, "  ", officer, now=s.reported_at + dt.timedelta(days=1))
    with pytest.raises(Refused):
        session_ops.dispute_session(s, "人数不实", officer, now=s.reported_at + dt.timedelta(days=7, minutes=1))
    session_ops.dispute_session(s, "人数不实", officer, now=s.reported_at + dt.timedelta(days=6))
    assert s.state == SessionState.DISPUTED and s.dispute_reason == "人数不实"


def test_the_clock_records_missed_sessions_and_accepts_reports_left_undecided(delivery, session):
    contract = delivery.contract(delivery.provider())
    missed = delivery.schedule(contract, _at(-20))
    reported = delivery.schedule(contract, _at(-12))
    delivery.report(reported, at=reported.scheduled_at + dt.timedelta(hours=5))
    fresh = delivery.schedule(contract, _at(-1))
    now = utcnow()
    assert session_ops.record_overdue(now) == (1, 1)
    session.expire_all()
    assert session.get(ServiceSession, missed.id).state == SessionState.MISSED
    r = session.get(ServiceSession, reported.id)
    assert r.state == SessionState.CONFIRMED and r.accepted_by_default and r.acceptance_score is None
    assert session.get(ServiceSession, fresh.id).state == SessionState.SCHEDULED
    assert session_ops.record_overdue(now) == (0, 0)


def test_the_contract_and_project_complete_when_every_session_is_final(delivery, session):
    officer = delivery.officer()
    contract = delivery.contract(delivery.provider(), officer=officer, sessions=2)
    a = delivery.schedule(contract, _at(-4))
    b = delivery.schedule(contract, _at(-3))
    delivery.report(a)
    delivery.confirm(a, 90, officer)
    assert contract.state == ContractState.ACTIVE and contract.project.state == ProjectState.IN_DELIVERY
    delivery.report(b)
    session_ops.dispute_session(b, "未按标准配备人员", officer, now=b.reported_at + dt.timedelta(hours=1))
    session.expire_all()
    assert contract.state == ContractState.COMPLETED and contract.completed_at is not None
    assert contract.project.state == ProjectState.COMPLETED
    assert session.scalar(select(SessionPhoto.id)) is None
