"""Contract pages: generate from an award, read, sign (both sides), PDF, complete, terminate,
record payments."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from core.accounts.models import Role
from core.db import db
from core.errors import DomainError
from core.forms import ConfirmForm
from core.i18n import local_now
from core.pdf import render_pdf_response
from core.permissions import AUTHENTICATED, access, require
from core.refusals import refused
from core.spreadsheets.exports import Column, Table, wants_export
from core.views_util import Page
from marketplace.awards import operations as award_ops
from marketplace.awards.views import officer_covers
from marketplace.contracts import operations as contract_ops
from marketplace.contracts.forms import GenerateForm, TerminateForm
from marketplace.contracts.models import Contract, PaymentMilestone
from marketplace.projects.models import PurchaseProject
from marketplace.providers.models import Provider

bp = Blueprint("contracts", __name__)


def _contract(contract_id) -> Contract:
    contract = db.session.get(Contract, contract_id)
    if contract is None:
        abort(404)
    require(current_user.has_role(Role.ADMIN, Role.SUPERVISOR) or officer_covers(contract.project)
            or contract.provider.user_id == current_user.id)
    return contract


CONTRACTS = Table("contracts", [
    Column(_l("Number"), "number"),
    Column(_l("Reference"), "project.reference"),
    Column(_l("Project"), "project.title"),
    Column(_l("Buyer"), "buyer_area.name"),
    Column(_l("Provider"), "provider_name"),
    Column(_l("Amount"), "amount"),
    Column(_l("State"), "state"),
    Column(_l("Service starts"), "start_date"),
    Column(_l("Service ends"), "end_date"),
])


@bp.route("/contracts")
@access(Role.OFFICER, Role.PROVIDER, Role.ADMIN)
def index():
    stmt = select(Contract).order_by(Contract.created_at.desc(), Contract.id.desc())
    if not current_user.has_role(Role.ADMIN):
        mine = select(Provider.id).where(Provider.user_id == current_user.id)
        if current_user.has_role(Role.OFFICER) and current_user.jurisdiction is not None:
            if current_user.jurisdiction.town_id is not None:
                stmt = stmt.where((Contract.buyer_area_id == current_user.jurisdiction_id)
                                  | Contract.provider_id.in_(mine))
        else:
            stmt = stmt.where(Contract.provider_id.in_(mine))
    if wants_export():
        return CONTRACTS.download(stmt)
    return render_template("marketplace/contracts/index.html", page=Page(stmt))


@bp.route("/projects/<int:project_id>/contract/new", methods=["GET", "POST"])
@access(Role.OFFICER)
def generate(project_id):
    project = db.session.get(PurchaseProject, project_id)
    if project is None:
        abort(404)
    require(officer_covers(project))
    award = award_ops.live_award(project)
    if award is None:
        abort(404)
    form = GenerateForm()
    if request.method == "GET":
        today = local_now().date()
        form.start_date.data = today
        form.end_date.data = dt.date(today.year, 12, 31) if today.month < 10 else dt.date(today.year + 1, 12, 31)
    status = 200
    if form.validate_on_submit():
        try:
            contract = contract_ops.generate_contract(award, current_user, start_date=form.start_date.data,
                                                      end_date=form.end_date.data, terms=form.terms.data)
        except DomainError as e:
            refused(e, form=form)
            status = e.status
        else:
            flash(_("Contract %(number)s generated; both sides now sign it.", number=contract.number), "success")
            return redirect(url_for("contracts.show", contract_id=contract.id))
    elif form.errors:
        status = 422
    refusal = award_ops.contract_refusal(award)
    return render_template("marketplace/contracts/generate.html", project=project, award=award, form=form,
                           refusal=refusal), status


@bp.route("/contracts/<int:contract_id>")
@access(AUTHENTICATED)
def show(contract_id):
    return _show_page(_contract(contract_id))


def _show_page(contract):
    return render_template("marketplace/contracts/show.html", contract=contract, form=ConfirmForm(),
                           terminate_form=TerminateForm(), side=contract_ops.signing_side(contract, current_user),
                           officer=officer_covers(contract.project))


@bp.route("/contracts/<int:contract_id>.pdf")
@access(AUTHENTICATED)
def pdf(contract_id):
    contract = _contract(contract_id)
    return render_pdf_response("marketplace/contracts/contract_pdf.html",
                               _("Contract %(number)s", number=contract.number) + ".pdf", contract=contract)


def _act(contract, fn, done_message):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        fn()
    except DomainError as e:
        return refused(e, flashed=True, render=lambda status: _show_page(db.session.get(Contract, contract.id)))
    flash(done_message, "success")
    return redirect(url_for("contracts.show", contract_id=contract.id))


@bp.route("/contracts/<int:contract_id>/sign", methods=["POST"])
@access(Role.OFFICER, Role.PROVIDER)
def sign(contract_id):
    contract = _contract(contract_id)
    require(contract_ops.signing_side(contract, current_user) is not None)
    return _act(contract, lambda: contract_ops.sign(contract, current_user), _("Signed."))


@bp.route("/contracts/<int:contract_id>/complete", methods=["POST"])
@access(Role.OFFICER)
def complete(contract_id):
    contract = _contract(contract_id)
    require(officer_covers(contract.project))
    return _act(contract, lambda: contract_ops.complete(contract, current_user), _("The contract is completed."))


@bp.route("/contracts/<int:contract_id>/terminate", methods=["POST"])
@access(Role.OFFICER)
def terminate(contract_id):
    contract = _contract(contract_id)
    require(officer_covers(contract.project))
    form = TerminateForm()
    return _act(contract, lambda: contract_ops.terminate(contract, form.reason.data, current_user),
                _("The contract is terminated."))


@bp.route("/contracts/<int:contract_id>/milestones/<int:milestone_id>/paid", methods=["POST"])
@access(Role.OFFICER)
def paid(contract_id, milestone_id):
    contract = _contract(contract_id)
    require(officer_covers(contract.project))
    milestone = db.session.get(PaymentMilestone, milestone_id)
    if milestone is None or milestone.contract_id != contract.id:
        abort(404)
    return _act(contract, lambda: contract_ops.mark_paid(milestone, current_user), _("Payment recorded."))
