"""Amounts of money: yuan with two decimals (fen), as Decimal, never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from core.errors import Invalid

CENT = Decimal("0.01")


def parse_money(raw, field: str) -> Decimal:
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise Invalid(_l("Enter an amount in yuan, e.g. 12000.00."), field) from None
    if not value.is_finite() or value <= 0:
        raise Invalid(_l("The amount must be more than zero."), field)
    if value != value.quantize(CENT):
        raise Invalid(_l("Amounts have at most two decimals (fen)."), field)
    return value.quantize(CENT)
