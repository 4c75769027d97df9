"""Adjustment decisions: the list, one decision with its figures, an officer's confirmation or override,
a provider's appeal. They sit on the performance blueprint (/performance/decisions)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.accounts.models import Role
from core.db import db
from core.errors import DomainError
from core.permissions import access, require
from core.refusals import refused
from core.spreadsheets.exports import Column, Table, wants_export
from core.views_util import Page
from evaluation.adjustment import operations as adjustment
from evaluation.adjustment.models import AdjustmentDecision, DecisionStatus
from evaluation.feedback.forms import (
    AppealAnswerForm,
    AppealForm,
    ConfirmDecisionForm,
    OverrideForm,
)
from evaluation.performance.views import perf


def _decision_or_404(decision_id: int) -> AdjustmentDecision:
    d = db.session.get(AdjustmentDecision, decision_id)
    if d is None:
        abort(404)
    return d


def _may_see_decision(d: AdjustmentDecision) -> bool:
    if current_user.has_role(Role.OFFICER):
        return True
    return d.provider is not None and d.provider.user_id == current_user.id


DECISIONS = Table("adjustment-decisions", [
    Column("#", "id"),
    Column(_l("Action"), "action"),
    Column(_l("Subject"), "subject_name"),
    Column(_l("Status"), "status"),
    Column(_l("Explanation"), adjustment.explain),
    Column(_l("Proposed on"), "proposed_at"),
    Column(_l("Takes effect by itself"), "due_at"),
    Column(_l("Decided"), "decided_at"),
    Column(_l("Appeal"), "appeal_status"),
], options=[selectinload(AdjustmentDecision.provider), selectinload(AdjustmentDecision.item)])


@perf.route("/decisions")
@access(Role.OFFICER)
def decisions():
    status = request.args.get("status", "proposed")
    stmt = select(AdjustmentDecision).order_by(AdjustmentDecision.proposed_at.desc(), AdjustmentDecision.id.desc())
    if status in {s.value for s in DecisionStatus}:
        stmt = stmt.where(AdjustmentDecision.status == DecisionStatus(status))
    stmt = stmt.options(selectinload(AdjustmentDecision.provider), selectinload(AdjustmentDecision.item))
    if wants_export():
        return DECISIONS.download(stmt)
    return render_template("evaluation/feedback/decisions.html", page=Page(stmt), status=status,
                           statuses=list(DecisionStatus), explain=adjustment.explain,
                           may_decide=adjustment.may_decide(current_user), form=ConfirmDecisionForm())


@perf.route("/decisions/<int:decision_id>")
@access(Role.OFFICER, Role.PROVIDER)
def decision(decision_id):
    d = _decision_or_404(decision_id)
    require(_may_see_decision(d))
    return _decision_page(d)


def _decision_page(d, override_form=None, appeal_form=None, answer_form=None, status=200):
    own = d.provider is not None and d.provider.user_id == current_user.id
    return render_template("evaluation/feedback/decision.html", d=d, rule=adjustment.rule_of(d),
                           explanation=adjustment.explain(d), may_decide=adjustment.may_decide(current_user),
                           own=own, confirm_form=ConfirmDecisionForm(), override_form=override_form or OverrideForm(),
                           appeal_form=appeal_form or AppealForm(), answer_form=answer_form or AppealAnswerForm()), \
        status


def _decision_action(decision_id, form_cls, form_key, run):
    d = _decision_or_404(decision_id)
    form = form_cls()
    if not form.validate_on_submit():
        return _decision_page(d, **{form_key: form}, status=422) if form_key else (
            _decision_page(d, status=422))
    try:
        run(d, form)
    except DomainError as e:
        if e.status == 403:
            raise
        return refused(e, form=form, render=lambda status: _decision_page(
            _decision_or_404(decision_id), **({form_key: form} if form_key else {}), status=status))
    return redirect(url_for("performance.decision", decision_id=decision_id))


@perf.route("/decisions/<int:decision_id>/confirm", methods=["POST"])
@access(Role.OFFICER)
def confirm(decision_id):
    require(adjustment.may_decide(current_user))
    return _decision_action(decision_id, ConfirmDecisionForm, None,
                            lambda d, f: adjustment.confirm(d, current_user))


@perf.route("/decisions/<int:decision_id>/override", methods=["POST"])
@access(Role.OFFICER)
def override(decision_id):
    require(adjustment.may_decide(current_user))
    return _decision_action(decision_id, OverrideForm, "override_form",
                            lambda d, f: adjustment.override(d, f.reason.data, current_user))


@perf.route("/decisions/<int:decision_id>/appeal", methods=["POST"])
@access(Role.PROVIDER)
def appeal(decision_id):
    d = _decision_or_404(decision_id)
    require(d.provider is not None and d.provider.user_id == current_user.id)
    return _decision_action(decision_id, AppealForm, "appeal_form",
                            lambda d, f: adjustment.appeal(d, f.text.data, current_user))


@perf.route("/decisions/<int:decision_id>/appeal-answer", methods=["POST"])
@access(Role.OFFICER)
def appeal_answer(decision_id):
    require(adjustment.may_decide(current_user))
    return _decision_action(decision_id, AppealAnswerForm, "answer_form",
                            lambda d, f: adjustment.answer_appeal(d, f.outcome.data == "uphold", f.answer.data,
                                                                  current_user))
