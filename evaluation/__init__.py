"""Evaluation: expert database and panels, scoring, ranking, review reports; later ratings,
performance scores and adjustment rules."""


def register_blueprints(app):
    from core.cli import DEMO_SEEDERS, register_demo_seeder
    from evaluation import api, expert_admin, models, review, rules, seed, views  # noqa: F401

    app.register_blueprint(views.bp)
    app.register_blueprint(expert_admin.bp)
    app.register_blueprint(api.bp)
    review.register_hooks()
    if all(fn is not seed.seed_demo for _order, fn in DEMO_SEEDERS):
        register_demo_seeder(40, seed.seed_demo)
