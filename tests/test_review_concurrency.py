"""Races in the review, with real commits from threads: two officers drawing at once make one
panel; the last two experts submitting at once compute exactly one result; two officers
awarding at once make one award."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from core.db import db, intends_to_write
from core.errors import DomainError
from evaluation.review import draw, scoring
from evaluation.review import operations as review
from evaluation.review.models import Panel, PanelMember, ReviewResult
from marketplace.awards.models import Award
from marketplace.bids.models import Bid
from marketplace.projects.models import PurchaseProject
from tests.support import review as es

pytestmark = pytest.mark.concurrency


def race(app, *jobs):
    """Run each job(session) in its own thread and transaction, all released together."""
    barrier = threading.Barrier(len(jobs))
    outcomes = []

    def run(job):
        with app.app_context(), intends_to_write():
            try:
                barrier.wait(10)
                job()
                db.session.commit()
                outcomes.append("ok")
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
            except Exception as e:
                db.session.rollback()
                outcomes.append(repr(e)[:300])
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(outcomes)


def _setup(session, make_user, town):
    officer = make_user("officer")
    cat = es.category(session)
    proj = es.project(session, officer, town, cat)
    for name, price in (("甲", "90000.00"), ("乙", "95000.00")):
        es.bid(session, proj, es.provider(session, make_user, name), price)
    for _ in range(5):
        es.expert(session, make_user, [cat])
    session.commit()
    return officer.id, proj.id


def test_two_officers_drawing_at_once_make_one_panel(app, session, make_user, town):
    officer_id, project_id = _setup(session, make_user, town)

    def job():
        from core.accounts.models import User

        draw.draw_panel(db.session.get(PurchaseProject, project_id), db.session.get(User, officer_id))

    assert race(app, job, job) == ["ok", "refused"]
    session.rollback()  # end this thread's read transaction: see what the racers committed
    assert session.scalar(select(func.count(Panel.id))) == 1


def test_the_last_two_submissions_compute_one_result_and_one_award(app, session, make_user, town):
    officer_id, project_id = _setup(session, make_user, town)
    proj = session.get(PurchaseProject, project_id)
    from core.accounts.models import User

    panel = draw.draw_panel(proj, session.get(User, officer_id), seed="race")
    subjective = proj.criteria_of("subjective")
    bids = draw.reviewing_bids(proj)
    members = sorted(panel.members, key=lambda m: m.draw_position)
    for m in members:
        draw.confirm_no_conflict(m, m.expert.user)
    for b in bids:
        scoring.record_qualification(panel.leader, b, proj.criteria_of("qualification")[0], passed=True,
                                     reason="齐全", actor=panel.leader.expert.user)
    for m in members:
        for b, value in zip(bids, (20, 18), strict=True):
            scoring.save_scores(m, b, {c.id: (value, "") for c in subjective}, m.expert.user)
    for m in members[:3]:
        scoring.submit(m, m.expert.user)
    session.commit()
    last = [m.id for m in members[3:]]

    def submit(member_id):
        def job():
            m = db.session.get(PanelMember, member_id)
            scoring.submit(m, m.expert.user)
        return job

    assert race(app, submit(last[0]), submit(last[1])) == ["ok", "ok"]
    session.rollback()
    assert session.scalar(select(func.count(ReviewResult.id))) == 1
    panel = session.get(Panel, panel.id)
    review.sign_off(panel, panel.leader, panel.leader.expert.user)
    session.commit()
    top_bid = session.scalar(select(Bid).where(Bid.project_id == project_id).order_by(Bid.price)).id

    def award():
        review.award_project(db.session.get(PurchaseProject, project_id), db.session.get(Bid, top_bid), "",
                             db.session.get(User, officer_id))

    assert race(app, award, award) == ["ok", "refused"]
    session.rollback()
    assert session.scalar(select(func.count(Award.id))) == 1
