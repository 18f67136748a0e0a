"""Placements: forms, views and services."""

from flask import Blueprint

bp = Blueprint("placements", __name__, url_prefix="/placements")
