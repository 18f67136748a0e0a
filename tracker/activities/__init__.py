"""Activities: forms, views and services."""

from flask import Blueprint

bp = Blueprint("activities", __name__, url_prefix="/activities")
