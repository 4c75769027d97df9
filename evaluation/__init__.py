"""Evaluation: expert database and panels, scoring, ranking, review reports; later ratings,
performance scores and adjustment rules."""


def register_blueprints(app):
    from evaluation import models  # noqa: F401  (tables known to migrations)
