"""Who calls the API: the user of the token in ``Authorization``, nothing else.

``Authorization: Bearer <token>`` everywhere; ``Basic`` (the user's e-mail and a token
as the password) on the KoboToolbox endpoint only, because Kobo's REST services offer
Basic authentication. A 401 asks for a Bearer token only, so a browser never offers
its sign-in box (it would then send the credentials on its own: a CSRF hole).
"""

from __future__ import annotations

import hmac

from flask import abort, current_app, g, request
from flask_login import current_user

from tracker.api import is_api_request, tokens
from tracker.database import SAFE_METHODS
from tracker.models import User

#: the endpoints that take Basic authentication (KoboToolbox's REST services)
BASIC_ENDPOINTS = frozenset({"api_kobo.submit"})


def user_from_header(req) -> User | None:
    """Flask-Login's request loader: the user of a valid token sent to the API."""
    if not is_api_request():
        return None
    sent = req.authorization
    if sent is None:
        return None
    username = None
    if sent.type == "bearer":
        secret = sent.token or ""
    elif sent.type == "basic" and req.endpoint in BASIC_ENDPOINTS:
        secret, username = sent.password or "", sent.username or ""
    else:
        return None
    token = tokens.find(secret)
    if token is None:
        return None
    user = token.user
    if username is not None and not hmac.compare_digest(
        username.strip().lower().encode(), user.email.lower().encode()
    ):
        return None
    g.api_token_id = token.id
    g.api_token_label = f"{user.email} [API {token.prefix}…]"[:254]
    g.api_token_last_used = token.last_used_at
    return user


def require_token() -> None:
    """Refuse a request without a valid token (401); note the token's use."""
    if not current_user.is_authenticated or g.get("api_token_id") is None:
        abort(401)
    tokens.note_use(
        g.api_token_id,
        g.api_token_last_used,
        request.remote_addr,
        writes=request.method not in SAFE_METHODS,
    )


def rate_key() -> str:
    """What the API's rate limit counts: the token, or the address when there is none."""
    if current_user.is_authenticated and g.get("api_token_id") is not None:
        return f"api-token:{g.api_token_id}"
    return f"api-address:{request.remote_addr or 'unknown'}"


def rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]
