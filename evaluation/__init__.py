"""Evaluation: expert database and panels, scoring, ranking, review reports; ratings,
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

    _register_feedback(app)
    _register_figures(app)


def _register_figures(app):
    """The district's figures: the monthly briefing command and the officer dashboard."""
    from evaluation import briefing, dashboard

    app.register_blueprint(dashboard.bp)
    app.cli.add_command(briefing.reports_cli)


def _register_feedback(app):
    """Ratings, complaints, performance scores and adjustment rules: pages, API, commands, demo data."""
    from core.cli import DEMO_SEEDERS, register_demo_seeder
    from evaluation import feedback_api, feedback_cli, feedback_models, feedback_seed, feedback_views, ratings  # noqa: F401
    from marketplace import session_views

    app.register_blueprint(feedback_views.bp)
    app.register_blueprint(feedback_views.perf)
    app.register_blueprint(feedback_api.bp)
    app.cli.add_command(feedback_cli.evaluation_cli)
    from evaluation import scale_seed

    scale_seed.register(app)
    ratings.register_hooks()
    if feedback_views.session_panel not in session_views.SESSION_PANELS:
        session_views.SESSION_PANELS.append(feedback_views.session_panel)
    _catalog_item_section()
    from evaluation import report_views

    report_views.register(app)
    _register_portal(app)
    # Several apps may be made in one process (tests); the seeder is registered once.
    if not any(fn is feedback_seed.seed_delivery for _order, fn in DEMO_SEEDERS):
        register_demo_seeder(50, feedback_seed.seed_delivery)


def _catalog_item_section():
    """The catalog item page's satisfaction section, when the catalog offers the hook."""
    import importlib

    try:
        hooks = importlib.import_module("catalog.hooks")
    except ModuleNotFoundError as e:
        if e.name != "catalog.hooks":
            raise
        return
    from evaluation import feedback_views

    hooks.register_item_section("satisfaction", feedback_views.item_section)


def _register_portal(app):
    """The public portal, and its home as the anonymous landing page at /."""
    from core import main
    from evaluation import portal_views

    app.register_blueprint(portal_views.bp)
    if portal_views.landing not in main.LANDING_PAGES:
        main.LANDING_PAGES.append(portal_views.landing)
