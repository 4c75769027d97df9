"""`flask seed demo` leaves, for each step of the loop, an object ready for it, and ends with a table
that names a login for every role. The demo is seeded once for the module (committed, emptied
afterwards); a test that tries an operation on it rolls its attempt back."""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from core.accounts.models import Role, User
from core.db import db, utcnow
from evaluation.feedback import operations as feedback_ops
from evaluation.review.models import Panel, ReviewResult, Score
from marketplace.awards import operations as award_ops
from marketplace.bids.models import Bid, BidOpening, BidStatus
from marketplace.contracts import operations as contract_ops
from marketplace.contracts.models import Contract, ContractState
from marketplace.projects.models import ProjectState
from marketplace.sessions import operations as session_ops
from marketplace.sessions.models import SessionState
from seeds import demo, walkthrough
from tests.conftest import _empty_tables


@pytest.fixture(scope="module")
def seeded(app):
    with app.app_context():
        demo.run_demo(lambda *_a: None)
        db.session.commit()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            _empty_tables()


@pytest.fixture
def steps(seeded):
    with seeded.app_context():
        yield {s.key: s for s in walkthrough.steps()}
        db.session.rollback()


def _user(login: str) -> User:
    return db.session.scalar(select(User).where(User.login == login))


def test_a_project_past_its_deadline_waits_for_its_opening(steps):
    project = steps["open_bids"].obj
    assert project.bid_deadline < utcnow()
    assert project.current_state == ProjectState.CLOSED
    assert db.session.scalar(select(BidOpening.id).where(BidOpening.project_id == project.id)) is None
    assert db.session.scalar(select(func.count(Bid.id)).where(Bid.project_id == project.id,
                                                              Bid.status == BidStatus.SUBMITTED)) >= 3
    assert steps["open_bids"].login == "officer@huimin.demo"


def test_a_panel_is_half_scored_and_the_listed_expert_has_not_scored(steps):
    step = steps["score"]
    panel: Panel = step.obj
    assert panel.project.current_state == ProjectState.UNDER_REVIEW
    member = next(m for m in panel.members if m.expert.user.login == step.login)
    assert member.submitted_at is None
    assert db.session.scalar(select(func.count(Score.id)).where(Score.member_id == member.id)) == 0
    others = [m for m in panel.members if m.id != member.id]
    assert others and all(db.session.scalar(select(func.count(Score.id)).where(Score.member_id == m.id)) > 0
                          for m in others)
    assert db.session.scalar(select(ReviewResult.id).where(ReviewResult.panel_id == panel.id,
                                                           ReviewResult.signed_off_at.is_not(None))) is None


def test_an_award_whose_challenge_window_is_over_has_no_contract_yet(steps):
    award = steps["contract"].obj
    assert award.live and award.challenge_deadline < utcnow()
    assert award.project.current_state == ProjectState.AWARDED
    assert db.session.scalar(select(Contract.id).where(Contract.project_id == award.project_id)) is None
    assert award_ops.contract_refusal(award) is None  # the contract may be written now
    # Made by the review's own operations on a back-dated clock: the audit log says when.
    assert award.published_at < utcnow() - dt.timedelta(days=7)


def test_a_contract_awaits_both_signatures(steps):
    contract = steps["sign_buyer"].obj
    assert contract.state == ContractState.PENDING
    assert contract.buyer_signed_at is None and contract.provider_signed_at is None
    assert contract_ops.signing_side(contract, _user(steps["sign_buyer"].login)) == "buyer"
    assert contract_ops.signing_side(contract, _user(steps["sign_provider"].login)) == "provider"


def test_a_past_session_waits_for_its_report_and_the_provider_may_report_it(steps):
    step = steps["report"]
    s = step.obj
    now = utcnow()
    assert s.state == SessionState.SCHEDULED and s.scheduled_at < now < session_ops.missed_after(s)
    data = session_ops.ReportInput(actual_start=s.scheduled_at, actual_end=s.scheduled_at + dt.timedelta(hours=1),
                                   attendance=30, notes="")
    reported = session_ops.report_session(s, data, _user(step.login))
    assert reported.state == SessionState.REPORTED


def test_a_reported_session_waits_for_acceptance_and_the_officer_may_accept_it(steps):
    step = steps["accept"]
    s = step.obj
    assert s.state == SessionState.REPORTED and session_ops.confirm_due(s) > utcnow()
    assert session_ops.may_decide(_user(step.login), s)
    assert session_ops.confirm_session(s, 85, "", _user(step.login)).state == SessionState.CONFIRMED


def test_a_session_is_open_for_rating_by_the_listed_resident(steps):
    step = steps["rate"]
    s = step.obj
    assert s.state == SessionState.CONFIRMED and feedback_ops.window_open(s)
    resident = _user(step.login)
    assert resident.has_role(Role.RESIDENT) and feedback_ops.lives_where_held(s, resident)
    assert feedback_ops.own_rating(s, resident) is None
    code = getattr(s, "attendance_code", None)
    if code:
        assert str(code) in step.todo


def test_the_table_lists_every_role_with_a_login_that_exists(seeded):
    lines = []
    with seeded.app_context():
        demo.print_table(lines.append)
        rows = [ln.split() for ln in lines if ln.startswith("  ")][1:]
        assert {r[0] for r in rows} == {role.value for role in Role}
        for r in rows:
            user = _user(r[1])
            assert user is not None and user.has_role(Role(r[0])), r
            assert r[2].startswith("/")
    assert len(lines) <= 15


# --- the English UI has no Chinese interface text -----------------------------------------------------

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


class _InterfaceText(HTMLParser):
    """The text a page shows as its interface: data is left out — elements marked with a `lang`
    attribute (names of people, organisations, places, titles as entered), <option>s that stand
    for a row (a numeric value), scripts and styles, and the <title> (the browser's tab)."""

    SKIP = frozenset({"script", "style", "title"})
    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                      "wbr"})

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        data = bool(self.stack and self.stack[-1]) or ("lang" in a and tag != "html") or tag in self.SKIP or (
            tag == "option" and re.fullmatch(r"\d+", a.get("value") or "") is not None)
        if not data:
            self.parts += [a[k] for k in ("aria-label", "placeholder", "alt") if a.get(k)]
        if tag not in self.VOID:
            self.stack.append(data)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def _cjk_lines(html: str, names: tuple[str, ...]) -> list[str]:
    parser = _InterfaceText()
    parser.feed(html)
    out = []
    for line in " ".join(parser.parts).split("\n"):
        # The signed-in user's own name in the menu, and the switch to Chinese, which names the
        # language in itself (as every language switch does), are not interface text to translate.
        for name in (*names, "中文"):
            line = line.replace(name, "")
        if CJK.search(line):
            out.append(line.strip()[:120])
    return out


PAGES = {
    None: ["/", "/portal", "/portal/projects", "/catalog/", "/performance/model", "/opendata/", "/login",
           "/providers/register", "/api/docs"],
    "officer@huimin.demo": ["/projects/manage", "/contracts", "/delivery/", "/challenges", "/review/projects"],
    "expert@huimin.demo": ["/review/mine"],
    "provider@huimin.demo": ["/projects/my-bids", "/delivery/"],
    "13800138000": ["/demand/mine"],
    "admin@huimin.demo": ["/admin/settings", "/admin/users"],
}


def test_the_english_ui_shows_no_chinese_interface_text(seeded):
    offenders = {}
    with seeded.app_context():
        steps = {s.key: s for s in walkthrough.steps()}
        names = {login: _user(login).name for login in PAGES if login}
    project = steps["open_bids"].obj.id
    pages = {**PAGES, None: [*PAGES[None], f"/projects/{project}", f"/portal/projects/{project}"]}
    pages["officer@huimin.demo"] = [*pages["officer@huimin.demo"], steps["contract"].url, steps["sign_buyer"].url,
                                    steps["accept"].url]
    for login, urls in pages.items():
        client = seeded.test_client()
        client.set_cookie("lang", "en")
        if login:
            resp = client.post("/login", data={"login": login, "password": walkthrough.DEMO_PASSWORD})
            assert resp.status_code == 302, login
        for url in urls:
            resp = client.get(url)
            assert resp.status_code == 200, (login, url, resp.status_code)
            found = _cjk_lines(resp.get_data(as_text=True), (names.get(login, "\x00"),))
            if found:
                offenders[f"{login or 'public'} {url}"] = found[:5]
    assert not offenders, json.dumps(offenders, ensure_ascii=False, indent=1)


def test_the_demo_has_a_confirmed_falsification_and_evidence(seeded):
    """The oversight part as the demo shows it: last month's discrepancy confirmed as falsified by
    the district officer, with the suspension it proposes; the overdue supervision item's photo."""
    from evaluation.adjustment.models import AdjustmentDecision, DecisionStatus
    from evaluation.assessment.models import AssessmentVisit
    from evaluation.supervision.models import SupervisionEvidence

    with seeded.app_context():
        visits = db.session.scalars(select(AssessmentVisit).where(
            AssessmentVisit.falsification_confirmed_at.is_not(None))).all()
        assert len(visits) == 1 and visits[0].discrepancy
        decision = db.session.scalars(select(AdjustmentDecision).where(
            AdjustmentDecision.rule == "provider_falsified_report")).one()
        assert decision.status == DecisionStatus.PROPOSED
        assert decision.provider_id == visits[0].session.provider_id
        assert db.session.scalar(select(func.count()).select_from(SupervisionEvidence)) == 1
