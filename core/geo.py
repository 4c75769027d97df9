"""Coordinates on the earth: WGS-84 checks, the GCJ-02 → WGS-84 conversion, straight-line
distances, a grid index for "what lies within r metres", and convex hulls for drawing.

Coordinates are stored in WGS-84 (the GPS datum). Maps published in China (高德/AMap, 腾讯,
Google's China tiles) give GCJ-02 ("Mars") coordinates, offset by a few hundred metres; a value
entered as GCJ-02 is converted with the standard published transform (the forward formula of
the GCJ-02 offset, inverted by fixed-point iteration to well under a metre). Outside China GCJ-02
equals WGS-84 and the value is kept as given.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l

from core.errors import Invalid

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
WGS84 = "wgs84"
GCJ02 = "gcj02"
COORDINATE_SYSTEMS = {WGS84: _l("WGS-84 (GPS)"), GCJ02: _l("GCJ-02 (AMap / Tencent maps)")}
PLACES = Decimal("0.000001")  # about 0.1 m

# The GCJ-02 offset (the constants of the published transform: Krasovsky 1940 ellipsoid).
_A = 6378245.0
_EE = 0.00669342162296594323


def _out_of_china(lat: float, lon: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """The forward GCJ-02 offset of a WGS-84 point."""
    if _out_of_china(lat, lon):
        return lat, lon
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 offset is the given point (iterated to < 1 cm)."""
    if _out_of_china(lat, lon):
        return lat, lon
    wlat, wlon = lat, lon
    for _ in range(30):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        dlat, dlon = glat - lat, glon - lon
        wlat, wlon = wlat - dlat, wlon - dlon
        if abs(dlat) < 1e-9 and abs(dlon) < 1e-9:
            break
    return wlat, wlon


def _parse(raw, field: str, low: int, high: int, what) -> float:
    try:
        value = float(Decimal(str(raw).strip()))
    except (ArithmeticError, ValueError):  # InvalidOperation is an ArithmeticError
        raise Invalid(_l("The %(what)s '%(v)s' is not a number.", what=what, v=raw), field) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise Invalid(_l("The %(what)s must lie between %(low)d and %(high)d degrees.", what=what, low=low,
                         high=high), field)
    return value


def coordinates(latitude, longitude, system: str = WGS84, *, prefix: str = "") -> tuple[Decimal, Decimal] | None:
    """Checked WGS-84 coordinates (6 decimals) from input in the given system; None when both
    are empty. One given without the other, a value out of range or an unknown system is an
    Invalid naming the field (`prefix` + latitude / longitude / coordinate_system)."""
    empty_lat = latitude is None or str(latitude).strip() == ""
    empty_lon = longitude is None or str(longitude).strip() == ""
    if empty_lat and empty_lon:
        return None
    if empty_lat or empty_lon:
        missing = "latitude" if empty_lat else "longitude"
        raise Invalid(_l("Give both the latitude and the longitude, or neither."), prefix + missing)
    if system not in COORDINATE_SYSTEMS:
        raise Invalid(_l("Unknown coordinate system '%(v)s' (use wgs84 or gcj02).", v=system),
                      prefix + "coordinate_system")
    lat = _parse(latitude, prefix + "latitude", -90, 90, _l("latitude"))
    lon = _parse(longitude, prefix + "longitude", -180, 180, _l("longitude"))
    if system == GCJ02:
        lat, lon = gcj02_to_wgs84(lat, lon)
    return (Decimal(repr(lat)).quantize(PLACES, ROUND_HALF_UP), Decimal(repr(lon)).quantize(PLACES, ROUND_HALF_UP))


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def walk_radius_m(minutes: float, speed_kmh: float, detour: float) -> float:
    """The straight-line distance a walk of `minutes` covers: speed × time / detour factor."""
    return speed_kmh * 1000.0 / 60.0 * minutes / detour


class GridIndex:
    """Points bucketed in square cells of `cell_m` metres (an equirectangular projection about a
    reference latitude: exact enough over a district). `within(lat, lon, r)` looks only at the
    cells that the circle touches, so n look-ups over m points cost about n + m at district
    scale, not n × m."""

    def __init__(self, points: Iterable[tuple[object, float, float]], cell_m: float, ref_lat: float | None = None):
        points = list(points)
        self.cell_m = max(cell_m, 1.0)
        if ref_lat is None:
            ref_lat = sum(p[1] for p in points) / len(points) if points else 0.0
        self._m_per_deg_lat = math.pi * EARTH_RADIUS_M / 180.0
        self._m_per_deg_lon = self._m_per_deg_lat * math.cos(math.radians(ref_lat))
        self.cells: dict[tuple[int, int], list[tuple[object, float, float]]] = defaultdict(list)
        for key, lat, lon in points:
            self.cells[self._cell(lat, lon)].append((key, lat, lon))
        self.size = len(points)
        if self.cells:
            xs = [c[0] for c in self.cells]
            ys = [c[1] for c in self.cells]
            self._extent = (min(xs), max(xs), min(ys), max(ys))

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return (math.floor(lon * self._m_per_deg_lon / self.cell_m),
                math.floor(lat * self._m_per_deg_lat / self.cell_m))

    def within(self, lat: float, lon: float, radius_m: float) -> list[tuple[object, float]]:
        """(key, metres) of the points at most `radius_m` away."""
        cx, cy = self._cell(lat, lon)
        k = math.ceil(radius_m / self.cell_m)
        out = []
        for x in range(cx - k, cx + k + 1):
            for y in range(cy - k, cy + k + 1):
                for key, plat, plon in self.cells.get((x, y), ()):
                    d = haversine_m(lat, lon, plat, plon)
                    if d <= radius_m:
                        out.append((key, d))
        return out

    def nearest(self, lat: float, lon: float) -> tuple[object, float] | None:
        """(key, metres) of the nearest point, searching rings of cells outwards."""
        if not self.cells:
            return None
        cx, cy = self._cell(lat, lon)
        x0, x1, y0, y1 = self._extent
        max_ring = max(abs(cx - x0), abs(cx - x1), abs(cy - y0), abs(cy - y1)) + 1
        best = None
        for ring in range(max_ring + 1):
            # Every point in ring r is at least (r − 1) cells away: stop once that exceeds the best.
            if best is not None and (ring - 1) * self.cell_m > best[1]:
                break
            for x in range(cx - ring, cx + ring + 1):
                for y in (range(cy - ring, cy + ring + 1) if abs(x - cx) == ring else (cy - ring, cy + ring)):
                    for key, plat, plon in self.cells.get((x, y), ()):
                        d = haversine_m(lat, lon, plat, plon)
                        if best is None or d < best[1]:
                            best = (key, d)
        return best


def convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The convex hull (Andrew's monotone chain), counter-clockwise, of (x, y) points."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]
