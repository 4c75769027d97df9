"""Login, logout, resident self-registration, password change."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from core import audit
from core.accounts import operations as accounts
from core.accounts.forms import (
    CommunityForm,
    LoginForm,
    PasswordChangeForm,
    PhoneCodeForm,
    PhoneForm,
    RegisterForm,
)
from core.accounts.models import Role, User
from core.areas.models import Area, AreaLevel
from core.db import db
from core.errors import DomainError
from core.permissions import AUTHENTICATED, PUBLIC, access
from core.refusals import refused
from core.security import by_address, limit
from core.views_util import apply_error

bp = Blueprint("auth", __name__)


def init_login(app, login_manager):
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        # The id carries the user's session token and epoch, both kept in the database: rotating
        # the token or raising the epoch ends every existing copy of the cookie on every server.
        uid, _sep, rest = (user_id or "").partition(":")
        token, _sep, epoch = rest.partition(":")
        if not uid.isdigit() or not epoch.isdigit():
            return None
        user = db.session.get(User, int(uid))
        if (user is None or not user.active or user.session_token != token
                or (user.session_epoch or 0) != int(epoch)):
            return None
        return user

    @login_manager.request_loader
    def load_from_bearer(req):
        header = req.headers.get("Authorization", "")
        if req.path.startswith("/api/") and header.startswith("Bearer "):
            return accounts.user_for_token(header[7:].strip())
        return None


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after login."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def client_address() -> str:
    return request.remote_addr or ""


@bp.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
@limit("20/minute;200/hour", config="RATELIMIT_LOGIN")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.login.data, form.password.data, client_address())
        except DomainError as e:
            # Every sign-in refusal is shown on the login name, whichever part was wrong.
            return refused(e, form=form, field="login", template="core/accounts/login.html")
        # A fresh session on login: nothing from before survives into the signed-in one.
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        login_user(user)
        session.permanent = True
        flash(_("Welcome, %(name)s.", name=user.name), "success")
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("core/accounts/login.html", form=form), (422 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@access(AUTHENTICATED)
def logout():
    user = current_user._get_current_object()
    audit.record("user.logout", user)
    # Every copy of the cookie ends with this one, not only the one in this browser.
    user.end_browser_sessions()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("main.index"))


def community_choices():
    rows = db.session.execute(
        select(Area.id, Area.name, Area.parent_id)
        .where(Area.level == AreaLevel.COMMUNITY)
        .order_by(Area.parent_id, Area.code)
    ).all()
    towns = dict(db.session.execute(select(Area.id, Area.name).where(Area.level == AreaLevel.TOWN)).all())
    return [(None, _("— choose —"))] + [(r.id, f"{towns.get(r.parent_id, '')} · {r.name}") for r in rows]


@bp.route("/register", methods=["GET", "POST"])
@access(PUBLIC)
@limit("10/minute;50/hour", config="RATELIMIT_REGISTER")
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    form.community_id.choices = community_choices()
    if form.validate_on_submit():
        community = db.session.get(Area, form.community_id.data) if form.community_id.data else None
        try:
            user = accounts.register_resident(login=form.login.data, name=form.name.data,
                                              password=form.password.data, community=community)
        except DomainError as e:
            return refused(e, form=form, template="core/accounts/register.html")
        session.clear()
        login_user(user)
        flash(_("Your account is ready. Welcome!"), "success")
        return redirect(url_for("main.index"))
    return render_template("core/accounts/register.html", form=form), (422 if form.errors else 200)


@bp.route("/account/password", methods=["GET", "POST"])
@access(AUTHENTICATED)
def change_password():
    form = PasswordChangeForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        if not accounts._password_matches(user, form.current.data):
            apply_error(form, "current", _("The current password is wrong."))
            return render_template("core/accounts/password.html", form=form), 422
        try:
            accounts.set_password(user, form.password.data)
        except DomainError as e:
            return refused(e, form=form, template="core/accounts/password.html")
        audit.record("user.password_change", user)
        # The rotated session token ended every session; keep this one alive.
        login_user(user)
        flash(_("Your password has been changed. Other sessions have been logged out."), "success")
        return redirect(url_for("main.index"))
    return render_template("core/accounts/password.html", form=form), (422 if form.errors else 200)


# --- residents: sign in with a mobile number and a code by SMS ---------------------------------

def by_phone() -> str:
    """Rate-limit key: the mobile number asked for (normalised), so one number cannot be flooded."""
    return "phone:" + (accounts.phone_or_none(request.form.get("phone", "")) or "invalid")


def _phone_page(form, code_form=None, status=200):
    return render_template("core/accounts/phone.html", form=form, code_form=code_form), status


def _signed_in(user):
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user)
    session.permanent = True


@bp.route("/login/phone", methods=["GET"])
@access(PUBLIC)
def phone_login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    form = PhoneForm(next=safe_next(request.args.get("next")) or "")
    return _phone_page(form)


@bp.route("/login/phone", methods=["POST"])
@access(PUBLIC)
@limit("5/minute;30/hour", key=by_address, config="RATELIMIT_SMS_ADDRESS")
@limit("1/minute;5/hour;10/day", key=by_phone, config="RATELIMIT_SMS_PHONE")
def phone_send():
    form = PhoneForm()
    form.next.data = safe_next(form.next.data) or ""
    if not form.validate_on_submit():
        return _phone_page(form, status=422)
    try:
        phone = accounts.send_phone_code(form.phone.data, client_address())
    except DomainError as e:
        return refused(e, form=form, render=lambda status: _phone_page(form, status=status))
    code_form = PhoneCodeForm(phone=phone, next=safe_next(form.next.data) or "", formdata=None)
    return _phone_page(form, code_form)


@bp.route("/login/phone/verify", methods=["POST"])
@access(PUBLIC)
@limit("10/minute;60/hour", key=by_address, config="RATELIMIT_SMS_VERIFY")
def phone_verify():
    code_form = PhoneCodeForm()
    form = PhoneForm(phone=code_form.phone.data, next=code_form.next.data, formdata=None)
    if not code_form.validate_on_submit():
        return _phone_page(form, code_form, status=422)
    try:
        user, _created = accounts.sign_in_by_phone(code_form.phone.data, code_form.code.data)
    except DomainError as e:
        return refused(e, form=code_form, render=lambda status: _phone_page(form, code_form, status=status))
    _signed_in(user)
    target = safe_next(code_form.next.data)
    if user.has_role(Role.RESIDENT) and user.community_id is None and not target:
        # Asked once, right after the first sign-in (a resident who came to rate goes on first).
        return redirect(url_for("auth.community"))
    flash(_("Welcome, %(name)s.", name=user.name), "success")
    return redirect(target or url_for("main.index"))


@bp.route("/account/community", methods=["GET", "POST"])
@access(Role.RESIDENT)
def community():
    form = CommunityForm()
    form.community_id.choices = community_choices()
    user = current_user._get_current_object()
    if request.method == "GET":
        form.community_id.data = user.community_id
    if form.validate_on_submit():
        area = db.session.get(Area, form.community_id.data) if form.community_id.data else None
        try:
            accounts.set_community(user, area, actor=user)
        except DomainError as e:
            return refused(e, form=form, field="community_id", template="core/accounts/community.html")
        flash(_("Saved: you live in %(name)s.", name=area.name), "success")
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("core/accounts/community.html", form=form), (422 if form.errors else 200)
