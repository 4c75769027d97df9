"""The review's rules with numbers, as settings an admin may change (each change audited)."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from core import settings

PANEL_SIZE = settings.define(
    "evaluation.panel_size", 5, _l("Review panel: number of experts (odd)"), int, 3, 15)
LARGE_PANEL_SIZE = settings.define(
    "evaluation.large_panel_size", 7, _l("Review panel above the budget threshold: number of experts (odd)"),
    int, 3, 21)
LARGE_BUDGET = settings.define(
    "evaluation.large_budget_threshold", Decimal("1000000.00"),
    _l("Budget (yuan) above which the larger review panel is drawn"), Decimal, 0, None)
REPEAT_LIMIT = settings.define(
    "evaluation.repeat_limit", 3,
    _l("An expert is not drawn who already reviewed one of the bidders this many times this year (0: off)"),
    int, 0, 100)
TRIM_EXTREMES = settings.define(
    "evaluation.trim_extremes", True,
    _l("Drop each criterion's highest and lowest score when the panel has 7 or more experts"), bool)
PERFORMANCE_PRIOR = settings.define(
    "evaluation.performance_prior", Decimal("75.00"),
    _l("Performance score (0–100) used for a provider without history"), Decimal, 0, 100)
DEVIATION_PERCENT = settings.define(
    "evaluation.deviation_flag_percent", Decimal("30"),
    _l("Flag a score further from the panel mean than this share of the criterion's range (%)"),
    Decimal, 1, 100)
SETTINGS = (PANEL_SIZE, LARGE_PANEL_SIZE, LARGE_BUDGET, REPEAT_LIMIT, TRIM_EXTREMES, PERFORMANCE_PRIOR,
            DEVIATION_PERCENT)
TRIM_FROM = 7  # the panel size from which extremes are dropped (issue 5)


def odd(n: int) -> int:
    """Panels have an odd number of members: an even setting is rounded up."""
    return n if n % 2 else n + 1


def panel_size_for(budget: Decimal) -> int:
    if Decimal(budget) > Decimal(settings.get(LARGE_BUDGET.key)):
        return odd(settings.get(LARGE_PANEL_SIZE.key))
    return odd(settings.get(PANEL_SIZE.key))
