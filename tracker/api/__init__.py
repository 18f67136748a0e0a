"""The JSON API under ``/api/v1/``: other programs reading and writing with a user's token.

Built on flask-smorest (marshmallow schemas, OpenAPI generated from the code): the
description is served at ``/api/v1/openapi.json`` and read as a page at ``/api/v1/docs``.
Requests carry ``Authorization: Bearer <token>`` (``tracker.api.tokens``); the session
cookie is neither read nor written under ``/api/``, so a browser's session opens nothing
there and no CSRF token is needed (nor any CSRF hole opened). Errors are
``application/problem+json`` (RFC 9457) naming the field at fault.
"""

from __future__ import annotations

from flask import has_request_context, request

PREFIX = "/api/v1"


def is_api_request() -> bool:
    """Whether the current request is one of the API's (no session, JSON errors)."""
    if not has_request_context():
        return False
    return request.path.startswith("/api/")
