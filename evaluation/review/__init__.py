"""The review: the panel draw, scoring, the computed ranking and report, the award decision."""
