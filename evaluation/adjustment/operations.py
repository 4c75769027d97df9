"""Dynamic adjustment (动态调整): published, versioned rules that turn scores into decisions.

Each firing of a rule becomes a proposed AdjustmentDecision with the rule's version, the figures
behind it and a plain-language explanation. It takes effect when an officer of the district
confirms it (or sets it aside with a reason), or by itself after the set number of days
(`flask evaluation apply-due`, and whenever the decision pages load). Providers are told and may
appeal; a pending appeal holds the automatic effect until it is answered.

Effects reach the lower modules through one function each: `suspend_provider` / `lift_suspension`
(marketplace's provider operations) and `set_item_status` (the catalog's item status decision).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from catalog.demand import operations as demand_ops
from catalog.items import operations as item_ops
from catalog.items.models import Item, ItemStatus
from core import audit, periods, settings
from core.accounts.models import Role, User
from core.areas.models import AreaLevel
from core.db import db, lock_row, utcnow
from core.errors import Forbidden, Invalid, Refused
from core.i18n import fmt_date
from core.notifications import notify
from evaluation.adjustment.models import AdjustmentDecision, AppealStatus, DecisionAction, DecisionStatus
from evaluation.feedback.models import Rating, RatingStatus
from evaluation.performance import operations as performance
from evaluation.performance.models import PerformanceSnapshot
from marketplace.providers import operations as provider_ops
from marketplace.providers.models import Provider, ProviderStatus

AUTO_DAYS = settings.define("adjustment.auto_apply_days", 14,
                            _l("A proposed adjustment takes effect by itself after this many days"), int, 1, 180)
SUSPEND_MONTHS = settings.define("adjustment.suspension_months", 6,
                                 _l("Grade D: months of suspension from bidding"), int, 1, 60)
WATCH_BELOW = settings.define("adjustment.watch_below", Decimal("3.5"),
                              _l("Items: satisfaction under which an item goes on watch (1–5)"), Decimal, 1, 5)
WATCH_MIN_RATINGS = settings.define("adjustment.watch_min_ratings", 30,
                                    _l("Items: fewest ratings in 12 months for the watch rule"), int, 1, 10000)
BUDGET_SATISFACTION = settings.define("adjustment.budget_satisfaction", Decimal("4.2"),
                                      _l("Items: satisfaction from which a wanted item is flagged for more budget"),
                                      Decimal, 1, 5)
BUDGET_MIN_RATINGS = settings.define("adjustment.budget_min_ratings", 10,
                                     _l("Items: fewest ratings in 12 months for the more-budget rule"), int, 1, 10000)
APPEAL_DAYS = settings.define("adjustment.appeal_days", 15,
                              _l("Days a provider has to appeal an adjustment"), int, 1, 90)
SETTINGS = (AUTO_DAYS, SUSPEND_MONTHS, WATCH_BELOW, WATCH_MIN_RATINGS, BUDGET_SATISFACTION, BUDGET_MIN_RATINGS,
            APPEAL_DAYS)
PERIOD_DAYS = 365


@dataclass(frozen=True)
class Rule:
    key: str
    version: str
    action: DecisionAction
    subject: str  # "provider" or "item"
    statement: object  # the published rule, in words


RULES = {r.key: r for r in (
    Rule("provider_grade_d", "2026.1", DecisionAction.SUSPEND, "provider",
         _l("A provider whose performance grade is D (score under 60) is suspended from bidding for the set "
            "number of months (6 by default).")),
    Rule("provider_falsified_report", "2026.1", DecisionAction.SUSPEND, "provider",
         _l("A provider whose session report a third-party assessor found falsified (confirmed by an officer of "
            "the district) is suspended from bidding for the set number of months (6 by default).")),
    Rule("provider_grade_c_twice", "2026.1", DecisionAction.WARN, "provider",
         _l("A provider graded C in two recomputations running receives a written warning.")),
    Rule("item_low_satisfaction", "2026.1", DecisionAction.WATCH, "item",
         _l("An active item whose residents' satisfaction over the last 12 months is under 3.5 of 5, from at least "
            "30 ratings, is put on watch: no new purchase projects start from it.")),
    Rule("item_second_low_period", "2026.1", DecisionAction.RETIRE, "item",
         _l("An item on watch whose satisfaction stays under 3.5 from at least 30 ratings during the 12 months after "
            "it went on watch is retired from the catalog.")),
    Rule("item_recovered", "2026.1", DecisionAction.RESTORE, "item",
         _l("An item on watch that does not meet the low-satisfaction condition over the 12 months after it went "
            "on watch returns to active.")),
    Rule("item_wanted_and_liked", "2026.1", DecisionAction.MORE_BUDGET, "item",
         _l("An active item in the top quarter of residents' demand over the last 12 months, with satisfaction of "
            "at least 4.2 from at least 10 ratings, is flagged for more budget.")),
)}


# --- the boundaries to lower modules ----------------------------------------------------------
# Effects go through the lower modules' own operations, so each keeps its rule and its audit.

def suspend_provider(provider: Provider, until: dt.datetime, reason: str, actor) -> Provider:
    """The one place a rule suspends a provider from bidding."""
    return provider_ops.suspend(provider, until, reason, actor)


def lift_suspension(provider: Provider, reason: str, actor) -> Provider:
    return provider_ops.lift(provider, actor, reason)


def set_item_status(item: Item, new_status: ItemStatus, reason: str, actor, rule: str | None = None):
    """The one place a rule changes a catalog item's status: the catalog's own decision (it keeps the
    revision and shows why)."""
    return item_ops.decide_item_status(item, new_status, reason, actor, rule=rule)


# --- explanations ------------------------------------------------------------------------------

def explain(d: AdjustmentDecision) -> str:
    """The decision in plain words, from its stored figures (in the reader's language)."""
    f = d.figures or {}
    if d.rule == "provider_grade_d":
        return _("The performance score is %(score)s (grade %(grade)s): satisfaction %(sat)s/5 from %(n)s ratings, "
                 "acceptance %(acc)s, on-time reporting %(punct)s%%, %(compl)s upheld complaints. A grade D "
                 "suspends from bidding for %(months)s months.", score=f.get("score"), grade=f.get("grade"),
                 sat=f.get("satisfaction"), n=f.get("rating_count"), acc=f.get("acceptance"),
                 punct=f.get("punctuality"), compl=f.get("complaints_upheld"), months=f.get("months"))
    if d.rule == "provider_falsified_report":
        return _("Session %(session)s was reported with %(reported)s attendees and an acceptance score of "
                 "%(acceptance)s; the third-party assessor counted %(counted)s and scored %(score)s. The "
                 "falsification was confirmed: suspension from bidding for %(months)s months.",
                 session=f.get("session"), reported=f.get("reported_attendance"), acceptance=f.get("acceptance_score"),
                 counted=f.get("counted_attendance"), score=f.get("assessment_score"), months=f.get("months"))
    if d.rule == "provider_grade_c_twice":
        return _("Graded C in two recomputations running (scores %(first)s and %(second)s): a written warning. "
                 "A grade D would suspend from bidding.", first=f.get("previous_score"), second=f.get("score"))
    if d.rule == "item_low_satisfaction":
        return _("Residents' satisfaction over the last 12 months is %(sat)s/5 from %(n)s ratings, under %(limit)s: "
                 "the item goes on watch and starts no new purchase projects.", sat=f.get("satisfaction"),
                 n=f.get("rating_count"), limit=f.get("threshold"))
    if d.rule == "item_second_low_period":
        return _("In the 12 months on watch satisfaction stayed at %(sat)s/5 from %(n)s ratings, under %(limit)s: "
                 "the item is retired from the catalog.", sat=f.get("satisfaction"), n=f.get("rating_count"),
                 limit=f.get("threshold"))
    if d.rule == "item_recovered":
        return _("In the 12 months on watch satisfaction was %(sat)s/5 from %(n)s ratings: the item returns to "
                 "active.", sat=f.get("satisfaction") or "—", n=f.get("rating_count"))
    if d.rule == "item_wanted_and_liked":
        return _("Demand of %(demand)s over 12 months puts the item in the top quarter (from %(cutoff)s), and "
                 "satisfaction is %(sat)s/5 from %(n)s ratings: flagged for more budget.", demand=f.get("demand"),
                 cutoff=f.get("cutoff"), sat=f.get("satisfaction"), n=f.get("rating_count"))
    return ""


def rule_of(d: AdjustmentDecision) -> Rule | None:
    return RULES.get(d.rule)


# --- proposing ---------------------------------------------------------------------------------

def _open_decision(rule: str, provider_id=None, item_id=None, since=None) -> bool:
    """A proposal of this rule for this subject is pending (or, with `since`, was made since then)."""
    stmt = select(AdjustmentDecision.id).where(AdjustmentDecision.rule == rule)
    stmt = stmt.where(AdjustmentDecision.provider_id == provider_id) if provider_id else \
        stmt.where(AdjustmentDecision.item_id == item_id)
    if since is not None:
        stmt = stmt.where(AdjustmentDecision.proposed_at >= since)
    else:
        stmt = stmt.where(AdjustmentDecision.status == DecisionStatus.PROPOSED)
    return db.session.scalar(stmt.limit(1)) is not None


def _propose(rule_key: str, now: dt.datetime, figures: dict, provider: Provider | None = None,
             item: Item | None = None, snapshot_id: int | None = None) -> AdjustmentDecision:
    rule = RULES[rule_key]
    d = AdjustmentDecision(rule=rule.key, rule_version=rule.version, action=rule.action,
                           provider_id=provider.id if provider else None, item_id=item.id if item else None,
                           figures=audit.jsonable(figures), snapshot_id=snapshot_id, proposed_at=now,
                           due_at=now + dt.timedelta(days=settings.get(AUTO_DAYS.key)),
                           status=DecisionStatus.PROPOSED)
    db.session.add(d)
    db.session.flush()
    audit.record("adjustment.propose", d, actor=None, rule=rule.key, version=rule.version, effect=rule.action,
                 subject=(provider.id if provider else item.id), figures=d.figures)
    if provider is not None:
        notify(provider.user_id, _l("Proposed: %(action)s", action=rule.action.label), explain(d),
               f"/performance/decisions/{d.id}")
    for officer in district_officers():
        notify(officer, _l("An adjustment waits for confirmation: %(action)s", action=rule.action.label),
               explain(d), f"/performance/decisions/{d.id}")
    return d


def propose_for_falsification(provider: Provider, now: dt.datetime, figures: dict) -> AdjustmentDecision | None:
    """A confirmed falsification (third-party assessment) proposes a suspension, unless one is pending."""
    if _open_decision("provider_falsified_report", provider_id=provider.id):
        return None
    return _propose("provider_falsified_report", now, figures | {"months": settings.get(SUSPEND_MONTHS.key)},
                    provider=provider)


def district_officers() -> list[User]:
    from core.areas.models import Area

    users = db.session.scalars(select(User).join(Area, Area.id == User.jurisdiction_id).where(
        Area.level == AreaLevel.DISTRICT, User.active.is_(True))).all()
    return [u for u in users if u.has_role(Role.OFFICER)]


def _snapshot_figures(s: PerformanceSnapshot) -> dict:
    return {"score": s.score, "grade": s.grade, "satisfaction": s.satisfaction.quantize(Decimal("0.01")),
            "rating_count": s.rating_count, "acceptance": s.acceptance.quantize(Decimal("0.1")),
            "punctuality": s.punctuality.quantize(Decimal("0.1")), "complaints_upheld": s.complaints_upheld,
            "snapshot_id": s.id, "model": s.model_version}


def _last_recomputes(limit: int = 2) -> dict[int, list[PerformanceSnapshot]]:
    """The latest full-recompute snapshots of every provider (newest first), in one query."""
    rn = func.row_number().over(partition_by=PerformanceSnapshot.provider_id,
                                order_by=(PerformanceSnapshot.computed_at.desc(), PerformanceSnapshot.id.desc()))
    inner = select(PerformanceSnapshot.id, rn.label("rn")).where(PerformanceSnapshot.trigger == "recompute").subquery()
    rows = db.session.scalars(select(PerformanceSnapshot).join(inner, inner.c.id == PerformanceSnapshot.id)
                              .where(inner.c.rn <= limit)
                              .order_by(PerformanceSnapshot.provider_id, inner.c.rn)).all()
    out: dict[int, list[PerformanceSnapshot]] = {}
    for s in rows:
        out.setdefault(s.provider_id, []).append(s)
    return out


def evaluate(now: dt.datetime | None = None) -> list[AdjustmentDecision]:
    """Run every rule on the current figures; return the new proposals."""
    now = now or utcnow()
    made = []
    latest = _last_recomputes()
    providers = {p.id: p for p in db.session.scalars(select(Provider).where(Provider.id.in_(list(latest))))}
    for pid, snaps in sorted(latest.items()):
        provider, last = providers[pid], snaps[0]
        if provider.grade == "D" and last.grade == "D" and provider.bidding_refusal(now) is None \
                and not _open_decision("provider_grade_d", provider_id=pid):
            figures = _snapshot_figures(last) | {"months": settings.get(SUSPEND_MONTHS.key)}
            made.append(_propose("provider_grade_d", now, figures, provider=provider, snapshot_id=last.id))
        if len(snaps) == 2 and snaps[0].grade == snaps[1].grade == "C" \
                and not _open_decision("provider_grade_c_twice", provider_id=pid, since=snaps[1].computed_at):
            figures = _snapshot_figures(last) | {"previous_score": snaps[1].score,
                                                 "previous_snapshot_id": snaps[1].id}
            made.append(_propose("provider_grade_c_twice", now, figures, provider=provider, snapshot_id=last.id))
    made += _item_rules(now)
    return made


def _item_rules(now: dt.datetime) -> list[AdjustmentDecision]:
    made = []
    limit = Decimal(settings.get(WATCH_BELOW.key))
    min_n = settings.get(WATCH_MIN_RATINGS.key)
    year = performance.item_figures(now)
    items = {i.id: i for i in db.session.scalars(select(Item).where(
        Item.status.in_([ItemStatus.ACTIVE, ItemStatus.WATCH])))}
    for iid, (sat, n) in sorted(year.items()):
        item = items.get(iid)
        if item is None or item.status != ItemStatus.ACTIVE:
            continue
        if sat < limit and n >= min_n and not _open_decision("item_low_satisfaction", item_id=iid):
            made.append(_propose("item_low_satisfaction", now, {"satisfaction": sat, "rating_count": n,
                                                                "threshold": limit, "window_days": PERIOD_DAYS},
                                 item=item))
    # Items on watch: the second period is the 12 months after the watch took effect.
    watched = [i for i in items.values() if i.status == ItemStatus.WATCH]
    for item in watched:
        began = db.session.scalar(select(AdjustmentDecision.decided_at).where(
            AdjustmentDecision.item_id == item.id, AdjustmentDecision.action == DecisionAction.WATCH,
            AdjustmentDecision.status.in_([DecisionStatus.CONFIRMED, DecisionStatus.AUTO_APPLIED]))
            .order_by(AdjustmentDecision.decided_at.desc()).limit(1))
        if began is None or now < began + dt.timedelta(days=PERIOD_DAYS):
            continue
        if _open_decision("item_second_low_period", item_id=item.id) or \
                _open_decision("item_recovered", item_id=item.id):
            continue
        end = began + dt.timedelta(days=PERIOD_DAYS)
        sat, n = db.session.execute(select(func.avg((Rating.content + Rating.organisation + Rating.venue) / 3.0),
                                           func.count()).where(
            Rating.item_id == item.id, Rating.status == RatingStatus.COUNTED, Rating.created_at > began,
            Rating.created_at <= end)).one()
        sat = Decimal(repr(float(sat))).quantize(Decimal("0.01")) if sat is not None else None
        figures = {"satisfaction": sat, "rating_count": n, "threshold": limit, "period_start": began,
                   "period_end": end}
        low = sat is not None and sat < limit and n >= min_n
        made.append(_propose("item_second_low_period" if low else "item_recovered", now, figures, item=item))
    made += _budget_rule(now, year, items)
    return made


def _budget_rule(now, year, items) -> list[AdjustmentDecision]:
    demand = {iid: n for iid, n in demand_ops.supports_by_item(now - dt.timedelta(days=PERIOD_DAYS), now).items()
              if n > 0 and iid in items and items[iid].status == ItemStatus.ACTIVE}
    if not demand:
        return []
    ranked = sorted(demand.values(), reverse=True)
    cutoff = ranked[max(1, math.ceil(len(ranked) / 4)) - 1]
    floor = Decimal(settings.get(BUDGET_SATISFACTION.key))
    min_n = settings.get(BUDGET_MIN_RATINGS.key)
    made = []
    for iid, n_demand in sorted(demand.items()):
        sat, n = year.get(iid, (None, 0))
        if n_demand >= cutoff and sat is not None and sat >= floor and n >= min_n \
                and not _open_decision("item_wanted_and_liked", item_id=iid,
                                       since=now - dt.timedelta(days=PERIOD_DAYS)):
            made.append(_propose("item_wanted_and_liked", now, {
                "demand": n_demand, "cutoff": cutoff, "items_with_demand": len(ranked), "satisfaction": sat,
                "rating_count": n, "threshold": floor}, item=items[iid]))
    return made


# --- taking effect -----------------------------------------------------------------------------

def _reason(d: AdjustmentDecision) -> str:
    rule = RULES[d.rule]
    return f"{rule.key}@{rule.version}: {explain(d)}"


def _apply_effect(d: AdjustmentDecision, actor, now: dt.datetime):
    if d.action == DecisionAction.SUSPEND:
        until = periods.add_months(now, settings.get(SUSPEND_MONTHS.key))
        d.effective_until = until
        suspend_provider(d.provider, until, _reason(d), actor)
    elif d.action == DecisionAction.WATCH:
        set_item_status(d.item, ItemStatus.WATCH, _reason(d), actor, f"{d.rule}@{d.rule_version}")
    elif d.action == DecisionAction.RETIRE:
        set_item_status(d.item, ItemStatus.RETIRED, _reason(d), actor, f"{d.rule}@{d.rule_version}")
    elif d.action == DecisionAction.RESTORE:
        set_item_status(d.item, ItemStatus.ACTIVE, _reason(d), actor, f"{d.rule}@{d.rule_version}")
    # WARN and MORE_BUDGET take effect as the decision itself (notified below).
    if d.provider is not None:
        notify(d.provider.user_id, _l("In effect: %(action)s", action=d.action.label), explain(d),
               f"/performance/decisions/{d.id}")
    elif d.action == DecisionAction.MORE_BUDGET:
        for officer in district_officers():
            notify(officer, _l("Flagged for more budget: %(item)s", item=d.item.name), explain(d),
                   f"/performance/decisions/{d.id}")


def may_decide(user) -> bool:
    """Adjustments concern the whole district: its officers decide them."""
    return (user is not None and getattr(user, "is_authenticated", False) and user.has_role(Role.OFFICER)
            and user.jurisdiction is not None and user.jurisdiction.level == AreaLevel.DISTRICT)


def _gate(d: AdjustmentDecision, actor, action: str) -> AdjustmentDecision:
    d = lock_row(AdjustmentDecision, d.id)
    if not may_decide(actor):
        raise Forbidden(_l("Adjustments are decided by officers of the district."), audit_action=action, obj=d)
    if d.status != DecisionStatus.PROPOSED:
        raise Refused(_l("This adjustment is no longer waiting for a decision (it is “%(status)s”).",
                         status=d.status.label), audit_action=action, obj=d)
    return d


def confirm(d: AdjustmentDecision, actor: User, now: dt.datetime | None = None) -> AdjustmentDecision:
    d = _gate(d, actor, "adjustment.confirm")
    now = now or utcnow()
    d.status, d.decided_at, d.decided_by_id = DecisionStatus.CONFIRMED, now, actor.id
    db.session.flush()
    _apply_effect(d, actor, now)
    audit.record("adjustment.confirm", d, actor=actor, rule=d.rule, effect=d.action, until=d.effective_until)
    return d


def override(d: AdjustmentDecision, reason: str, actor: User, now: dt.datetime | None = None) -> AdjustmentDecision:
    d = _gate(d, actor, "adjustment.override")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("Give the reason for setting the proposal aside."), "reason")
    if len(reason) > 2000:
        raise Invalid(_l("At most %(n)d characters.", n=2000), "reason")
    d.status, d.decided_at, d.decided_by_id, d.override_reason = DecisionStatus.OVERRIDDEN, now or utcnow(), \
        actor.id, reason
    db.session.flush()
    audit.record("adjustment.override", d, actor=actor, rule=d.rule, reason=reason)
    if d.provider is not None:
        notify(d.provider.user_id, _l("Set aside: %(action)s", action=d.action.label), reason,
               f"/performance/decisions/{d.id}")
    return d


def due_decisions(now: dt.datetime):
    return select(AdjustmentDecision.id).where(
        AdjustmentDecision.status == DecisionStatus.PROPOSED, AdjustmentDecision.due_at <= now,
        (AdjustmentDecision.appeal_status.is_(None)) | (AdjustmentDecision.appeal_status != AppealStatus.PENDING))


def apply_due(now: dt.datetime | None = None) -> int:
    """Proposals nobody acted on within the set days take effect (not while an appeal is pending)."""
    now = now or utcnow()
    count = 0
    for did in list(db.session.scalars(due_decisions(now).order_by(AdjustmentDecision.id))):
        d = lock_row(AdjustmentDecision, did)
        if d.status != DecisionStatus.PROPOSED:
            continue
        d.status, d.decided_at = DecisionStatus.AUTO_APPLIED, now
        db.session.flush()
        _apply_effect(d, None, now)
        audit.record("adjustment.auto_apply", d, actor=None, rule=d.rule, effect=d.action, until=d.effective_until)
        count += 1
    return count


# The nightly recompute runs at most once in this many hours (a second copy, or a re-run, skips).
RECOMPUTE_EVERY_HOURS = 12


def nightly_recompute(now: dt.datetime) -> dict:
    """The periodic task `evaluation.nightly_recompute`: missed sessions recorded, every score and
    item satisfaction recomputed (with the check of the kept figures), then the adjustment rules.
    Skipped when a full recompute ran in the last hours: the rules compare the last two
    recomputes, so a doubled run must not count."""
    from evaluation.performance.models import PerformanceRun
    from marketplace.sessions import operations as session_ops

    last = db.session.scalar(select(func.max(PerformanceRun.computed_at)))
    if last is not None and last > now - dt.timedelta(hours=RECOMPUTE_EVERY_HOURS):
        return {}
    missed, by_default = session_ops.record_overdue(now)
    # The recompute is also the check that the updates made since were exact (audited and logged).
    results, check = performance.check_and_recompute(now)
    made = evaluate(now)
    return {"missed": missed, "accepted_by_default": by_default, "providers": len(results),
            "proposals": [d.id for d in made], "check": check.as_dict()}


def apply_due_task(now: dt.datetime) -> dict:
    """The periodic task `evaluation.apply_due` (the scheduler, or `flask jobs run-due`)."""
    applied = apply_due(now)
    return {"applied": applied} if applied else {}


# --- appeals -----------------------------------------------------------------------------------

def appeal(d: AdjustmentDecision, text: str, actor: User, now: dt.datetime | None = None) -> AdjustmentDecision:
    d = lock_row(AdjustmentDecision, d.id)
    now = now or utcnow()
    provider = d.provider
    if provider is None or provider.user_id != getattr(actor, "id", None):
        raise Forbidden(_l("Only the provider concerned may appeal this adjustment."),
                        audit_action="adjustment.appeal", obj=d)
    if d.status not in (DecisionStatus.PROPOSED, DecisionStatus.CONFIRMED, DecisionStatus.AUTO_APPLIED):
        raise Refused(_l("This adjustment cannot be appealed (it is “%(status)s”).", status=d.status.label),
                      audit_action="adjustment.appeal", obj=d)
    if d.appeal_status is not None:
        raise Refused(_l("This adjustment has already been appealed."), audit_action="adjustment.appeal", obj=d)
    start = d.decided_at or d.proposed_at
    end = start + dt.timedelta(days=settings.get(APPEAL_DAYS.key))
    if now > end:
        raise Refused(_l("Appeals closed on %(day)s.", day=fmt_date(end)), audit_action="adjustment.appeal", obj=d)
    text = (text or "").strip()
    if not text:
        raise Invalid(_l("Say why the adjustment should be reconsidered."), "text")
    if len(text) > 4000:
        raise Invalid(_l("At most %(n)d characters.", n=4000), "text")
    d.appeal_text, d.appealed_at, d.appeal_status = text, now, AppealStatus.PENDING
    db.session.flush()
    audit.record("adjustment.appeal", d, actor=actor, rule=d.rule)
    for officer in district_officers():
        notify(officer, _l("Appeal against an adjustment: %(name)s", name=provider.name), text[:500],
               f"/performance/decisions/{d.id}")
    return d


def answer_appeal(d: AdjustmentDecision, uphold: bool, answer: str, actor: User,
                  now: dt.datetime | None = None) -> AdjustmentDecision:
    d = lock_row(AdjustmentDecision, d.id)
    now = now or utcnow()
    if not may_decide(actor):
        raise Forbidden(_l("Adjustments are decided by officers of the district."),
                        audit_action="adjustment.appeal_answer", obj=d)
    if d.appeal_status != AppealStatus.PENDING:
        raise Refused(_l("No appeal is waiting for an answer."), audit_action="adjustment.appeal_answer", obj=d)
    answer = (answer or "").strip()
    if not answer:
        raise Invalid(_l("Give the answer to the appeal."), "answer")
    if len(answer) > 4000:
        raise Invalid(_l("At most %(n)d characters.", n=4000), "answer")
    d.appeal_status = AppealStatus.UPHELD if uphold else AppealStatus.DISMISSED
    d.appeal_answer, d.appeal_decided_at, d.appeal_decided_by_id = answer, now, actor.id
    if uphold:
        if d.status.in_effect and d.action == DecisionAction.SUSPEND \
                and d.provider.status == ProviderStatus.SUSPENDED:
            lift_suspension(d.provider, answer, actor)
        if d.status == DecisionStatus.PROPOSED:
            d.decided_at, d.decided_by_id = now, actor.id
        d.status = DecisionStatus.REVERSED
    db.session.flush()
    audit.record("adjustment.appeal_answer", d, actor=actor, outcome=d.appeal_status, answer=answer)
    notify(d.provider.user_id, _l("Your appeal was answered: %(outcome)s", outcome=d.appeal_status.label), answer,
           f"/performance/decisions/{d.id}")
    return d
