"""The guidance catalog (指导性目录): categories and items, their revisions and status
decisions, yearly catalog versions, and residents' demand (点单).

Other modules rely on these names: Category, Item (id, code, name, name_en, unit,
price_ceiling, status, category_id, levels, target_groups) and the enums below.
Figures computed by evaluation (satisfaction, rating count) are written onto Item by that
module; catalog never imports it. Status changes go through
`catalog.operations.decide_item_status` (a recorded ItemStatusDecision), never by assignment.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from catalog.items.pinyin import pinyin_keys
from core.accounts.models import User
from core.areas.models import AreaLevel
from core.db import Fixed, Money, UTCDateTime, db, enum_column, utcnow
from core.errors import Refused


class ItemStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    WATCH = "watch"
    SUSPENDED = "suspended"
    RETIRED = "retired"

    @property
    def label(self):
        return ITEM_STATUS_LABELS[self]


ITEM_STATUS_LABELS = {
    ItemStatus.DRAFT: _l("Draft"),
    ItemStatus.ACTIVE: _l("Active"),
    ItemStatus.WATCH: _l("On watch"),
    ItemStatus.SUSPENDED: _l("Suspended"),
    ItemStatus.RETIRED: _l("Retired"),
}


class TargetGroup(enum.StrEnum):
    GENERAL = "general"
    ELDERLY = "elderly"
    MINORS = "minors"
    DISABLED = "disabled"
    RURAL = "rural"
    MIGRANT = "migrant"

    @property
    def label(self):
        return TARGET_GROUP_LABELS[self]


TARGET_GROUP_LABELS = {
    TargetGroup.GENERAL: _l("General public"),
    TargetGroup.ELDERLY: _l("Elderly"),
    TargetGroup.MINORS: _l("Minors"),
    TargetGroup.DISABLED: _l("People with disabilities"),
    TargetGroup.RURAL: _l("Rural residents"),
    TargetGroup.MIGRANT: _l("Migrant workers"),
}


# The units the catalog uses, named in the English UI (the stored unit is the Chinese word).
UNIT_NAMES = {"场": _l("session"), "课时": _l("class hour"), "期": _l("course"), "次": _l("visit")}


def _english() -> bool:
    from core.i18n import current_locale

    try:
        return current_locale() == "en"
    except RuntimeError:  # outside a request or app context: the stored (Chinese) text
        return False


def localized(name: str, name_en: str | None) -> str:
    """The English name in the English UI where one is stored, else the Chinese name."""
    return name_en if name_en and _english() else name


def unit_name(unit: str) -> str:
    """The unit in the UI's language: 场 in Chinese, "session" in English."""
    return str(UNIT_NAMES[unit]) if unit in UNIT_NAMES and _english() else unit


class Category(db.Model):
    """Two levels: a top category (parent_id NULL) and its sub-categories."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    # Search keys, kept in step with the name, so "wyyc" finds the items of 文艺演出.
    pinyin: Mapped[str] = mapped_column(String(300), default="")
    pinyin_initials: Mapped[str] = mapped_column(String(100), default="")

    parent: Mapped[Category | None] = relationship(remote_side=[id], lazy="joined")

    @property
    def top(self) -> Category:
        return self.parent or self

    def path_name(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent else self.name

    @property
    def display_name(self) -> str:
        """The name in the UI's language."""
        return localized(self.name, self.name_en)

    def display_path(self) -> str:
        return f"{self.parent.display_name} / {self.display_name}" if self.parent else self.display_name


class Item(db.Model):
    """A service the district will buy. Its working values live here; every published state
    of it is kept as an immutable revision (see the catalog versions)."""

    __tablename__ = "items"
    __table_args__ = (CheckConstraint("price_ceiling > 0", name="ceiling_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # Service standard: what a delivered session must meet.
    standard_content: Mapped[str] = mapped_column(Text, default="")
    standard_duration: Mapped[str] = mapped_column(String(120), default="")
    standard_staffing: Mapped[str] = mapped_column(String(200), default="")
    standard_quality: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(10))  # 场 / 课时 / 期 / …
    price_ceiling: Mapped[Decimal] = mapped_column(Money)
    target_groups: Mapped[list] = mapped_column(JSON, default=list)  # TargetGroup values
    levels: Mapped[list] = mapped_column(JSON, default=list)  # AreaLevel values where it may be bought
    status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus), default=ItemStatus.DRAFT, index=True)
    # Search keys, kept in step with the name: full pinyin and initials ("wenyiyanchu", "wyyc").
    pinyin: Mapped[str] = mapped_column(String(400), default="", index=True)
    pinyin_initials: Mapped[str] = mapped_column(String(120), default="", index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Written by evaluation: resident satisfaction (1–5) and the ratings behind it.
    satisfaction: Mapped[Decimal | None] = mapped_column(Fixed(4, 2))
    rating_count: Mapped[int] = mapped_column(Integer, default=0)

    category: Mapped[Category] = relationship(lazy="joined", innerjoin=True)

    @property
    def display_name(self) -> str:
        """The name in the UI's language."""
        return localized(self.name, self.name_en)

    @property
    def display_unit(self) -> str:
        return unit_name(self.unit)

    def may_be_bought_at(self, level: AreaLevel) -> bool:
        return AreaLevel(level).value in (self.levels or [])

    @property
    def open_for_purchase(self) -> bool:
        """Only active items start new purchase projects (watch and retired ones do not)."""
        return self.status == ItemStatus.ACTIVE

    @property
    def open_for_requests(self) -> bool:
        """Residents may request items that are in the catalog and not suspended."""
        return self.status in (ItemStatus.ACTIVE, ItemStatus.WATCH)

    @property
    def public(self) -> bool:
        """Draft items are not yet part of the catalog and are shown to officers only."""
        return self.status != ItemStatus.DRAFT

    def snapshot(self) -> dict:
        """The item's content as stored in a revision (JSON-ready; the category by code)."""
        return {
            "code": self.code,
            "category": self.category.code,
            "category_name": self.category.name,
            "name": self.name,
            "name_en": self.name_en or "",
            "description": self.description or "",
            "standard_content": self.standard_content or "",
            "standard_duration": self.standard_duration or "",
            "standard_staffing": self.standard_staffing or "",
            "standard_quality": self.standard_quality or "",
            "unit": self.unit,
            "price_ceiling": str(Decimal(self.price_ceiling).quantize(Decimal("0.01"))),
            "target_groups": sorted(self.target_groups or []),
            "levels": [lv.value for lv in AreaLevel if lv.value in (self.levels or [])],
            "status": ItemStatus(self.status).value,
        }


@event.listens_for(Category.name, "set")
@event.listens_for(Item.name, "set")
def _keep_pinyin_in_step(target, value, oldvalue, initiator):
    target.pinyin, target.pinyin_initials = pinyin_keys(value)


# Columns of Item that only change with a new revision (status: only with a decision too).
TRACKED_FIELDS = ("code", "category_id", "name", "name_en", "description", "standard_content",
                  "standard_duration", "standard_staffing", "standard_quality", "unit", "price_ceiling",
                  "target_groups", "levels", "status")
# Fields of a revision's snapshot that a comparison looks at, in display order.
COMPARED_FIELDS = ("code", "name", "name_en", "category", "unit", "price_ceiling", "status", "target_groups",
                   "levels", "description", "standard_content", "standard_duration", "standard_staffing",
                   "standard_quality")


class RevisionKind(enum.StrEnum):
    CREATE = "create"
    EDIT = "edit"
    STATUS = "status"
    IMPORT = "import"
    BASELINE = "baseline"  # the state of an item made outside the catalog operations, recorded before a change

    @property
    def label(self):
        return {
            RevisionKind.CREATE: _l("Created"),
            RevisionKind.EDIT: _l("Edited"),
            RevisionKind.STATUS: _l("Status decision"),
            RevisionKind.IMPORT: _l("Imported"),
            RevisionKind.BASELINE: _l("Recorded state"),
        }[self]


class ItemRevision(db.Model):
    """One state of an item, never changed once written. Catalog versions point at revisions."""

    __tablename__ = "item_revisions"
    __table_args__ = (UniqueConstraint("item_id", "number"), CheckConstraint("number >= 1", name="number_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[RevisionKind] = mapped_column(enum_column(RevisionKind))
    data: Mapped[dict] = mapped_column(JSON)
    changed_fields: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    item: Mapped[Item] = relationship(lazy="select")
    created_by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def price_ceiling(self) -> Decimal:
        return Decimal(self.data["price_ceiling"])


STATUS_TRANSITIONS = {
    ItemStatus.DRAFT: (ItemStatus.ACTIVE, ItemStatus.RETIRED),
    ItemStatus.ACTIVE: (ItemStatus.WATCH, ItemStatus.SUSPENDED, ItemStatus.RETIRED),
    ItemStatus.WATCH: (ItemStatus.ACTIVE, ItemStatus.SUSPENDED, ItemStatus.RETIRED),
    ItemStatus.SUSPENDED: (ItemStatus.ACTIVE, ItemStatus.WATCH, ItemStatus.RETIRED),
    ItemStatus.RETIRED: (ItemStatus.ACTIVE,),
}
# Statuses of the items a published version lists (draft items are not yet in the catalog,
# retired ones are out of it).
IN_CATALOG = (ItemStatus.ACTIVE, ItemStatus.WATCH, ItemStatus.SUSPENDED)


class DecisionSource(enum.StrEnum):
    OFFICER = "officer"
    RULE = "rule"

    @property
    def label(self):
        return {DecisionSource.OFFICER: _l("Officer"), DecisionSource.RULE: _l("Adjustment rule")}[self]


class ItemStatusDecision(db.Model):
    """A recorded change of an item's status: who, when, why, and which rule proposed it."""

    __tablename__ = "item_status_decisions"
    __table_args__ = (
        CheckConstraint("from_status <> to_status", name="status_changes"),
        CheckConstraint("source <> 'rule' OR rule <> ''", name="rule_named"),
        CheckConstraint("source <> 'officer' OR decided_by_id IS NOT NULL", name="officer_named"),
        CheckConstraint("reason <> ''", name="reason_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    from_status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus, name="decision_from_status"))
    to_status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus, name="decision_to_status"))
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[DecisionSource] = mapped_column(enum_column(DecisionSource), default=DecisionSource.OFFICER)
    # The adjustment rule (code and version) that proposed the decision, e.g. "item_watch@1".
    rule: Mapped[str] = mapped_column(String(80), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("item_revisions.id"))

    item: Mapped[Item] = relationship(lazy="select")
    decided_by: Mapped[User | None] = relationship(lazy="joined")
    revision: Mapped[ItemRevision | None] = relationship(lazy="select")


@event.listens_for(ItemRevision, "before_update")
@event.listens_for(ItemRevision, "before_delete")
@event.listens_for(ItemStatusDecision, "before_update")
@event.listens_for(ItemStatusDecision, "before_delete")
def _immutable(mapper, connection, target):
    raise Refused(_l("Revisions and status decisions are kept as written; a change makes a new one."))


def _item_keys(row, value) -> set:
    keys = {("id", row.item_id, value)} if row.item_id is not None else set()
    item = row.__dict__.get("item")
    return keys | ({("obj", id(item), value)} if item is not None else set())


@event.listens_for(Session, "before_flush")
def _item_changes_need_a_revision(session, flush_context, instances):
    """An item's content changes only with a new revision, and its status only with a decision."""
    from sqlalchemy import inspect

    new_revisions, decided = set(), set()
    for obj in session.new:
        # The relationship is read from __dict__: loading it here would flush inside the flush.
        if isinstance(obj, ItemRevision):
            new_revisions |= _item_keys(obj, obj.number)
        elif isinstance(obj, ItemStatusDecision):
            decided |= _item_keys(obj, obj.to_status)
    for obj in session.dirty:
        if not isinstance(obj, Item):
            continue
        state = inspect(obj)
        # The category may be changed through its relationship, whose key is only set during the flush.
        changed = [f for f in (*TRACKED_FIELDS, "category") if state.attrs[f].history.has_changes()]
        if not changed:
            continue
        if not {("id", obj.id, obj.revision), ("obj", id(obj), obj.revision)} & new_revisions:
            raise Refused(_l("Item %(code)s cannot be edited in place: a change makes a new revision, so "
                             "every published state stays as it was.", code=obj.code),
                          code="edit_in_place")
        if "status" in changed and not {("id", obj.id, obj.status), ("obj", id(obj), obj.status)} & decided:
            raise Refused(_l("The status of item %(code)s changes only through a recorded decision.",
                             code=obj.code), code="status_without_decision")


# --- catalog versions ---------------------------------------------------------------------------


# --- resident demand (点单) -----------------------------------------------------------------------


