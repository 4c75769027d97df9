"""Marketplace: providers, purchase projects, criteria, bids, opening, awards, challenges,
contracts, sessions, documents."""


def register_blueprints(app):
    from marketplace import award_views, contract_views, models  # noqa: F401  (tables known to migrations)

    app.register_blueprint(award_views.bp)
    app.register_blueprint(contract_views.bp)
