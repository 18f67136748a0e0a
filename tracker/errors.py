"""Error pages; a server error rolls back the session before rendering."""

from __future__ import annotations

from flask import Flask, render_template
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from tracker.api import is_api_request, problems
from tracker.extensions import db


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if is_api_request():
            return problems.from_http_exception(error)
        return render_template("errors/error.html", error=error), error.code

    @app.errorhandler(StaleDataError)
    def stale(_error):
        # two people saved one record at the same instant: the second is told, not crashed
        db.session.rollback()
        if is_api_request():
            return problems.problem(409, kind="stale")
        return render_template("errors/stale.html"), 409

    @app.errorhandler(500)
    def server_error(_error):
        db.session.rollback()
        if is_api_request():
            return problems.problem(500)
        return render_template("errors/error.html", error=None), 500
