"""Evaluation: expert database and panels, the review; ratings, complaints, performance scores
and adjustment rules; the district's figures, reports and dashboards; the public portal."""

from flask_babel import lazy_gettext as _l


def init_app(app):
    from catalog import signals as catalog_signals
    from core import nav, settings
    from core import versions as data_versions
    from core.jobs import engine
    from core.site import views as site_views
    from evaluation.adjustment import operations as adjustment
    from evaluation.adjustment import views as adjustment_views  # noqa: F401  (its pages are on the performance blueprint)
    from evaluation.assessment import api as assessment_api
    from evaluation.assessment import operations as assessment
    from evaluation.assessment import views as assessment_views
    from evaluation.experts import views as expert_views
    from evaluation.feedback import api as feedback_api
    from evaluation.feedback import cli as feedback_cli
    from evaluation.feedback import operations as ratings
    from evaluation.feedback import views as feedback_views
    from evaluation.performance import operations as performance
    from evaluation.performance import views as performance_views
    from evaluation.portal import views as portal_views
    from evaluation.reporting import briefing, dashboard
    from evaluation.reporting import views as report_views
    from evaluation.review import api as review_api
    from evaluation.review import operations as review
    from evaluation.review import rules
    from evaluation.review import views as review_views
    from evaluation.supervision import api as supervision_api
    from evaluation.supervision import cli as supervision_cli
    from evaluation.supervision import operations as supervision
    from evaluation.supervision import views as supervision_views
    from marketplace import signals as market_signals

    app.register_blueprint(review_views.bp)
    app.register_blueprint(expert_views.bp)
    app.register_blueprint(review_api.bp)
    settings.add(app, *rules.SETTINGS)
    # Receivers are module-level functions: a second app in the process connects nothing twice.
    market_signals.award_voided.connect(review.reopen_after_challenge)
    market_signals.award_notice_links.connect(review_views.award_notice_links)

    app.register_blueprint(feedback_views.bp)
    app.register_blueprint(performance_views.perf)
    app.register_blueprint(feedback_api.bp)
    app.cli.add_command(feedback_cli.evaluation_cli)
    settings.add(app, *ratings.SETTINGS, *adjustment.SETTINGS, *performance.SETTINGS)
    engine.register_periodic(app, "evaluation.apply_due", adjustment.apply_due_task, engine.crontab(minute="*/10"))
    engine.register_periodic(app, "evaluation.nightly_recompute", adjustment.nightly_recompute,
                             engine.crontab(hour=1, minute=0))
    market_signals.session_reported.connect(ratings.on_session_reported)
    market_signals.session_decided.connect(ratings.on_session_decided)
    market_signals.sessions_overdue.connect(ratings.on_sessions_overdue)
    market_signals.session_page_panels.connect(feedback_views.session_panel)
    catalog_signals.item_page_section.connect(performance_views.item_section, sender="satisfaction")

    app.register_blueprint(dashboard.bp)
    app.cli.add_command(briefing.reports_cli)
    report_views.init_app(app)

    from evaluation.coverage import api as coverage_api
    from evaluation.coverage import operations as coverage
    from evaluation.coverage import views as coverage_views
    from evaluation.scorecards import api as scorecards_api
    from evaluation.scorecards import operations as scorecards
    from evaluation.scorecards import views as scorecards_views

    settings.add(app, *coverage.SETTINGS)
    data_versions.watch(app, *coverage.DATA_TABLES)
    scorecards.init_app(app)  # the built-in indicators; others come with add_indicator(app, ...)
    app.register_blueprint(coverage_views.bp)
    app.register_blueprint(coverage_api.bp)
    app.register_blueprint(scorecards_views.bp)
    app.register_blueprint(scorecards_api.bp)
    nav.add(app, "scorecards.index", _l("Scorecards"), order=34, group="delivery")
    nav.add(app, "coverage.index", _l("15-minute circle"), order=35, group="delivery")

    app.register_blueprint(assessment_views.bp)
    app.register_blueprint(assessment_api.bp)
    app.register_blueprint(supervision_views.bp)
    app.register_blueprint(supervision_views.portal_bp)
    app.register_blueprint(supervision_api.bp)
    settings.add(app, *assessment.SETTINGS, *supervision.SETTINGS)
    app.cli.add_command(supervision_cli.supervision_cli)
    # The third-party assessment mean is one of the scorecards' published indicators.
    scorecards.add_indicator(app, "assessment", scorecards.W_ASSESSMENT, assessment.assessment_means_by_area,
                             label=_l("Third-party assessment mean"))
    engine.register_periodic(app, "evaluation.escalate_supervision", supervision.escalate_task,
                             engine.crontab(minute=15))

    app.register_blueprint(portal_views.bp)
    data_versions.watch(app, *portal_views.HOME_TABLES, *portal_views.RATED_TABLES)
    site_views.set_landing_page(app, portal_views.landing)

    nav.add(app, "dashboard.officer", _l("Dashboard"), order=1, group="dashboard")
    nav.add(app, "dashboard.admin", _l("System dashboard"), order=2, group="dashboard")
    nav.add(app, "portal.home", _l("Public information home"), order=5, group="public")
    nav.add(app, "review.my_panels", _l("My reviews"), order=30, group="procurement")
    nav.add(app, "ratings.review_queue", _l("Ratings to review"), order=31, group="delivery")
    nav.add(app, "review.projects", _l("Reviews"), order=31, group="procurement")
    nav.add(app, "performance.decisions", _l("Adjustments"), order=32, group="delivery")
    nav.add(app, "performance.mine", _l("My performance"), order=33, group="delivery")
    nav.add(app, "experts.index", _l("Experts"), order=79, group="procurement")
    nav.add(app, "assessment.plans", _l("Third-party assessment"), order=34, group="delivery")
    nav.add(app, "assessment.mine", _l("My visits"), order=35, group="delivery")
    nav.add(app, "supervision.items", _l("Supervision items"), order=36, group="delivery")
    nav.add(app, "supervision_portal.tracker", _l("Supervision tracker"), order=6, group="public")
    nav.add(app, "performance.model", _l("Performance model"), order=90, group="public")
