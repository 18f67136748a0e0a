"""Trainings: forms, views and services."""

from flask import Blueprint

bp = Blueprint("trainings", __name__, url_prefix="/trainings")

from tracker.trainings import views  # noqa: E402, F401
