"""Contracts made from awards: generation, signatures by both sides, completion, termination,
payments. Operations flush and audit; they never commit."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import audit
from core.accounts.models import Role
from core.db import db, lock_row, utcnow
from core.errors import Forbidden, Invalid, Refused
from core.money import CENT
from core.notifications import notify
from marketplace.awards.models import Award
from marketplace.awards.operations import contract_refusal
from marketplace.contracts.models import Contract, ContractLine, ContractState, PaymentMilestone
from marketplace.projects.models import ProjectState

# The default payment schedule: (label, percent, share of sessions delivered before it is due).
DEFAULT_MILESTONES = (
    (_l("Advance on signing"), Decimal(30), Decimal(0)),
    (_l("After half of the sessions are delivered and accepted"), Decimal(40), Decimal(50)),
    (_l("After all sessions are delivered and accepted"), Decimal(30), Decimal(100)),
)


def split(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Shares of `amount` in proportion to `weights`, to the cent, summing exactly to `amount`
    (the rounding difference goes to the last share)."""
    total = sum(weights, Decimal(0))
    if total <= 0:
        raise ValueError("weights must sum to more than zero")
    shares = [(amount * w / total).quantize(CENT, rounding=ROUND_HALF_UP) for w in weights]
    shares[-1] += amount - sum(shares, Decimal(0))
    return shares


def _msgid(label) -> str:
    """The English message id of a lazy label (stored, and translated when shown)."""
    args = getattr(label, "_args", None)
    return str(args[0]) if args else str(label)


def generate_contract(award: Award, actor, *, start_date: dt.date, end_date: dt.date, terms: str = "",
                      milestones=None, now: dt.datetime | None = None) -> Contract:
    """Write the contract from the award: parties, the project's lines as item × venue × sessions,
    the awarded amount shared over the lines by their ceilings, and the payment milestones."""
    now = now or utcnow()
    award = lock_row(Award, award.id)  # one contract per award
    refusal = contract_refusal(award, now)
    if refusal:
        raise Refused(refusal, audit_action="contract.generate", obj=award.project)
    project = award.project
    if project.current_state != ProjectState.AWARDED:
        raise Refused(_("Only an awarded project gets a contract."))
    if db.session.scalar(select(Contract.id).where(Contract.award_id == award.id)) is not None:
        raise Refused(_("This award already has a contract."))
    if end_date < start_date:
        raise Invalid(_("The end date is before the start date."), "end_date")
    contract = build_contract(award, actor, start_date=start_date, end_date=end_date, terms=terms,
                              milestones=milestones, now=now)
    audit.record("contract.generate", contract, actor=actor, project_id=project.id, award_id=award.id,
                 amount=contract.amount, sessions=contract.sessions_total)
    notify(award.provider.user_id, _("Contract ready to sign: %(title)s", title=project.title),
           _("Contract %(number)s is waiting for your signature.", number=contract.number),
           link=f"/contracts/{contract.id}")
    return contract


def build_contract(award: Award, actor, *, start_date: dt.date, end_date: dt.date, terms: str = "",
                   milestones=None, now: dt.datetime) -> Contract:
    """The contract written from the award (no state checks: generate_contract makes them)."""
    project = award.project
    milestones = list(milestones or DEFAULT_MILESTONES)
    percents = [Decimal(p) for _label, p, _share in milestones]
    if sum(percents) != 100 or any(p <= 0 for p in percents):
        raise Invalid(_("The payment milestones must add up to 100%."), "milestones")
    lines = list(project.lines)
    if not lines:
        raise Refused(_("The project has no lines to contract."))
    count = db.session.scalar(select(func.count(Contract.id)).where(Contract.project_id == project.id))
    provider = award.provider
    contract = Contract(
        number=f"HT-{now.year}-{project.id:05d}-{count + 1}", project_id=project.id, award_id=award.id,
        provider_id=provider.id, buyer_area_id=project.area_id, buyer_name=project.area.name,
        provider_name=provider.name, provider_credit_code=provider.credit_code,
        provider_representative=provider.legal_representative, amount=award.amount,
        sessions_total=sum(ln.quantity for ln in lines), start_date=start_date, end_date=end_date,
        terms=(terms or "").strip(), created_by_id=actor.id, created_at=now)
    amounts = split(award.amount, [ln.ceiling_total for ln in lines])
    for i, (ln, amount) in enumerate(zip(lines, amounts, strict=True)):
        contract.lines.append(ContractLine(
            project_line_id=ln.id, item_id=ln.item_id, venue_id=ln.venue_id, position=i, item_name=ln.item.name,
            unit=ln.item.unit, sessions=ln.quantity,
            unit_price=(amount / ln.quantity).quantize(CENT, rounding=ROUND_HALF_UP), amount=amount))
    for i, ((label, percent, share), amount) in enumerate(zip(milestones, split(award.amount, percents),
                                                               strict=True)):
        contract.milestones.append(PaymentMilestone(position=i + 1, label=_msgid(label), percent=percent,
                                                    amount=amount, sessions_share=share))
    db.session.add(contract)
    db.session.flush()
    return contract


def signing_side(contract: Contract, user) -> str | None:
    """'buyer' for an officer whose jurisdiction covers the project, 'provider' for the
    provider's account, else None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.id == contract.provider.user_id:
        return "provider"
    if user.has_role(Role.OFFICER) and user.covers_area(contract.project.area):
        return "buyer"
    return None


def sign(contract: Contract, actor, now: dt.datetime | None = None) -> Contract:
    """Record the actor's signature for their side; with both, the contract is in force and the
    project is contracted."""
    now = now or utcnow()
    contract = lock_row(Contract, contract.id)  # both sides signing at once: both signatures kept
    side = signing_side(contract, actor)
    if side is None:
        raise Forbidden(_("Only the buyer's officer or the provider may sign this contract."))
    if contract.state != ContractState.PENDING:
        raise Refused(_("Only a contract waiting for signatures can be signed."))
    if side == "buyer":
        if contract.buyer_signed_at is not None:
            raise Refused(_("The buyer has already signed."))
        contract.buyer_signed_at, contract.buyer_signed_by_id = now, actor.id
    else:
        if contract.provider_signed_at is not None:
            raise Refused(_("The provider has already signed."))
        contract.provider_signed_at, contract.provider_signed_by_id = now, actor.id
    db.session.flush()
    audit.record("contract.sign", contract, actor=actor, side=side)
    if contract.fully_signed:
        contract.activate(now)
        contract.project.contract(now)
        db.session.flush()
        audit.record("contract.activate", contract, actor=actor)
        notify(contract.provider.user_id, _("Contract in force: %(number)s", number=contract.number),
               link=f"/contracts/{contract.id}")
    else:
        other = contract.provider.user_id if side == "buyer" else contract.project.created_by_id
        notify(other, _("Contract ready to sign: %(title)s", title=contract.project.title),
               _("Contract %(number)s is waiting for your signature.", number=contract.number),
               link=f"/contracts/{contract.id}")
    return contract


def complete(contract: Contract, actor, now: dt.datetime | None = None) -> Contract:
    now = now or utcnow()
    contract.complete(now)
    project = contract.project
    if project.state == ProjectState.CONTRACTED:
        project.start_delivery(now)
    project.complete(now)
    db.session.flush()
    audit.record("contract.complete", contract, actor=actor)
    return contract


def terminate(contract: Contract, reason: str, actor, now: dt.datetime | None = None) -> Contract:
    """End the contract early. A project not yet in delivery is cancelled with the same reason;
    one in delivery is closed as completed (what was delivered stands)."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("A termination needs a reason."), "reason")
    contract.terminate(reason, now)
    project = contract.project
    if project.state in (ProjectState.AWARDED, ProjectState.CONTRACTED):
        project.cancel(_("Contract terminated: %(reason)s", reason=reason), now)
    elif project.state == ProjectState.IN_DELIVERY:
        project.complete(now)
    db.session.flush()
    audit.record("contract.terminate", contract, actor=actor, reason=reason)
    notify(contract.provider.user_id, _("Contract terminated: %(number)s", number=contract.number), reason,
           link=f"/contracts/{contract.id}")
    return contract


def mark_paid(milestone: PaymentMilestone, actor, now: dt.datetime | None = None) -> PaymentMilestone:
    if milestone.contract.state not in (ContractState.ACTIVE, ContractState.COMPLETED):
        raise Refused(_("Payments are recorded only on a contract in force."))
    if milestone.paid:
        raise Refused(_("This payment is already recorded."))
    milestone.paid_at = now or utcnow()
    milestone.paid_by_id = actor.id
    db.session.flush()
    audit.record("contract.payment", milestone.contract, actor=actor, milestone=milestone.position,
                 amount=milestone.amount)
    return milestone
