"""Partners: forms, views and services."""

from flask import Blueprint

bp = Blueprint("partners", __name__, url_prefix="/partners")
