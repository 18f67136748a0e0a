"""Placements: forms, views and services."""

from flask import Blueprint

bp = Blueprint("placements", __name__, url_prefix="/placements")

from tracker.placements import views  # noqa: E402, F401
