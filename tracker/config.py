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

LANGUAGES = ("fr", "en", "ar")
#: languages written right to left: their pages carry dir="rtl"
RTL_LANGUAGES = frozenset({"ar"})


class Defaults:
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    # cells of disaggregation tables under this count are shown as "< N" in
    # documents that leave the organisation; totals stay exact
    SMALL_CELL_THRESHOLD = 5
    # an XLSX sheet holds at most 1,048,576 rows: above, exports are offered as CSV only
    EXPORT_XLSX_MAX_ROWS = 1_048_575
    # imports: the largest file and the most rows one file may hold
    IMPORT_MAX_BYTES = 10 * 1024 * 1024
    IMPORT_MAX_ROWS = 50_000
    # uploads checked and not yet imported that one person may have waiting (each holds
    # a whole file of personal data for up to a day)
    IMPORT_MAX_PENDING = 5
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    # Werkzeug's default scrypt parameters are below the ASVS 5.0 minimum;
    # PBKDF2-HMAC-SHA256 at 1,000,000 iterations meets it (see docs/research)
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000000"  # noqa: S105 (a method, not a password)
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # a case file untouched for this many years (after its last registration,
    # enrolment, placement, follow-up or archiving date) is past retention:
    # `flask --app tracker retention` lists it, `--erase` erases the identity
    RETENTION_YEARS = 5
    # --- background jobs (tracker/jobs, docs/deployment.md) ---
    # the queue: Redis at this URL (also read from REDIS_URL), else instance/jobs.sqlite
    REDIS_URL = None
    # who runs jobs: "in-process" (default without Redis: threads of the web process),
    # "external" (default with Redis: `flask --app tracker worker`), "immediate" (tests)
    JOBS_WORKER = None
    JOBS_QUEUE_NAME = "tracker"
    JOBS_IN_PROCESS_WORKERS = 2
    # a running job's worker says it is alive this often; after JOBS_STALE_SECONDS of
    # silence the job is requeued (or failed), looked for every JOBS_REAP_SECONDS
    JOBS_HEARTBEAT_SECONDS = 5
    JOBS_STALE_SECONDS = 60
    JOBS_REAP_SECONDS = 30
    # a job stopped by a lost database is tried this many times in all
    JOBS_MAX_ATTEMPTS = 3
    JOBS_RETRY_DELAY_SECONDS = 30
    # finished jobs and their result files are deleted this many days after their end
    JOBS_RETENTION_DAYS = 7
    # where result files are kept: instance/job-files unless set (shared storage when
    # workers run on other hosts than the web)
    JOBS_FILES_DIR = None
    # where backups started from the maintenance page go: instance/backups unless set
    BACKUP_DIR = None
    # exports of more rows than this are made by a worker, with a progress page: XLSX
    # is written at about 12,000 rows a second, CSV at about 110,000 (docs/performance.md)
    EXPORT_JOB_MIN_ROWS = 5_000
    EXPORT_CSV_JOB_MIN_ROWS = 100_000
    # IATI results (`export iati`, docs/interop.md): who publishes, and the prefix of the
    # activity identifiers (prefix-PROJECTCODE); organisation type 40 = multilateral
    IATI_REPORTING_ORG_REF = "XM-DAC-47066"
    IATI_REPORTING_ORG_NAME = "International Organization for Migration"
    IATI_REPORTING_ORG_TYPE = "40"
    IATI_IDENTIFIER_PREFIX = "XM-DAC-47066"
    # printed in a person's own copy of her data (subject access): whom she writes to
    # about her data, e.g. "Data protection focal point, IOM Rabat, dp-rabat@iom.int"
    DATA_PROTECTION_CONTACT = None
    # --- security (tracker/security.py; README "Configuration") ---
    # "production" (TRACKER_ENV=production) refuses to start with a missing, short or
    # known secret key or with debug on, and makes the session cookie always Secure
    ENV = "development"
    # None: Secure in production and on every request that came over HTTPS
    SESSION_COOKIE_SECURE = None
    # signed out after this much inactivity; PERMANENT_SESSION_LIFETIME is the absolute limit
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    PASSWORD_MIN_LENGTH = 12  # ASVS asks at least 8
    PASSWORD_MAX_LENGTH = 128  # ASVS asks that at least 64 be allowed
    # failed sign-ins (and wrong current passwords) allowed, per account and per client
    # address; memory storage unless RATELIMIT_STORAGE_URI names Redis (redis://host:6379)
    RATELIMIT_ENABLED = True
    # if Redis is down, sign-ins go on unthrottled (and the error is logged) rather than fail
    RATELIMIT_SWALLOW_ERRORS = True
    LOGIN_LIMIT_PER_ACCOUNT = "5 per minute; 20 per hour"
    LOGIN_LIMIT_PER_ADDRESS = "10 per minute; 50 per hour"
    # two-step sign-in (TOTP) required of administrators and managers: 1/true/yes or
    # 0/false/no (TRACKER_REQUIRE_2FA); unset: required in production only. Wrong codes
    # count against LOGIN_LIMIT_PER_ACCOUNT and LOGIN_LIMIT_PER_ADDRESS with wrong passwords
    REQUIRE_2FA = None
    # password checks (a million rounds each, about 0.4 s of one core) running at once
    # in one process; past that a sign-in is answered 503 with Retry-After of
    # SIGN_IN_RETRY_AFTER seconds. Keep it at or under the process's threads and cores.
    SIGN_IN_CONCURRENCY = 4
    SIGN_IN_RETRY_AFTER = 2
    # heavy work asked for by one user (tracker/security.py ``heavy_work``), counted per
    # user and kind whatever the page: uploads of files to import; exports (downloads and
    # the export jobs they start); report generation (donor report, IATI file)
    IMPORT_RATE_LIMIT = "10 per minute; 60 per hour"
    EXPORT_RATE_LIMIT = "10 per minute; 60 per hour"
    REPORT_RATE_LIMIT = "10 per minute; 60 per hour"
    # exports, uploads and reports being made (a streamed file: until its last byte) at
    # once in one process; past it 503 with Retry-After of HEAVY_RETRY_AFTER seconds.
    # Each holds one database connection and, while it writes, most of a core: keep it
    # under the pool (15) and at or under the process's cores
    HEAVY_CONCURRENCY = 2
    HEAVY_RETRY_AFTER = 10
    # the API (tracker/api): requests per token (per address without one); a sync of
    # 10,000 participants at 200 a page is 50 requests
    API_RATE_LIMIT = "300 per minute; 10000 per hour"
    # a KoboToolbox submission refused and not fixed within this many days is discarded:
    # the person's answers it holds are deleted (its trace stays in the delivery log)
    INCOMING_RETENTION_DAYS = 90
    # reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host to trust
    TRUSTED_PROXY_COUNT = 0


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


PRODUCTION = "production"


def is_production(app) -> bool:
    """Whether ``app`` runs in production (TRACKER_ENV=production)."""
    return str(app.config.get("ENV", "")).strip().lower() == PRODUCTION
