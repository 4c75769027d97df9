"""Core: database, accounts and roles, permissions, audit log, areas and venues, shared helpers."""


def init_app(app):
    from core import nav, qr
    from core.accounts import api as accounts_api
    from core.accounts import views as accounts_views
    from core.admin import views as admin_views
    from core.holidays import views as holiday_views
    from core.jobs import operations as jobs
    from core.jobs import views as job_views
    from core.site import api_docs
    from core.site import views as site_views
    from core.spreadsheets import exports

    app.register_blueprint(site_views.bp)
    app.register_blueprint(accounts_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(accounts_api.bp)
    app.register_blueprint(api_docs.bp)
    app.register_blueprint(holiday_views.bp)
    app.register_blueprint(job_views.bp)
    jobs.init_app(app)
    app.jinja_env.globals["nav_items"] = nav.items_for_current_user
    qr.init_app(app)
    app.jinja_env.globals["export_url"] = exports.export_url
