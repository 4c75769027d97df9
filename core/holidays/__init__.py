"""Statutory holidays and make-up working days an admin enters for years the calendar data lacks."""
