"""The audit log page: administrators read who did what, with filters."""

from flask import Blueprint

bp = Blueprint("auditlog", __name__, url_prefix="/admin/audit")
