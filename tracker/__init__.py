"""tracker: case tracking for migrant integration programmes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from tracker import config
from tracker.paths import PROJECT_ROOT  # also tracker.PROJECT_ROOT, as before


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure an instance of the tracker application."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)

    app.config.from_object(config.Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("TRACKER")
    else:
        app.config.update(test_config)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", config.database_url(instance))
    # the parts the factory binds are imported here, not at the top: every import of a
    # tracker module runs this package first, and that must not import the whole app
    from tracker import security

    # before a development key could be generated: production must be given one
    security.check_configuration(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.instance_secret_key(instance)

    from flask_babel import lazy_gettext as _l

    from tracker import audit, errors, i18n, logs, permissions, web
    from tracker.cli import register_commands
    from tracker.database import configure_engine
    from tracker.extensions import csrf, db, login_manager, migrate
    from tracker.indicator_store import keeping

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    # "basic": field officers on mobile data change address often; sessions are
    # ended on the server by rotating the user's token instead
    login_manager.session_protection = "basic"
    permissions.init_app(app)
    i18n.init_app(app)
    audit.init_app(app)
    keeping.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    web.init_app(app)
    logs.init_app(app)
    from tracker.jobs import queue as jobs_queue

    jobs_queue.init_app(app)
    from tracker.api import auth as api_auth
    from tracker.api import extension as api_extension

    login_manager.request_loader(api_auth.user_from_header)

    # a feature's package holds its blueprint, and importing its views adds their routes
    # to it: the packages do not import their views, so that importing a feature's
    # services (from another feature, the CLI) does not import every view with them
    from tracker import home
    from tracker.activities import views as activities
    from tracker.auditlog import views as auditlog
    from tracker.auth import views as auth
    from tracker.builder import views as builder
    from tracker.dashboard import views as dashboard
    from tracker.exports import views as exports
    from tracker.imports import incoming_views  # noqa: F401 (its routes: imports.bp)
    from tracker.imports import views as imports
    from tracker.jobs import views as jobs
    from tracker.participants import (
        merge_views,  # noqa: F401 (its routes: participants.bp)
        subject_views,  # noqa: F401 (its routes: participants.bp)
    )
    from tracker.participants import views as participants
    from tracker.partners import views as partners
    from tracker.placements import views as placements
    from tracker.projects import views as projects
    from tracker.results import views as results
    from tracker.trainings import views as trainings
    from tracker.users import views as users

    for blueprint in (
        auth.bp,
        home.bp,
        dashboard.bp,
        participants.bp,
        trainings.bp,
        placements.bp,
        partners.bp,
        activities.bp,
        builder.bp,
        exports.bp,
        imports.bp,
        jobs.bp,
        users.bp,
        projects.bp,
        results.bp,
        auditlog.bp,
    ):
        app.register_blueprint(blueprint)
    api_extension.init_app(app)
    register_commands(app)
    return app
