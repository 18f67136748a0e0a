"""Projects: their set-up (donor, period, reporting calendar, staff) and their targets."""

from flask import Blueprint

bp = Blueprint("projects", __name__, url_prefix="/admin/projects")
