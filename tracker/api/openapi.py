"""The API's flask-smorest ``Api``: its description's text and its error answers."""

from __future__ import annotations

import http

from flask_smorest import Api
from flask_smorest.utils import prepare_response

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
