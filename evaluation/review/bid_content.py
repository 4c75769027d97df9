"""A bid's unsealed service plan, for the experts reading it.

Bids are stored encrypted by marketplace.sealing; `bid_ops.opened_content` unseals the current
revision, and only once the project has been opened. This is the one place the review asks.
"""

from __future__ import annotations

from marketplace.bids import operations as bid_ops


def plan_of(bid) -> dict | None:
    """{"plan": text, "team": text} of an opened bid, or None before the opening (or for a bid
    entered without a sealed revision, as some fixtures do)."""
    if bid.project is None or not bid.project.is_opened or bid_ops.current_revision(bid) is None:
        return None
    content = bid_ops.opened_content(bid)
    return {"plan": content.get("plan", ""), "team": content.get("team", "")}
