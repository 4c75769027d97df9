"""Evaluation: expert database and panels, scoring, ranking, review reports; ratings,
performance scores and adjustment rules."""


def register_blueprints(app):
    from evaluation import models  # noqa: F401  (tables known to migrations)

    _register_feedback(app)


def _register_feedback(app):
    """Ratings, complaints, performance scores and adjustment rules: pages, API, commands, demo data."""
    from evaluation import (
        feedback_models,  # noqa: F401  (tables known to migrations)
        ratings,
    )

    ratings.register_hooks()
