"""Races, with real commits from several threads through the real request path, on SQLite
(immediate transactions) and PostgreSQL (row locks).

Time is not slept: where the deadline matters, the operations read a counting clock that moves
one second per reading. Because the clock is read only while the project row is held, the k-th
holder of the lock sees start + k seconds, so the outcome of a race is exact, not statistical.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text

from core.audit import AuditEvent
from core.db import db, utcnow
from marketplace.bids import operations as bid_ops
from marketplace.bids.models import Bid, BidOpening, BidRevision, BidStatus
from marketplace.projects.models import ProjectState, PurchaseProject
from tests.support.accounts import PASSWORD

pytestmark = pytest.mark.concurrency


class CountingClock:
    """start, start + 1 s, start + 2 s, … — one step per reading, safe across threads."""

    def __init__(self, start: dt.datetime):
        self.start, self._n, self._lock = start, itertools.count(), threading.Lock()
        self.readings: list[dt.datetime] = []

    def __call__(self) -> dt.datetime:
        with self._lock:
            t = self.start + dt.timedelta(seconds=next(self._n))
            self.readings.append(t)
            return t


def run_together(jobs):
    """Start every job at the same moment; return their results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def wrap(i, job):
        barrier.wait()
        try:
            results[i] = job()
        except BaseException as e:  # surfaced to the test below
            results[i] = e

    threads = [threading.Thread(target=wrap, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def bid_body(price):
    return {"price": price, "plan": f"方案 {price}", "team": "", "conflicts": ""}


def logged_in_client(app, user):
    c = app.test_client()
    assert c.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 302
    return c


def fresh():
    db.session.rollback()
    db.session.expire_all()


def test_bids_racing_the_deadline_are_accepted_before_it_or_refused_none_lost(app, market, token_for, monkeypatch):
    officer = market.officer()
    start = utcnow().replace(microsecond=0)
    deadline = start + dt.timedelta(seconds=5, milliseconds=500)
    project = market.open_project(deadline, officer, published_at=start - dt.timedelta(days=20))
    providers = [market.provider() for _ in range(8)]
    headers = [token_for(p.user) for p in providers]
    url = f"/api/v1/projects/{project.id}/bid"
    clock = CountingClock(start)
    monkeypatch.setattr(bid_ops, "utcnow", clock)

    def submit(i):
        def job():
            r = app.test_client().post(url, json=bid_body(f"{9000 + i}.00"), headers=headers[i])
            return r.status_code, r.get_json()
        return job

    results = run_together([submit(i) for i in range(8)])
    fresh()
    accepted = [i for i, (status, _b) in enumerate(results) if status == 201]
    refused = [i for i, (status, _b) in enumerate(results) if status == 409]
    assert len(accepted) + len(refused) == 8, results
    # clock readings start+0 … start+5 fall before the deadline (start+5.5): exactly six bids
    assert len(accepted) == 6 and len(refused) == 2
    for i in refused:
        error = results[i][1]["error"]
        assert error["code"] == "deadline_passed" and "UTC" in error["message"]
    stored = db.session.scalars(select(Bid).where(Bid.project_id == project.id)).all()
    assert sorted(b.provider_id for b in stored) == sorted(providers[i].id for i in accepted)  # none lost
    assert all(b.submitted_at < deadline for b in stored)
    assert sorted(b.submitted_at for b in stored) == [start + dt.timedelta(seconds=k) for k in range(6)]
    receipts = {results[i][1]["content_hash"] for i in accepted}
    assert receipts == {r.content_hash for r in db.session.scalars(select(BidRevision))}
    refusals = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "refused.bid.submit")).all()
    assert len(refusals) == 2


def test_an_opening_racing_the_bids_contains_exactly_the_accepted_ones(app, market, token_for, monkeypatch):
    officer = market.officer()
    start = utcnow().replace(microsecond=0)
    deadline = start + dt.timedelta(seconds=4, milliseconds=500)
    project = market.open_project(deadline, officer, published_at=start - dt.timedelta(days=20))
    providers = [market.provider() for _ in range(6)]
    headers = [token_for(p.user) for p in providers]
    opener = logged_in_client(app, officer)
    monkeypatch.setattr(bid_ops, "utcnow", CountingClock(start))
    url = f"/api/v1/projects/{project.id}/bid"

    def submit(i):
        return lambda: app.test_client().post(url, json=bid_body(f"{8000 + i}.00"), headers=headers[i]).status_code

    def open_when_due():
        statuses = []
        for _ in range(40):  # each attempt reads the clock once, so this ends
            statuses.append(opener.post(f"/projects/{project.id}/open").status_code)
            if statuses[-1] == 302:
                break
        return statuses

    *bid_statuses, open_statuses = run_together([*(submit(i) for i in range(6)), open_when_due])
    fresh()
    assert set(bid_statuses) <= {201, 409}
    assert open_statuses[-1] == 302 and set(open_statuses[:-1]) <= {409}
    accepted = {providers[i].id for i, s in enumerate(bid_statuses) if s == 201}
    record = db.session.scalar(select(BidOpening).where(BidOpening.project_id == project.id))
    assert {e["provider_id"] for e in record.entries} == accepted
    live = db.session.scalars(select(Bid).where(Bid.project_id == project.id, Bid.status == BidStatus.SUBMITTED))
    assert {b.provider_id for b in live} == accepted
    assert all(b.submitted_at < deadline <= record.opened_at for b in
               db.session.scalars(select(Bid).where(Bid.project_id == project.id)))


def test_two_officers_opening_at_once_make_one_opening(app, market, make_user, monkeypatch):
    officer_a = market.officer()
    officer_b = market.officer()
    start = utcnow()
    project = market.open_project(start + dt.timedelta(hours=1), officer_a)
    for _ in range(3):
        market.bid(project, market.provider())
    clients = [logged_in_client(app, officer_a), logged_in_client(app, officer_b)]
    monkeypatch.setattr(bid_ops, "utcnow", lambda: start + dt.timedelta(hours=2))
    url = f"/projects/{project.id}/open"
    statuses = run_together([lambda c=c: c.post(url).status_code for c in clients])
    fresh()
    assert sorted(statuses) == [302, 409]
    assert len(db.session.scalars(select(BidOpening).where(BidOpening.project_id == project.id)).all()) == 1
    assert db.session.get(PurchaseProject, project.id).state == ProjectState.OPENED
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.contains("project.open")))
    actions = [e.action for e in events]
    assert sorted(actions) == ["project.open", "refused.project.open"]


def test_two_revisions_of_one_bid_at_once_keep_both_and_one_current(app, market, token_for):
    project = market.published()
    provider = market.provider()
    bid, _first = market.bid(project, provider, price="9000.00")
    h = token_for(provider.user)
    url = f"/api/v1/projects/{project.id}/bid"

    def revise(price):
        def job():
            r = app.test_client().put(url, json=bid_body(price), headers=h)
            return r.status_code, r.get_json()
        return job

    (s1, r1), (s2, r2) = run_together([revise("8100.00"), revise("8200.00")])
    fresh()
    assert (s1, s2) == (200, 200), (r1, r2)
    assert sorted([r1["revision"], r2["revision"]]) == [2, 3]
    revisions = db.session.scalars(select(BidRevision).where(BidRevision.bid_id == bid.id)
                                   .order_by(BidRevision.number)).all()
    assert [r.number for r in revisions] == [1, 2, 3]
    prices = [bid_ops.unseal_revision(r)["price"] for r in revisions]
    assert prices[0] == "9000.00" and sorted(prices[1:]) == ["8100.00", "8200.00"]
    current = db.session.get(Bid, bid.id)
    assert current.revision_no == 3
    last = r1 if r1["revision"] == 3 else r2
    assert bid_ops.current_revision(current).content_hash == last["content_hash"]


def test_one_provider_submitting_twice_at_once_gets_one_bid_and_one_refusal(app, market, token_for):
    """Once the criteria are locked, bids share the project's lock: the same provider's second
    submission at the same moment (a double click) is refused, not a server error."""
    project = market.published()
    market.bid(project, market.provider())  # the first bid locks the criteria
    provider = market.provider()
    h = token_for(provider.user)
    url = f"/api/v1/projects/{project.id}/bid"

    def submit(price):
        def job():
            r = app.test_client().post(url, json=bid_body(price), headers=h)
            return r.status_code, r.get_json()
        return job

    results = run_together([submit("8100.00"), submit("8200.00")])
    fresh()
    assert sorted(s for s, _b in results) == [201, 409], results
    refusal = next(b for s, b in results if s == 409)["error"]
    assert refusal["code"] == "conflict" and "修改原投标" in refusal["message"]  # "revise it instead"
    mine = db.session.scalars(select(Bid).where(Bid.project_id == project.id, Bid.provider_id == provider.id)).all()
    assert len(mine) == 1 and mine[0].revision_no == 1
    assert len(db.session.scalars(select(BidRevision).where(BidRevision.bid_id == mine[0].id)).all()) == 1
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
        ["bid.submit", "refused.bid.submit"]), AuditEvent.actor_id == provider.user_id)).all()
    assert sorted(e.action for e in events) == ["bid.submit", "refused.bid.submit"]


def test_a_submission_that_meets_the_bid_committed_meanwhile_is_refused_and_writes_nothing(
        app, market, monkeypatch):
    """The pair (project, provider) decides when two submissions pass the check at once: the one
    that finds the other's bid already stored is refused with the bidder's message."""
    project = market.published()
    provider = market.provider()
    market.bid(project, provider, price="9000.00")
    # As if this submission had looked before the other one committed.
    monkeypatch.setattr(bid_ops, "own_bid", lambda project, provider: None)
    data = bid_ops.BidInput(price="8000.00", plan="另一个方案")
    with pytest.raises(bid_ops.Refused) as e:
        bid_ops.submit_bid(db.session.get(PurchaseProject, project.id), provider, data, provider.user)
    assert str(e.value.message) == str(_l("You already have a bid on this project; revise it instead."))
    fresh()
    bids = db.session.scalars(select(Bid).where(Bid.project_id == project.id)).all()
    assert len(bids) == 1 and bids[0].revision_no == 1
    assert bid_ops.unseal_revision(bid_ops.current_revision(bids[0]))["price"] == "9000.00"


def _waiting_for_a_lock(engine, timeout=30.0) -> bool:
    """Whether some other session of this database waits for a lock (PostgreSQL), polled."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            n = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                  "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).scalar()
            if n:
                return True
            conn.rollback()  # pg_stat_activity is read once per transaction
            time.sleep(0.05)
    return False


def test_bids_in_flight_do_not_hold_each_other_up_but_hold_up_the_opening(app, market, token_for, monkeypatch):
    """PostgreSQL: while one bid's transaction is open, another provider's bid on the same project
    goes through; an opening waits until that transaction ends, and then contains it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row lock modes are PostgreSQL's; SQLite serialises every writer anyway")
    officer = market.officer()
    start = utcnow().replace(microsecond=0)
    project = market.open_project(start + dt.timedelta(hours=1), officer, published_at=start - dt.timedelta(days=20))
    market.bid(project, market.provider())  # criteria locked: later bids share the project's lock
    held_provider, other = market.provider(), market.provider()
    holding, release = threading.Event(), threading.Event()
    done: dict[str, object] = {}

    def held_bid():
        with app.app_context():
            bid_ops.submit_bid(db.session.get(PurchaseProject, project.id), db.session.merge(held_provider),
                               bid_ops.BidInput(price="8500.00", plan="方案"), db.session.merge(held_provider.user))
            holding.set()
            assert release.wait(60)
            db.session.commit()
            db.session.remove()

    t_held = threading.Thread(target=held_bid)
    t_held.start()
    try:
        assert holding.wait(30)
        h, url = token_for(other.user), f"/api/v1/projects/{project.id}/bid"
        t_other = threading.Thread(target=lambda: done.setdefault("other", app.test_client().post(
            url, json=bid_body("8600.00"), headers=h).status_code))
        t_other.start()
        t_other.join(30)
        assert done.get("other") == 201, "a bid waited for another bid's open transaction"

        monkeypatch.setattr(bid_ops, "utcnow", lambda: start + dt.timedelta(hours=2))
        opener, open_url = logged_in_client(app, officer), f"/projects/{project.id}/open"
        t_open = threading.Thread(target=lambda: done.setdefault("open", opener.post(open_url).status_code))
        t_open.start()
        assert _waiting_for_a_lock(db.engine), ("the opening did not wait for the bid in flight", done)
        assert "open" not in done
    finally:
        release.set()
        t_held.join(30)
    t_open.join(30)
    assert done["open"] == 302
    fresh()
    record = db.session.scalar(select(BidOpening).where(BidOpening.project_id == project.id))
    assert {held_provider.id, other.id} <= {e["provider_id"] for e in record.entries}
    assert record.bid_count == 3
