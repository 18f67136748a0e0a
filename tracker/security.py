"""Security plumbing: production checks, the session cookie, session timeouts, headers, limits.

What is decided here, and why (docs/security.md cites the tests):

- **Production** is ``ENV = "production"`` (``TRACKER_ENV=production``). Nothing
  else is guessed from debug or testing flags: ``flask demo`` and the browser
  tests serve plain HTTP on the loopback and must keep working. In production
  the app refuses to start with a missing, short or known secret key (the
  random key written to ``instance/`` is for development: several workers or
  hosts must share one key that the operator manages) or with debug on.
- **Session cookie**: HttpOnly, SameSite=Lax, and Secure whenever it can be:
  always in production, and on any request that came over HTTPS elsewhere
  (behind a TLS-terminating proxy set ``TRUSTED_PROXY_COUNT`` so that the
  scheme is seen). An always-Secure cookie takes the ``__Host-`` prefix.
- **Sessions** carry when they started and when they were last used: after
  ``SESSION_IDLE_TIMEOUT`` without a request, or ``PERMANENT_SESSION_LIFETIME``
  after sign-in, the next request signs the user out. Both times are inside the
  signed cookie, so they cannot be moved by the client.
- **Headers** on every response: a CSP without any inline script or style,
  ``nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy: same-origin`` (not
  ``no-referrer``: Flask-WTF checks the Referer of HTTPS form posts),
  ``Cache-Control: no-store`` on everything but static files, HSTS over HTTPS.
- **Sign-in limits** (Flask-Limiter's storage and strategy): failed sign-ins
  and wrong current passwords count per account (a keyed hash of the e-mail)
  and per client address; successful sign-ins do not count. Each attempt is
  counted atomically *before* its password is checked and taken back if the
  password was right, so requests sent together cannot all slip under the
  limit. Over the limit the answer is 429, audited once per account or address
  and window. The password is checked without a database connection held, and
  at most ``SIGN_IN_CONCURRENCY`` checks run at once per process: past that,
  503 with ``Retry-After`` (a burst of sign-ins must not take the app down).
- **Heavy work** (``heavy_work``: uploads to import, exports, report generation)
  is limited per user and kind (``IMPORT_RATE_LIMIT``, ``EXPORT_RATE_LIMIT``,
  ``REPORT_RATE_LIMIT``), keyed on the user's id, not her address: 429 in her
  language, audited once per user, kind and window. At most ``HEAVY_CONCURRENCY``
  such requests run at once per process (a streamed file holds its slot until its
  last byte), with the sign-in checks' non-blocking slots: past that, 503 with
  ``Retry-After``. Eight viewers exporting at once must not take the app down.
"""

from __future__ import annotations

import functools
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import (
    Flask,
    current_app,
    flash,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded, RequestLimit
from flask_login import current_user, login_user, logout_user
from limits import RateLimitItem, parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker import audit
from tracker.api import is_api_request, problems
from tracker.auth.passwords import rules_text
from tracker.auth.services import email_fingerprint
from tracker.config import PRODUCTION, is_production  # noqa: F401 (read from here too)
from tracker.extensions import db, limiter

MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_DISTINCT = 8
#: secret keys seen in examples, tests and tutorials: never good enough for production
KNOWN_SECRET_KEYS = frozenset(
    {
        "dev",
        "development",
        "secret",
        "secret-key",
        "secret_key",
        "changeme",
        "change-me",
        "please-change-me",
        "test-secret-key-not-for-production",
        "your-secret-key",
    }
)
#: ASVS 6.2.1 and 6.2.9: never fewer than 8 characters required, never fewer than 64 allowed
ASVS_MIN_PASSWORD_LENGTH = 8
ASVS_MAX_PASSWORD_LENGTH = 64

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # the dashboard's SVG charts carry presentation attributes, not style="…"
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"

#: session keys: when the session was signed in, and when it was last used (epoch seconds)
SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"

#: a sign-in waiting for its second step: the user's session token, the e-mail's keyed
#: hash (for the limits), where to go next, and when the password passed
PENDING = "pending_sign_in"
#: a password must be followed by its code within this many seconds
PENDING_SECONDS = 300
#: the TOTP secret being set up, until a first code confirms it
SETUP_SECRET = "totp_setup_secret"  # noqa: S105 (a session key, not a secret)

#: what a user who must set up two-step sign-in may still reach
ENROLMENT_ENDPOINTS = frozenset(
    {"static", "auth.two_factor", "auth.logout", "auth.set_language", "auth.second_factor"}
)
#: tests may replace ``clock``
clock = time.time


class UnsafeConfiguration(RuntimeError):
    """The configuration is not safe to serve with; the message says what to change."""


# --- configuration ------------------------------------------------------------------


def _seconds(value: Any) -> float:
    """Read a duration given as a timedelta or as seconds (as TRACKER_* variables give it)."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def configuration_problems(app: Flask) -> list[str]:
    """Return what makes this configuration unsafe, in words an operator can act on."""
    config = app.config
    problems = []
    shortest, longest = int(config["PASSWORD_MIN_LENGTH"]), int(config["PASSWORD_MAX_LENGTH"])
    if shortest < ASVS_MIN_PASSWORD_LENGTH:
        problems.append(
            f"PASSWORD_MIN_LENGTH is {shortest}: it must be at least {ASVS_MIN_PASSWORD_LENGTH}"
        )
    if longest < max(ASVS_MAX_PASSWORD_LENGTH, shortest):
        problems.append(
            f"PASSWORD_MAX_LENGTH is {longest}: it must be at least {ASVS_MAX_PASSWORD_LENGTH}"
            " and at least PASSWORD_MIN_LENGTH"
        )
    if _seconds(config["SESSION_IDLE_TIMEOUT"]) <= 0:
        problems.append("SESSION_IDLE_TIMEOUT must be a positive number of seconds")
    if not is_production(app):
        return problems
    key = config.get("SECRET_KEY")
    hint = "set TRACKER_SECRET_KEY to at least 32 random characters, e.g. the output of " + (
        "python -c 'import secrets; print(secrets.token_hex(32))'"
    )
    if not key:
        problems.append(f"no secret key is configured in production: {hint}")
    elif str(key).strip().lower() in KNOWN_SECRET_KEYS:
        problems.append(f"the secret key is a well-known example value: {hint}")
    elif len(str(key)) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"the secret key has fewer than {MIN_SECRET_KEY_LENGTH} characters: {hint}")
    elif not str(key).strip() or len(set(str(key))) < MIN_SECRET_KEY_DISTINCT:
        # 32 spaces or "a" * 32 are long, not secret: a random key of 32 hexadecimal
        # digits holds at least 9 different ones in practice (fewer than 8: below 1e-6)
        problems.append(
            f"the secret key has too few different characters (fewer than "
            f"{MIN_SECRET_KEY_DISTINCT}, or only spaces): it is not random: {hint}"
        )
    if app.debug:
        problems.append(
            "debug mode is on: the debugger runs any code it is sent; unset FLASK_DEBUG "
            "and TRACKER_DEBUG"
        )
    return problems


def check_configuration(app: Flask) -> None:
    """Refuse to start (``UnsafeConfiguration``) with an unsafe configuration.

    Called by ``create_app`` before a development secret key would be generated,
    so production cannot fall back on one.
    """
    problems = configuration_problems(app)
    if problems:
        raise UnsafeConfiguration(
            "The tracker refuses to start: " + "; ".join(problems) + "."
            " See the Configuration section of README.md."
        )


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie session, Secure when the request came over HTTPS.

    ``SESSION_COOKIE_SECURE = None`` (the default outside production) means
    "Secure on HTTPS requests"; True and False force it either way.
    """

    def open_session(self, app: Flask, request):
        # the API is called with tokens: a browser's session cookie opens nothing there
        if is_api_request():
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if is_api_request():
            return None
        return super().save_session(app, session, response)

    def get_cookie_secure(self, app: Flask) -> bool:
        configured = app.config["SESSION_COOKIE_SECURE"]
        if configured is None:
            return has_request_context() and request.is_secure
        return bool(configured)


def configure_cookies(app: Flask) -> None:
    """Set the session cookie's flags from the deployment (see the module docstring)."""
    config = app.config
    config["SESSION_COOKIE_HTTPONLY"] = True
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    if config.get("SESSION_COOKIE_SECURE") is None and is_production(app):
        config["SESSION_COOKIE_SECURE"] = True
    # remember-me is never offered; should it be, its cookie must not be weaker
    config["REMEMBER_COOKIE_SECURE"] = bool(config.get("SESSION_COOKIE_SECURE"))
    config["REMEMBER_COOKIE_HTTPONLY"] = True
    config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    if config.get("SESSION_COOKIE_SECURE") is True and config["SESSION_COOKIE_NAME"] == "session":
        # ASVS 3.3.1: an always-Secure cookie is named so that browsers enforce it;
        # __Host- also pins it to this host and path "/", when the app is served there
        at_root = (config.get("SESSION_COOKIE_PATH") or config.get("APPLICATION_ROOT")) in (
            None,
            "/",
        )
        plain_host = not config.get("SESSION_COOKIE_DOMAIN")
        config["SESSION_COOKIE_NAME"] = (
            "__Host-session" if at_root and plain_host else "__Secure-session"
        )
    app.session_interface = SessionCookies()


def trust_proxies(app: Flask) -> None:
    """Behind N reverse proxies, take the client address, scheme and host from them."""
    count = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


# --- sessions -----------------------------------------------------------------------


def start_session(user) -> None:
    """Sign ``user`` in on a fresh session: nothing of the session before survives but the language.

    A session planted before sign-in (session fixation) is thus not reused.
    """
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(user)
    now = int(clock())
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now


def await_second_factor(user, next_target: str | None) -> None:
    """Remember that ``user`` gave the right password; she is not signed in until her code."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[PENDING] = {
        "token": user.session_token,
        "account": email_fingerprint(user.email),
        "next": next_target or "",
        "at": int(clock()),
    }


def pending_sign_in() -> dict | None:
    """Return the sign-in waiting for its code in this browser, unless it is too old."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), int):
        return None
    if clock() - pending["at"] > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None
    return pending


def require_second_factor():
    """Send a user who must use two-step sign-in and has not set it up to do so first."""
    if request.endpoint in ENROLMENT_ENDPOINTS or request.endpoint is None or is_api_request():
        return None
    if not current_user.is_authenticated or current_user.has_second_factor:
        return None
    from tracker.auth import twofactor

    if not twofactor.is_required(current_user):
        return None
    if request.method == "GET":
        flash(_("Your role requires two-step sign-in: set it up to go on."), "info")
    return redirect(url_for("auth.two_factor"))


def end_session() -> None:
    """Forget the signed-in user in this browser, keeping the chosen language."""
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang


def _expiry_reason(now: float) -> str | None:
    """Say why the current session is over ("idle" or "lifetime"), or None if it is not."""
    started, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(started, int | float) or not isinstance(seen, int | float):
        return "idle"  # a session from before the timestamps existed: sign in again
    if now - seen > _seconds(current_app.config["SESSION_IDLE_TIMEOUT"]):
        return "idle"
    if now - started > current_app.permanent_session_lifetime.total_seconds():
        return "lifetime"
    return None


def enforce_session_limits():
    """Sign out a session idle for too long or older than its lifetime; else note this request."""
    if request.endpoint in (None, "static") or is_api_request():
        return None
    if not current_user.is_authenticated:
        return None
    now = clock()
    reason = _expiry_reason(now)
    if reason is None:
        session[SEEN_AT] = int(now)
        return None
    audit.record(db.session, "session_expired", "user", current_user.id, {"reason": reason})
    db.session.commit()
    end_session()
    if reason == "idle":
        minutes = max(1, round(_seconds(current_app.config["SESSION_IDLE_TIMEOUT"]) / 60))
        flash(
            _(
                "You were signed out after %(num)d minutes without activity. Please sign in again.",
                num=minutes,
            ),
            "info",
        )
    else:
        flash(_("Your session has reached its time limit. Please sign in again."), "info")
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target if request.method == "GET" else None))


# --- headers ------------------------------------------------------------------------


def set_security_headers(response):
    """Add the security headers; personal data must not stay in any cache."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


# --- sign-in limits -----------------------------------------------------------------


def account_key(email: str) -> str:
    """The account a sign-in attempt is about: a keyed hash of the e-mail, never the e-mail."""
    return "account:" + email_fingerprint(email)


def pending_account_key() -> str:
    """The account whose sign-in code is being tried (the same counter as its password's)."""
    pending = session.get(PENDING)
    account = pending.get("account") if isinstance(pending, dict) else None
    return "account:" + (account or email_fingerprint(""))


def address_key() -> str:
    """The client address (the real one behind trusted proxies, see TRUSTED_PROXY_COUNT)."""
    return "address:" + (request.remote_addr or "unknown")


class Throttled(Exception):
    """A password attempt refused by a sign-in limit before any password was checked."""

    def __init__(self, seconds: int, scope: str, key: str, window: RateLimitItem) -> None:
        super().__init__(scope)
        self.seconds = seconds
        self.scope = scope
        self.key = key
        self.window = window


#: (scope, setting) of the limits a password attempt counts against
SIGN_IN_LIMITS = (
    ("sign-in-account", "LOGIN_LIMIT_PER_ACCOUNT"),
    ("sign-in-address", "LOGIN_LIMIT_PER_ADDRESS"),
)
#: the extension keys of the process's slots (a semaphore per app): password checks,
#: and heavy work (exports, uploads, reports)
SIGN_IN_SLOTS = "tracker.sign_in_slots"
HEAVY_SLOTS = "tracker.heavy_slots"
#: slots: their extension key, the setting of their number, that of the Retry-After
SLOTS = {
    SIGN_IN_SLOTS: ("SIGN_IN_CONCURRENCY", "SIGN_IN_RETRY_AFTER"),
    HEAVY_SLOTS: ("HEAVY_CONCURRENCY", "HEAVY_RETRY_AFTER"),
}


def _limits_on() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED")) and limiter.enabled


def count_password_attempt(email: str) -> list[tuple[RateLimitItem, str, str]]:
    """Count one password attempt of ``email``'s account (see ``count_attempt``)."""
    return count_attempt(account_key(email))


def count_code_attempt(account: str | None = None) -> list[tuple[RateLimitItem, str, str]]:
    """Count one attempt at a sign-in code, on the same counters as the account's password.

    ``account``: the account key; by default the one whose sign-in waits for its code.
    """
    return count_attempt(account or pending_account_key())


def count_attempt(account: str) -> list[tuple[RateLimitItem, str, str]]:
    """Count one attempt (a password or a code) on its account and address, before its check.

    Each limit is hit atomically (an increment in the limiter's storage): of
    requests arriving together, exactly as many as the limit allows get through,
    whatever the number of threads or workers (memory storage counts per process,
    Redis across them). An attempt over a limit is taken back at once, so that
    refused attempts do not pile up into the longer windows, and ``Throttled`` is
    raised. Returns what was counted, for ``refund_password_attempt`` when the
    password turns out right (only failures count).
    """
    if not _limits_on():
        return []
    keys = {"sign-in-account": account, "sign-in-address": address_key()}
    strategy = limiter.limiter
    counted: list[tuple[RateLimitItem, str, str]] = []
    try:
        for scope, setting in SIGN_IN_LIMITS:
            for item in parse_many(current_app.config[setting]):
                if strategy.hit(item, scope, keys[scope]):
                    counted.append((item, scope, keys[scope]))
                    continue
                strategy.hit(item, scope, keys[scope], cost=-1)
                refund_password_attempt(counted)
                reset = strategy.get_window_stats(item, scope, keys[scope]).reset_time
                seconds = max(1, math.ceil(reset - time.time()))
                raise Throttled(seconds, scope, keys[scope], item)
    except Throttled:
        raise
    except Exception:
        # the limiter's storage (Redis) is down: RATELIMIT_SWALLOW_ERRORS decides
        if not current_app.config.get("RATELIMIT_SWALLOW_ERRORS"):
            raise
        current_app.logger.exception("sign-in limits not counted: the limiter's storage failed")
    return counted


def refund_password_attempt(counted: list[tuple[RateLimitItem, str, str]]) -> None:
    """Take back the attempts ``count_password_attempt`` counted (the password was right)."""
    for item, scope, key in counted:
        try:
            limiter.limiter.hit(item, scope, key, cost=-1)
        except Exception:
            if not current_app.config.get("RATELIMIT_SWALLOW_ERRORS"):
                raise
            current_app.logger.exception("sign-in attempt not refunded: the storage failed")


def _first_refusal_in_window(refusal: Throttled) -> bool:
    """Say whether this is the first refusal of its key in its window (audited once)."""
    once = type(refusal.window)(1, refusal.window.multiples)
    try:
        return limiter.limiter.hit(once, "sign-in-refusal-audited", refusal.scope, refusal.key)
    except Exception:
        return True


def throttled(refusal: Throttled):
    """Answer 429 for a refused password attempt; audit it once per key and window.

    A burst of a thousand refused attempts writes one audit line per account
    or address named, not a thousand (the failures that were counted each have
    their own "login_failed" line).
    """
    if _first_refusal_in_window(refusal):
        changes = {"limit": refusal.scope, "window": str(refusal.window)}
        if current_user.is_authenticated:
            audit.record(db.session, "login_throttled", "user", current_user.id, changes)
        else:
            if refusal.scope == "sign-in-account":
                fingerprint = refusal.key.removeprefix("account:")
            elif request.endpoint == "auth.second_factor":
                fingerprint = pending_account_key().removeprefix("account:")
            else:
                fingerprint = email_fingerprint(request.form.get("email", ""))
            changes["email_hash"] = fingerprint
            audit.record(db.session, "login_throttled", "user", None, changes)
        db.session.commit()
    return _too_many_page(refusal.seconds)


def take_slot(name: str) -> Callable[[], None] | None:
    """Take one of the process's slots ``name`` (``SLOTS``) if one is free, without waiting.

    Return what gives it back (once, however often it is called), or None when
    every slot is taken: the request is then told to come back (``busy``) instead
    of queueing behind the others and starving every other page of the process's
    threads and database connections.
    """
    slots = current_app.extensions[name]
    if not slots.acquire(blocking=False):
        return None
    given_back = threading.Lock()

    def release() -> None:
        if given_back.acquire(blocking=False):
            slots.release()

    return release


@contextmanager
def password_check_slot() -> Iterator[bool]:
    """Hold one of the process's ``SIGN_IN_CONCURRENCY`` slots for a password check, if free.

    Yields False, at once, when every slot is taken: a burst of sign-ins then gets
    503 and comes back later, instead of queueing a second of hashing each behind
    the others.
    """
    release = take_slot(SIGN_IN_SLOTS)
    if release is None:
        yield False
        return
    try:
        yield True
    finally:
        release()


def busy(slots: str = SIGN_IN_SLOTS):
    """Answer 503 with Retry-After: every slot of ``slots`` is taken at this moment."""
    seconds = int(current_app.config[SLOTS[slots][1]])
    page = render_template("errors/busy.html", seconds=seconds, heavy=slots == HEAVY_SLOTS)
    response = make_response(page, 503)
    response.headers["Retry-After"] = str(seconds)
    return response


# --- heavy work ---------------------------------------------------------------------

#: the kinds of heavy work, and the setting of each one's limit per user
HEAVY_LIMITS = {
    "import": "IMPORT_RATE_LIMIT",
    "export": "EXPORT_RATE_LIMIT",
    "report": "REPORT_RATE_LIMIT",
}
#: the limiter's scope of a kind's limit ("heavy-export")
HEAVY_SCOPE = "heavy-"


def user_key() -> str:
    """What a limit on heavy work counts: the signed-in user, wherever she connects from."""
    return f"user:{current_user.get_id()}"


def _heavy_throttled(limit: RequestLimit) -> None:
    """Audit a refused request for heavy work, once per user, kind and window of the limit.

    Like the sign-in's refusals (``throttled``): a user who keeps asking writes one
    line per window, not one per request.
    """
    once = type(limit.limit)(1, limit.limit.multiples)
    if not limiter.limiter.hit(once, "heavy-refusal-audited", limit.key):
        return
    scope = limit.request_args[-1] if limit.request_args else ""
    audit.record_now(
        "work_throttled",
        "user",
        current_user.id,
        {"work": scope.removeprefix(HEAVY_SCOPE), "window": str(limit.limit)},
    )


def _releasing(body: Any, release: Callable[[], None]) -> Iterator[Any]:
    """Yield the pieces of a streamed ``body``, then ``release`` (also if it stops early)."""
    try:
        yield from body
    finally:
        release()


def heavy_work(
    kind: str, *, methods: Sequence[str] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view that makes heavy work of ``kind`` ("import", "export", "report").

    Place it under ``login_required`` (or ``role_required``). For ``methods`` (default:
    every method) a request takes one of the process's ``HEAVY_CONCURRENCY`` slots
    first (else 503, not counted), then counts against the user's limit of its kind
    (``HEAVY_LIMITS``; else 429, see ``too_many_attempts``). The slot is given back
    when the view returns, or, for a streamed file, when its response is closed.
    """
    setting = HEAVY_LIMITS[kind]
    limited = limiter.shared_limit(
        lambda: current_app.config[setting],
        scope=HEAVY_SCOPE + kind,
        key_func=user_key,
        exempt_when=lambda: not current_user.is_authenticated,
        methods=[m.lower() for m in methods] if methods else None,
        on_breach=_heavy_throttled,
    )
    bounded = {m.upper() for m in methods} if methods else None

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        counted_view = limited(view)

        @functools.wraps(view)
        def in_a_slot(*args: Any, **kwargs: Any) -> Any:
            if bounded is not None and request.method not in bounded:
                return counted_view(*args, **kwargs)
            release = take_slot(HEAVY_SLOTS)
            if release is None:
                return busy(HEAVY_SLOTS)
            try:
                response = make_response(counted_view(*args, **kwargs))
            except BaseException:
                release()
                raise
            if response.is_streamed:
                # the file is still being made: the slot goes with its last byte, or when
                # the response is closed before (a client gone)
                response.response = _releasing(response.response, release)
                response.call_on_close(release)
            else:
                release()
            return response

        return in_a_slot

    return decorate


def _retry_after() -> int:
    """Seconds until the breached limit's window ends (at least one)."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def too_many_attempts(_error: RateLimitExceeded):
    """Answer 429 (a problem in the API, else a page) with how long to wait."""
    seconds = _retry_after()
    if is_api_request():
        return problems.problem(429, headers={"Retry-After": str(seconds)})
    current = limiter.current_limit
    scope = current.request_args[-1] if current is not None and current.request_args else ""
    work = scope.removeprefix(HEAVY_SCOPE) if scope.startswith(HEAVY_SCOPE) else None
    return _too_many_page(seconds, work=work)


def _too_many_page(seconds: int, *, work: str | None = None):
    """The 429 page: what happened and how long to wait (``work``: the kind of heavy work)."""
    response = make_response(
        render_template("errors/too_many.html", minutes=max(1, round(seconds / 60)), work=work),
        429,
    )
    response.headers["Retry-After"] = str(seconds)
    return response


def init_app(app: Flask) -> None:
    """Install cookies, proxies, headers, session timeouts and the sign-in limits."""
    configure_cookies(app)
    trust_proxies(app)
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    )
    limiter.init_app(app)
    for name, (setting, _retry) in SLOTS.items():
        app.extensions[name] = threading.BoundedSemaphore(max(1, int(app.config[setting])))
    app.before_request(enforce_session_limits)
    app.before_request(require_second_factor)
    app.after_request(set_security_headers)
    app.register_error_handler(RateLimitExceeded, too_many_attempts)
    app.jinja_env.globals["password_rules"] = _password_rules


def _password_rules() -> str:
    return rules_text()
