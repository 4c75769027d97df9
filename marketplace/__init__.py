"""Marketplace: providers, purchase projects, criteria, bids, opening, awards, challenges,
contracts, sessions, documents."""


def register_blueprints(app):
    from marketplace import models  # noqa: F401  (tables known to migrations)
