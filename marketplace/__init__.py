"""Marketplace: providers, purchase projects, criteria, bids, opening, awards, challenges,
contracts, sessions, documents."""


def register_blueprints(app):
    from marketplace import models  # noqa: F401  (tables known to migrations)

    _register_providers(app)
    _register_projects(app)
    _register_awards(app)
    _register_sessions(app)
    _register_open_data(app)


def _register_providers(app):
    from core.cli import DEMO_SEEDERS, register_demo_seeder
    from marketplace import provider_api, provider_seed, provider_views

    app.register_blueprint(provider_views.bp)
    app.register_blueprint(provider_api.bp)
    # The app factory may run more than once in a process (tests); seed once per run.
    if all(fn is not provider_seed.seed_demo_providers for _order, fn in DEMO_SEEDERS):
        register_demo_seeder(20, provider_seed.seed_demo_providers)


def _register_projects(app):
    """Purchase projects, sealed bids and the opening: pages, API, demo data."""
    from core.cli import DEMO_SEEDERS, register_demo_seeder
    from marketplace import api, bid_views, project_seed, project_views

    app.register_blueprint(project_views.bp)
    app.register_blueprint(bid_views.bp)
    app.register_blueprint(api.bp)
    if not any(fn is project_seed.seed_projects for _order, fn in DEMO_SEEDERS):
        register_demo_seeder(30, project_seed.seed_projects)


def _register_awards(app):
    """Awards, challenges and contracts (the review itself lives in evaluation)."""
    from marketplace import award_views, contract_views

    app.register_blueprint(award_views.bp)
    app.register_blueprint(contract_views.bp)


def _register_sessions(app):
    """Service sessions (场次): schedules, reports, acceptance."""
    from marketplace import session_views

    app.register_blueprint(session_views.bp)


def _register_open_data(app):
    """Open data in the Open Contracting Data Standard (OCDS)."""
    from marketplace import ocds_api

    app.register_blueprint(ocds_api.bp)
