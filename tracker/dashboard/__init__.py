"""The programme managers' dashboard, its drill-down lists and the data-quality panel."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
