"""Sealing: until the opening no one but the bidder reads a bid — not officers, not admins,
not the API, not exports — and the database holds only ciphertext of it."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select, text

from core.audit import AuditEvent
from core.errors import Forbidden
from marketplace.bids import operations as bid_ops
from marketplace.bids import sealing
from marketplace.bids.models import Bid, BidAttachment, BidRevision
from tests.support.accounts import PASSWORD
from tests.support.pages import html_text

PRICE = "86421.37"
PLAN = "独特的服务方案：每周六下午在社区广场举办京剧票友会"
FILE = b"%PDF-1.7 confidential-attachment-marker\n%%EOF\n"

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def sealed(market):
    """A published project with three bids; the first carries the price, plan and file we look for."""
    officer = market.officer()
    project = market.published(officer, budget="99000.00", quantity=100)
    providers = [market.provider() for _ in range(3)]
    bid, _ = market.bid(project, providers[0], price=PRICE, plan=PLAN, files=[bid_ops.NewFile("机密.pdf", FILE)])
    for p in providers[1:]:
        market.bid(project, p, price="90000.00")
    return {"project": project, "officer": officer, "providers": providers, "bid": bid}


def _login(client, user):
    client.post("/logout")
    r = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert r.status_code == 302


def _raw_rows(session, table):
    return [tuple(r) for r in session.execute(text(f"SELECT * FROM {table}"))]


def test_stored_bytes_hold_neither_price_nor_plan_nor_file(sealed, session):
    needles = [PRICE.encode(), PLAN.encode(), PLAN[:8].encode(), "机密".encode(), b"confidential-attachment-marker"]
    for table in ("bids", "bid_revisions", "bid_attachments"):
        for row in _raw_rows(session, table):
            for value in row:
                blob = value if isinstance(value, bytes | memoryview) else str(value).encode()
                blob = bytes(blob)
                for needle in needles:
                    assert needle not in blob, (table, needle)
    # and nothing readable went into the audit log
    for ev in session.scalars(select(AuditEvent)):
        dumped = json.dumps(ev.summary, ensure_ascii=False)
        assert PRICE not in dumped and PLAN[:8] not in dumped


def test_the_sealed_bytes_are_authenticated_and_bound_to_their_bid(sealed, session):
    bid = sealed["bid"]
    rev = bid_ops.current_revision(bid)
    assert bid_ops.unseal_revision(rev)["price"] == PRICE
    tampered = bytearray(rev.sealed)
    tampered[-1] ^= 1
    with pytest.raises(sealing.SealError):
        sealing.unseal(bytes(tampered), sealing.revision_context(bid.id, rev.number))
    other = session.scalar(select(BidRevision).where(BidRevision.bid_id != bid.id))
    with pytest.raises(sealing.SealError):  # ciphertext moved onto another bid does not open
        sealing.unseal(rev.sealed, sealing.revision_context(other.bid_id, other.number))


def test_key_comes_from_bid_key_else_a_file_in_instance(app, tmp_path, monkeypatch):
    path = tmp_path / "instance" / "bid_key"
    first = sealing._read_or_create_key_file(path)
    assert len(first) == 32 and oct(path.stat().st_mode & 0o777) == "0o600"
    assert sealing._read_or_create_key_file(path) == first
    with app.app_context():
        saved = app.extensions.pop("bid_keys", None)
        try:
            key = base64.b64encode(b"k" * 32).decode()
            monkeypatch.setenv("BID_KEY", key)
            blob, kid = sealing.seal(b"secret", "ctx")
            assert kid == sealing.key_id(b"k" * 32)
            app.extensions.pop("bid_keys")
            monkeypatch.setenv("BID_KEY", base64.b64encode(b"z" * 32).decode())
            with pytest.raises(sealing.SealError):  # another key cannot open it
                sealing.unseal(blob, "ctx", kid)
        finally:
            app.extensions.pop("bid_keys", None)
            if saved is not None:
                app.extensions["bid_keys"] = saved


def test_officer_and_admin_pages_show_only_the_count(sealed, client, make_user):
    project = sealed["project"]
    for user in (sealed["officer"], make_user("admin")):
        _login(client, user)
        for url in (f"/projects/{project.id}/bids", f"/projects/{project.id}", "/projects/manage",
                    f"/projects/{project.id}/bids/{sealed['bid'].id}"):
            resp = client.get(url)
            if url.endswith("/manage") and "admin" in user.roles:
                assert resp.status_code == 403
                continue
            page = html_text(resp)
            assert "86,421.37" not in page and PRICE not in page and PLAN[:8] not in page, url
            assert sealed["providers"][0].name not in page, url
        listing = html_text(client.get(f"/projects/{project.id}/bids"))
        assert "3" in listing
        assert client.get(f"/projects/{project.id}/bids/{sealed['bid'].id}").status_code == 403


def test_officer_project_page_shows_the_count(sealed, client):
    _login(client, sealed["officer"])
    body = client.get(f"/projects/{sealed['project'].id}").get_data(as_text=True)
    assert 'data-testid="officer-bid-count">3<' in body


@pytest.mark.parametrize("role", ["expert", "resident"])
def test_other_roles_cannot_reach_bids(sealed, client, make_user, role):
    _login(client, make_user(role))
    assert client.get(f"/projects/{sealed['project'].id}/bids").status_code == 403
    assert client.get(f"/api/v1/projects/{sealed['project'].id}/bids").status_code == 403


def test_another_bidder_sees_only_their_own(sealed, client, token_for):
    project, rival = sealed["project"], sealed["providers"][1]
    own = client.get(f"/api/v1/projects/{project.id}/bid", headers=token_for(rival.user)).get_json()
    assert own["price"] == "90000.00" and PLAN not in json.dumps(own, ensure_ascii=False)
    _login(client, rival.user)
    page = html_text(client.get(f"/projects/{project.id}/bid"))
    assert "90,000.00" in page and "86,421.37" not in page and PLAN[:8] not in page
    from core.db import db

    att_id = db.session.scalar(select(BidAttachment.id))  # the first bidder's file
    assert client.get(f"/projects/{project.id}/attachments/{att_id}").status_code == 403
    with pytest.raises(Forbidden, match=r"sealed|密封"):
        bid_ops.bid_content(sealed["bid"], rival.user)


def test_the_api_answers_403_before_opening(sealed, client, token_for, make_user):
    project = sealed["project"]
    for user in (sealed["officer"], make_user("admin")):
        resp = client.get(f"/api/v1/projects/{project.id}/bids", headers=token_for(user))
        assert resp.status_code == 403
        assert "开标" in resp.get_json()["error"]["message"] or "sealed" in resp.get_json()["error"]["message"]
    public = json.dumps(client.get(f"/api/v1/projects/{project.id}").get_json(), ensure_ascii=False)
    assert PRICE not in public and PLAN[:8] not in public
    listing = json.dumps(client.get("/api/v1/projects").get_json(), ensure_ascii=False)
    assert PRICE not in listing


def test_exports_leave_bids_out_until_the_opening(sealed, client):
    project = sealed["project"]
    _login(client, sealed["officer"])
    csv_text = client.get("/projects/export?format=csv").get_data(as_text=True)
    assert project.reference in csv_text and PRICE not in csv_text and sealed["providers"][0].name not in csv_text
    wb = load_workbook(io.BytesIO(client.get("/projects/export").data))
    cells = [str(c.value) for row in wb.active.iter_rows() for c in row]
    assert project.reference in cells and not any(PRICE in c for c in cells)
    with time_machine.travel(project.bid_deadline + dt.timedelta(minutes=1), tick=False):
        bid_ops.open_bids(project, sealed["officer"])
        _login(client, sealed["officer"])  # days later: the idle officer session has ended
        csv_text = client.get("/projects/export?format=csv").get_data(as_text=True)
    assert PRICE in csv_text


def test_after_opening_the_officer_reads_the_bid(sealed, session, client):
    project = sealed["project"]
    with time_machine.travel(project.bid_deadline + dt.timedelta(minutes=1), tick=False):
        bid_ops.open_bids(project, sealed["officer"])
        _login(client, sealed["officer"])
        page = html_text(client.get(f"/projects/{project.id}/bids/{sealed['bid'].id}"))
        assert PLAN in page and "86,421.37" in page
        api = client.get(f"/api/v1/projects/{project.id}/bids").get_json()["items"]
    assert PRICE in [b["price"] for b in api]
    assert session.get(Bid, sealed["bid"].id).price is not None
    assert bid_ops.opened_content(sealed["bid"])["plan"] == PLAN
