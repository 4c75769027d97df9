"""Catalog versions: draft, publish after a publicity period, the version in force, and comparison."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from catalog.items.models import COMPARED_FIELDS, IN_CATALOG, Item, ItemRevision
from catalog.items.operations import ensure_baseline, require_catalog_keeper
from catalog.versions.models import CatalogVersion, CatalogVersionEntry
from core import audit, settings
from core.db import db, lock_row, utcnow
from core.errors import Invalid, Refused

PUBLICITY_DAYS = settings.define("catalog.publicity_days", 7, _l("Publicity period of a catalog version (days)"), int,
                                 minimum=1, maximum=60)


def latest_published_year() -> int | None:
    return db.session.scalar(select(func.max(CatalogVersion.year)).where(CatalogVersion.published_at.is_not(None)))


def create_version(*, year, title, notes="", actor) -> CatalogVersion:
    require_catalog_keeper(actor)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise Invalid(_("Give the year as four digits."), "year") from None
    if not 2000 <= year <= 2100:
        raise Invalid(_("Give the year as four digits."), "year")
    if db.session.scalar(select(CatalogVersion.id).where(CatalogVersion.year == year)):
        raise Invalid(_("There is already a catalog version for %(year)d.", year=year), "year")
    latest = latest_published_year()
    if latest is not None and year < latest:
        raise Invalid(_("The catalog for %(latest)d is published; a version for an earlier year cannot be drafted.",
                        latest=latest), "year")
    title = (title or "").strip() or _("Guidance catalog %(year)d", year=year)
    version = CatalogVersion(year=year, title=title[:120], notes=(notes or "").strip(), created_by_id=actor.id)
    db.session.add(version)
    db.session.flush()
    audit.record("catalog.version.create", version, actor=actor, year=year, title=version.title)
    return version


def update_version(version: CatalogVersion, *, title, notes, actor) -> CatalogVersion:
    require_catalog_keeper(actor)
    version = lock_row(CatalogVersion, version.id)
    if version.is_published:
        raise Refused(_("A published version is not edited; draft next year's version instead."))
    title = (title or "").strip()
    if not title:
        raise Invalid(_("The title is required."), "title")
    version.title, version.notes = title[:120], (notes or "").strip()
    audit.record("catalog.version.update", version, actor=actor, title=version.title)
    return version


def delete_version(version: CatalogVersion, actor) -> None:
    require_catalog_keeper(actor)
    version = lock_row(CatalogVersion, version.id)
    if version.is_published:
        raise Refused(_("A published version is kept for good."))
    audit.record("catalog.version.delete", version, actor=actor, year=version.year)
    db.session.delete(version)
    db.session.flush()


def publish_version(version: CatalogVersion, *, publicity_days: int | None = None, actor,
                    now: dt.datetime | None = None) -> CatalogVersion:
    """Publish a draft: pin the current revision of every item in the catalog (active, on watch or
    suspended) and open the publicity period (公示期); the version is in force when it ends."""
    require_catalog_keeper(actor)
    version = lock_row(CatalogVersion, version.id)
    if version.is_published:
        raise Refused(_("This version is already published."))
    latest = latest_published_year()
    if latest is not None and latest >= version.year:
        raise Refused(_("The catalog for %(latest)d is already published.", latest=latest))
    if publicity_days is None:
        days = settings.get(PUBLICITY_DAYS.key)
    else:
        try:
            days = PUBLICITY_DAYS.parse(publicity_days)
        except ValueError:
            raise Invalid(_("The publicity period is %(a)d to %(b)d days.", a=PUBLICITY_DAYS.minimum,
                            b=PUBLICITY_DAYS.maximum), "publicity_days") from None
    items = list(db.session.scalars(select(Item).where(Item.status.in_(IN_CATALOG)).order_by(Item.code)))
    if not items:
        raise Refused(_("No item is in the catalog (active, on watch or suspended); there is nothing to publish."))
    for item in items:
        ensure_baseline(item)
    revisions = dict(db.session.execute(
        select(ItemRevision.item_id, ItemRevision.id).join(Item, and_(Item.id == ItemRevision.item_id,
                                                                      Item.revision == ItemRevision.number))
        .where(Item.status.in_(IN_CATALOG))).all())
    for item in items:
        db.session.add(CatalogVersionEntry(version_id=version.id, item_id=item.id, revision_id=revisions[item.id]))
    now = now or utcnow()
    version.published_at = now
    version.publicity_ends_at = now + dt.timedelta(days=days)
    version.published_by_id = actor.id
    db.session.flush()
    audit.record("catalog.version.publish", version, actor=actor, year=version.year, items=len(items),
                 publicity_ends_at=version.publicity_ends_at)
    return version


def version_in_force(now: dt.datetime | None = None) -> CatalogVersion | None:
    """The version in force: the latest year whose publicity period has ended."""
    now = now or utcnow()
    return db.session.scalar(select(CatalogVersion).where(CatalogVersion.publicity_ends_at <= now)
                             .order_by(CatalogVersion.year.desc()).limit(1))


def next_in_force_change(now: dt.datetime) -> dt.datetime | None:
    """When the version in force next changes by itself: the nearest end of a publicity period."""
    return db.session.scalar(select(func.min(CatalogVersion.publicity_ends_at))
                             .where(CatalogVersion.publicity_ends_at > now))


@dataclass
class Entry:
    """An item as a version holds it: its snapshot and the revision number."""

    item_id: int
    revision: int
    data: dict

    @property
    def code(self) -> str:
        return self.data["code"]


def version_entries(version: CatalogVersion | None) -> dict[int, Entry]:
    """Item id → entry. A published version gives its pinned revisions; a draft gives what it would
    pin if published now (the current state of every item in the catalog)."""
    if version is None:
        return {}
    if version.is_published:
        rows = db.session.execute(
            select(ItemRevision.item_id, ItemRevision.number, ItemRevision.data)
            .join(CatalogVersionEntry, CatalogVersionEntry.revision_id == ItemRevision.id)
            .where(CatalogVersionEntry.version_id == version.id))
        return {r.item_id: Entry(r.item_id, r.number, r.data) for r in rows}
    items = db.session.scalars(select(Item).where(Item.status.in_(IN_CATALOG)))
    return {i.id: Entry(i.id, i.revision, i.snapshot()) for i in items}


@dataclass
class Comparison:
    added: list[Entry] = field(default_factory=list)
    removed: list[Entry] = field(default_factory=list)
    # (old entry, new entry, [(field, old value, new value)])
    changed: list[tuple[Entry, Entry, list[tuple[str, object, object]]]] = field(default_factory=list)
    unchanged: int = 0


def compare_entries(old: dict[int, Entry], new: dict[int, Entry]) -> Comparison:
    result = Comparison()
    for item_id, entry in new.items():
        if item_id not in old:
            result.added.append(entry)
            continue
        before = old[item_id]
        diffs = [(f, before.data.get(f), entry.data.get(f)) for f in COMPARED_FIELDS
                 if before.data.get(f) != entry.data.get(f)]
        if diffs:
            result.changed.append((before, entry, diffs))
        else:
            result.unchanged += 1
    result.removed = [e for item_id, e in old.items() if item_id not in new]
    for lst in (result.added, result.removed):
        lst.sort(key=lambda e: e.code)
    result.changed.sort(key=lambda t: t[1].code)
    return result


def compare_versions(old: CatalogVersion, new: CatalogVersion) -> Comparison:
    """Items added, removed and changed (field by field) from one version to another."""
    return compare_entries(version_entries(old), version_entries(new))


def previous_published(version: CatalogVersion) -> CatalogVersion | None:
    return db.session.scalar(select(CatalogVersion).where(CatalogVersion.published_at.is_not(None),
                                                          CatalogVersion.year < version.year)
                             .order_by(CatalogVersion.year.desc()).limit(1))
