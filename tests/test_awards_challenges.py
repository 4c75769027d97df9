"""Award, publicity period and challenge window in Chinese working days (across National Day
2025), challenges and their outcomes, and the gate in front of the contract."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
import time_machine
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.errors import Forbidden, Invalid, Refused
from core.i18n import LOCAL_TZ
from evaluation.review import operations as review
from evaluation.review import scoring
from evaluation.review.models import PanelStatus, ReviewResult
from marketplace.awards import operations as award_ops
from marketplace.awards.models import AwardStatus, Challenge, ChallengeOutcome, ChallengeStatus
from marketplace.contracts import operations as contract_ops
from marketplace.contracts.models import Contract
from marketplace.projects.models import ProjectState
from tests.support import review as es
from tests.support.pages import html_text


def bj(y, mo, d, h=10, mi=0):
    """A Beijing time as aware UTC."""
    return dt.datetime(y, mo, d, h, mi, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


END = dt.time(23, 59, 59, 999999)


@pytest.fixture
def awarded(session, make_user, town):
    """Reviewed on 29 September 2025 and awarded on Tuesday 30 September 2025, 10:00 Beijing time,
    the day before the National Day holiday (1–8 October; Saturday 11 October is worked)."""
    with time_machine.travel(bj(2025, 9, 29), tick=False):
        r = es.reviewed_project(session, make_user, town)
    with time_machine.travel(bj(2025, 9, 30), tick=False):
        award = review.award_project(r["project"], r["bids"][0], "", r["officer"])
    session.commit()
    r["award"] = award
    return r


def test_publicity_and_challenge_window_skip_the_national_day_holiday(awarded):
    award = awarded["award"]
    # 1 working day: 1–8 October are holidays, so Thursday 9 October.
    assert award.publicity_ends_at == dt.datetime.combine(dt.date(2025, 10, 9), END, LOCAL_TZ).astimezone(dt.UTC)
    # 7 working days: 9, 10, 11 (make-up Saturday), 13, 14, 15, 16 October.
    assert award.challenge_deadline == dt.datetime.combine(dt.date(2025, 10, 16), END, LOCAL_TZ).astimezone(dt.UTC)
    assert awarded["project"].state == ProjectState.AWARDED
    assert award.window_open(bj(2025, 10, 16, 23, 59)) and not award.window_open(bj(2025, 10, 17, 0, 0))


def test_no_contract_during_the_window(session, awarded):
    award = awarded["award"]
    with time_machine.travel(bj(2025, 10, 16, 20), tick=False), pytest.raises(Refused) as err:
        contract_ops.generate_contract(award, awarded["officer"], start_date=dt.date(2025, 10, 20),
                                       end_date=dt.date(2025, 12, 31))
    assert "2025-10-16 23:59" in str(err.value.message)
    session.rollback()
    assert session.scalar(select(func.count(Contract.id))) == 0
    with time_machine.travel(bj(2025, 10, 17, 9), tick=False):
        contract = contract_ops.generate_contract(award, awarded["officer"], start_date=dt.date(2025, 10, 20),
                                                  end_date=dt.date(2025, 12, 31))
    assert contract.amount == D("90000.00")


def test_a_challenge_after_the_window_is_refused(session, awarded):
    bidder = awarded["bids"][1]
    with time_machine.travel(bj(2025, 10, 17, 0, 1), tick=False), pytest.raises(Refused) as err:
        award_ops.lodge_challenge(awarded["project"], bidder, "评分不公", [], bidder.provider.user)
    assert "2025-10-16" in str(err.value.message)
    session.rollback()
    assert session.scalar(select(func.count(Challenge.id))) == 0


def test_only_a_bidder_may_challenge(session, awarded, make_user):
    stranger = es.provider(session, make_user, "路人机构")
    bidder = awarded["bids"][1]
    with time_machine.travel(bj(2025, 10, 10), tick=False):
        with pytest.raises(Forbidden):
            award_ops.lodge_challenge(awarded["project"], bidder, "评分不公", [], stranger.user)
        with pytest.raises(Invalid):
            award_ops.lodge_challenge(awarded["project"], bidder, "   ", [], bidder.provider.user)


def test_a_pending_challenge_blocks_the_contract_until_answered(session, awarded):
    bidder = awarded["bids"][1]
    with time_machine.travel(bj(2025, 10, 10, 15), tick=False):
        challenge = award_ops.lodge_challenge(awarded["project"], bidder, "评分不公", [], bidder.provider.user)
    # Answer within 7 working days of Friday 10 October: 11, 13, 14, 15, 16, 17, 20 October.
    assert challenge.answer_due == dt.datetime.combine(dt.date(2025, 10, 20), END, LOCAL_TZ).astimezone(dt.UTC)
    session.commit()
    with time_machine.travel(bj(2025, 10, 17, 9), tick=False):
        assert "challenge" in award_ops.contract_refusal(awarded["award"]).lower() or \
            "质疑" in award_ops.contract_refusal(awarded["award"])
        with pytest.raises(Refused):
            contract_ops.generate_contract(awarded["award"], awarded["officer"], start_date=dt.date(2025, 10, 20),
                                           end_date=dt.date(2025, 12, 31))
        session.rollback()
        award_ops.answer_challenge(challenge, upheld=False, answer="评分依据充分，驳回。", outcome=None,
                                   actor=awarded["officer"])
        assert challenge.status == ChallengeStatus.DISMISSED
        with pytest.raises(Refused):
            award_ops.answer_challenge(challenge, upheld=True, answer="再答", outcome=ChallengeOutcome.CANCEL,
                                       actor=awarded["officer"])
        contract = contract_ops.generate_contract(awarded["award"], awarded["officer"],
                                                  start_date=dt.date(2025, 10, 20), end_date=dt.date(2025, 12, 31))
    assert contract.state.value == "pending"


def test_an_upheld_challenge_sends_the_project_back_to_review(session, awarded):
    project, panel = awarded["project"], awarded["panel"]
    bidder = awarded["bids"][1]
    with time_machine.travel(bj(2025, 10, 13), tick=False):
        challenge = award_ops.lodge_challenge(project, bidder, "专家打分存在明显错误", [], bidder.provider.user)
        with pytest.raises(Invalid):
            award_ops.answer_challenge(challenge, upheld=True, answer="成立", outcome=None, actor=awarded["officer"])
        award_ops.answer_challenge(challenge, upheld=True, answer="质疑成立，重新评审。",
                                   outcome=ChallengeOutcome.REVIEW_AGAIN, actor=awarded["officer"])
    award = awarded["award"]
    assert award.status == AwardStatus.VOID and "重新评审" in award.void_reason
    assert project.state == ProjectState.UNDER_REVIEW and project.awarded_at is None
    assert panel.status == PanelStatus.SCORING and not any(m.submitted for m in panel.members)
    first = session.get(ReviewResult, awarded["result"].id)
    assert first.superseded_at is not None
    assert review.current_result(project) is None
    assert award_ops.contract_refusal(award) is not None
    # The panel revises: the third bid is now best; they submit again and a second review is computed.
    subjective = project.criteria_of("subjective")
    with time_machine.travel(bj(2025, 10, 14), tick=False):
        result = None
        for m in sorted(panel.members, key=lambda m: m.draw_position):
            scoring.save_scores(m, awarded["bids"][2], {c.id: (30, "方案最优") for c in subjective}, m.expert.user)
            result = scoring.submit(m, m.expert.user)
        assert result.number == 2 and result.top.bid_id == awarded["bids"][2].id
        review.sign_off(panel, panel.leader, panel.leader.expert.user)
        second = review.award_project(project, awarded["bids"][2], "", awarded["officer"])
    assert second.live and project.state == ProjectState.AWARDED
    assert session.scalar(select(func.count(ReviewResult.id)).where(ReviewResult.project_id == project.id)) == 2


def test_an_upheld_challenge_may_cancel_the_project(session, awarded):
    bidder = awarded["bids"][2]
    with time_machine.travel(bj(2025, 10, 13), tick=False):
        challenge = award_ops.lodge_challenge(awarded["project"], bidder, "采购需求违法", [], bidder.provider.user)
        award_ops.answer_challenge(challenge, upheld=True, answer="采购文件存在错误，项目取消。",
                                   outcome=ChallengeOutcome.CANCEL, actor=awarded["officer"])
    assert awarded["project"].state == ProjectState.CANCELLED
    assert awarded["award"].status == AwardStatus.VOID


def test_awarding_another_bid_needs_a_public_reason(session, make_user, town, client):
    r = es.reviewed_project(session, make_user, town)
    session.commit()
    with pytest.raises(Invalid):
        review.award_project(r["project"], r["bids"][1], "  ", r["officer"])
    session.rollback()
    assert r["project"].state == ProjectState.UNDER_REVIEW
    award = review.award_project(r["project"], r["bids"][1], "第一名放弃中标资格。", r["officer"])
    assert not award.top_ranked and award.top_bid_id == r["bids"][0].id
    session.commit()
    text = html_text(client.get(f"/projects/{r['project'].id}/award"))
    assert "第一名放弃中标资格。" in text and "乙文化中心" in text
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "award.publish"))
    assert event.summary["top_ranked"] is False and event.summary["reason"] == "第一名放弃中标资格。"


def test_lodge_and_answer_through_the_pages(session, awarded, client, login, tmp_path):
    project = awarded["project"]
    bidder = awarded["bids"][1]
    with time_machine.travel(bj(2025, 10, 10), tick=False):
        login(bidder.provider.user)
        page = html_text(client.get(f"/projects/{project.id}/award"))
        assert "甲艺术团" in page
        # A file that claims to be a PDF but is not is refused and nothing is kept.
        from io import BytesIO

        resp = client.post(f"/projects/{project.id}/challenge", content_type="multipart/form-data",
                           data={"text": "评分不公", "files": [(BytesIO(b"MZ not a pdf"), "evidence.pdf")]})
        assert resp.status_code == 415  # content not of an accepted type
        assert session.scalar(select(func.count(Challenge.id))) == 0
        resp = client.post(f"/projects/{project.id}/challenge", content_type="multipart/form-data",
                           data={"text": "评分不公", "files": [(BytesIO(b"%PDF-1.4 evidence\n%%EOF\n"), "证据.pdf")]})
        assert resp.status_code == 302
        challenge = session.scalar(select(Challenge))
        assert challenge.attachments[0].content_type == "application/pdf"
        got = client.get(f"/challenges/{challenge.id}/files/{challenge.attachments[0].id}")
        assert got.status_code == 200 and got.data.startswith(b"%PDF-")
        # Another bidder may not read it.
        client.post("/logout")
        login(awarded["bids"][2].provider.user)
        assert client.get(f"/challenges/{challenge.id}").status_code == 403
        client.post("/logout")
        login(awarded["officer"])
        resp = client.post(f"/challenges/{challenge.id}", data={"decision": "dismiss", "answer": "驳回"})
        assert resp.status_code == 302
    session.refresh(challenge)
    assert challenge.status == ChallengeStatus.DISMISSED and challenge.answer == "驳回"


def test_the_officer_sees_overdue_challenges(session, awarded, client, login):
    bidder = awarded["bids"][1]
    with time_machine.travel(bj(2025, 10, 10), tick=False):
        challenge = award_ops.lodge_challenge(awarded["project"], bidder, "评分不公", [], bidder.provider.user)
        session.commit()
    with time_machine.travel(bj(2025, 10, 20, 12), tick=False):
        login(awarded["officer"])
        assert "已逾期" not in html_text(client.get("/challenges"))
    with time_machine.travel(bj(2025, 10, 21, 9), tick=False):
        login(awarded["officer"])
        text = html_text(client.get("/challenges"))
    assert "已逾期" in text and challenge.provider.name in text


def test_challenge_files_share_the_upload_check_and_store(app):
    from core import uploads
    from core.errors import Invalid
    from marketplace.awards import challenge_files
    from tests.support.files import jpeg_with_exif

    with app.app_context():
        with pytest.raises(Invalid) as refused:
            challenge_files.check_and_store([("ok.pdf", b"%PDF-1.4\n%%EOF\n"), ("x.exe", b"MZ\x90\x00")])
        assert refused.value.field == "files"
        [kept] = challenge_files.check_and_store([("../../现场照片.jpg", jpeg_with_exif())])
        assert kept["filename"] == "现场照片.jpg" and kept["content_type"] == "image/jpeg"
        stored = uploads.read(kept["sha256"])
        assert b"SecretCamera" not in stored and challenge_files.read(kept["sha256"]) == stored
