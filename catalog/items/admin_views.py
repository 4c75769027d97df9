"""Officers' catalog pages: categories, items and their revisions, status decisions, versions,
and the spreadsheet export and import."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from catalog.items import operations as ops
from catalog.items.forms import CategoryForm, ItemForm, StatusDecisionForm
from catalog.items.models import TARGET_GROUP_LABELS, Category, ItemStatusDecision
from catalog.items.search import Filters, category_tree, item_query
from catalog.items.spreadsheet import ITEMS, all_items_stmt, import_items
from catalog.items.views import get_item
from catalog.versions import operations as version_ops
from catalog.versions.forms import PublishForm, VersionEditForm, VersionForm
from catalog.versions.models import CatalogVersion, CatalogVersionEntry
from core import settings
from core.accounts.models import Role
from core.areas.models import AreaLevel
from core.db import db, utcnow
from core.errors import DomainError, Forbidden
from core.forms import ConfirmForm, ImportForm
from core.i18n import local_now
from core.permissions import access
from core.refusals import refused
from core.spreadsheets.exports import Column, Table, requested_format, wants_export
from core.spreadsheets.files import RowErrors
from core.views_util import Page

bp = Blueprint("catalog_admin", __name__, url_prefix="/officer/catalog")


def _category_choices(blank: bool, tops_only: bool = False):
    choices = [(None, _("— none —"))] if blank else []
    for top, subs, _n in category_tree(public=False):
        choices.append((top.id, top.name))
        if not tops_only:
            choices += [(s.id, f"{top.name} / {s.name}") for s in subs]
    return choices


def _get(model, pk):
    obj = db.session.get(model, pk)
    if obj is None:
        abort(404)
    return obj


# --- items -----------------------------------------------------------------------------------------

@bp.route("/")
@access(Role.OFFICER)
def items():
    f = Filters.from_args(request.args, officer=True)
    if wants_export():
        return ITEMS.download(item_query(f, public=False))
    page = Page(item_query(f, public=False))
    return render_template("catalog/items/admin/items.html", page=page, f=f, tree=category_tree(public=False),
                           target_groups=TARGET_GROUP_LABELS, levels=list(AreaLevel), import_form=ImportForm())


def _item_data(form: ItemForm) -> dict:
    return {name: getattr(form, name).data for name in (
        "code", "category_id", "name", "name_en", "description", "standard_content", "standard_duration",
        "standard_staffing", "standard_quality", "unit", "price_ceiling", "target_groups", "levels")}


@bp.route("/items/new", methods=["GET", "POST"])
@access(Role.OFFICER)
def item_new():
    form = ItemForm()
    form.category_id.choices = _category_choices(blank=False)
    if request.method == "GET":
        form.target_groups.data = ["general"]
        form.levels.data = ["district", "town", "community"]
    if form.validate_on_submit():
        try:
            item = ops.create_item(_item_data(form), current_user, note=form.note.data or "")
        except DomainError as e:
            return refused(e, form=form, template="catalog/items/admin/item_form.html", item=None)
        flash(_("Item %(code)s created as a draft. Record a status decision to put it into the catalog.",
                code=item.code), "success")
        return redirect(url_for("catalog_admin.item_status", item_code=item.code))
    return render_template("catalog/items/admin/item_form.html", form=form, item=None), (422 if form.errors else 200)


@bp.route("/items/<item_code>/edit", methods=["GET", "POST"])
@access(Role.OFFICER)
def item_edit(item_code):
    item = get_item(item_code, allow_draft=True)
    form = ItemForm(obj=item) if request.method == "GET" else ItemForm()
    form.category_id.choices = _category_choices(blank=False)
    if request.method == "GET":
        form.price_ceiling.data = str(item.price_ceiling)
        form.base_revision.data = str(item.revision)
    if form.validate_on_submit():
        try:
            rev = ops.update_item(item, _item_data(form), current_user, note=form.note.data or "",
                                 base_revision=int(form.base_revision.data) if form.base_revision.data else None)
        except DomainError as e:
            return refused(e, form=form, template="catalog/items/admin/item_form.html", item=item)
        if rev is None:
            flash(_("Nothing was changed."), "info")
        else:
            flash(_("Saved as revision %(n)d of %(code)s.", n=rev.number, code=item.code), "success")
        return redirect(url_for("catalog.item", item_code=form.code.data.strip()))
    return render_template("catalog/items/admin/item_form.html", form=form, item=item), (422 if form.errors else 200)


@bp.route("/items/<item_code>/status", methods=["GET", "POST"])
@access(Role.OFFICER)
def item_status(item_code):
    item = get_item(item_code, allow_draft=True)
    form = StatusDecisionForm()
    form.set_choices(item)
    decisions = Page(select(ItemStatusDecision).where(ItemStatusDecision.item_id == item.id)
                     .order_by(ItemStatusDecision.id.desc()))
    if form.validate_on_submit():
        try:
            ops.decide_item_status(item, form.status.data, form.reason.data, current_user)
        except DomainError as e:
            return refused(e, form=form, template="catalog/items/admin/item_status.html", item=item,
                           decisions=decisions)
        flash(_("Decision recorded: %(code)s is now %(status)s.", code=item.code, status=item.status.label),
              "success")
        return redirect(url_for("catalog_admin.item_status", item_code=item.code))
    return render_template("catalog/items/admin/item_status.html", form=form, item=item, decisions=decisions), \
        (422 if form.errors else 200)


# --- categories ----------------------------------------------------------------------------------------

# Rows are (category, number of items in the catalog; None for a sub-category), as on the page.
CATEGORIES = Table("categories", [
    Column(_l("Code"), lambda r: r[0].code),
    Column(_l("Name"), lambda r: r[0].path_name()),
    Column(_l("English name"), lambda r: r[0].name_en),
    Column(_l("Items in the catalog"), lambda r: r[1]),
])


@bp.route("/categories")
@access(Role.OFFICER)
def categories():
    if wants_export():
        return CATEGORIES.download([row for top, subs, n in category_tree(public=False)
                                    for row in [(top, n), *((s, None) for s in subs)]])
    return render_template("catalog/items/admin/categories.html", tree=category_tree(public=False))


@bp.route("/categories/new", methods=["GET", "POST"], defaults={"category_id": None})
@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@access(Role.OFFICER)
def category_edit(category_id):
    category = _get(Category, category_id) if category_id else None
    form = CategoryForm(obj=category) if request.method == "GET" and category else CategoryForm()
    form.parent_id.choices = [c for c in _category_choices(blank=True, tops_only=True)
                              if category is None or c[0] != category.id]
    if form.validate_on_submit():
        try:
            ops.save_category(category, code=form.code.data, name=form.name.data, name_en=form.name_en.data,
                              parent=db.session.get(Category, form.parent_id.data or 0),
                              position=form.position.data or 0, description=form.description.data,
                              actor=current_user)
        except DomainError as e:
            return refused(e, form=form, template="catalog/items/admin/category_form.html", category=category)
        flash(_("Category saved."), "success")
        return redirect(url_for("catalog_admin.categories"))
    return render_template("catalog/items/admin/category_form.html", form=form, category=category), \
        (422 if form.errors else 200)


# --- versions --------------------------------------------------------------------------------------------

def _version_figures(versions) -> dict:
    in_force = version_ops.version_in_force()
    counts = dict(db.session.execute(select(CatalogVersionEntry.version_id, func.count())
                                     .where(CatalogVersionEntry.version_id.in_([v.id for v in versions]))
                                     .group_by(CatalogVersionEntry.version_id)).all())
    return {"counts": counts, "in_force_year": in_force.year if in_force else None, "now": utcnow()}


VERSIONS = Table("catalog-versions", [
    Column(_l("Year"), "year"),
    Column(_l("Title"), "title"),
    Column(_l("Phase"), lambda v, f: v.phase(f["now"], f["in_force_year"]), batch=True),
    Column(_l("Publicity until"), "publicity_ends_at"),
    Column(_l("Items"), lambda v, f: f["counts"].get(v.id, 0), batch=True),
], batch=_version_figures)


@bp.route("/versions")
@access(Role.OFFICER)
def versions():
    stmt = select(CatalogVersion).order_by(CatalogVersion.year.desc())
    if wants_export():
        return VERSIONS.download(stmt)
    page = Page(stmt)
    counts = dict(db.session.execute(select(CatalogVersionEntry.version_id, func.count())
                                     .group_by(CatalogVersionEntry.version_id)).all())
    in_force = version_ops.version_in_force()
    form = VersionForm()
    if request.method == "GET":
        form.year.data = local_now().year + 1
    return render_template("catalog/versions/admin/versions.html", page=page, counts=counts, form=form, now=utcnow(),
                           in_force_year=in_force.year if in_force else None)


@bp.route("/versions/new", methods=["GET", "POST"])
@access(Role.OFFICER)
def version_new():
    form = VersionForm()
    if request.method == "GET":
        form.year.data = local_now().year + 1
    if form.validate_on_submit():
        try:
            version = version_ops.create_version(year=form.year.data, title=form.title.data, notes=form.notes.data,
                                         actor=current_user)
        except DomainError as e:
            return refused(e, form=form, template="catalog/versions/admin/version_new.html")
        flash(_("Draft %(title)s created.", title=version.title), "success")
        return redirect(url_for("catalog_admin.version_detail", version_id=version.id))
    return render_template("catalog/versions/admin/version_new.html", form=form), (422 if form.errors else 200)


def _version_context(version):
    previous = version_ops.previous_published(version)
    comparison = version_ops.compare_versions(previous, version) if previous else None
    entries = version_ops.version_entries(version)
    in_force = version_ops.version_in_force()
    return {"version": version, "previous": previous, "comparison": comparison, "entry_count": len(entries),
            "now": utcnow(), "in_force_year": in_force.year if in_force else None,
            "default_days": settings.get(version_ops.PUBLICITY_DAYS.key), "delete_form": ConfirmForm()}


@bp.route("/versions/<int:version_id>", methods=["GET", "POST"])
@access(Role.OFFICER)
def version_detail(version_id):
    version = _get(CatalogVersion, version_id)
    form = VersionEditForm(obj=version) if request.method == "GET" else VersionEditForm()
    publish_form = PublishForm()
    if request.method == "GET":
        publish_form.publicity_days.data = settings.get(version_ops.PUBLICITY_DAYS.key)
    if form.validate_on_submit():
        try:
            version_ops.update_version(version, title=form.title.data, notes=form.notes.data, actor=current_user)
        except DomainError as e:
            return refused(e, form=form, template="catalog/versions/admin/version.html", publish_form=publish_form,
                               **_version_context(version))
        flash(_("Saved."), "success")
        return redirect(url_for("catalog_admin.version_detail", version_id=version.id))
    return render_template("catalog/versions/admin/version.html", form=form, publish_form=publish_form,
                           **_version_context(version)), (422 if form.errors else 200)


@bp.route("/versions/<int:version_id>/publish", methods=["POST"])
@access(Role.OFFICER)
def version_publish(version_id):
    version = _get(CatalogVersion, version_id)
    publish_form = PublishForm()
    form = VersionEditForm(obj=version, formdata=None)
    if publish_form.validate_on_submit():
        try:
            version_ops.publish_version(version, publicity_days=publish_form.publicity_days.data, actor=current_user)
        except DomainError as e:
            return refused(e, form=publish_form, render=lambda status: render_template(
                "catalog/versions/admin/version.html", form=form, publish_form=publish_form,
                **_version_context(version)))
        flash(_("%(title)s is published; its publicity period ends on %(end)s.", title=version.title,
                end=version.publicity_ends_at.strftime("%Y-%m-%d %H:%M UTC")), "success")
        return redirect(url_for("catalog_admin.version_detail", version_id=version.id))
    return render_template("catalog/versions/admin/version.html", form=form, publish_form=publish_form,
                           **_version_context(version)), 422


@bp.route("/versions/<int:version_id>/delete", methods=["POST"])
@access(Role.OFFICER)
def version_delete(version_id):
    version = _get(CatalogVersion, version_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    version_ops.delete_version(version, current_user)
    flash(_("The draft was deleted."), "success")
    return redirect(url_for("catalog_admin.versions"))


# --- spreadsheet -----------------------------------------------------------------------------------------

@bp.route("/export")
@access(Role.OFFICER)
def export():
    """The whole catalog (drafts too) in the import's columns, whatever the list's filters."""
    return ITEMS.download(all_items_stmt(), requested_format(default="xlsx"))


@bp.route("/import", methods=["POST"])
@access(Role.OFFICER)
def import_():
    form = ImportForm()
    if not form.validate_on_submit():
        for msg in form.file.errors:
            flash(msg, "danger")
        return redirect(url_for("catalog_admin.items"))
    f = form.file.data
    try:
        result = import_items(f.filename, f.read(), current_user)
    except RowErrors as errs:
        db.session.rollback()
        return render_template("core/spreadsheets/import_errors.html", errors=errs.errors,
                               back=url_for("catalog_admin.items")), 422
    except DomainError as e:
        if isinstance(e, Forbidden):
            raise
        return refused(e, redirect_to=url_for("catalog_admin.items"))
    flash(_("Import done: %(c)d items created, %(u)d changed (each with a new revision), %(s)d unchanged.",
            c=result.created, u=result.changed, s=result.unchanged), "success")
    return redirect(url_for("catalog_admin.items"))
