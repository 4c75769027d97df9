"""An exception injected in the middle of each multi-step operation leaves nothing half-done.

Operations flush and never commit; the view commits when the whole succeeded, and rolls back
on any exception. Here each operation runs once per injection point: the k-th call of
`audit.record` it makes raises (every write before it has been flushed), and so does each later
helper named per operation. After the caller's rollback, every table (the audit chain included)
must be as before and no new file may be left in the upload folders. The last run, with no
failure, proves that every injection point was reached. A few operations are also driven
through their pages, which must answer 500 with the request rolled back.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import pytest
from sqlalchemy import select, update

from core import audit
from core.db import utcnow
from marketplace.bids import operations as bid_ops
from marketplace.bids.models import Bid
from marketplace.projects.models import PurchaseProject
from marketplace.providers.models import Provider, ProviderKind, ProviderStatus
from marketplace.sessions import operations as session_ops
from tests.support import review as es
from tests.test_object_access import fingerprint as _tables


class Injected(Exception):
    """The fault: raised in place of a step of an operation."""


def fingerprint(session) -> dict[str, str]:
    fp = _tables(session)
    fp["audit_events"] = repr(session.execute(select(audit.AuditEvent.seq, audit.AuditEvent.hash)
                                              .order_by(audit.AuditEvent.seq)).all())
    return fp


def _files(app) -> set[str]:
    root = Path(app.config["UPLOAD_DIR"])
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def all_or_nothing(app, session, name: str, op, helpers=()) -> int:
    """Run `op` failing at each audit record, then at each helper in turn; each time, after the
    caller's rollback, nothing may be left. Return the number of faults injected."""
    session.commit()  # the world the operation starts from is kept
    faults = 0
    point = 0
    while True:
        point += 1
        failed = _attempt(app, session, op, audit_point=point)
        if not failed:
            break
        faults += 1
    assert point > 1, f"{name}: no audit record reached"
    for owner, attr in helpers:
        assert _attempt(app, session, op, helper=(owner, attr)), f"{name}: {attr} was not called"
        faults += 1
    print(f"{name}: {faults} faults injected, nothing half-done")
    return faults


def _attempt(app, session, op, audit_point=None, helper=None) -> bool:
    before, files = fingerprint(session), _files(app)
    real = audit.record
    calls = 0

    def failing_record(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == audit_point:
            raise Injected(f"audit {args[0]}")
        return real(*args, **kwargs)

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(audit, "record", failing_record))
        if helper:
            stack.enter_context(mock.patch.object(helper[0], helper[1], side_effect=Injected(helper[1])))
        try:
            op()
        except Injected:
            failed = True
        else:
            failed = False
    session.rollback()  # what the view's error handler does
    if failed:
        where = f"audit record {audit_point}" if helper is None else helper[1]
        after = fingerprint(session)
        changed = [t for t in before if before[t] != after[t]]
        assert not changed, f"fault at {where} left rows in {changed}"
        assert _files(app) == files, f"fault at {where} left files {sorted(_files(app) - files)}"
    return failed


def _pdf() -> bytes:
    return b"%PDF-1.4\n% " + uuid.uuid4().hex.encode() + b"\n%%EOF\n"


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (6, 6), tuple(uuid.uuid4().bytes[:3])).save(out, format="PNG")
    return out.getvalue()


# --- bids and opening ----------------------------------------------------------------------------

def test_bid_submission_and_revision_with_attachments(app, session, market):
    project = market.open_project(utcnow() + dt.timedelta(days=5))
    provider = market.provider()

    def submit():
        bid_ops.submit_bid(project, provider, bid_ops.BidInput(
            price="9000.00", plan="方案", team="团队", files=[bid_ops.NewFile("a.pdf", _pdf()),
                                                          bid_ops.NewFile("b.pdf", _pdf())]), provider.user)

    assert all_or_nothing(app, session, "bid submission", submit, [(bid_ops, "_write_revision")])
    market.bid(project, provider, files=[bid_ops.NewFile("first.pdf", _pdf())])

    def revise():
        bid_ops.revise_bid(project, provider, bid_ops.BidInput(
            price="8800.00", plan="新方案", team="团队", files=[bid_ops.NewFile("c.pdf", _pdf())]), provider.user)

    assert all_or_nothing(app, session, "bid revision", revise)


def test_opening(app, session, market):
    officer = market.officer()
    project = market.open_project(utcnow() + dt.timedelta(days=5), officer=officer)
    for _ in range(3):
        market.bid(project, market.provider(), files=[bid_ops.NewFile("p.pdf", _pdf())])
    session.execute(update(PurchaseProject).where(PurchaseProject.id == project.id)
                    .values(bid_deadline=utcnow() - dt.timedelta(minutes=5)))
    assert all_or_nothing(app, session, "opening", lambda: bid_ops.open_bids(project, officer))


# --- review ------------------------------------------------------------------------------------------

def test_panel_draw(app, session, make_user, town):
    from evaluation.review import draw

    officer = make_user("officer")
    cat = es.category(session)
    proj = es.project(session, officer, town, cat)
    for p, price in zip([es.provider(session, make_user) for _ in range(3)], ("90000.00", "95000.00", "99000.00"),
                        strict=True):
        es.bid(session, proj, p, price)
    for _ in range(6):
        es.expert(session, make_user, [cat])
    assert all_or_nothing(app, session, "panel draw", lambda: draw.draw_panel(proj, officer, seed="fault"))


def test_review_submission_ranking_and_sign_off(app, session, make_user, town):
    from evaluation.review import operations as review
    from evaluation.review import ranking, scoring

    r = es.reviewed_project(session, make_user, town, sign=False)
    session.commit()
    panel = r["panel"]
    last = max(panel.members, key=lambda m: m.draw_position)
    # Take back the last member's submission so that submitting again completes the review.
    from evaluation.review.models import ReviewResult

    session.execute(ReviewResult.__table__.delete().where(ReviewResult.panel_id == panel.id))
    last.submitted_at = None
    session.flush()
    assert all_or_nothing(app, session, "review submission and ranking",
                          lambda: scoring.submit(last, last.expert.user), [(ranking, "compute")])
    scoring.submit(last, last.expert.user)
    assert all_or_nothing(app, session, "review sign-off",
                          lambda: review.sign_off(panel, panel.leader, panel.leader.expert.user))


def test_award_contract_and_signing(app, session, make_user, town):
    from evaluation.review import operations as review
    from marketplace.contracts import operations as contract_ops

    r = es.reviewed_project(session, make_user, town)
    officer = r["officer"]
    assert all_or_nothing(app, session, "award confirmation",
                          lambda: review.award_project(r["project"], r["bids"][0], "", officer))
    award = review.award_project(r["project"], r["bids"][0], "", officer)
    session.commit()

    after_window = award.challenge_deadline + dt.timedelta(days=1)

    def generate():
        return contract_ops.generate_contract(award, officer, start_date=dt.date(2026, 1, 1),
                                              end_date=dt.date(2026, 12, 31), now=after_window)

    assert all_or_nothing(app, session, "contract generation", generate, [(contract_ops, "notify")])
    contract = generate()
    contract_ops.sign(contract, officer)
    session.commit()
    provider_user = r["providers"][0].user
    assert all_or_nothing(app, session, "contract signing (activation)",
                          lambda: contract_ops.sign(contract, provider_user))


# --- delivery, ratings, performance, adjustment ------------------------------------------------------

def _session_in_force(delivery, when):
    officer = delivery.officer()
    provider = delivery.provider()
    contract = delivery.contract(provider, officer=officer, sessions=3)
    return officer, delivery.schedule(contract, when)


def test_session_report_with_photos(app, session, delivery):
    when = utcnow().replace(microsecond=0) - dt.timedelta(hours=4)
    _officer, s = _session_in_force(delivery, when)

    def report():
        data = session_ops.ReportInput(actual_start=when, actual_end=when + dt.timedelta(hours=2), attendance=30,
                                       notes="顺利", photos=[session_ops.NewPhoto("a.png", _png()),
                                                             session_ops.NewPhoto("b.png", _png())])
        session_ops.report_session(s, data, s.provider.user, now=when + dt.timedelta(hours=3))

    assert all_or_nothing(app, session, "session report with photos", report)


def test_rating_with_its_performance_update(app, session, delivery, make_user):
    from evaluation.feedback import operations as ratings
    from evaluation.performance import operations as performance

    when = utcnow().replace(microsecond=0) - dt.timedelta(days=1)
    officer, s = _session_in_force(delivery, when)
    delivery.report(s, attendance=30, at=when + dt.timedelta(hours=3))
    delivery.confirm(s, 90, officer)
    resident = make_user("resident")

    def rate():
        ratings.rate(s, resident, {"content": 5, "organisation": 4, "venue": 5}, "好", now=utcnow(),
                     attendance_code=s.attendance_code)

    assert all_or_nothing(app, session, "rating with performance update", rate,
                          [(performance, "_write"), (performance, "update_items")])


def test_adjustment_confirmation_with_its_effects(app, session, delivery, make_user, district):
    from evaluation.adjustment import operations as adjustment
    from evaluation.adjustment.models import AdjustmentDecision, DecisionAction

    provider = delivery.provider()
    officer = make_user("officer", jurisdiction=district)
    decision = AdjustmentDecision(rule="provider_grade_d", rule_version="2026.1", action=DecisionAction.SUSPEND,
                                  provider_id=provider.id, figures={"score": "50.00", "grade": "D"},
                                  proposed_at=utcnow(), due_at=utcnow() + dt.timedelta(days=14))
    session.add(decision)
    session.flush()
    assert all_or_nothing(app, session, "adjustment confirmation (suspension)",
                          lambda: adjustment.confirm(decision, officer))
    assert session.get(Provider, provider.id).status == ProviderStatus.APPROVED


def test_performance_recompute_with_snapshots(app, session, delivery, make_user):
    from evaluation.feedback import operations as ratings
    from evaluation.performance import operations as performance

    when = utcnow().replace(microsecond=0) - dt.timedelta(days=2)
    officer, s = _session_in_force(delivery, when)
    delivery.report(s, attendance=30, at=when + dt.timedelta(hours=3))
    delivery.confirm(s, 80, officer)
    ratings.rate(s, make_user("resident"), {"content": 3, "organisation": 4, "venue": 5}, "", now=utcnow(),
                 attendance_code=s.attendance_code)
    assert all_or_nothing(app, session, "performance recompute",
                          lambda: performance.recompute_all(actor=officer), [(performance, "update_items")])


# --- catalog and providers -----------------------------------------------------------------------------

def test_catalog_version_publish(app, session, make_user):
    from catalog.items import operations as ops
    from catalog.items.models import Category, ItemStatus
    from catalog.versions import operations as version_ops

    keeper = make_user("officer")
    top = Category(code="AT-C", name="原子测试类")
    session.add(top)
    session.flush()
    for n in range(2):
        item = ops.create_item({"code": f"AT-{n}", "category": top, "name": f"项目{n}", "unit": "场",
                                "price_ceiling": "100", "target_groups": ["general"], "levels": ["community"],
                                "standard_content": "内容"}, keeper)
        ops.decide_item_status(item, ItemStatus.ACTIVE, "测试", keeper)
    version = version_ops.create_version(year=2031, title="原子测试目录", actor=keeper)
    assert all_or_nothing(app, session, "catalog version publish",
                          lambda: version_ops.publish_version(version, publicity_days=1, actor=keeper))


def test_provider_approval(app, session, make_user):
    from marketplace.providers import operations as provider_ops

    owner = make_user("provider")
    provider = Provider(user_id=owner.id, name="待审艺术团", credit_code=es.code(), kind=ProviderKind.OTHER,
                        legal_representative="甲", contact_name="乙", contact_phone="1", status=ProviderStatus.PENDING)
    session.add(provider)
    session.flush()
    officer = make_user("officer")
    assert all_or_nothing(app, session, "provider approval", lambda: provider_ops.approve(provider, officer))
    assert session.get(Provider, provider.id).status == ProviderStatus.PENDING


# --- through the pages: a 500 page and the request rolled back -------------------------------------------

@pytest.fixture
def failing_app(make_app):
    """The app as deployed: unexpected exceptions become the 500 page."""
    return make_app(PROPAGATE_EXCEPTIONS=False, TESTING=False)


def _login(client, user):
    r = client.post("/login", data={"login": user.login, "password": "Correct-Horse-42"})
    assert r.status_code == 302


def _fails_cleanly(app, session, client, method, url, data, action, fault=None, status=500):
    """The request fails at the audit record `action` (or at the helper `fault`): its page
    answers `status` and every table and upload folder is as before."""
    session.commit()
    before, files = fingerprint(session), _files(app)
    real = audit.record

    def failing(name, *a, **kw):
        if name == action:
            raise Injected(name)
        return real(name, *a, **kw)

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(audit, "record", failing))
        if fault:
            stack.enter_context(mock.patch.object(fault[0], fault[1], side_effect=fault[2]))
        resp = client.open(url, method=method, data=data, content_type="multipart/form-data")
    assert resp.status_code == status, resp.status_code
    assert "Traceback" not in resp.get_data(as_text=True)
    after = fingerprint(session)
    assert [t for t in before if before[t] != after[t]] == []
    assert _files(app) == files
    return resp


def test_pages_answer_500_and_keep_nothing(failing_app, session, market, make_user):
    client = failing_app.test_client()
    officer = market.officer()
    project = market.open_project(utcnow() + dt.timedelta(days=5), officer=officer)
    provider = market.provider()
    _login(client, provider.user)
    actions = []
    real = audit.record
    with mock.patch.object(audit, "record", lambda name, *a, **kw: (actions.append(name), real(name, *a, **kw))[1]):
        probe = client.post(f"/projects/{project.id}/bid", data={
            "price": "9000.00", "plan": "方案", "team": "团队", "files": (io.BytesIO(_pdf()), "p.pdf")},
            content_type="multipart/form-data")
    assert probe.status_code in (302, 303), probe.status_code
    session.rollback()
    submit_action = actions[-1]
    # The probe committed its bid: take it back so the page meets a provider without one.
    session.execute(update(Bid).where(Bid.project_id == project.id).values(status="withdrawn"))
    other = market.provider()
    client2 = failing_app.test_client()
    _login(client2, other.user)
    _fails_cleanly(failing_app, session, client2, "POST", f"/projects/{project.id}/bid",
                   {"price": "8000.00", "plan": "方案", "team": "团队", "files": (io.BytesIO(_pdf()), "q.pdf")},
                   submit_action)
    assert session.scalar(select(Bid).where(Bid.provider_id == other.id)) is None

    pending = Provider(user_id=make_user("provider").id, name="页面待审", credit_code=es.code(),
                       kind=ProviderKind.OTHER, legal_representative="甲", contact_name="乙", contact_phone="1",
                       status=ProviderStatus.PENDING)
    session.add(pending)
    session.flush()
    client3 = failing_app.test_client()
    _login(client3, officer)
    _fails_cleanly(failing_app, session, client3, "POST", f"/providers/{pending.id}/approve", {"note": ""},
                   "provider.approve")
    assert session.get(Provider, pending.id).status == ProviderStatus.PENDING


def test_a_rolled_back_upload_leaves_no_file_and_a_shared_one_stays(app, session):
    from core import storage, uploads

    kept = uploads.store(_pdf(), uploaded_by=None, filename="kept.pdf")
    session.commit()
    kept_path = storage.get(app).path(kept.sha256)
    uploads.store(kept_path.read_bytes(), uploaded_by=None, filename="again.pdf")  # the same content, reused
    dropped = storage.get(app).path(uploads.store(_pdf(), uploaded_by=None, filename="dropped.pdf").sha256)
    assert dropped.exists()
    session.rollback()
    assert kept_path.exists() and not dropped.exists()


def test_report_and_rating_pages_fail_whole(failing_app, session, delivery, make_user):
    """A session report with photos fails at its audit record (500); a rating fails in its
    performance update with the database gone (503): neither leaves a row or a photo."""
    from sqlalchemy.exc import OperationalError

    from core.i18n import to_local
    from evaluation.performance import operations as performance
    from marketplace.sessions.models import ServiceSession, SessionState

    when = utcnow().replace(microsecond=0) - dt.timedelta(hours=4)
    _officer, s = _session_in_force(delivery, when)
    client = failing_app.test_client()
    _login(client, s.provider.user)
    local = lambda t: to_local(t).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    _fails_cleanly(failing_app, session, client, "POST", f"/delivery/sessions/{s.id}/report", {
        "actual_start": local(when), "actual_end": local(when + dt.timedelta(hours=2)), "attendance": "30",
        "notes": "顺利", "photos": [(io.BytesIO(_png()), "a.png"), (io.BytesIO(_png()), "b.png")]},
        "session.report")
    assert session.get(ServiceSession, s.id).state == SessionState.SCHEDULED

    delivery.report(s, attendance=30, at=when + dt.timedelta(hours=3))
    resident = make_user("resident")
    rater = failing_app.test_client()
    _login(rater, resident)
    gone = OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))
    resp = _fails_cleanly(failing_app, session, rater, "POST", f"/rate/{s.id}",
                          {"content": "5", "organisation": "5", "venue": "5", "comment": "好",
                           "attendance_code": s.attendance_code}, None,
                          fault=(performance, "_write", gone), status=503)
    assert resp.headers.get("Retry-After")
