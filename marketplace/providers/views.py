"""Provider pages: registration, the provider's own profile, officers' review queue and decisions,
and the documents (served only to their owner and to officers)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from sqlalchemy import func, or_, select

from catalog.items.models import Category
from core import uscc
from core.accounts import operations as accounts
from core.accounts.models import Role
from core.areas.models import AreaLevel
from core.db import db
from core.errors import DomainError
from core.i18n import LOCAL_TZ
from core.permissions import PUBLIC, access, require
from core.refusals import refused
from core.spreadsheets.exports import Column, Table, wants_export
from core.uploads import send
from core.views_util import Page
from marketplace.providers import operations as ops
from marketplace.providers.forms import (
    DocumentForm,
    ProviderDetailsForm,
    RegistrationForm,
    ResubmitForm,
    decision_forms,
)
from marketplace.providers.models import (
    OFFICER_ACTIONS,
    Provider,
    ProviderAction,
    ProviderDocument,
    ProviderEvent,
    ProviderStatus,
)

bp = Blueprint("providers", __name__, url_prefix="/providers")


def _is_officer() -> bool:
    return current_user.is_authenticated and current_user.has_role(Role.OFFICER)


def _may_decide() -> bool:
    j = current_user.jurisdiction if _is_officer() else None
    return j is not None and j.level == AreaLevel.DISTRICT


def _categories(provider: Provider) -> list[Category]:
    if not provider.category_ids:
        return []
    return list(db.session.scalars(select(Category).where(Category.id.in_(provider.category_ids))
                                   .order_by(Category.position, Category.code)))


def _documents(provider: Provider) -> list[ProviderDocument]:
    return list(db.session.scalars(select(ProviderDocument).where(ProviderDocument.provider_id == provider.id)
                                   .order_by(ProviderDocument.created_at, ProviderDocument.id)))


def _history(provider: Provider) -> list[ProviderEvent]:
    return list(db.session.scalars(select(ProviderEvent).where(ProviderEvent.provider_id == provider.id)
                                   .order_by(ProviderEvent.at.desc(), ProviderEvent.id.desc())))


# --- registration ----------------------------------------------------------------------------------

@bp.route("/register", methods=["GET", "POST"])
@access(PUBLIC)
def register():
    """Anyone may start here: a visitor creates the account in the same form; a logged-in user
    registers their organisation with the account they have."""
    user = current_user if current_user.is_authenticated else None
    if user is not None and ops.provider_of(user) is not None:
        return redirect(url_for("providers.mine"))
    if user is not None and user.has_role(Role.OFFICER, Role.ADMIN):
        # Staff may read why; a submission is refused.
        page = render_template("marketplace/providers/register.html", form=None, staff=True)
        return page, (200 if request.method == "GET" else 409)
    form = RegistrationForm()
    if user is not None:
        form.drop_account_fields()
    if form.validate_on_submit():
        try:
            if user is None:
                user = accounts.create_user(login=form.login.data, password=form.password.data,
                                            name=f"{form.name.data.strip()} {form.contact_name.data.strip()}"[:100],
                                            roles=[Role.PROVIDER])
            provider = ops.register(user, certificate=form.certificate.data,
                                    qualifications=form.qualification_files(), **form.details())
        except DomainError as e:
            return refused(e, form=form, template="marketplace/providers/register.html", staff=False)
        if not current_user.is_authenticated:
            session.clear()
            login_user(user)
        flash(_("%(name)s is registered and waits for review. You will be told the result here and in your "
                "inbox.", name=provider.name), "success")
        return redirect(url_for("providers.mine"))
    return render_template("marketplace/providers/register.html", form=form, staff=False), (422 if form.errors else 200)


# --- the provider's own pages -------------------------------------------------------------------------

def _own_provider() -> Provider | None:
    return ops.provider_of(current_user)


def _no_provider_yet():
    flash(_("Register your organisation first."), "info")
    return redirect(url_for("providers.register"))


def _render_mine(provider, document_form=None, resubmit_form=None, status=200):
    return render_template(
        "marketplace/providers/mine.html", provider=provider, categories=_categories(provider),
        documents=_documents(provider), history=_history(provider),
        document_form=document_form or DocumentForm(formdata=None),
        resubmit_form=resubmit_form or ResubmitForm(formdata=None),
        refusal=provider.bidding_refusal(), state=provider.effective_status(),
    ), status


@bp.route("/me")
@access(Role.PROVIDER)
def mine():
    provider = _own_provider()
    if provider is None:
        return _no_provider_yet()
    return _render_mine(provider)


@bp.route("/me/edit", methods=["GET", "POST"])
@access(Role.PROVIDER)
def edit_mine():
    provider = _own_provider()
    if provider is None:
        return _no_provider_yet()
    form = ProviderDetailsForm(obj=provider) if request.method == "GET" else ProviderDetailsForm()
    locked = provider.status not in ops.EDITABLE_IDENTITY
    if locked:
        for name in ops.IDENTITY_FIELDS:
            del form[name]
    template = "marketplace/providers/edit.html"
    if form.validate_on_submit():
        try:
            ops.update_details(provider, current_user, **form.details())
        except DomainError as e:
            return refused(e, form=form, template=template, provider=provider, locked=locked)
        flash(_("Your details are saved."), "success")
        return redirect(url_for("providers.mine"))
    return render_template(template, form=form, provider=provider, locked=locked), (422 if form.errors else 200)


@bp.route("/me/documents", methods=["POST"])
@access(Role.PROVIDER)
def add_document():
    provider = _own_provider()
    if provider is None:
        return _no_provider_yet()
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            ops.add_document(provider, form.file.data, form.kind.data, current_user)
        except DomainError as e:
            return refused(e, form=form,
                           render=lambda status: _render_mine(provider, document_form=form, status=status))
        flash(_("The document is uploaded."), "success")
        return redirect(url_for("providers.mine"))
    return _render_mine(provider, document_form=form, status=422)


@bp.route("/me/resubmit", methods=["POST"])
@access(Role.PROVIDER)
def resubmit():
    provider = _own_provider()
    if provider is None:
        return _no_provider_yet()
    form = ResubmitForm()
    if form.validate_on_submit():
        try:
            ops.resubmit(provider, current_user, form.note.data)
        except DomainError as e:
            return refused(e, form=form, field="", render=lambda status: _render_mine(provider, resubmit_form=form,
                                                                               status=status))
        flash(_("Your application is back in the review queue."), "success")
        return redirect(url_for("providers.mine"))
    return _render_mine(provider, resubmit_form=form, status=422)


@bp.route("/documents/<int:document_id>")
@access(Role.PROVIDER, Role.OFFICER)
def document(document_id):
    doc = db.session.get(ProviderDocument, document_id)
    if doc is None:
        abort(404)
    if not _is_officer():
        owner = db.session.scalar(select(Provider.user_id).where(Provider.id == doc.provider_id))
        require(owner == current_user.id)
    return send(doc.file)


# --- officers ---------------------------------------------------------------------------------------------

QUEUE_FILTERS = ["review", *[s.value for s in ProviderStatus], "all"]

# Rows are (provider, number of documents), as on the page.
PROVIDER_QUEUE = Table("providers", [
    Column(_l("Organisation"), lambda r: r[0].name),
    Column(_l("Unified social credit code"), lambda r: r[0].credit_code),
    Column(_l("Kind"), lambda r: r[0].kind),
    Column(_l("Status"), lambda r: r[0].effective_status()),
    Column(_l("Submitted"), lambda r: r[0].submitted_at),
    Column(_l("Approved"), lambda r: r[0].approved_at),
    Column(_l("Grade"), lambda r: r[0].grade),
    Column(_l("Performance score"), lambda r: r[0].performance_score),
    Column(_l("Documents"), lambda r: r[1]),
], scalars=False, audited=True)


@bp.route("/review")
@access(Role.OFFICER)
def queue():
    status = request.args.get("status", "review")
    if status not in QUEUE_FILTERS:
        status = "review"
    q = request.args.get("q", "").strip()[:100]
    docs = (select(ProviderDocument.provider_id, func.count().label("n"))
            .group_by(ProviderDocument.provider_id).subquery())
    stmt = select(Provider, func.coalesce(docs.c.n, 0)).outerjoin(docs, docs.c.provider_id == Provider.id)
    if status == "review":
        stmt = stmt.where(Provider.status == ProviderStatus.PENDING).order_by(Provider.submitted_at, Provider.id)
    else:
        if status != "all":
            stmt = stmt.where(Provider.status == ProviderStatus(status))
        stmt = stmt.order_by(Provider.name, Provider.id)
    if q:
        code = uscc.normalise(q)
        stmt = stmt.where(or_(Provider.name.contains(q), Provider.credit_code.startswith(code)))
    if wants_export():
        return PROVIDER_QUEUE.download(stmt)
    counts = dict(db.session.execute(select(Provider.status, func.count()).group_by(Provider.status)).all())
    return render_template("marketplace/providers/queue.html", page=Page(stmt, scalars=False), status=status,
                           q=q, counts=counts, filters=QUEUE_FILTERS,
                           statuses={s.value: s for s in ProviderStatus})


def _render_detail(provider, forms=None, status=200, error=None):
    return render_template(
        "marketplace/providers/detail.html", provider=provider, categories=_categories(provider),
        documents=_documents(provider), history=_history(provider), code=uscc.describe(provider.credit_code),
        forms=forms or decision_forms(), may_decide=_may_decide(), allowed=provider.allowed_actions(),
        effective=provider.effective_status(), refusal=provider.bidding_refusal(), error=error,
    ), status


def _provider_or_404(provider_id) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        abort(404)
    return provider


@bp.route("/<int:provider_id>")
@access(Role.OFFICER)
def detail(provider_id):
    return _render_detail(_provider_or_404(provider_id))


def _suspension_end(day: dt.date) -> dt.datetime:
    """A suspension's last day (Beijing time) → the moment it ends: midnight after that day."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LOCAL_TZ).astimezone(dt.UTC)


def _decision(provider_id, key: str, action: ProviderAction):
    provider = _provider_or_404(provider_id)
    forms = decision_forms(bound=key)
    form = forms[key]
    if not form.validate_on_submit():
        return _render_detail(provider, forms, 422)
    try:
        if action == ProviderAction.SUSPEND:
            ops.suspend(provider, _suspension_end(form.last_day.data), form.reason.data, current_user)
        elif action == ProviderAction.APPROVE:
            ops.approve(provider, current_user, form.note.data)
        else:
            ops.DECISIONS[action](provider, current_user, form.reason.data)
    except DomainError as e:
        field = {"until": "last_day"}.get(e.field, e.field)
        if field and field in form:
            return refused(e, form=form, field=field,
                           render=lambda status: _render_detail(db.session.get(Provider, provider_id), forms, status))
        # Not about one field: the page states it above the decision forms.
        message = e.message
        return refused(e, render=lambda status: _render_detail(db.session.get(Provider, provider_id), forms, status,
                                                                error=message))
    flash(_("%(action)s recorded for %(name)s; the provider has been notified.", action=action.label,
            name=provider.name), "success")
    return redirect(url_for("providers.detail", provider_id=provider.id))


def _decision_view(key: str, action: ProviderAction):
    def view(provider_id):
        return _decision(provider_id, key, action)

    view.__name__ = key
    return access(Role.OFFICER)(view)


for _key, _action in zip(("approve", "reject", "request_documents", "suspend", "blacklist", "lift"), OFFICER_ACTIONS,
                         strict=True):
    bp.add_url_rule(f"/<int:provider_id>/{_key.replace('_', '-')}", _key, _decision_view(_key, _action),
                    methods=["POST"])
