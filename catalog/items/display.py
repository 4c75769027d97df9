"""How catalog values are shown in templates (revision snapshots hold plain values)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from catalog.items.models import COMPARED_FIELDS, ITEM_STATUS_LABELS, TARGET_GROUP_LABELS, ItemStatus, TargetGroup
from core.areas.models import AreaLevel
from core.i18n import fmt_money

FIELD_LABELS = {
    "code": _l("Code"),
    "name": _l("Name"),
    "name_en": _l("English name"),
    "category": _l("Category"),
    "unit": _l("Unit"),
    "price_ceiling": _l("Price ceiling"),
    "status": _l("Status"),
    "target_groups": _l("Target groups"),
    "levels": _l("Levels"),
    "description": _l("Description"),
    "standard_content": _l("Service content"),
    "standard_duration": _l("Duration"),
    "standard_staffing": _l("Staffing"),
    "standard_quality": _l("Quality requirements"),
}
if set(FIELD_LABELS) != set(COMPARED_FIELDS):
    raise RuntimeError("every compared field needs a label")


def field_value(field: str, value) -> str:
    """A snapshot field's value as a reader sees it: labels for codes, yuan for the ceiling."""
    if value in (None, "", []):
        return "—"
    if field == "target_groups":
        return "、".join(str(TARGET_GROUP_LABELS[TargetGroup(v)]) for v in value if v in TargetGroup._value2member_map_)
    if field == "levels":
        return "、".join(str(AreaLevel(v).label) for v in value if v in AreaLevel._value2member_map_)
    if field == "status":
        try:
            return str(ItemStatus(value).label)
        except ValueError:
            return str(value)
    if field == "price_ceiling":
        try:
            return fmt_money(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    return str(value)


def init_app(app):
    from catalog.items.models import unit_name

    app.jinja_env.filters["unit"] = unit_name  # a stored unit (场) in the UI's language
    app.jinja_env.filters["catalog_value"] = lambda value, field: field_value(field, value)
    app.jinja_env.filters["reject_key"] = lambda d, key: {k: v for k, v in d.items() if k != key}
    app.jinja_env.globals["field_labels"] = FIELD_LABELS
    app.jinja_env.globals["status_labels"] = {s.value: label for s, label in ITEM_STATUS_LABELS.items()}
    app.jinja_env.globals["target_group_label"] = lambda v: TARGET_GROUP_LABELS.get(TargetGroup(v), v)
    app.jinja_env.globals["level_label"] = lambda v: AreaLevel(v).label
