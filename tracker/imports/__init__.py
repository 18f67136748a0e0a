"""Imports: participants, enrolments, placements and follow-ups from CSV, XLSX and field forms."""

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")
