"""A project's results framework (logframe): its outcomes and outputs, their indicators."""

from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/results")
