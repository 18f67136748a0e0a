"""Long work done by workers, with its progress on a page: ``/jobs``."""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
