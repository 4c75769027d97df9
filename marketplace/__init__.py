"""Marketplace: providers, purchase projects, criteria, bids, opening, awards, challenges,
contracts, sessions, open data."""


def init_app(app):
    from marketplace.awards import views as award_views
    from marketplace.bids import views as bid_views
    from marketplace.contracts import views as contract_views
    from marketplace.opendata import api as opendata_api
    from marketplace.projects import api as project_api
    from marketplace.projects import views as project_views
    from marketplace.providers import api as provider_api
    from marketplace.providers import views as provider_views
    from marketplace.sessions import views as session_views

    app.register_blueprint(provider_views.bp)
    app.register_blueprint(provider_api.bp)
    app.register_blueprint(project_views.bp)
    app.register_blueprint(bid_views.bp)
    app.register_blueprint(project_api.bp)
    app.register_blueprint(award_views.bp)
    app.register_blueprint(contract_views.bp)
    app.register_blueprint(session_views.bp)
    app.register_blueprint(opendata_api.bp)
