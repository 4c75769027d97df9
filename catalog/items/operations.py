"""Operations on the guidance catalog: categories, items and their revisions, status decisions,
yearly versions. They check the rules, change state, flush and audit; they never commit.

Other modules call `decide_item_status(item, new_status, reason, actor, rule=None)` to change an
item's status (evaluation's adjustment rules pass `rule="<rule code>@<version>"`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, select

from catalog.items.models import (
    COMPARED_FIELDS,
    STATUS_TRANSITIONS,
    Category,
    DecisionSource,
    Item,
    ItemRevision,
    ItemStatus,
    ItemStatusDecision,
    RevisionKind,
    TargetGroup,
)
from catalog.versions.models import CatalogVersionEntry
from core import audit
from core.accounts.models import Role
from core.areas.models import AreaLevel
from core.db import db, lock_row, utcnow
from core.errors import Forbidden, Invalid, Refused

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")
CEILING_MAX = Decimal("99999999.99")


# --- who keeps the catalog -------------------------------------------------------------------------

def require_catalog_keeper(actor) -> None:
    """Officers of the district keep the catalog; town and street officers read it."""
    if actor is None or not actor.has_role(Role.OFFICER):
        raise Forbidden(_("Only officers keep the catalog."))
    if actor.jurisdiction is None or actor.jurisdiction.level != AreaLevel.DISTRICT:
        raise Forbidden(_("Only officers of the district keep the catalog; town and street officers may read it."))


# --- input checks ------------------------------------------------------------------------------------

def parse_ceiling(raw) -> Decimal:
    """A price ceiling in yuan: a number above zero with at most two decimals."""
    text = str(raw if raw is not None else "").strip().replace(",", "").replace("¥", "").replace("￥", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise Invalid(_("The price ceiling '%(v)s' is not a number; give yuan, such as 3000 or 2500.50.",
                        v=str(raw if raw is not None else "")[:40]), "price_ceiling")
    if value <= 0:
        raise Invalid(_("The price ceiling must be more than zero yuan."), "price_ceiling")
    if value != value.quantize(Decimal("0.01")):
        raise Invalid(_("The price ceiling has at most two decimals (fen)."), "price_ceiling")
    if value > CEILING_MAX:
        raise Invalid(_("The price ceiling is too large."), "price_ceiling")
    return value.quantize(Decimal("0.01"))


def _choices(values, enum_cls, fld: str, empty_message) -> list[str]:
    known = {e.value for e in enum_cls}
    picked = []
    for v in values or []:
        v = str(getattr(v, "value", v)).strip()
        if v not in known:
            raise Invalid(_("Unknown value '%(v)s'.", v=v), fld)
        if v not in picked:
            picked.append(v)
    if not picked:
        raise Invalid(empty_message, fld)
    return [e.value for e in enum_cls if e.value in picked]


def _text(data: dict, key: str, limit: int, required_message=None) -> str:
    value = str(data.get(key) or "").strip()
    if required_message and not value:
        raise Invalid(required_message, key)
    if len(value) > limit:
        raise Invalid(_("At most %(n)d characters.", n=limit), key)
    return value


def clean_item_data(data: dict, existing: Item | None = None) -> dict:
    """Validated item values from a form, an API body or an import row; raises Invalid naming the field."""
    code = _text(data, "code", 30, _("The code is required."))
    if not CODE_PATTERN.match(code):
        raise Invalid(_("The code may hold letters, digits, '.', '-' and '_' (at most 30)."), "code")
    taken = db.session.scalar(select(Item).where(func.lower(Item.code) == code.lower()))
    if taken is not None and (existing is None or taken.id != existing.id):
        raise Invalid(_("The code %(code)s is already used by %(name)s.", code=code, name=taken.name), "code")
    category = data.get("category")
    if category is None and data.get("category_id"):
        category = db.session.get(Category, data["category_id"])
    if category is None:
        raise Invalid(_("Choose the category."), "category_id")
    return {
        "code": code,
        "category": category,
        "name": _text(data, "name", 120, _("The name is required.")),
        "name_en": _text(data, "name_en", 160),
        "description": _text(data, "description", 4000),
        "standard_content": _text(data, "standard_content", 4000, _("Describe what the service delivers.")),
        "standard_duration": _text(data, "standard_duration", 120),
        "standard_staffing": _text(data, "standard_staffing", 200),
        "standard_quality": _text(data, "standard_quality", 4000),
        "unit": _text(data, "unit", 10, _("The unit is required (场, 课时, 期 …).")),
        "price_ceiling": parse_ceiling(data.get("price_ceiling")),
        "target_groups": _choices(data.get("target_groups"), TargetGroup, "target_groups",
                                  _("Choose at least one target group.")),
        "levels": _choices(data.get("levels"), AreaLevel, "levels",
                           _("Choose at least one level where it may be bought.")),
    }


# --- categories ----------------------------------------------------------------------------------

def save_category(category: Category | None, *, code, name, name_en="", parent=None, position=0,
                  description="", actor) -> Category:
    require_catalog_keeper(actor)
    code, name = (code or "").strip(), (name or "").strip()
    if not code or not CODE_PATTERN.match(code) or len(code) > 20:
        raise Invalid(_("The code may hold letters, digits, '.', '-' and '_' (at most 20)."), "code")
    if not name or len(name) > 100:
        raise Invalid(_("The name is required (at most 100 characters)."), "name")
    taken = db.session.scalar(select(Category.id).where(func.lower(Category.code) == code.lower()))
    if taken and (category is None or taken != category.id):
        raise Invalid(_("The code %(code)s is already used.", code=code), "code")
    if parent is not None:
        if parent.parent_id is not None:
            raise Invalid(_("Categories have two levels: choose a top category as the parent."), "parent_id")
        if category is not None and parent.id == category.id:
            raise Invalid(_("A category cannot be its own parent."), "parent_id")
        if category is not None and db.session.scalar(select(Category.id).where(Category.parent_id == category.id)):
            raise Invalid(_("This category has sub-categories, so it stays a top category."), "parent_id")
    before = None
    if category is None:
        category = Category()
        db.session.add(category)
    else:
        before = {"code": category.code, "name": category.name, "parent": getattr(category.parent, "code", None)}
    category.code, category.name, category.name_en = code, name, (name_en or "").strip()[:100]
    category.parent, category.position, category.description = parent, int(position or 0), (description or "").strip()
    db.session.flush()
    audit.record("catalog.category.create" if before is None else "catalog.category.update", category,
                 actor=actor, before=before,
                 after={"code": code, "name": name, "parent": getattr(parent, "code", None)})
    return category


# --- items and revisions -------------------------------------------------------------------------------

def _changed_fields(before: dict, after: dict) -> list[str]:
    return [f for f in COMPARED_FIELDS if before.get(f) != after.get(f)]


def _revision(item: Item, kind: RevisionKind, actor, note: str, changed: list[str]) -> ItemRevision:
    rev = ItemRevision(item=item, number=item.revision, kind=kind, data=item.snapshot(), changed_fields=changed,
                       note=note, created_by=actor, created_at=utcnow())
    db.session.add(rev)
    return rev


def ensure_baseline(item: Item) -> None:
    """An item made outside these operations (a test factory, an old row) gets its current state
    recorded as a revision before its first change."""
    if item.id is None:
        db.session.flush()
    exists = db.session.scalar(select(ItemRevision.id).where(ItemRevision.item_id == item.id,
                                                             ItemRevision.number == item.revision))
    if not exists:
        db.session.add(ItemRevision(item=item, number=item.revision or 1, kind=RevisionKind.BASELINE,
                                    data=item.snapshot(), changed_fields=[], note="", created_at=utcnow()))
        db.session.flush()


def _assign(item: Item, values: dict) -> None:
    for key, value in values.items():
        setattr(item, key, value)


def create_item(data: dict, actor, note: str = "", kind: RevisionKind = RevisionKind.CREATE) -> Item:
    """A new item, in draft until a decision puts it into the catalog; revision 1 records it."""
    require_catalog_keeper(actor)
    values = clean_item_data(data)
    item = Item(status=ItemStatus.DRAFT, revision=1)
    with db.session.no_autoflush:
        _assign(item, values)
        db.session.add(item)
        _revision(item, kind, actor, note, [])
    db.session.flush()
    audit.record("catalog.item.create", item, actor=actor, code=item.code, name=item.name,
                 price_ceiling=item.price_ceiling, unit=item.unit)
    return item


def update_item(item: Item, data: dict, actor, note: str = "", base_revision: int | None = None,
                kind: RevisionKind = RevisionKind.EDIT) -> ItemRevision | None:
    """Change an item's content. A change never touches a written revision: it makes the next one,
    so every published version keeps the state it pinned. Returns None when nothing changed."""
    require_catalog_keeper(actor)
    item = lock_row(Item, item.id)
    if base_revision is not None and int(base_revision) != item.revision:
        raise Refused(_("Item %(code)s was changed meanwhile (now revision %(n)d). Reload it and make your "
                        "change again.", code=item.code, n=item.revision), code="stale_revision")
    if "status" in data and data["status"] not in (None, "", item.status, item.status.value):
        raise Refused(_("The status changes only through a recorded decision."), "status")
    values = clean_item_data(data, existing=item)
    if values["code"] != item.code and db.session.scalar(
            select(CatalogVersionEntry.item_id).where(CatalogVersionEntry.item_id == item.id).limit(1)):
        raise Invalid(_("%(code)s is in a published catalog, so its code stays as it is.", code=item.code), "code")
    ensure_baseline(item)
    before = item.snapshot()
    with db.session.no_autoflush:
        _assign(item, values)
        after = item.snapshot()
        changed = _changed_fields(before, after)
        if not changed:
            db.session.expire(item)
            return None
        item.revision += 1
        rev = _revision(item, kind, actor, (note or "").strip(), changed)
    db.session.flush()
    audit.record("catalog.item.revise", item, actor=actor, revision=item.revision, changed=changed,
                 before={f: before[f] for f in changed}, after={f: after[f] for f in changed})
    return rev


def decide_item_status(item: Item, new_status, reason: str, actor, rule: str | None = None) -> ItemStatusDecision:
    """Record a decision that changes an item's status (who, when, why) and the revision it makes.

    `rule` names the adjustment rule that proposed it (e.g. "item_watch@1"); `actor` is then the
    officer who confirmed it, or None for an automatic decision. Without a rule the actor must
    be an officer who keeps the catalog.
    """
    try:
        new_status = ItemStatus(getattr(new_status, "value", new_status))
    except ValueError:
        raise Invalid(_("Unknown status '%(v)s'.", v=new_status), "status") from None
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give the reason for the decision."), "reason")
    if len(reason) > 2000:
        raise Invalid(_("At most %(n)d characters.", n=2000), "reason")
    rule = (rule or "").strip()[:80]
    if not rule:
        require_catalog_keeper(actor)
    item = lock_row(Item, item.id)
    if item.status == new_status:
        raise Refused(_("Item %(code)s is already %(status)s.", code=item.code, status=new_status.label), "status")
    if new_status not in STATUS_TRANSITIONS[item.status]:
        raise Refused(_("An item cannot go from %(a)s to %(b)s.", a=item.status.label, b=new_status.label), "status")
    ensure_baseline(item)
    old = item.status
    with db.session.no_autoflush:
        decision = ItemStatusDecision(item=item, from_status=old, to_status=new_status, reason=reason,
                                      source=DecisionSource.RULE if rule else DecisionSource.OFFICER, rule=rule,
                                      decided_by=actor, decided_at=utcnow())
        db.session.add(decision)
        item.status = new_status
        item.revision += 1
        decision.revision = _revision(item, RevisionKind.STATUS, actor, reason, ["status"])
    db.session.flush()
    audit.record("catalog.item.status", item, actor=actor, before=old, after=new_status, reason=reason,
                 rule=rule or None, decision=decision.id)
    return decision


def latest_decisions(item_ids) -> dict[int, ItemStatusDecision]:
    """The newest status decision of each item (one query)."""
    ids = list(item_ids)
    if not ids:
        return {}
    newest = (select(ItemStatusDecision.item_id, func.max(ItemStatusDecision.id).label("id"))
              .where(ItemStatusDecision.item_id.in_(ids)).group_by(ItemStatusDecision.item_id).subquery())
    rows = db.session.scalars(select(ItemStatusDecision).join(newest, ItemStatusDecision.id == newest.c.id))
    return {d.item_id: d for d in rows}


# --- catalog versions ----------------------------------------------------------------------------------


