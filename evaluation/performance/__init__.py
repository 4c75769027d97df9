"""The performance model: each provider's score and grade, each item's satisfaction."""
