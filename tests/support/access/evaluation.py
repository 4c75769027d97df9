"""URL arguments of the review, award, challenge and contract pages.

One awarded project (reviewed, award published, a challenge lodged, a contract written) is
made once per matrix run and shared; its provider and experts are none of the role users.
"""

from __future__ import annotations

import datetime as dt

from core.areas.models import Area, AreaLevel
from tests.support.access.registry import OBJECT_GUARDED, builds

OBJECT_GUARDED.update({
    "review.project", "review.draw_panel", "review.confirm", "review.recuse", "review.qualification",
    "review.score_bid", "review.submit", "review.sign_off", "review.award", "review.fail",
    "awards.lodge", "awards.challenge", "awards.challenge_file",
    "contracts.generate", "contracts.show", "contracts.pdf", "contracts.sign", "contracts.complete",
    "contracts.terminate", "contracts.paid",
    "experts.withdraw_conflict",
    "scorecards.card",
})


def scenario(ctx) -> dict:
    if "_evaluation" in ctx:
        return ctx["_evaluation"]
    from evaluation.experts.operations import declare_conflict
    from evaluation.review import operations as review
    from marketplace.awards import operations as award_ops
    from marketplace.awards.models import ChallengeAttachment
    from marketplace.contracts import operations as contract_ops
    from tests.support import review as es

    session, make_user = ctx["session"], ctx["make_user"]
    district = Area(code="ACC-EV-D", name="评审区", level=AreaLevel.DISTRICT, population=1)
    town = Area(code="ACC-EV-T", name="评审镇", level=AreaLevel.TOWN, population=1, parent=district)
    session.add_all([district, town])
    session.flush()
    r = es.reviewed_project(session, make_user, town)
    award = review.award_project(r["project"], r["bids"][0], "", r["officer"])
    bidder = r["bids"][1]
    challenge = award_ops.lodge_challenge(r["project"], bidder, "质疑", [], bidder.provider.user)
    challenge.attachments.append(ChallengeAttachment(filename="a.pdf", sha256="0" * 64, size=1,
                                                     content_type="application/pdf"))
    contract = contract_ops.build_contract(award, r["officer"], start_date=dt.date(2026, 1, 1),
                                           end_date=dt.date(2026, 12, 31), now=award.published_at)
    expert = r["panel"].members[0].expert
    conflict = declare_conflict(expert, credit_code=es.code(777), organisation="某机构", reason="任职",
                                actor=expert.user)
    session.flush()
    ctx["_evaluation"] = {"project": r["project"].id, "bid": r["bids"][0].id, "challenge": challenge.id,
                          "attachment": challenge.attachments[0].id, "contract": contract.id,
                          "milestone": contract.milestones[0].id, "expert": expert.id, "conflict": conflict.id}
    return ctx["_evaluation"]


@builds("project_id")
def _project(ctx):
    return scenario(ctx)["project"]


@builds("bid_id")
def _bid(ctx):
    return scenario(ctx)["bid"]


@builds("challenge_id")
def _challenge(ctx):
    return scenario(ctx)["challenge"]


@builds("attachment_id")
def _attachment(ctx):
    return scenario(ctx)["attachment"]


@builds("contract_id")
def _contract(ctx):
    return scenario(ctx)["contract"]


@builds("milestone_id")
def _milestone(ctx):
    return scenario(ctx)["milestone"]


@builds("expert_id")
def _expert(ctx):
    return scenario(ctx)["expert"]


@builds("conflict_id")
def _conflict(ctx):
    return scenario(ctx)["conflict"]
