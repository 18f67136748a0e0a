"""Trainings: forms, views and services."""

from flask import Blueprint

bp = Blueprint("trainings", __name__, url_prefix="/trainings")
