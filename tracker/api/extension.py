"""Binding the API to the app: its settings, security schemes, resources and pages."""

from __future__ import annotations

from flask import Flask

from tracker.api import PREFIX
from tracker.api.openapi import DESCRIPTION, api


def init_app(app: Flask) -> None:
    """Bind the API and register its resources."""
    config = app.config
    config.setdefault("API_TITLE", "tracker")
    config.setdefault("API_VERSION", "v1")
    config.setdefault("OPENAPI_VERSION", "3.1.0")
    config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {"description": DESCRIPTION},
            "servers": [{"url": "/", "description": "this tracker"}],
            "security": [{"bearerToken": []}],
        },
    )
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerToken",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token (trk_…), made on the page API tokens.",
        },
    )
    api.spec.components.security_scheme(
        "koboBasic",
        {
            "type": "http",
            "scheme": "basic",
            "description": "For KoboToolbox's REST services: your e-mail and a token.",
        },
    )
    from tracker.api import indicators, kobo, participants, records, views

    for blueprint in (
        participants.bp,
        records.enrolments_bp,
        records.placements_bp,
        records.follow_ups_bp,
        records.courses_bp,
        records.partners_bp,
        records.activities_bp,
        indicators.bp,
        kobo.bp,
    ):
        api.register_blueprint(blueprint)
    app.register_blueprint(views.bp)
    app.register_blueprint(views.docs_bp)
