"""Core: database, accounts and roles, permissions, audit log, areas and venues, shared helpers."""

from flask_babel import lazy_gettext as _l


def init_app(app):
    from core import backup, cache, forms, json_body, nav, qr, security, settings, sms, static_files, storage, uploads
    from core.accounts import api as accounts_api
    from core.accounts import views as accounts_views
    from core.admin import views as admin_views
    from core.holidays import views as holiday_views
    from core.jobs import engine
    from core.jobs import operations as jobs
    from core.jobs import views as job_views
    from core.site import api_docs
    from core.site import views as site_views
    from core.spreadsheets import exports

    json_body.init_app(app)
    storage.init_app(app)
    sms.init_app(app)
    static_files.init_app(app)
    app.register_blueprint(site_views.bp)
    app.register_blueprint(accounts_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(accounts_api.bp)
    app.register_blueprint(api_docs.bp)
    app.register_blueprint(holiday_views.bp)
    app.register_blueprint(job_views.bp)
    jobs.init_app(app)  # the task engine first: packages register their periodic tasks on it
    engine.register_periodic(app, "core.backup", backup.nightly, engine.crontab(hour=2, minute=30))
    settings.add(app, *security.SETTINGS, uploads.MAX_MB, jobs.STALL_MINUTES, cache.CACHE_SECONDS)
    # The top bar's task groups (each package puts its entries in one of them).
    nav.add_group(app, "dashboard", _l("Dashboards"), order=1)
    nav.add_group(app, "catalog", _l("Catalog and requests"), order=10)
    nav.add_group(app, "procurement", _l("Procurement"), order=20)
    nav.add_group(app, "delivery", _l("Delivery and performance"), order=30)
    nav.add_group(app, "system", _l("System administration"), order=80)
    nav.add_group(app, "public", _l("Public information"), order=85)
    nav.add(app, "admin.users", _l("Users"), order=80, group="system")
    nav.add(app, "reports.index", _l("My reports"), order=80, group="delivery")
    nav.add(app, "admin.areas", _l("Areas"), order=81, group="system")
    nav.add(app, "admin.venues", _l("Venues"), order=82, group="system")
    nav.add(app, "admin.settings_list", _l("Settings"), order=83, group="system")
    nav.add(app, "admin.audit_log", _l("Audit log"), order=84, group="system")
    nav.add(app, "calendar_admin.index", _l("Working-day calendar"), order=85, group="system")
    nav.add(app, "main.inbox", _l("Inbox"), order=90)
    app.jinja_env.globals["nav_items"] = nav.items_for_current_user
    app.jinja_env.globals["nav_menu"] = nav.menu_for_current_user
    app.jinja_env.globals["field_error"] = forms.field_error
    qr.init_app(app)
    app.jinja_env.globals["export_url"] = exports.export_url
