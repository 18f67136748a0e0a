"""The API's flask-smorest ``Api``, bound to the app: description, docs page, errors, limits."""

from __future__ import annotations

import http

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from tracker.api import PREFIX
from tracker.api.problems import MEDIA_TYPE, ProblemSchema


class TrackerApi(Api):
    """flask-smorest's ``Api`` whose errors are problems, answered by the app's handlers.

    flask-smorest registers an error handler for every ``HTTPException`` of the app,
    which would turn the web pages' errors into JSON; the app's own handlers
    (``tracker.errors``) answer problems under ``/api/`` and pages elsewhere instead.
    """

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        return None

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


api = TrackerApi()

DESCRIPTION = """\
The tracker's figures and records for other programs: an M&E unit's dashboards, a
sync with another case system, KoboToolbox pushing form submissions.

Every request carries a personal access token, made by a user on the page "API tokens"
or with `flask --app tracker create-token`, as `Authorization: Bearer <token>`. A token
acts with exactly its user's role and projects: an M&E / donor viewer's token reads
codes and figures, never a name. Lists are in a stable order (by id) and cut in pages:
follow `next` until it is null. Errors are `application/problem+json` and name the
field at fault. Field names are the spreadsheet columns of `docs/columns.md`.
"""


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
