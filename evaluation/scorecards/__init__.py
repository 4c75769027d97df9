"""Three-level performance: a scorecard per town/street and village/community, per month, quarter and year."""
