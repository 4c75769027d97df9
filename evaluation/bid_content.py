"""A bid's unsealed service plan, for the experts reading it.

The plan is stored encrypted by marketplace.sealing (built on another branch). After the
opening that module unseals it; this is the one place the review asks for it, so the
connection is made here: `marketplace.sealing.open_plan(bid)` returning the plan text (or a
dict with "plan" and "team"). Until that function exists the experts are told where to read it.
"""

from __future__ import annotations


def plan_of(bid) -> dict | None:
    """{"plan": text, "team": text} of an opened bid, or None when it cannot be unsealed here."""
    if bid.project is None or not bid.project.is_opened:
        return None
    try:
        from marketplace import sealing
    except ImportError:
        return None
    opener = getattr(sealing, "open_plan", None)
    if opener is None:
        return None
    content = opener(bid)
    if isinstance(content, str):
        return {"plan": content, "team": ""}
    return {"plan": content.get("plan", ""), "team": content.get("team", "")} if content else None
