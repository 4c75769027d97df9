"""Contracts made from awards: lines, milestones, signatures, completion and termination."""
