"""Rating races with real commits from several threads through the API, on SQLite (immediate
transactions) and PostgreSQL (the session row lock, and the unique constraint behind it)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.db import db, utcnow
from evaluation.feedback.models import Rating, RatingStatus
from tests.test_bids_concurrency import fresh, run_together

pytestmark = pytest.mark.concurrency


def _held(delivery, session, attendance=None):
    contract = delivery.contract(delivery.provider())
    s = delivery.schedule(contract, utcnow().replace(microsecond=0) - dt.timedelta(days=1))
    if attendance is not None:
        delivery.report(s, attendance=attendance, at=s.scheduled_at + dt.timedelta(hours=3))
    session.commit()
    return s


def test_one_resident_rating_twice_at_once_leaves_one_rating(app, delivery, session, make_user, token_for):
    s = _held(delivery, session)
    resident = make_user("resident")
    session.commit()
    headers = token_for(resident)
    url = f"/api/v1/sessions/{s.id}/rating"
    code = s.attendance_code

    def send(n):
        def job():
            r = app.test_client().post(url, json={"content": n, "organisation": n, "venue": n,
                                                  "attendance_code": code}, headers=headers)
            return r.status_code, r.get_json()
        return job

    results = run_together([send(4), send(2), send(5)])
    fresh()
    statuses = sorted(code for code, _b in results)
    assert statuses[0] in (200, 201) and set(statuses) <= {200, 201, 409}, results
    assert statuses.count(201) == 1
    rows = db.session.scalars(select(Rating).where(Rating.session_id == s.id)).all()
    assert len(rows) == 1 and rows[0].resident_id == resident.id
    # the stored stars are those of one of the requests that succeeded
    winners = {b["content"] for code, b in results if code in (200, 201)}
    assert rows[0].content in winners


def test_residents_racing_past_the_attendance_are_flagged_exactly(app, delivery, session, make_user, token_for):
    s = _held(delivery, session, attendance=3)
    residents = [make_user("resident") for _ in range(6)]
    session.commit()
    headers = [token_for(r) for r in residents]
    url = f"/api/v1/sessions/{s.id}/rating"
    code = s.attendance_code

    def send(i):
        return lambda: app.test_client().post(url, json={"content": 5, "organisation": 5, "venue": 5,
                                                         "attendance_code": code},
                                              headers=headers[i],
                                              environ_base={"REMOTE_ADDR": f"203.0.113.{i + 1}"}).status_code

    statuses = run_together([send(i) for i in range(6)])
    fresh()
    assert statuses == [201] * 6
    rows = db.session.scalars(select(Rating).where(Rating.session_id == s.id)).all()
    assert len(rows) == 6
    assert sorted(r.status for r in rows) == sorted([RatingStatus.COUNTED] * 3 + [RatingStatus.FLAGGED] * 3)
