"""Demo data of the review: experts with logins, and panels, scores, results, awards and
contracts on the projects the marketplace demo left opened, under review, awarded or
contracted. Idempotent, and defensive: a project that is missing, lacks unsealed prices or
has too few eligible experts is left alone."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select

from catalog.items.models import Category
from core import uscc
from core.accounts import operations as accounts
from core.accounts.models import User
from core.db import db, utcnow
from core.errors import DomainError
from core.workdays import working_deadline
from evaluation.experts.models import Expert
from evaluation.review import draw, rules
from evaluation.review import operations as review
from evaluation.review.models import MemberStatus, Panel, QualificationCheck, Score
from marketplace.awards.models import Award
from marketplace.bids.models import BidStatus
from marketplace.contracts import operations as contract_ops
from marketplace.contracts.models import Contract, ContractState
from marketplace.projects.models import CriterionKind, ProjectState, PurchaseProject
from seeds.district import DEMO_PASSWORD
from seeds.projects import AWARDED_BY_REVIEW

# (name, title, employer, registration prefix of the employer's credit code)
EXPERTS = [
    ("张教授", "教授", "首都师范大学音乐学院", "12110000"),
    ("李研究员", "研究员", "北京市文化艺术研究所", "12110001"),
    ("王馆员", "研究馆员", "北京市群众艺术馆", "12110002"),
    ("赵老师", "副教授", "中国戏曲学院", "12110003"),
    ("刘编导", "国家一级编导", "北京歌舞剧院", "12110004"),
    ("陈馆长", "研究馆员", "北京市东城区图书馆", "12110005"),
    ("杨主任", "高级会计师", "北京京审会计师事务所", "91110006"),
    ("黄教授", "教授", "北京舞蹈学院", "12110007"),
    ("周老师", "副研究员", "北京市非物质文化遗产保护中心", "12110008"),
    ("吴馆员", "副研究馆员", "北京市通州区文化馆", "12110009"),
    ("徐导演", "国家二级导演", "北京儿童艺术剧院", "91110010"),
    ("孙律师", "律师", "北京明理律师事务所", "31110011"),
    ("胡教授", "教授", "中央美术学院", "12110012"),
    ("朱研究员", "研究员", "中国艺术研究院", "12110013"),
    ("高老师", "副教授", "北京体育大学", "12110014"),
]
DEMO_EXPERT = "expert@huimin.demo"


def credit_code(prefix: str, n: int) -> str:
    """A valid code: authority and kind from the prefix, a Beijing division, a numbered body."""
    return uscc.complete(prefix[0], prefix[1], "110000", f"MA{n:06d}")


def seed_experts(echo) -> list[Expert]:
    tops = db.session.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.code)).all()
    made = 0
    experts = []
    for i, (name, title, employer, prefix) in enumerate(EXPERTS, start=1):
        login = f"expert{i:02d}@huimin.demo"
        user = db.session.scalar(select(User).where(User.login == login))
        if user is None:
            user = accounts.create_user(login=login, name=f"评审专家 {name}", password=DEMO_PASSWORD, roles=["expert"])
        expert = db.session.scalar(select(Expert).where(Expert.user_id == user.id))
        if expert is None:
            # Each expert covers about half of the top categories, so every category has a deep pool.
            specialties = [c for j, c in enumerate(tops) if (i + j) % 2 == 0] or list(tops[:1])
            expert = Expert(user_id=user.id, name=name, title=title, employer=employer,
                            employer_credit_code=credit_code(prefix, i), phone=f"1380000{i:04d}",
                            email=login, specialties=specialties)
            db.session.add(expert)
            made += 1
        experts.append(expert)
    demo_user = db.session.scalar(select(User).where(User.login == DEMO_EXPERT))
    if demo_user is not None and db.session.scalar(select(Expert.id).where(Expert.user_id == demo_user.id)) is None:
        db.session.add(Expert(user_id=demo_user.id, name="张教授（演示）", title="教授",
                              employer="北京联合大学艺术学院", employer_credit_code=credit_code("12110099", 99),
                              specialties=list(tops), email=DEMO_EXPERT))
        made += 1
    db.session.flush()
    echo(f"experts: {made} added ({len(experts) + 1} in the demo database)")
    return experts


def _demo_expert_id() -> int | None:
    return db.session.scalar(select(Expert.id).join(User).where(User.login == DEMO_EXPERT))


def _panel_for(project, actor, now) -> Panel | None:
    """A recorded draw; the first seed "demo-<project>-<k>" that seats the demo expert is used,
    so the demo login has work (the draw stays reproducible from its record)."""
    demo = _demo_expert_id()
    chosen = None
    for k in range(200):
        seed = f"demo-{project.id}-{k}"
        _pool, candidates = draw.build_pool(project, seed, now.year, 0)
        size = rules.panel_size_for(project.budget)
        if len(candidates) < size:
            return None
        chosen = seed
        if demo is None or demo in candidates[:size]:
            break
    try:
        with db.session.begin_nested():
            return draw.make_panel(project, actor, seed=chosen, now=now)
    except DomainError:
        return None


def _score_everything(panel: Panel, rng: random.Random, now, *, submit_all: bool, skip_user: int | None):
    project = panel.project
    criteria = project.criteria_of(CriterionKind.SUBJECTIVE)
    bids = [b for b in draw.reviewing_bids(project) if b.is_valid]
    leader = panel.leader
    for m in panel.members:
        m.status, m.confirmed_at = MemberStatus.CONFIRMED, now
    for b in draw.reviewing_bids(project):
        for c in project.criteria_of(CriterionKind.QUALIFICATION):
            db.session.add(QualificationCheck(panel_id=panel.id, bid_id=b.id, criterion_id=c.id, passed=True,
                                              reason="材料齐全，符合要求", decided_by_id=leader.id, decided_at=now))
    quality = {b.id: rng.uniform(0.55, 0.9) for b in bids}
    for m in panel.members:
        if m.expert.user_id == skip_user:
            continue  # the demo expert scores for themself
        for b in bids:
            for c in criteria:
                span = c.max_score - c.min_score
                raw = c.min_score + span * Decimal(str(round(quality[b.id] + rng.uniform(-0.12, 0.12), 2)))
                value = min(max(raw.quantize(Decimal("0.5")), c.min_score), c.max_score)
                reason = "方案完整度" if value in (c.min_score, c.max_score) else ""
                db.session.add(Score(member_id=m.id, bid_id=b.id, criterion_id=c.id, score=value, reason=reason,
                                     updated_at=now))
        if submit_all:
            m.submitted_at = now
    db.session.flush()


def seed_reviews(echo):
    states = (ProjectState.UNDER_REVIEW, ProjectState.AWARDED, ProjectState.CONTRACTED, ProjectState.IN_DELIVERY,
              ProjectState.COMPLETED)
    projects = db.session.scalars(select(PurchaseProject).where(PurchaseProject.state.in_(states))
                                  .order_by(PurchaseProject.id)).all()
    done = 0
    demo_user = db.session.scalar(select(User.id).where(User.login == DEMO_EXPERT))
    for project in projects:
        if db.session.scalar(select(Panel.id).where(Panel.project_id == project.id)) is not None:
            continue
        bids = draw.reviewing_bids(project)
        if not bids or any(b.price is None for b in bids if b.status == BidStatus.SUBMITTED):
            continue
        now = project.review_started_at or project.opened_at or utcnow()
        panel = _panel_for(project, project.created_by, now)
        if panel is None:
            echo(f"review: project {project.id} skipped (too few eligible experts)")
            continue
        rng = random.Random(project.id)
        if project.state == ProjectState.UNDER_REVIEW and project.title in AWARDED_BY_REVIEW.values():
            _award_through_review(project, panel, rng, now, contract=project.title ==
                                  AWARDED_BY_REVIEW["contract_pending"])
            done += 1
            continue
        if project.state == ProjectState.UNDER_REVIEW:
            _score_everything(panel, rng, now, submit_all=False, skip_user=demo_user)
            done += 1
            continue
        _score_everything(panel, rng, now, submit_all=True, skip_user=None)
        result = review.compute_result(panel, now=now)
        review.sign_off(panel, panel.leader, panel.leader.expert.user, now=now)
        top = result.top
        if top is None:
            continue
        published = project.awarded_at or now
        award = Award(project_id=project.id, bid_id=top.bid_id, provider_id=top.provider_id, amount=top.price,
                      top_ranked=True, top_bid_id=top.bid_id, score_summary=_json(review.score_summary(result)),
                      awarded_by_id=project.created_by_id, published_at=published,
                      publicity_ends_at=working_deadline(published, 1),
                      challenge_deadline=working_deadline(published, 7))
        db.session.add(award)
        db.session.flush()
        if project.state != ProjectState.AWARDED and \
                db.session.scalar(select(Contract.id).where(Contract.project_id == project.id)) is None:
            signed = project.contracted_at or award.challenge_deadline + dt.timedelta(days=1)
            start = signed.date()
            contract = contract_ops.build_contract(award, project.created_by, start_date=start,
                                                   end_date=dt.date(start.year, 12, 31), now=signed)
            contract.buyer_signed_at, contract.buyer_signed_by_id = signed, project.created_by_id
            contract.provider_signed_at, contract.provider_signed_by_id = signed, award.provider.user_id
            contract.state, contract.activated_at = ContractState.ACTIVE, signed
            if project.state == ProjectState.COMPLETED:
                contract.state, contract.completed_at = ContractState.COMPLETED, project.completed_at or signed
            contract.milestones[0].paid_at = signed
        done += 1
    db.session.flush()
    echo(f"review: panels on {done} projects")


def _award_through_review(project: PurchaseProject, panel: Panel, rng: random.Random, now: dt.datetime, *,
                          contract: bool) -> None:
    """The review's own operations on a back-dated clock: every member scores and submits, the
    leader signs off, the officer awards the top-ranked bid a day later; the challenge window of
    that award is over by today. With `contract`, the officer then writes the contract from the
    award (after the window), and it waits for both signatures."""
    _score_everything(panel, rng, now, submit_all=True, skip_user=None)
    result = review.compute_result(panel, now=now)
    review.sign_off(panel, panel.leader, panel.leader.expert.user, now=now)
    top = result.top
    if top is None:
        return
    officer = project.created_by
    award = review.award_project(project, top.bid, "", officer, now=now + dt.timedelta(days=1))
    if contract:
        written = award.challenge_deadline + dt.timedelta(hours=2)
        start = written.date()
        contract_ops.generate_contract(award, officer, start_date=start, end_date=dt.date(start.year + 1, 12, 31),
                                       now=written)


def _json(summary):
    from core.audit import jsonable

    return jsonable(summary)


def seed_demo(echo):
    seed_experts(echo)
    seed_reviews(echo)

