"""Exports: CSV and XLSX of the records and of the indicator tables."""

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")
