"""Provider registration and review: the rules, whoever calls them (pages, API, demo data,
evaluation's automatic suspension).

Each operation locks the provider row, changes state through `Provider.move`, records the
step in the provider's history, writes the audit event and notifies whom it concerns. None
of them commits.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from catalog.items.models import Category
from core import audit, uscc
from core.accounts.models import Role, User, UserRole
from core.areas.models import Area, AreaLevel
from core.db import db, lock_row, utcnow
from core.errors import Forbidden, Invalid, Refused
from core.notifications import notify
from core.uploads import store
from marketplace.providers.models import (
    DocumentKind,
    Provider,
    ProviderAction,
    ProviderDocument,
    ProviderEvent,
    ProviderKind,
    ProviderStatus,
)

REASON_MAX = 2000
MAX_DOCUMENTS = 30
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|400-?\d{3}-?\d{4})$")
# Details that identify the organisation: fixed once it has been approved.
IDENTITY_FIELDS = ("name", "credit_code", "kind", "legal_representative")
DETAIL_FIELDS = (*IDENTITY_FIELDS, "contact_name", "contact_phone", "address", "introduction", "category_ids")
EDITABLE_IDENTITY = frozenset({ProviderStatus.PENDING, ProviderStatus.NEEDS_DOCUMENTS, ProviderStatus.REJECTED})


# --- validation -------------------------------------------------------------------------------

def clean_credit_code(raw: str, *, exclude_id: int | None = None) -> str:
    try:
        code = uscc.validate(raw)
    except uscc.CodeError as e:
        raise Invalid(e.message, "credit_code") from None
    taken = select(Provider.id).where(Provider.credit_code == code)
    if exclude_id is not None:
        taken = taken.where(Provider.id != exclude_id)
    if db.session.scalar(taken) is not None:
        raise Invalid(_l("An organisation with this unified social credit code is already registered. If it is "
                         "yours, ask the district culture office for help rather than registering again."),
                      "credit_code")
    return code


def top_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                                   .order_by(Category.position, Category.code)))


def _clean_details(data: dict, *, provider_id: int | None = None) -> dict:
    out = {}
    for key in ("name", "legal_representative", "contact_name", "contact_phone", "address", "introduction"):
        if key in data:
            out[key] = (data[key] or "").strip()
    required = {"name": _l("Enter the organisation's registered name."),
                "legal_representative": _l("Enter the legal representative."),
                "contact_name": _l("Enter a contact person."),
                "contact_phone": _l("Enter a contact phone number.")}
    for key, message in required.items():
        if key in out and not out[key]:
            raise Invalid(message, key)
    for key, limit in (("name", 200), ("legal_representative", 60), ("contact_name", 60), ("address", 200),
                       ("introduction", 5000)):
        if key in out and len(out[key]) > limit:
            raise Invalid(_l("At most %(n)d characters.", n=limit), key)
    if "contact_phone" in out:
        phone = out["contact_phone"].replace(" ", "")
        if not PHONE.match(phone):
            raise Invalid(_l("Enter a mainland mobile number (11 digits) or a landline with its area code, "
                             "e.g. 010-69243000."), "contact_phone")
        out["contact_phone"] = phone
    if "credit_code" in data:
        out["credit_code"] = clean_credit_code(data["credit_code"], exclude_id=provider_id)
    if "kind" in data:
        try:
            out["kind"] = ProviderKind(data["kind"])
        except ValueError:
            raise Invalid(_l("Choose the kind of organisation."), "kind") from None
    if "category_ids" in data:
        out["category_ids"] = _clean_categories(data["category_ids"])
    return out


def _clean_categories(raw) -> list[int]:
    wanted = sorted({int(c) for c in raw or []})
    available = {c.id for c in top_categories()}
    if available and not wanted:
        raise Invalid(_l("Choose at least one service category."), "category_ids")
    if set(wanted) - available:
        raise Invalid(_l("Choose service categories from the list."), "category_ids")
    return wanted


def _clean_reason(reason: str | None, required: bool = True) -> str:
    text = (reason or "").strip()
    if required and not text:
        raise Invalid(_l("Give the reason: the provider will read it."), "reason")
    if len(text) > REASON_MAX:
        raise Invalid(_l("At most %(n)d characters.", n=REASON_MAX), "reason")
    return text


# --- history, audit, messages -------------------------------------------------------------------

def _event(provider: Provider, action: ProviderAction, actor, before: ProviderStatus | None, reason="",
           until=None) -> ProviderEvent:
    ev = ProviderEvent(provider_id=provider.id, action=action, from_status=before, to_status=provider.status,
                       reason=reason, suspended_until=until, actor_id=getattr(actor, "id", None), at=utcnow())
    db.session.add(ev)
    return ev


def _link(endpoint: str, **values) -> str | None:
    return url_for(endpoint, **values) if has_request_context() else None


def _notify_in_their_language(user: User, subject, body="", link=None):
    """The message is written once, so write it in the reader's language."""
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        notify(user, str(subject), str(body), link)


def _notify_reviewers(provider: Provider, subject):
    """Tell the district's officers that an application waits for them."""
    officers = db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id).join(Area, Area.id == User.jurisdiction_id)
        .where(UserRole.role == Role.OFFICER, User.active.is_(True), Area.level == AreaLevel.DISTRICT)
    ).all()
    link = _link("providers.detail", provider_id=provider.id)
    for officer in officers:
        _notify_in_their_language(officer, subject, provider.name, link)


def _check_reviewer(officer, action: ProviderAction, provider: Provider):
    """Decisions on providers belong to the district's culture office."""
    if officer is None and action == ProviderAction.SUSPEND:
        return  # evaluation's rules suspend on their own
    jurisdiction = getattr(officer, "jurisdiction", None)
    if (officer is None or not officer.has_role(Role.OFFICER) or jurisdiction is None
            or jurisdiction.level != AreaLevel.DISTRICT):
        raise Forbidden(_l("Only district-level officers decide on providers."),
                        audit_action=f"provider.{action.value}", obj=provider)


# --- the provider's own steps ---------------------------------------------------------------------

def provider_of(user) -> Provider | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Provider).where(Provider.user_id == user.id))


def register(user: User, *, certificate, qualifications=(), **details) -> Provider:
    """Register the user's organisation for review; the user becomes a provider.

    `details`: name, credit_code, kind, legal_representative, contact_name, contact_phone, address,
    introduction, category_ids. `certificate` (required) and `qualifications` are uploads.
    """
    if user.has_role(Role.OFFICER, Role.ADMIN):
        raise Refused(_l("Officer and administrator accounts cannot register a provider. Register it with a "
                         "separate account."), audit_action="provider.register")
    if provider_of(user) is not None:
        raise Refused(_l("Your account has already registered an organisation."), audit_action="provider.register")
    missing = [k for k in DETAIL_FIELDS if k not in details and k not in ("address", "introduction")]
    if missing:
        raise ValueError(f"register() needs {missing}")
    data = _clean_details(details)
    if certificate is None:
        raise Invalid(_l("Upload the registration certificate or business licence."), "certificate")
    now = utcnow()
    provider = Provider(user_id=user.id, status=ProviderStatus.PENDING, submitted_at=now, created_at=now,
                        **{"address": "", "introduction": "", **data})
    try:
        with db.session.begin_nested():
            db.session.add(provider)
            db.session.flush()
    except IntegrityError:
        # Someone registered the same code (or this account) a moment ago.
        clean_credit_code(data["credit_code"])
        raise Refused(_l("Your account has already registered an organisation."),
                      audit_action="provider.register") from None
    if Role.PROVIDER not in user.roles:
        user.set_roles(user.roles | {Role.PROVIDER})
    _attach(provider, certificate, DocumentKind.REGISTRATION, user, "certificate")
    for upload in qualifications:
        _attach(provider, upload, DocumentKind.QUALIFICATION, user, "qualifications")
    _event(provider, ProviderAction.REGISTER, user, None)
    audit.record("provider.register", provider, actor=user, name=provider.name, credit_code=provider.credit_code,
                 kind=provider.kind, categories=provider.category_ids)
    _notify_reviewers(provider, _l("New provider registration to review"))
    return provider


def _attach(provider: Provider, upload, kind: DocumentKind, actor, field: str) -> ProviderDocument:
    stored = store(upload, uploaded_by=actor, field=field)
    doc = ProviderDocument(provider_id=provider.id, file_id=stored.id, kind=DocumentKind(kind), file=stored)
    db.session.add(doc)
    db.session.flush()
    return doc


def update_details(provider: Provider, actor: User, **details) -> Provider:
    """Change the provider's details. The organisation's identity (name, code, kind, legal
    representative) is fixed once approved; contact details and categories stay editable."""
    provider = lock_row(Provider, provider.id)
    if provider.status == ProviderStatus.BLACKLISTED:
        raise Refused(_l("A blacklisted provider's details cannot be changed."), audit_action="provider.update",
                      obj=provider)
    locked = provider.status not in EDITABLE_IDENTITY
    data = _clean_details(details, provider_id=provider.id)
    changed = {}
    for key, value in data.items():
        if getattr(provider, key) == value:
            continue
        if locked and key in IDENTITY_FIELDS:
            raise Refused(_l("The organisation's name, code, kind and legal representative cannot change after "
                             "approval. Ask the district culture office."), key, audit_action="provider.update",
                          obj=provider)
        changed[key] = {"before": getattr(provider, key), "after": value}
        setattr(provider, key, value)
    if changed:
        _event(provider, ProviderAction.UPDATE, actor, provider.status, reason=", ".join(sorted(changed)))
        audit.record("provider.update", provider, actor=actor, changes=changed)
    return provider


def add_document(provider: Provider, upload, kind, actor: User) -> ProviderDocument:
    provider = lock_row(Provider, provider.id)
    if provider.status == ProviderStatus.BLACKLISTED:
        raise Refused(_l("A blacklisted provider cannot add documents."), audit_action="provider.add_document",
                      obj=provider)
    count = db.session.scalar(select(func.count()).where(ProviderDocument.provider_id == provider.id))
    if count >= MAX_DOCUMENTS:
        raise Refused(_l("At most %(n)d documents can be kept; ask the office if you need more.", n=MAX_DOCUMENTS),
                      "file")
    try:
        kind = DocumentKind(kind)
    except ValueError:
        raise Invalid(_l("Choose what kind of document this is."), "kind") from None
    doc = _attach(provider, upload, kind, actor, "file")
    _event(provider, ProviderAction.ADD_DOCUMENT, actor, provider.status, reason=doc.file.original_name)
    audit.record("provider.add_document", provider, actor=actor, document_id=doc.id, kind=kind,
                 sha256=doc.file.sha256, size=doc.file.size, content_type=doc.file.content_type)
    return doc


def resubmit(provider: Provider, actor: User, note: str = "") -> Provider:
    """Send the application back for review after a request for documents or a rejection."""
    provider = lock_row(Provider, provider.id)
    note = _clean_reason(note, required=False)
    if provider.status == ProviderStatus.NEEDS_DOCUMENTS:
        asked = db.session.scalar(
            select(func.max(ProviderEvent.at)).where(ProviderEvent.provider_id == provider.id,
                                                     ProviderEvent.action == ProviderAction.REQUEST_DOCUMENTS))
        added = db.session.scalar(
            select(func.max(ProviderEvent.at)).where(ProviderEvent.provider_id == provider.id,
                                                     ProviderEvent.action == ProviderAction.ADD_DOCUMENT))
        if asked is not None and (added is None or added < asked):
            raise Refused(_l("Add the documents the office asked for before resubmitting."), "file",
                          audit_action="provider.resubmit", obj=provider)
    now = utcnow()
    before = provider.move(ProviderAction.RESUBMIT, now)
    provider.submitted_at = now
    provider.status_reason = ""
    _event(provider, ProviderAction.RESUBMIT, actor, before, reason=note)
    audit.record("provider.resubmit", provider, actor=actor, before=before, after=provider.status, note=note)
    _notify_reviewers(provider, _l("Provider application resubmitted for review"))
    return provider


# --- officers' decisions ------------------------------------------------------------------------------

SUBJECTS = {
    ProviderAction.APPROVE: _l("Your provider registration was approved"),
    ProviderAction.REJECT: _l("Your provider registration was rejected"),
    ProviderAction.REQUEST_DOCUMENTS: _l("More documents are needed for your provider registration"),
    ProviderAction.SUSPEND: _l("Your organisation is suspended from bidding"),
    ProviderAction.BLACKLIST: _l("Your organisation has been blacklisted"),
    ProviderAction.LIFT: _l("The restriction on your organisation was lifted"),
}


def _decide(provider: Provider, action: ProviderAction, officer, reason: str, *, reason_required=True,
            until: dt.datetime | None = None) -> Provider:
    provider = lock_row(Provider, provider.id)
    _check_reviewer(officer, action, provider)
    reason = _clean_reason(reason, required=reason_required)
    now = utcnow()
    if action == ProviderAction.SUSPEND:
        if until is None or until.tzinfo is None:
            raise Invalid(_l("Give the last day of the suspension."), "until")
        if until <= now:
            raise Invalid(_l("A suspension must end in the future."), "until")
    before = provider.move(action, now)
    provider.status_reason = "" if action in (ProviderAction.APPROVE, ProviderAction.LIFT) else reason
    if action == ProviderAction.SUSPEND:
        provider.suspended_until = until
    provider.reviewed_at = now
    provider.reviewed_by_id = getattr(officer, "id", None)
    _event(provider, action, officer, before, reason=reason, until=until)
    audit.record(f"provider.{action.value}", provider, actor=officer, before=before, after=provider.status,
                 reason=reason, until=until)
    user = db.session.get(User, provider.user_id)
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = reason
        if action == ProviderAction.SUSPEND:
            body = _("Suspended from bidding until %(day)s (inclusive). Reason: %(reason)s",
                     day=provider.suspension_last_day.isoformat(), reason=reason)
        notify(user, str(SUBJECTS[action]), body, _link("providers.mine"))
    return provider


def approve(provider: Provider, officer: User, note: str = "") -> Provider:
    return _decide(provider, ProviderAction.APPROVE, officer, note, reason_required=False)


def reject(provider: Provider, officer: User, reason: str) -> Provider:
    return _decide(provider, ProviderAction.REJECT, officer, reason)


def request_documents(provider: Provider, officer: User, reason: str) -> Provider:
    return _decide(provider, ProviderAction.REQUEST_DOCUMENTS, officer, reason)


def suspend(provider: Provider, until: dt.datetime, reason: str, officer: User | None = None) -> Provider:
    """Suspend from bidding until `until` (aware UTC). Without an officer it is the system's act
    (evaluation's rules); the reason is then the rule that fired."""
    return _decide(provider, ProviderAction.SUSPEND, officer, reason, until=until)


def blacklist(provider: Provider, officer: User, reason: str) -> Provider:
    return _decide(provider, ProviderAction.BLACKLIST, officer, reason)


def lift(provider: Provider, officer: User, reason: str) -> Provider:
    return _decide(provider, ProviderAction.LIFT, officer, reason)


DECISIONS = {
    ProviderAction.APPROVE: approve,
    ProviderAction.REJECT: reject,
    ProviderAction.REQUEST_DOCUMENTS: request_documents,
    ProviderAction.BLACKLIST: blacklist,
    ProviderAction.LIFT: lift,
}
