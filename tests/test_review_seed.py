"""The review's demo data: experts with logins, and panels, scores, awards and contracts on the
projects the marketplace demo leaves in review states — idempotent, and quiet when they are missing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core.accounts.models import User
from core.db import utcnow
from evaluation.experts.models import Expert
from evaluation.review import draw
from evaluation.review.models import Panel, Score
from marketplace.awards.models import Award
from marketplace.contracts.models import Contract, ContractState
from marketplace.projects.models import ProjectState
from seeds import review as seed
from tests.support import review as es


def test_without_projects_only_experts_are_added(session, make_user):
    make_user("expert", login="expert@huimin.demo")
    lines = []
    seed.seed_demo(lines.append)
    seed.seed_demo(lines.append)
    assert session.scalar(select(func.count(Expert.id))) == len(seed.EXPERTS) + 1
    assert session.scalar(select(func.count(Panel.id))) == 0
    demo = session.scalar(select(Expert).join(User).where(User.login == "expert@huimin.demo"))
    assert demo is not None
    for e in session.scalars(select(Expert)):
        assert len(e.employer_credit_code) == 18


def test_panels_scores_awards_and_contracts_on_the_demo_projects(session, make_user, town):
    make_user("expert", login="expert@huimin.demo")
    officer = make_user("officer")
    top = es.category(session)
    es.category(session, "阅读")  # a second top category
    opened = utcnow() - dt.timedelta(days=40)
    projects = {}
    for state in (ProjectState.OPENED, ProjectState.UNDER_REVIEW, ProjectState.AWARDED, ProjectState.CONTRACTED):
        p = es.project(session, officer, town, top, state=state, opened_at=opened)
        for price in ("90000.00", "95000.00", "99000.00"):
            es.bid(session, p, es.provider(session, make_user), price)
        projects[state] = p
    session.flush()
    seed.seed_demo(lambda *_a: None)
    assert session.scalar(select(Panel.id).where(Panel.project_id == projects[ProjectState.OPENED].id)) is None
    review_panel = session.scalar(select(Panel).where(Panel.project_id == projects[ProjectState.UNDER_REVIEW].id))
    demo = session.scalar(select(Expert).join(User).where(User.login == "expert@huimin.demo"))
    member = next(m for m in review_panel.seated if m.expert_id == demo.id)
    assert not member.submitted
    assert session.scalar(select(func.count(Score.id)).where(Score.member_id == member.id)) == 0
    others = [m for m in review_panel.seated if m.expert_id != demo.id]
    assert all(session.scalar(select(func.count(Score.id)).where(Score.member_id == m.id)) == 6 for m in others)
    assert draw.rerun(review_panel)["matches"]
    for state in (ProjectState.AWARDED, ProjectState.CONTRACTED):
        award = session.scalar(select(Award).where(Award.project_id == projects[state].id))
        assert award is not None and award.live and award.score_summary["ranking"][0]["rank"] == 1
    contract = session.scalar(select(Contract).where(Contract.project_id == projects[ProjectState.CONTRACTED].id))
    assert contract.state == ContractState.ACTIVE and contract.fully_signed and contract.sessions_total == 10
    counts = [session.scalar(select(func.count(m.id))) for m in (Expert, Panel, Score, Award, Contract)]
    seed.seed_demo(lambda *_a: None)
    assert [session.scalar(select(func.count(m.id))) for m in (Expert, Panel, Score, Award, Contract)] == counts
