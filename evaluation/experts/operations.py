"""The expert database: create and edit experts (each with an expert login), declared
conflicts, and the all-or-nothing spreadsheet import.

The employer's unified social credit code is checked by the shared GB 32100-2015 validator
(core/uscc.py), so that it matches bidders' codes when conflicts of interest are looked for;
one code names one employer.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from catalog.items.models import Category
from core import audit, uscc
from core.accounts import operations as accounts
from core.accounts.models import Role, User
from core.db import db
from core.errors import Invalid
from core.spreadsheets.files import RowErrors, read_table
from evaluation.experts.models import Expert, ExpertConflict


def normalise_credit_code(raw: str) -> str:
    return uscc.normalise(raw)


def credit_code_problem(code: str) -> str | None:
    """Why `code` is not a valid unified social credit code, or None."""
    try:
        uscc.validate(code)
    except uscc.CodeError as e:
        return str(e.message)
    return None


def _check_employer(name: str, code: str, expert: Expert | None) -> None:
    problem = credit_code_problem(code)
    if problem:
        raise Invalid(problem, "employer_credit_code")
    # One code names one organisation: the same code under another employer name is a typo.
    stmt = select(Expert.employer).where(Expert.employer_credit_code == code)
    if expert is not None and expert.id is not None:
        stmt = stmt.where(Expert.id != expert.id)
    other = db.session.scalars(stmt).first()
    if other is not None and other != name:
        raise Invalid(_("This credit code is already recorded for “%(other)s”.", other=other),
                      "employer_credit_code")


def _specialties(ids) -> list[Category]:
    ids = {int(i) for i in ids or []}
    if not ids:
        raise Invalid(_("Choose at least one specialty."), "specialty_ids")
    cats = db.session.scalars(select(Category).where(Category.id.in_(ids))).all()
    if len(cats) != len(ids):
        raise Invalid(_("Unknown specialty."), "specialty_ids")
    return list(cats)


def _user_for(login: str, name: str, password: str | None, actor) -> User:
    """The expert's account: an existing user gets the expert role, otherwise one is created."""
    normal = accounts.normalise_login(login)
    user = db.session.scalar(select(User).where(User.login == normal))
    if user is None:
        if not password:
            raise Invalid(_("A new expert login needs an initial password."), "password")
        return accounts.create_user(login=normal, name=name, password=password, roles=[Role.EXPERT], actor=actor)
    if db.session.scalar(select(Expert.id).where(Expert.user_id == user.id)) is not None:
        raise Invalid(_("This login already belongs to an expert."), "login")
    if Role.EXPERT not in user.roles:
        user.set_roles([*user.roles, Role.EXPERT])
        db.session.flush()
        audit.record("user.update", user, actor=actor, roles_added=[Role.EXPERT.value])
    return user


def create_expert(*, login: str, name: str, password: str | None, title: str, employer: str,
                  employer_credit_code: str, specialty_ids, phone: str = "", email: str = "", notes: str = "",
                  actor) -> Expert:
    name, employer = (name or "").strip(), (employer or "").strip()
    code = normalise_credit_code(employer_credit_code)
    if not name:
        raise Invalid(_("The full name is empty."), "name")
    if not employer:
        raise Invalid(_("The employer is empty."), "employer")
    _check_employer(employer, code, None)
    specialties = _specialties(specialty_ids)
    user = _user_for(login, name, password, actor)
    expert = Expert(user_id=user.id, name=name, title=(title or "").strip(), employer=employer,
                    employer_credit_code=code, phone=(phone or "").strip(), email=(email or "").strip(),
                    notes=(notes or "").strip(), specialties=specialties)
    db.session.add(expert)
    db.session.flush()
    audit.record("expert.create", expert, actor=actor, login=user.login, employer=employer, credit_code=code,
                 specialties=[c.code for c in specialties])
    return expert


def update_expert(expert: Expert, *, name: str, title: str, employer: str, employer_credit_code: str,
                  specialty_ids, phone: str = "", email: str = "", notes: str = "", active: bool = True,
                  actor) -> Expert:
    name, employer = (name or "").strip(), (employer or "").strip()
    code = normalise_credit_code(employer_credit_code)
    if not name:
        raise Invalid(_("The full name is empty."), "name")
    if not employer:
        raise Invalid(_("The employer is empty."), "employer")
    _check_employer(employer, code, expert)
    before = {"name": expert.name, "employer": expert.employer, "credit_code": expert.employer_credit_code,
              "active": expert.active, "specialties": [c.code for c in expert.specialties]}
    expert.specialties = _specialties(specialty_ids)
    expert.name, expert.title, expert.employer, expert.employer_credit_code = name, (title or "").strip(), \
        employer, code
    expert.phone, expert.email, expert.notes, expert.active = (phone or "").strip(), (email or "").strip(), \
        (notes or "").strip(), bool(active)
    db.session.flush()
    after = {"name": expert.name, "employer": expert.employer, "credit_code": expert.employer_credit_code,
             "active": expert.active, "specialties": [c.code for c in expert.specialties]}
    audit.record("expert.update", expert, actor=actor, before=before, after=after)
    return expert


def declare_conflict(expert: Expert, *, credit_code: str, organisation: str, reason: str, actor) -> ExpertConflict:
    code = normalise_credit_code(credit_code)
    problem = credit_code_problem(code)
    if problem:
        raise Invalid(problem, "credit_code")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Say why you have a conflict with this organisation."), "reason")
    if any(c.credit_code == code for c in expert.conflicts):
        raise Invalid(_("This organisation is already declared."), "credit_code")
    conflict = ExpertConflict(credit_code=code, organisation=(organisation or "").strip()[:200], reason=reason)
    expert.conflicts.append(conflict)
    db.session.flush()
    audit.record("expert.conflict_declare", expert, actor=actor, credit_code=code, reason=reason)
    return conflict


def withdraw_conflict(conflict: ExpertConflict, actor) -> None:
    audit.record("expert.conflict_withdraw", conflict.expert, actor=actor, credit_code=conflict.credit_code)
    db.session.delete(conflict)
    db.session.flush()


# --- import -----------------------------------------------------------------------------------

COLUMNS = {
    "login": ("login", "登录名", "账号"),
    "name": ("name", "姓名"),
    "title": ("title", "职称"),
    "employer": ("employer", "工作单位"),
    "credit_code": ("credit code", "统一社会信用代码", "employer credit code"),
    "specialties": ("specialties", "专业", "评审专业"),
    "phone": ("phone", "电话", "联系电话"),
    "email": ("email", "邮箱", "e-mail"),
    "password": ("password", "初始密码"),
}


def import_experts(filename: str, data: bytes, actor) -> int:
    """Add experts from a table, all or nothing. Specialties are category codes or names,
    separated by commas, semicolons or spaces. A login already in the database must not be an
    expert yet; a new login needs an initial password."""
    rows = read_table(filename, data, COLUMNS)
    errors = RowErrors()
    cats = {c.code: c for c in db.session.scalars(select(Category))}
    by_name = {c.name: c for c in cats.values()}
    codes_seen: dict[str, str] = {}
    logins_seen: set[str] = set()
    good = []
    for line, r in rows:
        bad = []
        try:
            login = accounts.normalise_login(r["login"])
        except Invalid as e:
            bad.append(str(e.message))
            login = None
        if login and login in logins_seen:
            bad.append(_("The login %(login)s appears twice in the file.", login=login))
        if login:
            logins_seen.add(login)
            user = db.session.scalar(select(User).where(User.login == login))
            if user is not None and db.session.scalar(select(Expert.id).where(Expert.user_id == user.id)):
                bad.append(_("This login already belongs to an expert."))
            if user is None and not r["password"]:
                bad.append(_("A new expert login needs an initial password."))
            if user is None and r["password"]:
                try:
                    accounts.check_password_rule(r["password"], login)
                except Invalid as e:
                    bad.append(str(e.message))
        if not r["name"]:
            bad.append(_("The full name is empty."))
        if not r["employer"]:
            bad.append(_("The employer is empty."))
        code = normalise_credit_code(r["credit_code"])
        problem = credit_code_problem(code)
        if problem:
            bad.append(problem)
        elif r["employer"]:
            known = codes_seen.get(code) or db.session.scalars(
                select(Expert.employer).where(Expert.employer_credit_code == code)).first()
            if known is not None and known != r["employer"]:
                bad.append(_("This credit code is already recorded for “%(other)s”.", other=known))
            codes_seen.setdefault(code, r["employer"])
        specialties = []
        for token in re.split(r"[,;，；、\s]+", r["specialties"]):
            if not token:
                continue
            cat = cats.get(token) or by_name.get(token)
            if cat is None:
                bad.append(_("Unknown specialty '%(v)s'.", v=token))
            else:
                specialties.append(cat.id)
        if not specialties and not any("specialt" in str(b).lower() for b in bad):
            bad.append(_("Choose at least one specialty."))
        for reason in bad:
            errors.add(line, reason)
        if not bad:
            good.append((login, r, code, specialties))
    if errors:
        raise errors
    for login, r, code, specialties in good:
        create_expert(login=login, name=r["name"], password=r["password"] or None, title=r["title"],
                      employer=r["employer"], employer_credit_code=code, specialty_ids=specialties,
                      phone=r["phone"], email=r["email"], actor=actor)
    audit.record("expert.import", actor=actor, object_type="experts", rows=len(good))
    return len(good)
