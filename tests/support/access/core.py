"""URL arguments of the core pages."""

from core.areas.models import Area, AreaLevel, Venue, VenueKind
from tests.support.access.registry import builds


@builds("user_id")
def _user(ctx):
    return ctx["make_user"]("resident").id


@builds("area_id")
def _area(ctx):
    session = ctx["session"]
    district = Area(code="ACC-D", name="区", level=AreaLevel.DISTRICT, population=1)
    session.add(district)
    session.flush()
    return district.id


@builds("venue_id")
def _venue(ctx):
    session = ctx["session"]
    town = Area(code="ACC-T", name="镇", level=AreaLevel.TOWN, population=1,
                parent=Area(code="ACC-D2", name="区2", level=AreaLevel.DISTRICT, population=1))
    venue = Venue(name="文化室", kind=VenueKind.CULTURAL_ROOM, area=town, capacity=10)
    session.add(venue)
    session.flush()
    return venue.id


@builds("key")
def _setting_key(ctx):
    from core import settings

    return next(iter(settings.definitions()), "none")
