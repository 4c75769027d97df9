"""Marketplace: providers, purchase projects, criteria, bids, opening, awards, challenges,
contracts, sessions, open data."""

from flask_babel import lazy_gettext as _l


def init_app(app):
    from catalog import signals as catalog_signals
    from core import nav, settings
    from core import versions as data_versions
    from core.jobs import engine
    from marketplace.awards import operations as award_ops
    from marketplace.awards import views as award_views
    from marketplace.bids import cli as bid_cli
    from marketplace.bids import operations as bid_ops
    from marketplace.bids import views as bid_views
    from marketplace.contracts import views as contract_views
    from marketplace.opendata import api as opendata_api
    from marketplace.opendata import ocds
    from marketplace.opendata import views as opendata_views
    from marketplace.projects import api as project_api
    from marketplace.projects import operations as project_ops
    from marketplace.projects import views as project_views
    from marketplace.providers import api as provider_api
    from marketplace.providers import views as provider_views
    from marketplace.sessions import operations as session_ops
    from marketplace.sessions import photos as session_photos
    from marketplace.sessions import views as session_views

    app.register_blueprint(provider_views.bp)
    app.register_blueprint(provider_api.bp)
    app.register_blueprint(project_views.bp)
    data_versions.watch(app, *project_views.LIST_TABLES)
    app.register_blueprint(bid_views.bp)
    app.register_blueprint(project_api.bp)
    app.register_blueprint(award_views.bp)
    app.register_blueprint(contract_views.bp)
    app.register_blueprint(session_views.bp)
    app.register_blueprint(opendata_api.bp)
    app.cli.add_command(bid_cli.keys_cli)
    app.register_blueprint(opendata_views.bp)
    settings.add(app, *award_ops.SETTINGS, *project_ops.SETTINGS, bid_ops.ATTACHMENT_MAX_MB, *session_ops.SETTINGS,
                 session_photos.PHOTO_MAX_MB, *ocds.SETTINGS)
    engine.register_periodic(app, "marketplace.record_overdue", session_ops.record_overdue_task,
                             engine.crontab(minute="*/30"))
    engine.register_periodic(app, "marketplace.close_bidding", project_ops.close_due, engine.crontab(minute="*/5"))
    engine.register_periodic(app, "marketplace.close_challenge_windows", award_ops.close_challenge_windows,
                             engine.crontab(minute="*/30"))
    # A module-level receiver: a second app in the process connects nothing twice.
    catalog_signals.item_page_section.connect(project_views.item_purchases, sender="purchases")
    nav.add(app, "projects.index", _l("Purchase projects"), order=20, group="procurement")
    nav.add(app, "providers.mine", _l("My organisation"), order=20, group="procurement")
    nav.add(app, "projects.manage", _l("Manage projects"), order=21, group="procurement")
    nav.add(app, "bids.mine", _l("My bids"), order=22, group="procurement")
    nav.add(app, "providers.queue", _l("Providers"), order=30, group="procurement")
    nav.add(app, "sessions.index", _l("Delivery"), order=30, group="delivery")
    nav.add(app, "awards.challenges", _l("Challenges"), order=33, group="procurement")
    nav.add(app, "contracts.index", _l("Contracts"), order=34, group="delivery")
    nav.add(app, "providers.register", _l("Provider registration"), order=70, group="procurement")
