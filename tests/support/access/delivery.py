"""URL arguments of the delivery, rating and performance pages.

A stranger provider (none of the role users) holds a contract in force with one session that
took place yesterday and was reported with a photo; a stranger resident rated it with a comment
and lodged a complaint; a rule proposed an adjustment for the stranger provider.
"""

import datetime as dt

from core.areas.models import Area, AreaLevel
from core.db import utcnow
from evaluation.adjustment.models import AdjustmentDecision, DecisionAction
from evaluation.feedback import operations as ratings
from marketplace.sessions import operations as session_ops
from tests.support.access.registry import OBJECT_GUARDED, builds
from tests.support.delivery import Delivery
from tests.support.files import png_bytes

OBJECT_GUARDED.update({
    # a provider role user without the contract (or without a Provider row) is refused
    "sessions.contract", "sessions.schedule", "sessions.detail", "sessions.report", "sessions.photo",
    "sessions.attendance_sheet",
    "ratings.poster", "ratings.reply", "performance.decision", "performance.appeal",
    # officers outside the venue's area, or below the district for adjustments
    "sessions.confirm", "sessions.dispute", "ratings.hide", "ratings.review", "ratings.decide_complaint",
    "performance.confirm", "performance.override", "performance.appeal_answer", "performance.recompute",
})

_cache: dict[int, dict] = {}


def _world(ctx) -> dict:
    key = id(ctx)
    if key in _cache:
        return _cache[key]
    session = ctx["session"]
    district = Area(code="ACC-DD", name="履约区", level=AreaLevel.DISTRICT, population=1)
    town = Area(code="ACC-DT", name="履约镇", level=AreaLevel.TOWN, population=1, parent=district)
    community = Area(code="ACC-DC", name="履约社区", level=AreaLevel.COMMUNITY, population=1, parent=town)
    session.add_all([district, town, community])
    session.flush()
    d = Delivery(session, ctx["make_user"], district, town, community)
    officer = d.officer(jurisdiction=district)
    provider = d.provider()
    contract = d.contract(provider, officer=officer, sessions=2)
    when = utcnow().replace(microsecond=0) - dt.timedelta(days=1)
    s = session_ops.schedule_session(contract, contract.lines[0], when, 40, provider.user,
                                     now=when - dt.timedelta(days=10))
    d.report(s, attendance=30, at=when + dt.timedelta(hours=3),
             photos=[session_ops.NewPhoto("p.png", png_bytes())])
    resident = ctx["make_user"]("resident")
    rating, _created = ratings.rate(s, resident, {"content": 4, "organisation": 4, "venue": 4}, "不错",
                                    now=when + dt.timedelta(hours=4), attendance_code=s.attendance_code)
    complaint = ratings.complain(s, resident, "迟到", now=when + dt.timedelta(hours=5))
    decision = AdjustmentDecision(rule="provider_grade_d", rule_version="2026.1", action=DecisionAction.SUSPEND,
                                  provider_id=provider.id, figures={"score": "50.00", "grade": "D"},
                                  proposed_at=utcnow(), due_at=utcnow() + dt.timedelta(days=14))
    session.add(decision)
    session.flush()
    world = {"contract": contract, "session": s, "photo": s.photos[0], "rating": rating, "complaint": complaint,
             "provider": provider, "item": contract.lines[0].item, "decision": decision}
    _cache.clear()
    _cache[key] = world
    return world


@builds("contract_id")
def _contract(ctx):
    return _world(ctx)["contract"].id


@builds("session_id")
def _session(ctx):
    return _world(ctx)["session"].id


@builds("photo_id")
def _photo(ctx):
    return _world(ctx)["photo"].id


@builds("rating_id")
def _rating(ctx):
    return _world(ctx)["rating"].id


@builds("complaint_id")
def _complaint(ctx):
    return _world(ctx)["complaint"].id


@builds("provider_id")
def _provider(ctx):
    return _world(ctx)["provider"].id


@builds("item_id")
def _item(ctx):
    return _world(ctx)["item"].id


@builds("decision_id")
def _decision(ctx):
    return _world(ctx)["decision"].id
