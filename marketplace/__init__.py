"""Marketplace: providers, purchase projects, criteria, bids, opening, awards, challenges,
contracts, sessions, documents."""


def register_blueprints(app):
    from marketplace import models  # noqa: F401  (tables known to migrations)

    _register_projects(app)
    _register_sessions(app)


def _register_projects(app):
    """Purchase projects, sealed bids and the opening: pages, API, demo data."""
    from core.cli import DEMO_SEEDERS, register_demo_seeder
    from marketplace import api, bid_views, project_seed, project_views

    app.register_blueprint(project_views.bp)
    app.register_blueprint(bid_views.bp)
    app.register_blueprint(api.bp)
    # Several apps may be made in one process (tests); the seeder is registered once.
    if not any(fn is project_seed.seed_projects for _order, fn in DEMO_SEEDERS):
        register_demo_seeder(30, project_seed.seed_projects)


def _register_sessions(app):
    """Service sessions (场次): schedules, reports, acceptance."""
    from marketplace import session_views

    app.register_blueprint(session_views.bp)
