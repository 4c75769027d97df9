"""GET /api/v1/scorecards: the cards of a period and level, ranked (officers and admins, as the pages)."""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.accounts.models import Role
from core.openapi import api_doc
from core.permissions import access
from evaluation.scorecards import operations as scorecards
from evaluation.scorecards import views
from evaluation.scorecards.schemas import ScorecardQuerySchema, ScorecardsSchema

bp = Blueprint("scorecards_api", __name__, url_prefix="/api/v1")


def as_json(board: scorecards.Board, cards) -> dict:
    return {
        "period": board.period.label, "level": board.level.value, "model_version": scorecards.MODEL_VERSION,
        "weights": board.weights,
        "items": [{"area_code": c.area.code, "name": c.area.name, "population": c.population, "rank": c.rank,
                   "index": c.index,
                   "indicators": {m.key: {"value": m.value, "points": m.points, "weight": m.weight, "share": m.share}
                                  for m in c.marks}} for c in cards],
    }


@bp.route("/scorecards")
@api_doc(_l("Scorecards of the towns/streets or villages/communities for a month, quarter or year, ranked"),
         description=_l("Index 0–100 and rank per area, each indicator's value, points, weight and share of the "
                     "index (an indicator without data has value null; its weight is shared out). Malformed "
                     "period or level: 400 naming the field; an unknown area code: 404; a period that has not "
                     "begun: 409. A town's officer sees the towns and their own town's villages/communities."),
         query=ScorecardQuerySchema, responses={200: ScorecardsSchema}, errors=(400, 404, 409),
         tags=("scorecards",))
@access(Role.OFFICER, Role.ADMIN)
def index():
    period = views.read_period(request.args.get("period"))
    level = views.read_level(request.args.get("level"))
    parent = views.read_area(request.args.get("parent"), "parent")
    parent = views.visible_parent(current_user, level, parent)
    board = scorecards.board(period, level)
    return ScorecardsSchema().dump(as_json(board, views.board_items(board, parent, current_user)))
