"""Contracts from awards: lines, amounts and milestones; signatures by both sides; states."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from io import BytesIO

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select

from core.audit import AuditEvent
from core.errors import Forbidden, Invalid, Refused
from evaluation.review import operations as review
from marketplace.contracts import operations as contract_ops
from marketplace.contracts.models import ContractState
from marketplace.projects.models import ProjectState
from tests.support import review as es
from tests.support.pages import html_text
from tests.test_awards_challenges import bj


@pytest.fixture
def contract(session, make_user, town):
    with time_machine.travel(bj(2025, 9, 29), tick=False):
        r = es.reviewed_project(session, make_user, town)
        award = review.award_project(r["project"], r["bids"][0], "", r["officer"])
    with time_machine.travel(bj(2025, 10, 20), tick=False):
        c = contract_ops.generate_contract(award, r["officer"], start_date=dt.date(2025, 11, 1),
                                           end_date=dt.date(2025, 12, 31), terms="按目录服务标准执行")
    session.commit()
    r["contract"] = c
    return r


def test_the_contract_is_written_from_the_award(contract):
    c = contract["contract"]
    project = contract["project"]
    assert c.number == f"HT-2025-{project.id:05d}-1"
    assert (c.provider_name, c.amount, c.sessions_total) == ("甲艺术团", D("90000.00"), 10)
    assert c.buyer_area_id == project.area_id and c.provider_credit_code == contract["providers"][0].credit_code
    # The project's lines: 6 and 4 sessions at 20 000 ceiling each; the amount shared 60 : 40.
    assert [(ln.sessions, ln.amount, ln.unit_price) for ln in c.lines] == [
        (6, D("54000.00"), D("9000.00")), (4, D("36000.00"), D("9000.00"))]
    assert [ln.venue_id for ln in c.lines] == [ln.venue_id for ln in project.lines]
    assert [v.id for v in c.venues] == [ln.venue_id for ln in project.lines]
    assert [(m.percent, m.amount) for m in c.milestones] == [
        (D(30), D("27000.00")), (D(40), D("36000.00")), (D(30), D("27000.00"))]
    assert c.state == ContractState.PENDING and project.state == ProjectState.AWARDED


def test_both_sides_sign_then_it_is_in_force(session, contract, make_user):
    c, officer = contract["contract"], contract["officer"]
    provider_user = contract["providers"][0].user
    with pytest.raises(Forbidden):
        contract_ops.sign(c, contract["providers"][1].user)
    contract_ops.sign(c, provider_user)
    assert c.state == ContractState.PENDING and c.provider_signed_at is not None
    with pytest.raises(Refused):
        contract_ops.sign(c, provider_user)
    contract_ops.sign(c, officer)
    assert c.state == ContractState.ACTIVE and c.activated_at is not None
    assert contract["project"].state == ProjectState.CONTRACTED
    assert [e.summary.get("side") for e in session.scalars(
        select(AuditEvent).where(AuditEvent.action == "contract.sign").order_by(AuditEvent.seq))] == \
        ["provider", "buyer"]
    contract_ops.mark_paid(c.milestones[0], officer)
    with pytest.raises(Refused):
        contract_ops.mark_paid(c.milestones[0], officer)
    contract_ops.complete(c, officer)
    assert c.state == ContractState.COMPLETED and contract["project"].state == ProjectState.COMPLETED
    with pytest.raises(Refused):
        contract_ops.terminate(c, "太晚了", officer)


def test_termination_needs_a_reason_and_ends_the_project(session, contract):
    c, officer = contract["contract"], contract["officer"]
    with pytest.raises(Invalid):
        contract_ops.terminate(c, " ", officer)
    contract_ops.terminate(c, "承接主体无法履约", officer)
    assert c.state == ContractState.TERMINATED and c.termination_reason == "承接主体无法履约"
    assert contract["project"].state == ProjectState.CANCELLED


def test_only_one_contract_per_award(session, contract):
    with time_machine.travel(bj(2025, 10, 21), tick=False), pytest.raises(Refused):
        contract_ops.generate_contract(contract["contract"].award, contract["officer"],
                                       start_date=dt.date(2025, 11, 1), end_date=dt.date(2025, 12, 31))


def test_pages_sign_and_pdf(session, contract, client, login, make_user):
    c = contract["contract"]
    login(contract["providers"][0].user)
    assert "甲艺术团" in html_text(client.get(f"/contracts/{c.id}"))
    assert client.post(f"/contracts/{c.id}/sign").status_code == 302
    client.post("/logout")
    login(contract["providers"][1].user)
    assert client.get(f"/contracts/{c.id}").status_code == 403
    client.post("/logout")
    login(contract["officer"])
    assert client.post(f"/contracts/{c.id}/sign").status_code == 302
    session.refresh(c)
    assert c.state == ContractState.ACTIVE
    text = html_text(client.get(f"/contracts/{c.id}"))
    assert "签署" in text or "signed" in text
    pdf = client.get(f"/contracts/{c.id}.pdf")
    assert pdf.status_code == 200
    body = "".join(p.extract_text() for p in PdfReader(BytesIO(pdf.data)).pages)
    assert c.number in body and "54,000.00" in body and "甲艺术团" in body


def test_generating_from_the_page_during_the_window_is_refused(session, make_user, town, client, login):
    with time_machine.travel(bj(2025, 9, 29), tick=False):
        r = es.reviewed_project(session, make_user, town)
        review.award_project(r["project"], r["bids"][0], "", r["officer"])
        session.commit()
        login(r["officer"])
        resp = client.post(f"/projects/{r['project'].id}/contract/new",
                           data={"start_date": "2025-11-01", "end_date": "2025-12-31"})
    assert resp.status_code == 409
    assert r["project"].state == ProjectState.AWARDED
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "refused.contract.generate")) is not None


@settings(deadline=None)
@given(st.integers(1, 10**9), st.lists(st.integers(1, 10**6), min_size=1, max_size=8))
def test_split_sums_exactly(cents, weights):
    amount = D(cents) / 100
    shares = contract_ops.split(amount, [D(w) for w in weights])
    assert sum(shares) == amount and len(shares) == len(weights)
