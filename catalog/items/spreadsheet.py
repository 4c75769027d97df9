"""The catalog as a spreadsheet: export to .xlsx (or .csv) and import back, all or nothing.

An imported row creates an item (as a draft) or, when its code exists, changes the item with a new
revision. Statuses are not changed by an import: they change only through recorded decisions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import LazyString, force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.items.models import ITEM_STATUS_LABELS, TARGET_GROUP_LABELS, Category, Item, ItemStatus, RevisionKind
from catalog.items.operations import clean_item_data, create_item, require_catalog_keeper, update_item
from catalog.items.search import Filters, item_query
from core import audit
from core.areas.models import AreaLevel
from core.db import db
from core.errors import Invalid
from core.i18n import current_locale
from core.spreadsheets.exports import Column, Table
from core.spreadsheets.files import RowErrors, read_table

# field: (Chinese header, English header); the import accepts either.
COLUMNS = {
    "code": ("编码", "Code"),
    "category": ("类别编码", "Category code"),
    "category_name": ("类别", "Category"),
    "name": ("名称", "Name"),
    "name_en": ("英文名称", "English name"),
    "unit": ("单位", "Unit"),
    "price_ceiling": ("最高限价（元）", "Price ceiling (yuan)"),
    "target_groups": ("服务对象", "Target groups"),
    "levels": ("采购层级", "Levels"),
    "status": ("状态", "Status"),
    "description": ("简介", "Description"),
    "standard_content": ("服务内容", "Service content"),
    "standard_duration": ("时长", "Duration"),
    "standard_staffing": ("人员配置", "Staffing"),
    "standard_quality": ("质量要求", "Quality requirements"),
    "revision": ("修订号", "Revision"),
}
# Shown in the export for people; not read back.
INFO_ONLY = ("category_name", "revision")
# Labels hold spaces and slashes ("Town / street", "镇/街道"), so only list marks separate values.
SEPARATORS = re.compile(r"[、,，;；\n]+")


def _label_maps() -> tuple[dict, dict, dict]:
    """Words accepted for target groups, levels and statuses: the stored value and both languages' labels."""
    groups, levels, statuses = {}, {}, {}
    for locale in ("zh_CN", "en"):
        with force_locale(locale):
            groups |= {str(label).lower(): tg.value for tg, label in TARGET_GROUP_LABELS.items()}
            levels |= {str(lv.label).lower(): lv.value for lv in AreaLevel}
            statuses |= {str(label).lower(): st for st, label in ITEM_STATUS_LABELS.items()}
    groups |= {tg.value: tg.value for tg in TARGET_GROUP_LABELS}
    levels |= {lv.value: lv.value for lv in AreaLevel} | {"区": "district", "镇街": "town", "村社区": "community"}
    statuses |= {st.value: st for st in ItemStatus}
    return groups, levels, statuses


def _header(names: tuple[str, str]) -> str:
    return names[0] if current_locale() == "zh_CN" else names[1]


def _values(field: str):
    return {
        "category": lambda i: i.category.code,
        "category_name": lambda i: i.category.path_name(),
        "target_groups": lambda i: "、".join(str(TARGET_GROUP_LABELS[tg]) for tg in TARGET_GROUP_LABELS
                                            if tg.value in i.target_groups),
        "levels": lambda i: "、".join(str(lv.label) for lv in AreaLevel if lv.value in i.levels),
    }.get(field, field)


# The officers' item list and its download share these columns, which the import reads back.
ITEMS = Table("catalog", [Column(LazyString(_header, names), _values(f)) for f, names in COLUMNS.items()],
              options=[selectinload(Item.category)])


def all_items_stmt():
    """Every item (drafts too) in catalog order."""
    return item_query(Filters(status="all"), public=False)


@dataclass
class ImportResult:
    created: int = 0
    changed: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.changed + self.unchanged


def _split(text: str, words: dict, line: int, errors: RowErrors, what: str) -> list[str] | None:
    values = []
    for part in SEPARATORS.split(text or ""):
        part = part.strip()
        if not part:
            continue
        value = words.get(part.lower())
        if value is None:
            errors.add(line, _("Unknown %(what)s '%(v)s'.", what=what, v=part))
            return None
        values.append(value)
    return values


def import_items(filename: str, data: bytes, actor) -> ImportResult:
    """Create or change items from a table. Every bad row is reported with its line and reason,
    and nothing is written while any row is bad."""
    require_catalog_keeper(actor)
    columns = {f: names for f, names in COLUMNS.items() if f not in INFO_ONLY}
    rows = read_table(filename, data, columns)
    if not rows:
        raise Invalid(_("The file has no rows below the header."), "file")
    groups, levels, statuses = _label_maps()
    categories = {c.code.lower(): c for c in db.session.scalars(select(Category))}
    existing = {i.code.lower(): i for i in db.session.scalars(select(Item))}
    errors = RowErrors()
    seen: dict[str, int] = {}
    planned = []
    for line, r in rows:
        code = r["code"].strip()
        if not code:
            errors.add(line, _("The code is empty."))
            continue
        if code.lower() in seen:
            errors.add(line, _("The code %(code)s is also on line %(other)d.", code=code, other=seen[code.lower()]))
            continue
        seen[code.lower()] = line
        item = existing.get(code.lower())
        category = categories.get(r["category"].strip().lower())
        if category is None:
            errors.add(line, _("The category code '%(v)s' is not known.", v=r["category"]))
            continue
        target_groups = _split(r["target_groups"], groups, line, errors, _("target group"))
        item_levels = _split(r["levels"], levels, line, errors, _("level"))
        if target_groups is None or item_levels is None:
            continue
        status_text = r["status"].strip()
        status = statuses.get(status_text.lower()) if status_text else None
        if status_text and status is None:
            errors.add(line, _("Unknown status '%(v)s'.", v=status_text))
            continue
        current = item.status if item else ItemStatus.DRAFT
        if status is not None and status != current:
            if item is None:
                errors.add(line, _("A new item starts as a draft; it enters the catalog by a status decision."))
            else:
                errors.add(line, _("The status of %(code)s changes only through a recorded decision (now: %(s)s).",
                                   code=code, s=current.label))
            continue
        values = {**r, "category": category, "target_groups": target_groups, "levels": item_levels}
        values.pop("status")
        try:
            clean_item_data(values, existing=item)
        except Invalid as e:
            errors.add(line, f"{_field_label(e.field)}: {e.message}")
            continue
        planned.append((item, values))
    if errors:
        raise errors
    result = ImportResult()
    note = _("Imported from %(file)s", file=filename)
    for item, values in planned:
        if item is None:
            create_item(values, actor, note=note, kind=RevisionKind.IMPORT)
            result.created += 1
        elif update_item(item, values, actor, note=note, kind=RevisionKind.IMPORT) is None:
            result.unchanged += 1
        else:
            result.changed += 1
    audit.record("catalog.import", actor=actor, object_type="items", file=filename, created=result.created,
                 changed=result.changed, unchanged=result.unchanged)
    return result


def _field_label(fld: str | None) -> str:
    names = COLUMNS.get({"category_id": "category"}.get(fld, fld or ""))
    if not names:
        return _("Row")
    return names[0] if current_locale() == "zh_CN" else names[1]
