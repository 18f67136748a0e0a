"""Participants: registration, the list, the case file, edits, archive and erasure."""

from flask import Blueprint

bp = Blueprint("participants", __name__, url_prefix="/participants")
