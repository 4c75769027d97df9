"""Admin pages: users and roles, areas, venues, settings, the audit log."""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select

from core import settings
from core.accounts import operations as accounts
from core.accounts.models import Role, User, UserRole
from core.admin.forms import SettingForm, UserEditForm, UserForm
from core.areas import operations as geo
from core.areas.forms import AreaForm, VenueForm
from core.areas.models import Area, AreaLevel, Venue
from core.audit import AuditEvent
from core.db import db
from core.errors import DomainError
from core.forms import ConfirmForm, ImportForm
from core.i18n import LOCAL_TZ
from core.permissions import access
from core.refusals import refused
from core.spreadsheets.exports import Column, Table, wants_export
from core.spreadsheets.files import RowErrors
from core.views_util import Page

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _area_choices(levels, blank=True):
    rows = db.session.scalars(select(Area).where(Area.level.in_(levels)).order_by(Area.level, Area.code)).all()
    choices = [(None, _("— none —"))] if blank else []
    return choices + [(a.id, f"{a.level.label} · {a.path_name()}") for a in rows]


def _get(model, pk):
    obj = db.session.get(model, pk)
    if obj is None:
        abort(404)
    return obj


# --- users -----------------------------------------------------------------------------------

USERS = Table("users", [
    Column(_l("Login"), "login"),
    Column(_l("Name"), "name"),
    Column(_l("Roles"), lambda u: [r.label for r in sorted(u.roles)]),
    Column(_l("Area"), lambda u: u.jurisdiction.name if u.jurisdiction else (u.community.name if u.community else "")),
    Column(_l("Status"), lambda u: _("Active") if u.active else _("Disabled")),
    Column(_l("Created on"), "created_at"),
    Column(_l("Last login"), "last_login_at"),
], audited=True)

@bp.route("/users")
@access(Role.ADMIN)
def users():
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    stmt = select(User).order_by(User.id)
    if q:
        stmt = stmt.where(or_(User.login.contains(q), User.name.contains(q)))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == Role(role))))
    if wants_export():
        return USERS.download(stmt)
    return render_template("core/admin/users.html", page=Page(stmt), q=q, role=role, roles=list(Role),
                           form=ConfirmForm())


def _user_form_choices(form):
    form.jurisdiction_id.choices = _area_choices([AreaLevel.DISTRICT, AreaLevel.TOWN])
    form.community_id.choices = _area_choices([AreaLevel.COMMUNITY])


@bp.route("/users/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def user_new():
    form = UserForm()
    _user_form_choices(form)
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                login=form.login.data, name=form.name.data, password=form.password.data, roles=form.roles.data,
                actor=current_user, jurisdiction=db.session.get(Area, form.jurisdiction_id.data or 0),
                community=db.session.get(Area, form.community_id.data or 0))
        except DomainError as e:
            return refused(e, form=form, template="core/admin/user_form.html", user=None)
        flash(_("User %(login)s created.", login=user.login), "success")
        return redirect(url_for("admin.users"))
    return render_template("core/admin/user_form.html", form=form, user=None), (422 if form.errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def user_edit(user_id):
    user = _get(User, user_id)
    form = UserEditForm(obj=user) if request.method == "GET" else UserEditForm()
    if request.method == "GET":
        form.roles.data = sorted(user.roles)
    _user_form_choices(form)
    if form.validate_on_submit():
        try:
            accounts.update_user(user, actor=current_user, name=form.name.data, roles=form.roles.data,
                                 jurisdiction=db.session.get(Area, form.jurisdiction_id.data or 0),
                                 community=db.session.get(Area, form.community_id.data or 0))
        except DomainError as e:
            return refused(e, form=form, template="core/admin/user_form.html", user=user,
                           confirm=ConfirmForm())
        flash(_("User %(login)s saved.", login=user.login), "success")
        return redirect(url_for("admin.users"))
    return render_template("core/admin/user_form.html", form=form, user=user, confirm=ConfirmForm()), \
        (422 if form.errors else 200)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@access(Role.ADMIN)
def user_set_active(user_id):
    user = _get(User, user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    accounts.set_active(user, active, actor=current_user)
    flash(_("User %(login)s enabled.", login=user.login) if active else
          _("User %(login)s disabled; their sessions have ended.", login=user.login), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/sessions/end", methods=["POST"])
@access(Role.ADMIN)
def user_end_sessions(user_id):
    user = _get(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.end_all_sessions(user, actor=current_user)
    flash(_("User %(login)s has been signed out everywhere.", login=user.login), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@access(Role.ADMIN)
def user_unlock(user_id):
    user = _get(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.unlock(user, actor=current_user)
    flash(_("The lock on %(login)s has been lifted.", login=user.login), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


# --- areas -----------------------------------------------------------------------------------

AREAS = Table("areas", [
    Column(_l("Code"), "code"),
    Column(_l("Name"), "name"),
    Column(_l("Level"), "level"),
    Column(_l("Parent area"), "parent.name"),
    Column(_l("Population"), "population"),
    Column(_l("Latitude"), "latitude"),
    Column(_l("Longitude"), "longitude"),
])

@bp.route("/areas")
@access(Role.ADMIN)
def areas():
    level = request.args.get("level", "")
    q = request.args.get("q", "").strip()
    stmt = select(Area).order_by(Area.level, Area.code)
    if level in {lv.value for lv in AreaLevel}:
        stmt = stmt.where(Area.level == AreaLevel(level))
    if q:
        stmt = stmt.where(or_(Area.name.contains(q), Area.code.contains(q)))
    if wants_export():
        return AREAS.download(stmt)
    return render_template("core/admin/areas.html", page=Page(stmt, per_page=50), level=level, q=q,
                           levels=list(AreaLevel), import_form=ImportForm())


@bp.route("/areas/new", methods=["GET", "POST"], defaults={"area_id": None})
@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def area_edit(area_id):
    area = _get(Area, area_id) if area_id else None
    form = AreaForm(obj=area) if request.method == "GET" and area else AreaForm()
    if request.method == "GET" and area:
        form.level.data = area.level.value
    form.parent_id.choices = _area_choices([AreaLevel.DISTRICT, AreaLevel.TOWN])
    if form.validate_on_submit():
        try:
            geo.save_area(area, code=form.code.data, name=form.name.data, level=form.level.data,
                          parent=db.session.get(Area, form.parent_id.data or 0), population=form.population.data,
                          latitude=form.latitude.data, longitude=form.longitude.data,
                          coordinate_system=form.coordinate_system.data, actor=current_user)
        except DomainError as e:
            return refused(e, form=form, template="core/admin/area_form.html", area=area)
        flash(_("Area saved."), "success")
        return redirect(url_for("admin.areas"))
    return render_template("core/admin/area_form.html", form=form, area=area), (422 if form.errors else 200)


def _run_import(fn, endpoint):
    form = ImportForm()
    if not form.validate_on_submit():
        for msg in form.file.errors:
            flash(msg, "danger")
        return redirect(url_for(endpoint))
    f = form.file.data
    try:
        count = fn(f.filename, f.read(), current_user)
    except RowErrors as errs:
        db.session.rollback()
        return render_template("core/spreadsheets/import_errors.html", errors=errs.errors, back=url_for(endpoint)), 422
    except DomainError as e:
        return refused(e, redirect_to=url_for(endpoint))
    flash(_("%(n)d rows imported.", n=count), "success")
    return redirect(url_for(endpoint))


@bp.route("/areas/import", methods=["POST"])
@access(Role.ADMIN)
def areas_import():
    return _run_import(geo.import_areas, "admin.areas")


# --- venues ----------------------------------------------------------------------------------

VENUES = Table("venues", [
    Column(_l("Name"), "name"),
    Column(_l("Kind"), "kind"),
    Column(_l("Area"), lambda v: v.area.path_name()),
    Column(_l("Address"), "address"),
    Column(_l("Capacity (people)"), "capacity"),
    Column(_l("In use"), "active"),
    Column(_l("Latitude"), "latitude"),
    Column(_l("Longitude"), "longitude"),
])

@bp.route("/venues")
@access(Role.ADMIN)
def venues():
    q = request.args.get("q", "").strip()
    stmt = select(Venue).order_by(Venue.area_id, Venue.id)
    if q:
        stmt = stmt.join(Venue.area).where(or_(Venue.name.contains(q), Area.name.contains(q)))
    if wants_export():
        return VENUES.download(stmt)
    return render_template("core/admin/venues.html", page=Page(stmt, per_page=50), q=q, import_form=ImportForm())


@bp.route("/venues/new", methods=["GET", "POST"], defaults={"venue_id": None})
@bp.route("/venues/<int:venue_id>", methods=["GET", "POST"])
@access(Role.ADMIN)
def venue_edit(venue_id):
    venue = _get(Venue, venue_id) if venue_id else None
    form = VenueForm(obj=venue) if request.method == "GET" and venue else VenueForm()
    if request.method == "GET" and venue:
        form.kind.data = venue.kind.value
    form.area_id.choices = _area_choices(list(AreaLevel), blank=False)
    if form.validate_on_submit():
        try:
            geo.save_venue(venue, name=form.name.data, kind=form.kind.data,
                           area=db.session.get(Area, form.area_id.data or 0), address=form.address.data,
                           capacity=form.capacity.data, active=form.active.data, latitude=form.latitude.data,
                           longitude=form.longitude.data, coordinate_system=form.coordinate_system.data,
                           actor=current_user)
        except DomainError as e:
            return refused(e, form=form, template="core/admin/venue_form.html", venue=venue)
        flash(_("Venue saved."), "success")
        return redirect(url_for("admin.venues"))
    return render_template("core/admin/venue_form.html", form=form, venue=venue), (422 if form.errors else 200)


@bp.route("/venues/import", methods=["POST"])
@access(Role.ADMIN)
def venues_import():
    return _run_import(geo.import_venues, "admin.venues")


# --- settings --------------------------------------------------------------------------------

SETTINGS = Table("settings", [
    Column(_l("Setting"), "label"),
    Column(_l("Key"), "key"),
    Column(_l("Value"), lambda d: settings.shown(settings.get(d.key), html=False)),
    Column(_l("Default"), lambda d: settings.shown(d.default, html=False)),
])


@bp.route("/settings")
@access(Role.ADMIN)
def settings_list():
    defs = sorted(settings.definitions().values(), key=lambda d: d.key)
    if wants_export():
        return SETTINGS.download(defs)
    values = {d.key: settings.get(d.key) for d in defs}
    return render_template("core/admin/settings.html", defs=defs, values=values, shown=settings.shown)


@bp.route("/settings/<key>", methods=["GET", "POST"])
@access(Role.ADMIN)
def setting_edit(key):
    d = settings.definitions().get(key)
    if d is None:
        abort(404)
    form = SettingForm()
    if request.method == "GET":
        form.value.data = str(settings.shown(settings.get(key), html=False))
    if form.validate_on_submit():
        try:
            settings.change(key, form.value.data, current_user)
        except ValueError as e:
            form.value.errors.append(str(e))
            return render_template("core/admin/setting_form.html", form=form, d=d, shown=settings.shown), 422
        flash(_("Setting saved."), "success")
        return redirect(url_for("admin.settings_list"))
    return render_template("core/admin/setting_form.html", form=form, d=d, shown=settings.shown), \
        (422 if form.errors else 200)


# --- audit log -------------------------------------------------------------------------------

AUDIT_LOG = Table("audit-log", [
    Column("#", "seq"),
    Column(_l("Time"), "at"),
    Column(_l("Actor"), "actor_label"),
    Column(_l("Action"), "action"),
    Column(_l("Object"), lambda e: f"{e.object_type} #{e.object_id}" if e.object_id else e.object_type),
    Column(_l("Summary"), lambda e: json.dumps(e.summary, ensure_ascii=False, sort_keys=True)),
    Column(_l("Address"), "address"),
], audited=True)

def _parse_day(text: str, end=False):
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    start = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(), LOCAL_TZ)
    return start.astimezone(dt.UTC)


@bp.route("/audit")
@access(Role.ADMIN)
def audit_log():
    f = {k: request.args.get(k, "").strip() for k in ("action", "actor", "object_type", "object_id", "since", "until")}
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc())
    if f["action"]:
        stmt = stmt.where(AuditEvent.action.startswith(f["action"]))
    if f["actor"]:
        stmt = stmt.where(AuditEvent.actor_label.contains(f["actor"]))
    if f["object_type"]:
        stmt = stmt.where(AuditEvent.object_type == f["object_type"])
    if f["object_id"]:
        stmt = stmt.where(AuditEvent.object_id == f["object_id"])
    if f["since"] and (since := _parse_day(f["since"])):
        stmt = stmt.where(AuditEvent.at >= since)
    if f["until"] and (until := _parse_day(f["until"], end=True)):
        stmt = stmt.where(AuditEvent.at < until)
    if wants_export():
        return AUDIT_LOG.download(stmt)
    return render_template("core/admin/audit.html", page=Page(stmt, per_page=50), f=f)
