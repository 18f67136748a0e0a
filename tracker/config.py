"""Configuration defaults.

Order of precedence (later wins): these defaults, ``instance/config.py``, then
``TRACKER_*`` environment variables (``TRACKER_SECRET_KEY`` and so on). A test
configuration passed to ``create_app`` replaces the last two.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

LANGUAGES = ("fr", "en")


class Defaults:
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    # cells of disaggregation tables under this count are shown as "< N" in
    # documents that leave the organisation; totals stay exact
    SMALL_CELL_THRESHOLD = 5
    # above this, spreadsheets are offered as CSV only (XLSX is built in memory)
    EXPORT_XLSX_MAX_ROWS = 50_000
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    # Werkzeug's default scrypt parameters are below the ASVS 5.0 minimum;
    # PBKDF2-HMAC-SHA256 at 1,000,000 iterations meets it (see docs/research)
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000000"  # noqa: S105 (a method, not a password)
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}


def database_url(instance_path: Path) -> str:
    """Return the configured database URL, or the SQLite file in ``instance/``."""
    url = os.environ.get("TRACKER_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the driver "postgres"; psycopg 3 is the one we ship
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgres://")
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return f"sqlite:///{instance_path / 'tracker.sqlite'}"


def instance_secret_key(instance_path: Path) -> str:
    """Return the secret key stored in ``instance/secret_key``, creating it once."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    # O_EXCL: two workers starting at once must not write two different keys
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
