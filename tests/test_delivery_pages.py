"""Delivery, rating and performance pages and the API, through HTTP: what each role may do,
refusals that change nothing (and are audited), escaped comments, the poster PDF, public profiles."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from core.db import utcnow
from core.i18n import to_local
from evaluation.feedback.models import Rating
from evaluation.performance import operations as performance
from marketplace.sessions.models import ServiceSession, SessionState
from tests.support.files import png_bytes
from tests.support.pages import html_text
from tests.support.records import refusals


@pytest.fixture
def world(delivery, session):
    officer = delivery.officer()
    provider = delivery.provider()
    contract = delivery.contract(provider, officer=officer, sessions=3)
    held = delivery.schedule(contract, utcnow().replace(microsecond=0) - dt.timedelta(days=1))
    session.commit()
    return {"officer": officer, "provider": provider, "contract": contract, "held": held}


def _local(moment):
    from core.i18n import to_local

    return to_local(moment).strftime("%Y-%m-%d %H:%M")


def test_provider_schedules_and_reports_with_a_photo_through_the_pages(world, client, login, session):
    provider, contract, held = world["provider"], world["contract"], world["held"]
    login(provider.user)
    page = client.get(f"/delivery/contracts/{contract.id}")
    assert page.status_code == 200 and "schedule-form" in page.get_data(as_text=True)
    when = utcnow() + dt.timedelta(days=3)
    resp = client.post(f"/delivery/contracts/{contract.id}/sessions",
                       data={"line_id": contract.lines[0].id, "scheduled_at": _local(when), "planned_audience": "45"})
    assert resp.status_code == 302
    bad = client.post(f"/delivery/contracts/{contract.id}/sessions",
                      data={"line_id": contract.lines[0].id, "scheduled_at": "明天", "planned_audience": "45"})
    assert bad.status_code == 422
    resp = client.post(f"/delivery/sessions/{held.id}/report", content_type="multipart/form-data", data={
        "actual_start": _local(held.scheduled_at), "actual_end": _local(held.scheduled_at + dt.timedelta(hours=2)),
        "attendance": "38", "notes": "顺利", "photos": [(io.BytesIO(png_bytes()), "现场.png")]})
    assert resp.status_code == 302, html_text(resp)[:400]
    session.expire_all()
    s = session.get(ServiceSession, held.id)
    assert s.state == SessionState.REPORTED and s.attendance == 38 and len(s.photos) == 1
    photo = client.get(f"/delivery/sessions/{s.id}/photos/{s.photos[0].id}")
    assert photo.status_code == 200 and photo.data.startswith(b"\x89PNG")
    detail = html_text(client.get(f"/delivery/sessions/{s.id}"))
    assert "38" in detail and f"/rate/{s.id}" in detail


def test_a_report_for_another_providers_session_is_refused_audited_and_changes_nothing(world, delivery, client,
                                                                                      login, session):
    held = world["held"]
    login(delivery.provider().user)
    session.commit()
    resp = client.post(f"/delivery/sessions/{held.id}/report", data={
        "actual_start": _local(held.scheduled_at), "actual_end": _local(held.scheduled_at + dt.timedelta(hours=1)),
        "attendance": "10"})
    assert resp.status_code == 403
    assert client.get(f"/delivery/sessions/{held.id}").status_code == 403
    session.expire_all()
    assert session.get(ServiceSession, held.id).state == SessionState.SCHEDULED
    assert len(refusals(session, "session.report")) == 1


def test_confirmation_outside_the_jurisdiction_is_refused(world, delivery, client, login, session, make_area,
                                                          district):
    held = world["held"]
    delivery.report(held)
    outsider = delivery.officer(jurisdiction=make_area("town", parent=district))
    session.commit()
    login(outsider)
    resp = client.post(f"/delivery/sessions/{held.id}/confirm", data={"acceptance_score": "90"})
    assert resp.status_code == 403
    session.expire_all()
    assert session.get(ServiceSession, held.id).state == SessionState.REPORTED
    assert len(refusals(session, "session.confirm")) == 1


def test_the_venue_officer_confirms_through_the_page(world, delivery, client, login, session):
    held = world["held"]
    delivery.report(held)
    session.commit()
    login(world["officer"])
    bad = client.post(f"/delivery/sessions/{held.id}/confirm", data={"acceptance_score": "120"})
    assert bad.status_code == 422 and "0" in html_text(bad)
    ok = client.post(f"/delivery/sessions/{held.id}/confirm", data={"acceptance_score": "88", "note": "良好"})
    assert ok.status_code == 302
    session.expire_all()
    s = session.get(ServiceSession, held.id)
    assert (s.state, s.acceptance_score) == (SessionState.CONFIRMED, 88)
    assert performance.latest_snapshot(s.provider_id).acceptance_count == 1


def test_resident_rates_through_the_page_and_comments_are_shown_escaped(world, make_user, client, login, session):
    held = world["held"]
    anonymous = client.get(f"/rate/{held.id}")
    assert anonymous.status_code == 200 and "login-to-rate" in anonymous.get_data(as_text=True)
    resident = make_user("resident")
    login(resident)
    bad = client.post(f"/rate/{held.id}", data={"content": "7", "organisation": "3", "venue": "3"})
    assert bad.status_code == 422
    assert session.scalar(select(func.count()).select_from(Rating)) == 0
    ok = client.post(f"/rate/{held.id}", data={"content": "5", "organisation": "4", "venue": "4",
                                               "attendance_code": held.attendance_code,
                                               "comment": "<script>alert('x')</script>很好"})
    assert ok.status_code == 302
    body = client.get(f"/rate/{held.id}").get_data(as_text=True)
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body and "my-rating" in body
    again = client.post(f"/rate/{held.id}", data={"content": "3", "organisation": "3", "venue": "3", "comment": ""})
    assert again.status_code == 302
    assert session.scalar(select(func.count()).select_from(Rating)) == 1


def test_rating_a_session_not_delivered_is_refused_with_a_reason(world, delivery, make_user, client, login,
                                                                session):
    from marketplace.sessions import operations as session_ops

    old = delivery.schedule(world["contract"], utcnow() - dt.timedelta(days=6))
    session_ops.record_overdue(utcnow() + dt.timedelta(days=10))
    session.commit()
    login(make_user("resident"))
    resp = client.post(f"/rate/{old.id}", data={"content": "5", "organisation": "5", "venue": "5"})
    assert resp.status_code == 409
    assert len(refusals(session, "rating.submit")) == 1


def test_poster_pdf_and_qr_code(world, client, login):
    held = world["held"]
    svg = client.get(f"/rate/{held.id}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert client.get(f"/rate/{held.id}/poster.pdf").status_code == 302  # login first
    login(world["provider"].user)
    resp = client.get(f"/rate/{held.id}/poster.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    assert held.item.name in text and f"/rate/{held.id}" in text.replace("\n", "")


def test_api_rating_with_a_resident_token(world, make_user, client, token_for, session):
    held = world["held"]
    headers = token_for(make_user("resident"))
    url = f"/api/v1/sessions/{held.id}/rating"
    bad = client.post(url, json={"content": 0, "organisation": 3, "venue": 3}, headers=headers)
    assert bad.status_code == 422 and "content" in bad.get_json()["error"]["fields"]
    created = client.post(url, json={"content": 5, "organisation": 4, "venue": 3, "comment": "好",
                                     "attendance_code": held.attendance_code}, headers=headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "counted" and body["editable_until"]
    edited = client.post(url, json={"content": 2, "organisation": 2, "venue": 2}, headers=headers)
    assert edited.status_code == 200 and edited.get_json()["id"] == body["id"]
    officer_headers = token_for(world["officer"])
    assert client.post(url, json={"content": 5, "organisation": 5, "venue": 5},
                       headers=officer_headers).status_code == 403
    assert client.post(url, json={"content": 5, "organisation": 5, "venue": 5}).status_code == 401
    assert client.post("/api/v1/sessions/999999/rating", json={"content": 5, "organisation": 5, "venue": 5},
                       headers=headers).status_code == 404


def test_api_rating_outside_the_window_is_a_conflict(world, delivery, make_user, client, token_for):
    future = delivery.schedule(world["contract"], utcnow() + dt.timedelta(days=2))
    resp = client.post(f"/api/v1/sessions/{future.id}/rating", json={"content": 5, "organisation": 5, "venue": 5},
                       headers=token_for(make_user("resident")))
    assert resp.status_code == 409 and resp.get_json()["error"]["message"]


def test_public_profile_says_no_ratings_yet_never_zero(world, client, make_user, session):
    provider = world["provider"]
    api = client.get(f"/api/v1/providers/{provider.id}").get_json()
    assert api["rating_count"] == 0 and api["satisfaction"] is None and api["grade"] is None
    text = html_text(client.get(f"/performance/providers/{provider.id}"))
    assert ("暂无评价" in text or "No ratings yet" in text) and "0/5" not in text
    from evaluation.feedback import operations as ratings

    held = world["held"]
    ratings.rate(held, make_user("resident"), {"content": 4, "organisation": 4, "venue": 4},
                 now=held.scheduled_at + dt.timedelta(hours=3), attendance_code=held.attendance_code)
    session.commit()
    api = client.get(f"/api/v1/providers/{provider.id}").get_json()
    assert api["rating_count"] == 1 and api["satisfaction"] is not None and api["grade"] in "ABCD"
    assert client.get("/api/v1/providers/999999").status_code == 404


def test_the_providers_own_page_explains_the_score_without_naming_residents(world, make_user, client, login,
                                                                             session):
    from evaluation.feedback import operations as ratings

    held = world["held"]
    resident = make_user("resident", name="王小明")
    ratings.rate(held, resident, {"content": 2, "organisation": 3, "venue": 4}, "灯光太暗",
                 now=held.scheduled_at + dt.timedelta(hours=3), attendance_code=held.attendance_code)
    session.commit()
    login(world["provider"].user)
    body = html_text(client.get("/performance/me"))
    assert "灯光太暗" in body and "王小明" not in body and resident.login not in body
    assert str(performance.latest_snapshot(world["provider"].id).score) in body


def test_item_page_charts_satisfaction(world, make_user, client, session):
    from evaluation.feedback import operations as ratings

    held = world["held"]
    ratings.rate(held, make_user("resident"), {"content": 5, "organisation": 5, "venue": 5},
                 now=held.scheduled_at + dt.timedelta(hours=3), attendance_code=held.attendance_code)
    session.commit()
    resp = client.get(f"/performance/items/{held.item_id}")
    soup = BeautifulSoup(resp.data, "html.parser")
    assert soup.select_one("[data-testid=chart] svg circle") is not None
    months = {tr.find_all("td")[0].text: [td.text for td in tr.find_all("td")[1:]]
              for tr in soup.select("[data-testid=satisfaction-by-month] tbody tr")}
    rated_month = to_local(held.scheduled_at + dt.timedelta(hours=3)).strftime("%Y-%m")
    assert len(months) == 12 and months[rated_month] == ["5.00", "1"]
    assert sum(int(n) for _m, n in months.values()) == 1
    # Demand is charted beside it, month by month.
    assert soup.select_one("[data-testid=item-demand-trend] svg") is not None
    assert len(soup.select("[data-testid=item-demand-trend] [data-testid=demand-by-month] tbody tr")) == 12


def test_rating_submission_is_rate_limited_per_resident(world, make_user, make_app, session):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_RATING="2/minute", RATELIMIT_API="1000/minute",
                       RATELIMIT_TOKEN="100/minute", RATELIMIT_LOGIN="100/minute")
    resident = make_user("resident")
    session.commit()
    c = limited.test_client()
    token = c.post("/api/v1/tokens", json={"username": resident.login, "password": "Correct-Horse-42"})
    headers = {"Authorization": "Bearer " + token.get_json()["token"]}
    url = f"/api/v1/sessions/{world['held'].id}/rating"
    code = world["held"].attendance_code
    codes = [c.post(url, json={"content": 4, "organisation": 4, "venue": 4, "attendance_code": code},
                    headers=headers).status_code
             for _ in range(3)]
    assert codes[:2] == [201, 200] and codes[2] == 429
