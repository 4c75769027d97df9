"""A small district with sessions last month, an assessment agency and its assessors, a drawn plan and
supervisors: the world of the assessment and supervision tests."""

from __future__ import annotations

import datetime as dt

from core import periods
from core.areas.models import Area, AreaLevel
from core.db import utcnow
from core.i18n import to_local
from evaluation.assessment import operations as assessment
from evaluation.supervision import operations as supervision
from tests.support.delivery import Delivery


def last_month(now: dt.datetime | None = None) -> str:
    local = to_local(now or utcnow())
    y, m = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    return periods.month_key(y, m)


def valid_code(seq: int) -> str:
    """A valid unified social credit code whose body varies with `seq`."""
    from core.uscc import complete

    return complete("9", "1", "110115", f"MA{seq:06d}")


class World:
    def __init__(self, session, make_user, tag="AS", district=None):
        self.session, self.make_user = session, make_user
        self.district = district or Area(code=f"{tag}-D", name="测评区", level=AreaLevel.DISTRICT, population=1)
        self.towns = [Area(code=f"{tag}-T{i}", name=f"测评镇{i}", level=AreaLevel.TOWN, population=1,
                           parent=self.district) for i in range(2)]
        self.communities = [Area(code=f"{tag}-C{i}", name=f"测评社区{i}", level=AreaLevel.COMMUNITY, population=1,
                                 parent=self.towns[i]) for i in range(2)]
        session.add_all([self.district, *self.towns, *self.communities])
        session.flush()
        self.d = Delivery(session, make_user, self.district, self.towns[0], self.communities[0])
        self.officer = self.d.officer(jurisdiction=self.district)
        self.town_officer = self.d.officer(jurisdiction=self.towns[0])

    def sessions_in(self, month: str, per_venue=(3, 2), provider=None, score=90, attendance=40):
        """Delivered, accepted sessions in `month`: `per_venue[i]` at a venue of community i."""
        provider = provider or self.d.provider()
        start = periods.month_start(month) + dt.timedelta(days=2, hours=2)
        out = []
        for i, n in enumerate(per_venue):
            venue = self.d.venue(self.communities[i])
            contract = self.d.contract(provider, officer=self.officer, sessions=max(n, 1), venue=venue)
            for k in range(n):
                out.append(self.d.delivered(contract, start + dt.timedelta(days=k), self.officer, score=score,
                                            attendance=attendance))
        return provider, out

    def agency(self, seq=1, code=None, since=None, until=None):
        today = to_local(utcnow()).date()
        return assessment.create_agency(f"测评机构{seq}", code or valid_code(seq),
                                        since or today - dt.timedelta(days=400),
                                        until or today + dt.timedelta(days=400), self.officer)

    def assessor(self, agency, employer_credit_code=""):
        user = self.make_user("assessor")
        return assessment.add_assessor(agency, user, self.officer, employer_credit_code)

    def supervisor(self, kind="npc_deputy"):
        user = self.make_user("supervisor")
        supervision.make_supervisor(user, kind, "区人大", self.officer)
        return user
