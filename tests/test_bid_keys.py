"""Bid-key rotation: every sealed value records its key id; `flask keys rotate-bid-key` seals every
stored bid again under the new key in committed, audited batches, resumes after an interruption,
and bids stay sealed before the deadline throughout. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import time_machine
from sqlalchemy import select, text, update

from core.accounts.models import User
from core.audit import AuditEvent
from core.errors import Forbidden
from marketplace.bids import cli as keys
from marketplace.bids import operations as bid_ops
from marketplace.bids import sealing
from marketplace.bids.models import Bid, BidAttachment, BidRevision
from marketplace.projects.models import PurchaseProject
from tests.support.accounts import PASSWORD
from tests.support.pages import html_text

PRICE = "86421.37"
PLAN = "独特的服务方案：每周六下午在社区广场举办京剧票友会"
FILE = b"%PDF-1.7 confidential-attachment-marker\n%%EOF\n"
NEW_KEY = base64.b64encode(b"n" * 32).decode()
NEW_ID = sealing.key_id(b"n" * 32)


class Interrupted(Exception):
    """The operator's Ctrl-C, in the middle of a rotation."""


@pytest.fixture
def sealed(market, app):
    """A published project with three bids (one revised, one with two files: four revisions, two
    files), sealed under the test app's key."""
    officer = market.officer()
    project = market.published(officer, budget="99000.00", quantity=100)
    providers = [market.provider() for _ in range(3)]
    files = [bid_ops.NewFile("机密.pdf", FILE), bid_ops.NewFile("二.pdf", FILE.replace(b"1.7", b"1.6"))]
    bid, _ = market.bid(project, providers[0], price=PRICE, plan=PLAN, files=files)
    for p in providers[1:]:
        market.bid(project, p, price="90000.00")
    bid_ops.revise_bid(project, providers[1], bid_ops.BidInput(price="89000.00", plan="修订", team="团队"),
                       providers[1].user)
    market.session.commit()
    old = sealing.keyring(app).current
    # Plain values only: each app below reads the rows in a session of its own.
    return {"project_id": project.id, "deadline": project.bid_deadline, "officer_id": officer.id,
            "officer": officer.login, "bidder_id": providers[0].user.id, "bid_id": bid.id,
            "old_key": base64.b64encode(old).decode(), "old_id": sealing.key_id(old)}


def _contents(session):
    """Every sealed value opened, keyed by row: what must not change through a rotation."""
    revs = {r.id: bid_ops.unseal_revision(r) for r in session.scalars(select(BidRevision))}
    atts = {a.id: (sealing.unseal(a.name_sealed, sealing.attachment_context(a.bid_id, a.sha256, "name"), a.key_id),
                   sealing.unseal(a.data_sealed, sealing.attachment_context(a.bid_id, a.sha256, "data"), a.key_id))
            for a in session.scalars(select(BidAttachment))}
    return revs, atts


def _key_ids(session):
    return sorted([r.key_id for r in session.scalars(select(BidRevision).execution_options(populate_existing=True))]
                  + [a.key_id for a in session.scalars(select(BidAttachment)
                                                       .execution_options(populate_existing=True))])


def _assert_still_sealed(rotating, sealed, session):
    """No one but the bidder reads a bid: pages, API and the raw rows."""
    project_id, bid_id = sealed["project_id"], sealed["bid_id"]
    client = rotating.test_client()
    client.post("/login", data={"login": sealed["officer"], "password": PASSWORD})
    for url in (f"/projects/{project_id}/bids", f"/projects/{project_id}"):
        page = html_text(client.get(url))
        assert "86,421.37" not in page and PRICE not in page and PLAN[:8] not in page, url
    assert client.get(f"/projects/{project_id}/bids/{bid_id}").status_code == 403
    token = client.post("/api/v1/tokens", json={"username": sealed["officer"], "password": PASSWORD})
    resp = client.get(f"/api/v1/projects/{project_id}/bids",
                      headers={"Authorization": "Bearer " + token.get_json()["token"]})
    assert resp.status_code == 403
    with pytest.raises(Forbidden):
        bid_ops.bid_content(session.get(Bid, bid_id), session.get(User, sealed["officer_id"]))
    needles = [PRICE.encode(), PLAN[:8].encode(), "机密".encode(), b"confidential-attachment-marker"]
    for table in ("bids", "bid_revisions", "bid_attachments", "audit_events"):
        for row in session.execute(text(f"SELECT * FROM {table}")):
            for value in row:
                blob = bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                assert not any(n in blob for n in needles), table
    # The bidder still reads their own bid, whichever key it is under now.
    assert bid_ops.bid_content(session.get(Bid, bid_id), session.get(User, sealed["bidder_id"]))["price"] == PRICE


def _events(session, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)).all()


def test_a_rotation_interrupted_halfway_resumes_and_bids_stay_sealed_throughout(sealed, make_app, session):
    rotating = make_app(BID_KEY=NEW_KEY, BID_KEYS_OLD=sealed["old_key"])
    with rotating.app_context():
        before = _contents(session)
        total = len(before[0]) + len(before[1])
        assert total == 6 and _key_ids(session) == [sealed["old_id"]] * total
        assert bid_ops.pending_reseal() == {"bid_revisions": 4, "bid_attachments": 2}

        def stop_after_the_first_batch(table, count, done):
            raise Interrupted

        with pytest.raises(Interrupted):
            keys.rotate_bid_key(batch_size=2, progress=stop_after_the_first_batch)
        session.rollback()
        # Half-way: the first batch is under the new key and committed; the rest still under the old.
        ids = _key_ids(session)
        assert ids.count(NEW_ID) == 2 and ids.count(sealed["old_id"]) == total - 2
        assert bid_ops.pending_reseal() == {"bid_revisions": 2, "bid_attachments": 2}
        assert _contents(session) == before  # both keys read, nothing lost
        _assert_still_sealed(rotating, sealed, session)
        assert [e.summary["resealed"] for e in _events(session, "bid_key.rotation.progress")] == [2]
        assert _events(session, "bid_key.rotation.end") == []

        # Run again: rows already under the new key are skipped.
        result = keys.rotate_bid_key(batch_size=2)
        assert result == {"bid_revisions": 2, "bid_attachments": 2, "left": {"bid_revisions": 0,
                                                                              "bid_attachments": 0}}
        assert _key_ids(session) == [NEW_ID] * total
        assert _contents(session) == before
        _assert_still_sealed(rotating, sealed, session)

        starts = _events(session, "bid_key.rotation.start")
        assert [(s.summary["resumed"], s.summary["pending"]["bid_revisions"]) for s in starts] == [(False, 4),
                                                                                                  (True, 2)]
        assert starts[0].summary["key_id"] == NEW_ID and starts[0].summary["old_key_ids"] == [sealed["old_id"]]
        progress = [(e.summary["table"], e.summary["resealed"]) for e in _events(session, "bid_key.rotation.progress")]
        assert progress == [("bid_revisions", 2), ("bid_revisions", 2), ("bid_attachments", 2)]
        end = _events(session, "bid_key.rotation.end")
        assert len(end) == 1 and end[0].summary["left"] == {"bid_revisions": 0, "bid_attachments": 0}
        assert all(e.object_type == "bid_key" and e.object_id == NEW_ID for e in [*starts, *end])

    # Once the rotation has ended the old key is no longer needed: the new key alone reads everything.
    new_only = make_app(BID_KEY=NEW_KEY)
    with new_only.app_context():
        assert _contents(session) == before
    # ... and the old key alone reads nothing any more.
    with sealed_app_without_new_key(make_app, sealed).app_context(), pytest.raises(sealing.SealError):
        _contents(session)

    # After the deadline, the opening unseals the re-sealed bids as before.
    with new_only.app_context(), time_machine.travel(sealed["deadline"] + dt.timedelta(minutes=1), tick=False):
        opening = bid_ops.open_bids(session.get(PurchaseProject, sealed["project_id"]),
                                    session.get(User, sealed["officer_id"]))
        assert PRICE in [e["price"] for e in opening.entries]


def sealed_app_without_new_key(make_app, sealed):
    return make_app(BID_KEY=sealed["old_key"])


def test_before_the_rotation_ends_the_old_key_must_stay(sealed, make_app, session):
    """A server given the new key but not the old one cannot open what is not re-sealed yet."""
    careless = make_app(BID_KEY=NEW_KEY)
    with careless.app_context():
        with pytest.raises(sealing.SealError, match="neither BID_KEY nor in BID_KEYS_OLD"):
            bid_ops.unseal_revision(session.scalars(select(BidRevision)).first())
        # and the rotation refuses to start, naming the key it lacks, changing nothing
        with pytest.raises(keys.RotationError, match=sealed["old_id"]):
            keys.rotate_bid_key()
        assert _key_ids(session) == [sealed["old_id"]] * 6


def test_new_bids_are_sealed_under_the_current_key_and_record_its_id(sealed, make_app, market, session):
    rotating = make_app(BID_KEY=NEW_KEY, BID_KEYS_OLD=sealed["old_key"])
    with rotating.app_context():
        provider = market.provider()
        _bid, rev = market.bid(session.get(PurchaseProject, sealed["project_id"]), provider, price="70000.00")
        assert rev.key_id == NEW_ID and bid_ops.unseal_revision(rev)["price"] == "70000.00"


def test_a_legacy_value_without_a_key_id_still_opens_and_is_resealed(sealed, make_app, session):
    session.execute(update(BidRevision).where(BidRevision.bid_id == sealed["bid_id"]).values(key_id=""))
    session.commit()
    rev = session.scalars(select(BidRevision).where(BidRevision.bid_id == sealed["bid_id"])
                          .execution_options(populate_existing=True)).one()
    assert rev.key_id == "" and bid_ops.unseal_revision(rev)["price"] == PRICE  # tried with each key
    rotating = make_app(BID_KEY=NEW_KEY, BID_KEYS_OLD=sealed["old_key"])
    with rotating.app_context():
        assert bid_ops.key_ids_in_use()["bid_revisions"][""] == 1
        keys.rotate_bid_key(batch_size=50)
        rev = session.get(BidRevision, rev.id, populate_existing=True)
        assert rev.key_id == NEW_ID and bid_ops.unseal_revision(rev)["price"] == PRICE


def test_the_commands(sealed, make_app, session):
    rotating = make_app(BID_KEY=NEW_KEY, BID_KEYS_OLD=sealed["old_key"])
    runner = rotating.test_cli_runner()
    # The commands run in the app context they find: the rotating app's, as on its server.
    with rotating.app_context():
        status = runner.invoke(args=["keys", "status"])
        assert status.exit_code == 0, status.output
        assert f"current key: {NEW_ID}" in status.output
        assert f"bid_revisions: 4 under {sealed['old_id']} (old)" in status.output
        done = runner.invoke(args=["keys", "rotate-bid-key", "--batch-size", "3"])
        assert done.exit_code == 0, done.output
        assert "bid_revisions: 3 resealed" in done.output and "bid_revisions: 4 resealed" in done.output
        assert "BID_KEYS_OLD may now be removed" in done.output
        assert f"bid_attachments: 2 under {NEW_ID} (current)" in runner.invoke(args=["keys", "status"]).output
        again = runner.invoke(args=["keys", "rotate-bid-key"])  # nothing left: a second run changes nothing
        assert again.exit_code == 0 and "resealed" not in again.output
    with make_app(BID_KEY=NEW_KEY).app_context():
        alone = runner.invoke(args=["keys", "rotate-bid-key"])
        assert alone.exit_code == 0  # every row is under the current key: nothing needs the old one
    fresh = runner.invoke(args=["keys", "new-bid-key"]).output.strip()
    assert len(base64.b64decode(fresh)) == 32 and fresh != runner.invoke(args=["keys", "new-bid-key"]).output.strip()


def test_a_malformed_key_is_refused(make_app):
    bad = make_app(BID_KEY=base64.b64encode(b"short").decode())
    with bad.app_context(), pytest.raises(RuntimeError, match="32 bytes"):
        sealing.seal(b"x", "ctx")
    worse = make_app(BID_KEY=NEW_KEY, BID_KEYS_OLD="not base64!")
    with worse.app_context(), pytest.raises(RuntimeError, match="BID_KEYS_OLD"):
        sealing.seal(b"x", "ctx")


def test_a_crash_inside_a_batch_keeps_the_batches_before_it_and_nothing_of_its_own(sealed, make_app, session,
                                                                                   monkeypatch):
    rotating = make_app(BID_KEY=NEW_KEY, BID_KEYS_OLD=sealed["old_key"])
    real, calls = sealing.reseal, []

    def crash_on_the_third(*args):
        calls.append(args)
        if len(calls) == 3:
            raise Interrupted  # the process dies half-way through the second batch
        return real(*args)

    monkeypatch.setattr(sealing, "reseal", crash_on_the_third)
    with rotating.app_context():
        before = _contents(session)
        with pytest.raises(Interrupted):
            keys.rotate_bid_key(batch_size=2)
        session.rollback()
        assert _key_ids(session).count(NEW_ID) == 2  # the first batch, not the half of the second
        assert len(_events(session, "bid_key.rotation.progress")) == 1
        monkeypatch.setattr(sealing, "reseal", real)
        keys.rotate_bid_key(batch_size=2)
        assert _key_ids(session) == [NEW_ID] * 6 and _contents(session) == before


@pytest.mark.concurrency
def test_two_rotations_at_once_share_the_work_and_reseal_each_row_once(app, market, make_app):
    """Real commits from two threads (row locks skipped on PostgreSQL, the write lock on SQLite)."""
    from core import audit
    from core.db import db
    from tests.test_bids_concurrency import run_together

    officer = market.officer()
    project = market.published(officer, budget="99000.00", quantity=100)
    for i in range(6):
        market.bid(project, market.provider(), price=f"{90000 - i}.00")
    db.session.commit()
    old = base64.b64encode(sealing.keyring(app).current).decode()
    rotating = make_app(BID_KEY=NEW_KEY, BID_KEYS_OLD=old)
    with rotating.app_context():
        before = _contents(db.session)
        db.session.rollback()

    def rotate():
        with rotating.app_context():
            return keys.rotate_bid_key(batch_size=1)

    results = run_together([rotate, rotate])
    assert sum(r["bid_revisions"] for r in results) == 6
    with rotating.app_context():
        assert _key_ids(db.session) == [NEW_ID] * 6 and _contents(db.session) == before
        assert audit.verify() > 0
