"""Bids: who may bid, what a bid holds, receipts, revisions and withdrawal, the deadline on
every path, attachments, and the opening (开标)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import settings
from core.audit import AuditEvent
from core.db import utcnow
from core.errors import Forbidden, Invalid, Refused
from core.notifications import Notification
from marketplace.bids import operations as bid_ops
from marketplace.bids import sealing
from marketplace.bids.models import Bid, BidAttachment, BidOpening, BidRevision, BidStatus
from marketplace.bids.operations import DeadlinePassed
from marketplace.projects.models import IllegalTransition, ProjectState
from marketplace.providers.models import ProviderStatus
from tests.support.files import jpeg_with_exif, png_bytes
from tests.support.pages import html_text
from tests.support.records import refusals

PDF = b"%PDF-1.4\n% bid attachment\n" + b"x" * 100 + b"\n%%EOF\n"
PNG = png_bytes()  # a real picture: images are decoded and re-encoded

pytestmark = pytest.mark.usefixtures("english")


def body(price="8000.00", plan="方案：每月两场演出", **kw):
    return {"price": price, "plan": plan, "team": kw.get("team", "团队"), "conflicts": kw.get("conflicts", ""),
            "attachments": kw.get("attachments", []), "keep_attachments": kw.get("keep", [])}


# --- submitting and the receipt -----------------------------------------------------------------

def test_submit_gives_a_receipt_of_time_and_content_hash(market, session):
    project = market.published()
    provider = market.provider()
    at = utcnow().replace(microsecond=0)
    with time_machine.travel(at, tick=False):
        bid, rev = market.bid(project, provider, price="8888.50", plan="演出方案",
                              files=[bid_ops.NewFile("a.pdf", PDF)])
    assert rev.submitted_at == at and bid.submitted_at == at and rev.number == 1
    expected = {"project_id": project.id, "provider_id": provider.id, "price": "8888.50", "plan": "演出方案",
                "team": "团队五人", "conflicts": "",
                "attachments": [{"sha256": hashlib.sha256(PDF).hexdigest(), "name": "a.pdf", "size": len(PDF),
                                 "content_type": "application/pdf"}]}
    canonical = sealing.canonical(expected)
    assert rev.content_hash == hashlib.sha256(canonical).hexdigest()
    assert project.criteria_locked_at == at
    assert bid.price is None  # unknown to the database until the opening
    assert [e.action for e in session.scalars(select(AuditEvent))][-1] == "bid.submit"


def test_receipt_over_the_api(market, client, token_for):
    project = market.published()
    provider = market.provider()
    resp = client.post(f"/api/v1/projects/{project.id}/bid", json=body(), headers=token_for(provider.user))
    assert resp.status_code == 201, resp.get_json()
    receipt = resp.get_json()
    assert receipt["revision"] == 1 and len(receipt["content_hash"]) == 64
    assert receipt["status"] == "submitted" and receipt["submitted_at"] and receipt["server_time"]
    own = client.get(f"/api/v1/projects/{project.id}/bid", headers=token_for(provider.user)).get_json()
    assert own["price"] == "8000.00" and own["content_hash"] == receipt["content_hash"]


@pytest.mark.parametrize("status,needle", [
    (ProviderStatus.PENDING, "Only approved providers"),
    (ProviderStatus.NEEDS_DOCUMENTS, "Only approved providers"),
    (ProviderStatus.REJECTED, "Only approved providers"),
    (ProviderStatus.SUSPENDED, "Suspended from bidding until"),
    (ProviderStatus.BLACKLISTED, "Blacklisted"),
])
def test_only_approved_providers_bid_403_with_the_reason(market, session, client, token_for, status, needle):
    project = market.published()
    extra = {"status_reason": "评价等级为D"} if status in (ProviderStatus.SUSPENDED, ProviderStatus.BLACKLISTED) else {}
    if status == ProviderStatus.SUSPENDED:
        extra["suspended_until"] = utcnow() + dt.timedelta(days=90)
    provider = market.provider(status=status, **extra)
    client.post("/lang", data={"lang": "en"})
    resp = client.post(f"/api/v1/projects/{project.id}/bid", json=body(), headers=token_for(provider.user))
    assert resp.status_code == 403
    assert needle in resp.get_json()["error"]["message"]
    if extra.get("status_reason"):
        assert "评价等级为D" in resp.get_json()["error"]["message"]
    assert session.scalar(select(func.count()).select_from(Bid)) == 0
    assert refusals(session, "bid.submit")
    # the HTML page tells the provider the same, and has no form
    from tests.support.accounts import PASSWORD

    client.post("/login", data={"login": provider.user.login, "password": PASSWORD})
    page = client.get(f"/projects/{project.id}/bid")
    assert needle in html_text(page) and 'data-testid="bid-form"' not in page.get_data(as_text=True)
    assert client.post(f"/projects/{project.id}/bid", data={"price": "1", "plan": "x"}).status_code == 403


def test_an_expired_suspension_bids_again(market):
    project = market.published()
    provider = market.provider(status=ProviderStatus.SUSPENDED, status_reason="D", suspended_until=utcnow())
    bid, _ = market.bid(project, provider)
    assert bid.is_live


def test_a_provider_role_without_registration_is_told_to_register(market, make_user, client, token_for):
    project = market.published()
    user = make_user("provider")
    client.post("/lang", data={"lang": "en"})
    resp = client.post(f"/api/v1/projects/{project.id}/bid", json=body(), headers=token_for(user))
    assert resp.status_code == 403 and "Register" in resp.get_json()["error"]["message"]


def test_price_above_budget_is_refused_and_nothing_kept(market, session, client, token_for):
    project = market.published(budget="5000.00", quantity=5)
    provider = market.provider()
    resp = client.post(f"/api/v1/projects/{project.id}/bid", json=body(price="5000.01"),
                       headers=token_for(provider.user))
    assert resp.status_code == 409
    assert "price" in resp.get_json()["error"]["fields"]
    assert session.scalar(select(func.count()).select_from(Bid)) == 0
    refusal = refusals(session, "bid.submit")[-1]
    assert "5000.00" in refusal.summary["reason"] and "5000.01" not in json.dumps(refusal.summary)
    assert project.criteria_locked_at is None
    assert client.post(f"/api/v1/projects/{project.id}/bid", json=body(price="5000.00"),
                       headers=token_for(provider.user)).status_code == 201


@pytest.mark.parametrize("price", ["0", "-5", "abc", "12.345", "NaN", "Infinity"])
def test_bad_prices(market, price):
    project = market.published()
    with pytest.raises(Invalid) as e:
        market.bid(project, market.provider(), price=price)
    assert e.value.field == "price"


def test_empty_plan_is_refused(market):
    with pytest.raises(Invalid) as e:
        market.bid(market.published(), market.provider(), plan="   ")
    assert e.value.field == "plan"


# --- one live bid, revisions, withdrawal ----------------------------------------------------------

def test_one_live_bid_per_provider_per_project(market, session, client, token_for):
    project = market.published()
    provider = market.provider()
    headers = token_for(provider.user)
    client.post("/lang", data={"lang": "en"})
    assert client.post(f"/api/v1/projects/{project.id}/bid", json=body(), headers=headers).status_code == 201
    resp = client.post(f"/api/v1/projects/{project.id}/bid", json=body(price="7000.00"), headers=headers)
    assert resp.status_code == 409 and "revise" in resp.get_json()["error"]["message"]
    assert session.scalar(select(func.count()).select_from(Bid)) == 1


def test_the_database_enforces_one_bid_per_provider(market, session):
    project = market.published()
    provider = market.provider()
    market.bid(project, provider)
    session.add(Bid(project_id=project.id, provider_id=provider.id, status=BidStatus.WITHDRAWN,
                    withdrawn_at=utcnow()))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_revise_and_withdraw_until_the_deadline_keep_every_revision(market, session, client, token_for):
    project = market.published()
    provider = market.provider()
    h = token_for(provider.user)
    url = f"/api/v1/projects/{project.id}/bid"
    pdf64 = base64.b64encode(PDF).decode()
    r1 = client.post(url, json=body(price="9000.00", attachments=[{"name": "plan.pdf", "content_base64": pdf64}]),
                     headers=h).get_json()
    r2 = client.put(url, json=body(price="8500.00", keep=[hashlib.sha256(PDF).hexdigest()]), headers=h).get_json()
    assert r2["revision"] == 2 and r2["content_hash"] != r1["content_hash"]
    assert client.delete(url, headers=h).get_json()["status"] == "withdrawn"
    assert client.put(url, json=body(), headers=h).status_code == 409  # nothing live to revise
    assert client.delete(url, headers=h).status_code == 409
    r3 = client.post(url, json=body(price="8000.00"), headers=h)
    assert r3.status_code == 201 and r3.get_json()["revision"] == 3
    bid = session.scalar(select(Bid))
    hashes = [r.content_hash for r in session.scalars(select(BidRevision).where(BidRevision.bid_id == bid.id)
                                                      .order_by(BidRevision.number))]
    assert hashes == [r1["content_hash"], r2["content_hash"], r3.get_json()["content_hash"]]
    assert bid.status == BidStatus.SUBMITTED and bid.revision_no == 3 and bid.withdrawn_at is None
    own = client.get(url, headers=h).get_json()
    assert own["price"] == "8000.00" and own["attachments"] == []
    assert [r["number"] for r in own["revisions"]] == [1, 2, 3]
    assert bid_ops.bid_content(bid, provider.user, number=2)["attachments"][0]["name"] == "plan.pdf"


def test_revision_through_the_page_keeps_attachments_unless_unticked(market, session, client, login):
    project = market.published()
    provider = market.provider()
    login(provider.user)
    from io import BytesIO

    resp = client.post(f"/projects/{project.id}/bid", data={
        "price": "9000", "plan": "方案一", "files": [(BytesIO(PDF), "方案.pdf"), (BytesIO(PNG), "photo.png")]},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    page = html_text(client.get(f"/projects/{project.id}/bid"))
    bid = session.scalar(select(Bid))
    receipt = bid_ops.current_revision(bid)
    assert receipt.content_hash in page and "方案.pdf" in page
    keep = [hashlib.sha256(PDF).hexdigest()]
    resp = client.post(f"/projects/{project.id}/bid", data={"price": "8800", "plan": "方案二", "keep": keep})
    assert resp.status_code == 302
    content = bid_ops.bid_content(bid, provider.user)
    assert content["price"] == "8800.00" and [a["name"] for a in content["attachments"]] == ["方案.pdf"]
    assert bid.revision_no == 2


# --- nothing after the deadline, on any path ------------------------------------------------------

def test_after_the_deadline_every_path_answers_409_with_the_server_time(market, session, client, token_for, login):
    project = market.published()
    provider = market.provider()
    market.bid(project, provider)
    url = f"/api/v1/projects/{project.id}/bid"
    late = project.bid_deadline + dt.timedelta(seconds=1)
    client.post("/lang", data={"lang": "en"})
    with time_machine.travel(late, tick=False):
        h = token_for(provider.user)
        stamp = late.strftime("%Y-%m-%dT%H:%M:%SZ")
        for method, kwargs in (("post", {"json": body()}), ("put", {"json": body()}), ("delete", {})):
            resp = getattr(client, method)(url, headers=h, **kwargs)
            assert resp.status_code == 409, method
            error = resp.get_json()["error"]
            assert error["code"] == "deadline_passed" and stamp in error["message"]
        login(provider.user)
        page = client.post(f"/projects/{project.id}/bid", data={"price": "1000", "plan": "迟到的方案"})
        assert page.status_code == 409 and stamp in html_text(page)
        assert client.post(f"/projects/{project.id}/bid/withdraw").status_code == 409
        # a late arrival with bad input is still refused for lateness first
        assert client.post(url, json={}, headers=h).status_code == 409
        events = refusals(session, "bid.submit") + refusals(session, "bid.revise") + refusals(session, "bid.withdraw")
        assert len(events) >= 5
        assert all("server_time" in e.summary for e in events)
    bid = session.scalar(select(Bid))
    assert bid.revision_no == 1 and bid.status == BidStatus.SUBMITTED
    # the deadline itself is already late
    with time_machine.travel(project.bid_deadline, tick=False), pytest.raises(DeadlinePassed):
        bid_ops.withdraw_bid(project, provider, provider.user)


def test_bids_on_drafts_and_cancelled_projects_are_refused(market):
    officer = market.officer()
    draft = market.draft(officer)
    with pytest.raises(Refused):
        market.bid(draft, market.provider())
    project = market.published(officer)
    from marketplace.projects import operations as project_ops

    project_ops.cancel(project, "取消", officer)
    with pytest.raises(Refused):
        market.bid(project, market.provider())


# --- attachments ----------------------------------------------------------------------------------

def test_attachment_type_is_checked_by_content(market):
    project = market.published()
    with pytest.raises(Invalid, match="PDF, JPEG or PNG"):
        market.bid(project, market.provider(), files=[bid_ops.NewFile("plan.pdf", b"<html>not a pdf</html>")])


def test_attachment_size_limit_is_a_setting(market, make_user):
    settings.change("bids.attachment_max_mb", 1, make_user("admin"))
    project = market.published()
    big = b"%PDF-" + b"0" * (1024 * 1024)
    with pytest.raises(Invalid, match="larger than 1 MB"):
        market.bid(project, market.provider(), files=[bid_ops.NewFile("big.pdf", big)])


def test_attachments_are_served_to_the_bidder_and_after_opening_to_officers(market, session, client, login):
    officer = market.officer()
    project = market.published(officer)
    providers = [market.provider() for _ in range(3)]
    market.bid(project, providers[0], files=[bid_ops.NewFile("../../etc/计划.pdf", PDF)])
    for p in providers[1:]:
        market.bid(project, p)
    att = session.scalar(select(BidAttachment))
    url = f"/projects/{project.id}/attachments/{att.id}"
    login(providers[0].user)
    resp = client.get(url)
    assert resp.status_code == 200 and resp.data == PDF
    assert "attachment;" in resp.headers["Content-Disposition"] and "etc" not in resp.headers["Content-Disposition"]
    client.post("/logout")
    login(providers[1].user)
    assert client.get(url).status_code == 403
    client.post("/logout")
    login(officer)
    assert client.get(url).status_code == 403
    with time_machine.travel(project.bid_deadline + dt.timedelta(minutes=1), tick=False):
        bid_ops.open_bids(project, officer)
        login(officer)  # days later: the idle officer session has ended
        assert client.get(url).data == PDF


# --- the opening ----------------------------------------------------------------------------------

def test_opening_before_the_deadline_is_refused(market, session, client, login):
    officer = market.officer()
    project = market.published(officer)
    login(officer)
    client.post("/lang", data={"lang": "en"})
    resp = client.post(f"/projects/{project.id}/open")
    assert resp.status_code == 409 and "Server time" in html_text(resp)
    assert refusals(session, "project.open")
    assert client.get(f"/projects/{project.id}/opening").status_code == 404
    assert client.get(f"/api/v1/projects/{project.id}/opening").status_code == 404


def test_opening_makes_the_record_public_audits_and_tells_bidders(market, session, client, login):
    officer = market.officer()
    project = market.published(officer)
    providers = [market.provider(performance_score=Decimal("88.50")) for _ in range(3)]
    prices = ["9100.00", "8700.50", "9300.00"]
    for prov, price in zip(providers, prices, strict=True):
        market.bid(project, prov, price=price)
    market.bid(project, withdrawn := market.provider())
    bid_ops.withdraw_bid(project, withdrawn, withdrawn.user)
    with time_machine.travel(project.bid_deadline + dt.timedelta(minutes=5), tick=False):
        login(officer)  # logged in after the deadline: an officer session idles out in 30 minutes
        resp = client.post(f"/projects/{project.id}/open")
        assert resp.status_code == 302
    session.refresh(project)
    assert project.state == ProjectState.OPENED and project.opened_at is not None
    record = session.scalar(select(BidOpening))
    assert record.bid_count == 3 and record.opened_by_id == officer.id
    assert [e["price"] for e in record.entries] == prices  # in order of submission
    assert {e["provider_id"] for e in record.entries} == {p.id for p in providers}
    bids = session.scalars(select(Bid).where(Bid.status == BidStatus.SUBMITTED)).all()
    assert sorted(str(b.price) for b in bids) == sorted(prices)
    assert all(b.performance_at_opening == Decimal("88.50") for b in bids)
    assert "project.open" in [e.action for e in session.scalars(select(AuditEvent))]
    told = session.scalars(select(Notification.user_id).where(Notification.subject.contains(project.title))).all()
    assert set(told) == {p.user_id for p in providers}
    client.post("/logout")
    page = html_text(client.get(f"/projects/{project.id}/opening"))
    for p in providers:
        assert p.name in page
    assert "8,700.50" in page and withdrawn.name not in page
    api = client.get(f"/api/v1/projects/{project.id}/opening").get_json()
    assert [e["price"] for e in api["entries"]] == prices and api["bid_count"] == 3
    # a second opening is illegal
    login(officer)
    assert client.post(f"/projects/{project.id}/open").status_code == 409
    assert session.scalar(select(func.count()).select_from(BidOpening)) == 1


def test_only_an_officer_of_the_jurisdiction_opens(market, make_area, district, session):
    project = market.published(market.officer(market.town))
    stranger = market.officer(make_area("town", parent=district))
    with time_machine.travel(project.bid_deadline + dt.timedelta(minutes=1), tick=False), pytest.raises(Forbidden):
        bid_ops.open_bids(project, stranger)


def test_opening_twice_raises(market):
    officer = market.officer()
    deadline = utcnow() + dt.timedelta(hours=1)
    project = market.open_project(deadline, officer)
    for _ in range(3):
        market.bid(project, market.provider())
    with time_machine.travel(deadline, tick=False):
        bid_ops.open_bids(project, officer)
        with pytest.raises(IllegalTransition):
            bid_ops.open_bids(project, officer)


def test_a_bid_found_invalid_after_opening(market, session):
    officer = market.officer()
    deadline = utcnow() + dt.timedelta(hours=1)
    project = market.open_project(deadline, officer)
    bids = [market.bid(project, market.provider())[0] for _ in range(3)]
    with pytest.raises(Refused):
        bid_ops.mark_invalid(bids[0], "缺少资质", officer)
    with time_machine.travel(deadline, tick=False):
        bid_ops.open_bids(project, officer)
    bid_ops.mark_invalid(bids[0], "缺少资质", officer)
    assert bids[0].status == BidStatus.INVALID and not bids[0].is_valid
    with pytest.raises(Invalid):
        bid_ops.mark_invalid(bids[1], " ", officer)


def test_picture_attachments_are_re_encoded_before_sealing(market, session, client, login):
    """A bid's photo goes through the one upload check: its camera metadata never reaches the seal."""
    project = market.published()
    provider = market.provider()
    original = jpeg_with_exif()
    assert b"SecretCamera" in original
    market.bid(project, provider, files=[bid_ops.NewFile("现场.jpg", original)])
    att = session.scalar(select(BidAttachment))
    assert att.content_type == "image/jpeg"
    login(provider.user)
    kept = client.get(f"/projects/{project.id}/attachments/{att.id}").data
    assert kept.startswith(b"\xff\xd8\xff") and b"SecretCamera" not in kept
    assert att.sha256 == hashlib.sha256(kept).hexdigest()
