"""Operations on the area network and venues, including the all-or-nothing import."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from core import audit, geo
from core.areas.models import PARENT_LEVEL, Area, AreaLevel, Venue, VenueKind
from core.db import db
from core.errors import Invalid
from core.spreadsheets.files import RowErrors, read_table


def _check_area(code, name, level: AreaLevel, parent: Area | None, population, existing: Area | None = None):
    if not code or not name:
        raise Invalid(_("Code and name are required."), "code" if not code else "name")
    dup = db.session.scalar(select(Area.id).where(Area.code == code))
    if dup and (existing is None or dup != existing.id):
        raise Invalid(_("The code %(code)s is already used.", code=code), "code")
    if level == AreaLevel.DISTRICT:
        if parent is not None:
            raise Invalid(_("The district has no parent area."), "parent_id")
    elif parent is None or parent.level != PARENT_LEVEL[level]:
        raise Invalid(_("A %(level)s must lie in a %(parent)s.", level=level.label,
                        parent=PARENT_LEVEL[level].label), "parent_id")
    if population is None or population < 0:
        raise Invalid(_("The population must be a whole number, zero or more."), "population")


def _point(obj) -> list[str] | None:
    return None if obj.latitude is None else [str(obj.latitude), str(obj.longitude)]


def save_area(area: Area | None, *, code, name, level, parent, population, actor, latitude=None, longitude=None,
              coordinate_system=geo.WGS84) -> Area:
    """Create or change an area. Coordinates are checked and stored in WGS-84 (GCJ-02 input is
    converted, core.geo); none given leaves the area without a point."""
    level = AreaLevel(level)
    code = (code or "").strip()
    _check_area(code, (name or "").strip(), level, parent, population, area)
    point = geo.coordinates(latitude, longitude, coordinate_system)
    before = None
    if area is None:
        area = Area()
        db.session.add(area)
    else:
        before = {"code": area.code, "name": area.name, "parent": getattr(area.parent, "code", None),
                  "population": area.population, "point": _point(area)}
        if area.level != level:
            raise Invalid(_("The level of an existing area cannot change."), "level")
    area.code, area.name, area.level, area.parent, area.population = code, name.strip(), level, parent, population
    area.latitude, area.longitude = point or (None, None)
    db.session.flush()
    audit.record("area.create" if before is None else "area.update", area, actor=actor, before=before,
                 after={"code": code, "name": area.name, "parent": getattr(parent, "code", None),
                        "population": population, "point": _point(area)})
    return area


def save_venue(venue: Venue | None, *, name, kind, area, address, capacity, active=True, actor, latitude=None,
               longitude=None, coordinate_system=geo.WGS84) -> Venue:
    if not (name or "").strip():
        raise Invalid(_("The name is required."), "name")
    if area is None:
        raise Invalid(_("Choose the area the venue lies in."), "area_id")
    if capacity is None or capacity < 0:
        raise Invalid(_("The capacity must be a whole number, zero or more."), "capacity")
    point = geo.coordinates(latitude, longitude, coordinate_system)
    before = None
    if venue is None:
        venue = Venue()
        db.session.add(venue)
    else:
        before = {"name": venue.name, "kind": venue.kind, "area": venue.area.code, "capacity": venue.capacity,
                  "active": venue.active, "point": _point(venue)}
    venue.name, venue.kind, venue.area, venue.address = name.strip(), VenueKind(kind), area, (address or "").strip()
    venue.capacity, venue.active = capacity, active
    venue.latitude, venue.longitude = point or (None, None)
    db.session.flush()
    audit.record("venue.create" if before is None else "venue.update", venue, actor=actor, before=before,
                 after={"name": venue.name, "kind": venue.kind, "area": area.code, "capacity": capacity,
                        "active": active, "point": _point(venue)})
    return venue


AREA_COLUMNS = {
    "code": ("code", "编码"),
    "name": ("name", "名称"),
    "level": ("level", "层级"),
    "parent": ("parent", "parent code", "上级编码"),
    "population": ("population", "人口"),
    "latitude": ("latitude", "lat", "纬度"),
    "longitude": ("longitude", "lon", "lng", "经度"),
    "coordinate_system": ("coordinate system", "坐标系"),
}
POINT_FIELDS = ("latitude", "longitude", "coordinate_system")  # optional columns
COORDINATE_WORDS = {"": geo.WGS84, "wgs84": geo.WGS84, "wgs-84": geo.WGS84, "gps": geo.WGS84,
                    "gcj02": geo.GCJ02, "gcj-02": geo.GCJ02, "火星坐标": geo.GCJ02, "高德": geo.GCJ02}


def _row_point(r, line, errors: RowErrors):
    """(lat, lon, system) of an import row — the file may leave the columns out — or None
    with the row's error recorded."""
    system = COORDINATE_WORDS.get((r.get("coordinate_system") or "").strip().lower(),
                                  (r.get("coordinate_system") or "").strip())
    try:
        geo.coordinates(r.get("latitude"), r.get("longitude"), system)
    except Invalid as e:
        errors.add(line, str(e.message))
        return None
    return r.get("latitude"), r.get("longitude"), system
LEVEL_WORDS = {"district": AreaLevel.DISTRICT, "区": AreaLevel.DISTRICT, "town": AreaLevel.TOWN,
               "镇街": AreaLevel.TOWN, "镇": AreaLevel.TOWN, "街道": AreaLevel.TOWN,
               "community": AreaLevel.COMMUNITY, "村社区": AreaLevel.COMMUNITY, "社区": AreaLevel.COMMUNITY,
               "村": AreaLevel.COMMUNITY}


def _int(text: str) -> int | None:
    try:
        value = int(float(text)) if text not in ("", None) else None
    except ValueError:
        return None
    if value is not None and float(text) != value:
        return None
    return value


def import_areas(filename: str, data: bytes, actor) -> int:
    """Create or update areas from a table; every bad row is reported and nothing is written
    unless all rows are good. Parents may be earlier rows of the same file."""
    rows = read_table(filename, data, AREA_COLUMNS, optional=POINT_FIELDS)
    errors = RowErrors()
    existing = {a.code: a for a in db.session.scalars(select(Area))}
    planned: dict[str, AreaLevel] = {code: a.level for code, a in existing.items()}
    seen = set()
    good = []
    for line, r in rows:
        level = LEVEL_WORDS.get(r["level"].lower())
        population = _int(r["population"])
        if not r["code"]:
            errors.add(line, _("The code is empty."))
            continue
        if r["code"] in seen:
            errors.add(line, _("The code %(code)s appears twice in the file.", code=r["code"]))
            continue
        seen.add(r["code"])
        if not r["name"]:
            errors.add(line, _("The name is empty."))
        if level is None:
            errors.add(line, _("Unknown level '%(v)s' (use district, town or community).", v=r["level"]))
            continue
        if population is None or population < 0:
            errors.add(line, _("The population '%(v)s' is not a whole number, zero or more.", v=r["population"]))
        point = _row_point(r, line, errors)
        if level != AreaLevel.DISTRICT:
            parent_level = planned.get(r["parent"])
            if parent_level is None:
                errors.add(line, _("The parent code '%(v)s' is not known.", v=r["parent"]))
            elif parent_level != PARENT_LEVEL[level]:
                errors.add(line, _("A %(level)s must lie in a %(parent)s.", level=level.label,
                                   parent=PARENT_LEVEL[level].label))
        elif r["parent"]:
            errors.add(line, _("The district has no parent area."))
        if r["code"] in existing and existing[r["code"]].level != level:
            errors.add(line, _("The level of an existing area cannot change."))
        planned[r["code"]] = level
        good.append((line, r, level, population, point))
    if errors:
        raise errors
    for _line, r, level, population, point in good:
        area = existing.get(r["code"])
        parent = existing.get(r["parent"]) if level != AreaLevel.DISTRICT else None
        lat, lon, system = point
        area = save_area(area, code=r["code"], name=r["name"], level=level, parent=parent,
                         population=population, actor=actor, latitude=lat, longitude=lon, coordinate_system=system)
        existing[area.code] = area
    audit.record("area.import", actor=actor, object_type="areas", rows=len(good))
    return len(good)


VENUE_COLUMNS = {
    "name": ("name", "名称"),
    "kind": ("kind", "类型"),
    "area": ("area code", "area", "所在区域编码"),
    "address": ("address", "地址"),
    "capacity": ("capacity", "容纳人数"),
    "latitude": ("latitude", "lat", "纬度"),
    "longitude": ("longitude", "lon", "lng", "经度"),
    "coordinate_system": ("coordinate system", "坐标系"),
}


def import_venues(filename: str, data: bytes, actor) -> int:
    """Add venues from a table, all or nothing. A venue is matched by name within its area."""
    rows = read_table(filename, data, VENUE_COLUMNS, optional=POINT_FIELDS)
    errors = RowErrors()
    areas = {a.code: a for a in db.session.scalars(select(Area))}
    existing = {(v.area_id, v.name): v for v in db.session.scalars(select(Venue))}
    kinds = {k.value: k for k in VenueKind} | {str(k.label): k for k in VenueKind}
    good = []
    for line, r in rows:
        kind = kinds.get(r["kind"]) or kinds.get(r["kind"].lower())
        area = areas.get(r["area"])
        capacity = _int(r["capacity"])
        bad = False
        if not r["name"]:
            errors.add(line, _("The name is empty."))
            bad = True
        if kind is None:
            errors.add(line, _("Unknown venue kind '%(v)s'.", v=r["kind"]))
            bad = True
        if area is None:
            errors.add(line, _("The area code '%(v)s' is not known.", v=r["area"]))
            bad = True
        if capacity is None or capacity < 0:
            errors.add(line, _("The capacity '%(v)s' is not a whole number, zero or more.", v=r["capacity"]))
            bad = True
        point = _row_point(r, line, errors)
        if not bad and point is not None:
            good.append((r, kind, area, capacity, point))
    if errors:
        raise errors
    for r, kind, area, capacity, (lat, lon, system) in good:
        save_venue(existing.get((area.id, r["name"])), name=r["name"], kind=kind, area=area,
                   address=r["address"], capacity=capacity, actor=actor, latitude=lat, longitude=lon,
                   coordinate_system=system)
    audit.record("venue.import", actor=actor, object_type="venues", rows=len(good))
    return len(good)
