"""Accounts: login names, the password rule, hashing, throttled authentication, API tokens."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import re
import secrets
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from core import audit
from core.accounts.models import ApiToken, LoginAttempt, PhoneCode, Role, User
from core.db import db, utcnow
from core.errors import Forbidden, Invalid, Refused

MOBILE = re.compile(r"^1[3-9]\d{9}$")
PASSWORD_MIN = 10
# Failed sign-ins slow down the one who fails, not the account holder: a login name is
# throttled per (login, address) and each address across all logins; only far more failures,
# from any addresses, lock the account itself (the holder is told; an administrator can lift it).
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_PAIR = 5
MAX_FAILURES_PER_ADDRESS = 20
ACCOUNT_LOCK_WINDOW = dt.timedelta(hours=1)
ACCOUNT_LOCK_FAILURES = 50
ACCOUNT_LOCK_DURATION = dt.timedelta(hours=1)


def normalise_login(raw: str) -> str:
    """An e-mail address (lower-cased) or an 11-digit mainland mobile number."""
    value = (raw or "").strip()
    if "@" not in value:
        value = value.replace(" ", "").replace("-", "")
    if not value:
        raise Invalid(_("Enter an e-mail address or a mobile number."), "login")
    if "@" in value:
        try:
            return validate_email(value, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise Invalid(_("This is not a valid e-mail address."), "login") from None
    if value.startswith("+86"):
        value = value[3:]
    if MOBILE.match(value):
        return value
    raise Invalid(_("Enter an e-mail address or an 11-digit mainland mobile number starting with 1."), "login")


@cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).parent / "common_passwords.txt"
    return frozenset(
        line.strip().lower() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")
    )


def check_password_rule(password: str, login: str | None = None) -> None:
    if len(password or "") < PASSWORD_MIN:
        raise Invalid(_("The password must have at least %(n)d characters.", n=PASSWORD_MIN), "password")
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(password)) < 4:
        raise Invalid(_("This password is too common. Choose another."), "password")
    if login and login.split("@")[0].lower() in lowered and len(login.split("@")[0]) >= 5:
        raise Invalid(_("The password must not contain your login name."), "password")


def _hasher() -> PasswordHasher:
    cost = current_app.config["PASSWORD_HASH_COST"]
    return PasswordHasher(**cost)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def set_password(user: User, password: str) -> None:
    check_password_rule(password, user.login)
    user.password_hash = hash_password(password)
    user.end_sessions()


def _password_matches(user: User | None, password: str) -> bool:
    ph = _hasher()
    if user is None:
        # Same work as a real check, so timing does not reveal which logins exist.
        with contextlib.suppress(VerificationError, InvalidHashError):
            ph.verify(_dummy_hash(), password)
        return False
    try:
        ph.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if ph.check_needs_rehash(user.password_hash):
        user.password_hash = ph.hash(password)
    return True


@cache
def _dummy_hash_for(cost: tuple) -> str:
    return PasswordHasher(**dict(cost)).hash(secrets.token_hex(8))


def _dummy_hash() -> str:
    return _dummy_hash_for(tuple(sorted(current_app.config["PASSWORD_HASH_COST"].items())))


def _recent_failures(*conditions, window=THROTTLE_WINDOW) -> tuple[int, dt.datetime | None]:
    since = utcnow() - window
    row = db.session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(*conditions, LoginAttempt.at >= since)
    ).one()
    return row[0], row[1]


def _too_many(seconds: int) -> Refused:
    seconds = max(1, seconds)
    return Refused(_("Too many failed attempts. Try again in %(m)d minutes.", m=seconds // 60 + 1),
                   status=429, code="locked", retry_after=seconds)


def _locked(user: User) -> Refused:
    seconds = max(1, int((user.locked_until - utcnow()).total_seconds()))
    return Refused(_("This account is locked after too many failed sign-ins. Try again in %(m)d minutes "
                     "or ask an administrator.", m=seconds // 60 + 1),
                   status=429, code="locked", retry_after=seconds)


def _lock_if_attacked(user: User | None, login: str) -> None:
    """Lock the account after very many failures from any addresses; tell the holder, audit it."""
    if user is None or user.is_locked:
        return
    count, _last = _recent_failures(LoginAttempt.login == login, window=ACCOUNT_LOCK_WINDOW)
    if count < ACCOUNT_LOCK_FAILURES:
        return
    from core.notifications import notify

    user.locked_until = utcnow() + ACCOUNT_LOCK_DURATION
    audit.record("user.lock", user, failures=count, locked_until=user.locked_until)
    # In the holder's language, not that of whoever is failing to sign in.
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        notify(user, _("Your account was locked after many failed sign-ins"),
               _("There were %(n)d failed sign-ins to your account in the last hour. Nobody can sign "
                 "in to it until %(until)s UTC; an administrator can lift the lock sooner. If this was "
                 "not you, change your password once you are signed in again.",
                 n=count, until=user.locked_until.strftime("%Y-%m-%d %H:%M")))


def authenticate(raw_login: str, password: str, address: str) -> User:
    """Return the user for valid credentials, or raise with a message that does not say which
    part was wrong. Repeated failures per (login, address) and per address slow further tries
    from there; an account-wide lock needs far more failures from any addresses."""
    try:
        login = normalise_login(raw_login)
    except Invalid:
        login = (raw_login or "").strip().lower()[:254]
    for conditions, limit in (
        ((LoginAttempt.login == login, LoginAttempt.address == address), MAX_FAILURES_PER_PAIR),
        ((LoginAttempt.address == address,), MAX_FAILURES_PER_ADDRESS),
    ):
        count, last = _recent_failures(*conditions)
        if count >= limit:
            raise _too_many(int(((last + THROTTLE_WINDOW) - utcnow()).total_seconds()))
    user = db.session.scalar(select(User).where(User.login == login))
    if user is not None and user.is_locked:
        # Checked before the password, so a locked account tells nothing about guesses.
        raise _locked(user)
    if not _password_matches(user, password) or not user.active:
        db.session.add(LoginAttempt(login=login, address=address))
        db.session.flush()
        _lock_if_attacked(user, login)
        # The failed attempt (and any lock) must count even though the request fails.
        db.session.commit()
        raise Invalid(_("Wrong login name or password."), "login", code="bad_credentials", status=401)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.login == login))
    user.locked_until = None
    user.last_login_at = utcnow()
    audit.record("user.login", user, actor=user)
    return user


def unlock(user: User, *, actor) -> User:
    """An administrator lifts an account-wide lock; the failures that caused it are forgotten."""
    user.locked_until = None
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.login == user.login))
    audit.record("user.unlock", user, actor=actor)
    return user


def create_user(*, login: str, name: str, password: str, roles, actor=None, jurisdiction=None,
                community=None, locale=None) -> User:
    login = normalise_login(login)
    if db.session.scalar(select(User.id).where(User.login == login)):
        raise Invalid(_("This login name is already registered."), "login")
    check_password_rule(password, login)
    roles = {Role(r) for r in roles}
    if not roles:
        raise Invalid(_("Choose at least one role."), "roles")
    _check_role_areas(roles, jurisdiction, community)
    user = User(login=login, name=name.strip(), password_hash=hash_password(password), locale=locale,
                jurisdiction=jurisdiction if Role.OFFICER in roles else None,
                community=community)
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, actor=actor, roles=sorted(roles),
                 jurisdiction=getattr(jurisdiction, "code", None), community=getattr(community, "code", None))
    return user


def _check_role_areas(roles, jurisdiction, community):
    from core.areas.models import AreaLevel

    if Role.OFFICER in roles:
        if jurisdiction is None:
            raise Invalid(_("An officer needs a jurisdiction."), "jurisdiction")
        if jurisdiction.level not in (AreaLevel.DISTRICT, AreaLevel.TOWN):
            raise Invalid(_("A jurisdiction is the district or one town/street."), "jurisdiction")
    if Role.RESIDENT in roles and community is not None and community.level != AreaLevel.COMMUNITY:
        raise Invalid(_("Choose a village or community."), "community")


def update_user(user: User, *, actor, name=None, roles=None, jurisdiction=None, community=None) -> User:
    before = {"name": user.name, "roles": sorted(user.roles),
              "jurisdiction": getattr(user.jurisdiction, "code", None)}
    if roles is not None:
        roles = {Role(r) for r in roles}
        if not roles:
            raise Invalid(_("Choose at least one role."), "roles")
        if user.id == actor.id and Role.ADMIN in user.roles and Role.ADMIN not in roles:
            raise Refused(_("You cannot remove your own administrator role."), "roles")
        _check_role_areas(roles, jurisdiction, community or user.community)
        user.set_roles(roles)
        user.jurisdiction = jurisdiction if Role.OFFICER in roles else None
    if name is not None:
        user.name = name.strip()
    if community is not None:
        user.community = community
    after = {"name": user.name, "roles": sorted(user.roles),
             "jurisdiction": getattr(user.jurisdiction, "code", None)}
    audit.record("user.update", user, actor=actor, before=before, after=after)
    return user


def set_active(user: User, active: bool, *, actor) -> User:
    if user.id == actor.id and not active:
        raise Refused(_("You cannot disable your own account."))
    if user.active == active:
        return user
    user.active = active
    if not active:
        user.end_sessions()
        db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    audit.record("user.enable" if active else "user.disable", user, actor=actor)
    return user


def end_all_sessions(user: User, *, actor) -> User:
    """An administrator signs a user out everywhere: every session cookie and API token ends."""
    user.end_sessions()
    user.end_browser_sessions()
    audit.record("user.sessions_end", user, actor=actor)
    return user


def register_resident(*, login, name, password, community) -> User:
    if community is None:
        raise Invalid(_("Choose your village or community."), "community")
    user = create_user(login=login, name=name, password=password, roles=[Role.RESIDENT], community=community)
    return user


# --- API tokens ------------------------------------------------------------------------------

def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, ApiToken]:
    if not user.active:
        raise Forbidden(_("This account is disabled."))
    raw = secrets.token_urlsafe(32)
    hours = current_app.config["API_TOKEN_HOURS"]
    token = ApiToken(user=user, token_hash=_digest(raw), session_token=user.session_token,
                     expires_at=utcnow() + dt.timedelta(hours=hours))
    db.session.add(token)
    audit.record("token.issue", user, actor=user, expires_at=token.expires_at)
    return raw, token


def user_for_token(raw: str) -> User | None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.expires_at <= utcnow():
        return None
    user = token.user
    if not user.active or user.session_token != token.session_token:
        return None
    return user


# --- residents' sign-in by SMS code ------------------------------------------------------------

CODE_DIGITS = 6
CODE_MINUTES = 5
CODE_ATTEMPTS = 5
# Not an Argon2 hash, so no password ever matches it: such a resident signs in with codes.
PHONE_ONLY = "!phone-only"  # nosec B105


def _phone_digits(raw: str) -> str:
    value = (raw or "").strip().replace(" ", "").replace("-", "")
    if value.startswith("+86"):
        return value[3:]
    if value.startswith("0086"):
        return value[4:]
    return value


def phone_or_none(raw: str) -> str | None:
    """The 11-digit mainland mobile number written in `raw`, or None."""
    value = _phone_digits(raw)
    return value if MOBILE.match(value) else None


def normalise_phone(raw: str) -> str:
    """An 11-digit mainland mobile number (spaces, dashes and a +86 prefix are allowed)."""
    if not _phone_digits(raw):
        raise Invalid(_("Enter your mobile number."), "phone")
    value = phone_or_none(raw)
    if value is None:
        raise Invalid(_("Enter an 11-digit mainland mobile number starting with 1."), "phone")
    return value


def _keyed(*parts: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def send_phone_code(raw_phone: str, address: str, now: dt.datetime | None = None) -> str:
    """Send a fresh sign-in code to the number; earlier unused codes for it stop working.

    Returns the normalised number. The code is stored only as a keyed hash and is never logged
    or audited; how often a number or an address may ask is limited by the views' rate limits."""
    from core import sms

    phone = normalise_phone(raw_phone)
    now = now or utcnow()
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    db.session.execute(update(PhoneCode).where(PhoneCode.phone == phone, PhoneCode.used_at.is_(None))
                       .values(used_at=now))
    db.session.add(PhoneCode(phone=phone, code_hash=_keyed(phone, code), created_at=now,
                             expires_at=now + dt.timedelta(minutes=CODE_MINUTES), attempts=0,
                             address_hash=_keyed("address", address or "")))
    db.session.flush()
    try:
        sms.send_code(phone, code, CODE_MINUTES)
    except sms.SmsError as e:
        current_app.logger.error("sign-in code not sent: %s", e)
        raise Refused(_("The text message could not be sent just now. Please try again in a few minutes."),
                      "phone", status=503, code="sms_unavailable") from None
    audit.record("phone_code.send", None, phone=_masked(phone))
    return phone


def _masked(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def _code_failed(row: PhoneCode) -> None:
    row.attempts += 1
    if row.attempts >= CODE_ATTEMPTS:
        row.used_at = utcnow()
    db.session.flush()
    # The failed try must count even though the request fails.
    db.session.commit()


def verify_phone_code(raw_phone: str, raw_code: str, now: dt.datetime | None = None) -> str:
    """Check the code sent to the number: valid for a few minutes, once, with a few tries.
    Returns the normalised number."""
    phone = normalise_phone(raw_phone)
    now = now or utcnow()
    code = (raw_code or "").strip().replace(" ", "")
    if not (len(code) == CODE_DIGITS and code.isdigit()):
        raise Invalid(_("Enter the %(n)d-digit code from the text message.", n=CODE_DIGITS), "code")
    row = db.session.scalar(select(PhoneCode).where(PhoneCode.phone == phone, PhoneCode.used_at.is_(None))
                            .order_by(PhoneCode.created_at.desc(), PhoneCode.id.desc()).limit(1)
                            .with_for_update())
    if row is None or row.expires_at < now:
        raise Invalid(_("This code has expired or was already used. Ask for a new one."), "code",
                      code="code_expired")
    if not hmac.compare_digest(row.code_hash, _keyed(phone, code)):
        left = CODE_ATTEMPTS - row.attempts - 1
        _code_failed(row)
        if left <= 0:
            raise Invalid(_("Too many wrong codes. Ask for a new one."), "code", code="code_attempts")
        raise Invalid(_("The code is wrong. %(n)d tries left.", n=left), "code", code="code_wrong")
    row.used_at = now
    db.session.flush()
    return phone


def sign_in_by_phone(raw_phone: str, raw_code: str, now: dt.datetime | None = None) -> tuple[User, bool]:
    """The resident whose number this is, created on first sign-in. Returns (user, created)."""
    phone = verify_phone_code(raw_phone, raw_code, now)
    user = db.session.scalar(select(User).where(User.login == phone))
    created = user is None
    if created:
        # No password: a resident signs in with codes (an unusable hash never matches).
        user = User(login=phone, name=_("Resident %(tail)s", tail=phone[-4:]), password_hash=PHONE_ONLY,
                    community=None)
        user.set_roles([Role.RESIDENT])
        db.session.add(user)
        db.session.flush()
        audit.record("user.create", user, actor=user, roles=[Role.RESIDENT], via="phone")
    elif not user.active:
        raise Forbidden(_("This account is disabled."))
    elif user.is_locked:
        raise _locked(user)
    user.last_login_at = now or utcnow()
    audit.record("user.login", user, actor=user, via="phone")
    return user, created


def set_community(user: User, community, *, actor) -> User:
    """A resident says once which village or community they live in."""
    from core.areas.models import AreaLevel

    if community is None or community.level != AreaLevel.COMMUNITY:
        raise Invalid(_("Choose your village or community."), "community_id")
    before = getattr(user.community, "code", None)
    user.community = community
    db.session.flush()
    audit.record("user.community", user, actor=actor, before=before, after=community.code)
    return user
