"""The monthly sampling draw and the assignment of assessors, re-runnable from the plan's record.

How anyone re-runs a plan from its record:
1. Candidates are the month's sessions not cancelled as missed, each with its town, provider and
   category. Each candidate's key is SHA-256 of "<seed>:<session id>" (UTF-8) in hex; the candidate
   order is ascending key (session id breaks a tie).
2. The sample size is n = max(ceil(N × share ÷ 100), towns with sessions × minimum per town), at most N.
3. Pass 1, the minimum per town: for each town, its first `min_per_town` candidates in candidate order.
   Pass 2, the strata: each stratum (town, provider, category) of size s gets ceil(s × share ÷ 100)
   visits minus those already taken from it, its candidates taken in candidate order, strata in the
   order of their first candidate — while the sample is under n.
   Pass 3: if the sample is still under n, the remaining candidates in candidate order.
   The sample is listed in candidate order.
4. Assessors of agencies engaged on the month's first day, in order of SHA-256 of
   "<seed>:assessor:<assessor id>"; each visit (in sample order) goes to the assessor with the fewest
   visits so far (ties by that order) who has no conflict: the agency is the provider (same credit
   code), the assessor's other employer is the provider, or the assessor recorded a visit to the same
   provider in the previous month. A visit no assessor may take is left unassigned, on record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import defaultdict

from sqlalchemy import select

from catalog.items.models import Item
from core import periods
from core.areas.models import Area, AreaLevel, Venue
from core.db import db
from core.i18n import to_local
from evaluation.assessment.models import AssessmentAgency, AssessmentPlan, AssessmentVisit, Assessor, VisitStatus
from marketplace.providers.models import Provider
from marketplace.sessions.models import ServiceSession, SessionState

AGENCY_IS_PROVIDER = "agency_is_provider"
SAME_EMPLOYER = "same_employer"
VISITED_LAST_MONTH = "visited_last_month"


def draw_key(seed: str, session_id: int) -> str:
    return hashlib.sha256(f"{seed}:{session_id}".encode()).hexdigest()


def assessor_key(seed: str, assessor_id: int) -> str:
    return hashlib.sha256(f"{seed}:assessor:{assessor_id}".encode()).hexdigest()


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    y, m = int(month[:4]), int(month[5:7])
    nxt = periods.month_key(y + (m == 12), 1 if m == 12 else m + 1)
    return periods.month_start(month), periods.month_start(nxt)


def previous_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return periods.month_key(y - (m == 1), 12 if m == 1 else m - 1)


def candidates_for(month: str, seed: str) -> list[dict]:
    """The month's sessions with their strata, in candidate order."""
    start, end = month_bounds(month)
    rows = db.session.execute(
        select(ServiceSession.id, Area.level, Area.id, Area.parent_id, ServiceSession.provider_id, Item.category_id)
        .join(Venue, Venue.id == ServiceSession.venue_id).join(Area, Area.id == Venue.area_id)
        .join(Item, Item.id == ServiceSession.item_id)
        .where(ServiceSession.scheduled_at >= start, ServiceSession.scheduled_at < end,
               ServiceSession.state != SessionState.MISSED)).all()
    out = []
    for sid, level, area_id, parent_id, provider_id, category_id in rows:
        town = area_id if level == AreaLevel.TOWN else parent_id if level == AreaLevel.COMMUNITY else area_id
        out.append({"session_id": sid, "key": draw_key(seed, sid), "town_id": town, "provider_id": provider_id,
                    "category_id": category_id})
    out.sort(key=lambda c: (c["key"], c["session_id"]))
    return out


def sample_size(n: int, towns: int, share: int, min_per_town: int) -> int:
    return min(n, max(math.ceil(n * share / 100), towns * min_per_town))


def select_sample(candidates: list[dict], share: int, min_per_town: int) -> list[int]:
    """The sampled session ids, in candidate order (steps 2–3 of the module's description)."""
    towns: dict[int, list[dict]] = defaultdict(list)
    strata: dict[tuple, list[dict]] = defaultdict(list)
    for c in candidates:
        towns[c["town_id"]].append(c)
        strata[(c["town_id"], c["provider_id"], c["category_id"])].append(c)
    n = sample_size(len(candidates), len(towns), share, min_per_town)
    chosen: set[int] = set()
    for members in towns.values():
        for c in members[:min_per_town]:
            chosen.add(c["session_id"])
    for members in strata.values():
        if len(chosen) >= n:
            break
        quota = math.ceil(len(members) * share / 100)
        have = sum(1 for c in members if c["session_id"] in chosen)
        for c in members:
            if have >= quota or len(chosen) >= n:
                break
            if c["session_id"] not in chosen:
                chosen.add(c["session_id"])
                have += 1
    for c in candidates:
        if len(chosen) >= n:
            break
        chosen.add(c["session_id"])
    return [c["session_id"] for c in candidates if c["session_id"] in chosen]


def eligible_assessors(month: str, seed: str) -> list[Assessor]:
    first_day = dt.date(int(month[:4]), int(month[5:7]), 1)
    rows = db.session.scalars(select(Assessor).join(AssessmentAgency).where(
        Assessor.active.is_(True), AssessmentAgency.engaged_from <= first_day,
        AssessmentAgency.engaged_until >= first_day)).all()
    return sorted(rows, key=lambda a: (assessor_key(seed, a.id), a.id))


def visited_last_month(month: str) -> set[tuple[int, int]]:
    """(assessor id, provider id) of visits recorded in the month before."""
    start, end = month_bounds(previous_month(month))
    rows = db.session.execute(select(AssessmentVisit.assessor_id, ServiceSession.provider_id)
                              .join(ServiceSession, ServiceSession.id == AssessmentVisit.session_id)
                              .where(AssessmentVisit.status == VisitStatus.RECORDED,
                                     AssessmentVisit.recorded_at >= start, AssessmentVisit.recorded_at < end))
    return {(a, p) for a, p in rows if a is not None}


def conflict(assessor: Assessor, provider_code: str, provider_id: int, recent: set) -> str | None:
    if assessor.agency.credit_code == provider_code:
        return AGENCY_IS_PROVIDER
    if assessor.employer_credit_code and assessor.employer_credit_code == provider_code:
        return SAME_EMPLOYER
    if (assessor.id, provider_id) in recent:
        return VISITED_LAST_MONTH
    return None


def assign(sample: list[int], by_session: dict[int, dict], assessors: list[Assessor], month: str) -> list[dict]:
    """[{session_id, assessor_id or None, skipped: [{assessor_id, reason}]}] in sample order."""
    recent = visited_last_month(month)
    codes = dict(db.session.execute(select(Provider.id, Provider.credit_code).where(
        Provider.id.in_({by_session[s]["provider_id"] for s in sample}))).all()) if sample else {}
    load = {a.id: 0 for a in assessors}
    rank = {a.id: i for i, a in enumerate(assessors)}
    out = []
    for sid in sample:
        pid = by_session[sid]["provider_id"]
        skipped, chosen = [], None
        for a in sorted(assessors, key=lambda a: (load[a.id], rank[a.id])):
            reason = conflict(a, codes.get(pid, ""), pid, recent)
            if reason:
                skipped.append({"assessor_id": a.id, "reason": reason})
                continue
            chosen = a
            break
        if chosen is not None:
            load[chosen.id] += 1
        out.append({"session_id": sid, "assessor_id": chosen.id if chosen else None, "skipped": skipped})
    return out


def rerun(plan: AssessmentPlan) -> dict:
    """Re-run the draw from the plan's record: whether keys, order and sample match."""
    recorded = plan.candidates
    keys_ok = all(c["key"] == draw_key(plan.seed, c["session_id"]) for c in recorded)
    order = sorted(recorded, key=lambda c: (draw_key(plan.seed, c["session_id"]), c["session_id"]))
    sample = select_sample(order, plan.share_percent, plan.min_per_town)
    return {"sample": sample, "matches": keys_ok and [c["session_id"] for c in order] ==
            [c["session_id"] for c in recorded] and sample == list(plan.sample)}


def local_month_of(moment: dt.datetime) -> str:
    local = to_local(moment)
    return periods.month_key(local.year, local.month)
