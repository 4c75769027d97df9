"""The three-level area network (district → town/street → village/community) and venues."""
