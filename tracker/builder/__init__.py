"""The report builder: narrative, preview, generation and the kept donor reports."""

from flask import Blueprint

bp = Blueprint("builder", __name__, url_prefix="/reports")
