"""Errors as ``application/problem+json`` (RFC 9457), each naming the fields at fault.

``{"type", "title", "status", "detail", "errors": [{"field", "in", "message"}]}``: a
program reads ``status`` and ``errors``; a person reads ``detail``, in the language of
the token's user (or of ``Accept-Language``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response, json
from flask_babel import gettext as _
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

MEDIA_TYPE = "application/problem+json"
#: the problem types this API defines, beyond the plain HTTP status ("about:blank")
TYPES = {
    "stale": "/api/v1/problems/stale-version",
    "duplicate": "/api/v1/problems/duplicate",
    "invalid": "/api/v1/problems/invalid",
}


class FieldProblemSchema(Schema):
    field = fields.String(allow_none=True, metadata={"description": "The field at fault."})
    in_ = fields.String(
        data_key="in",
        metadata={"description": "Where the field is: json (the body), query, path or header."},
    )
    message = fields.String(required=True)


class ProblemSchema(Schema):
    """An error, as RFC 9457 shapes it."""

    type = fields.String(metadata={"description": "A URI naming the kind of problem."})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.List(fields.Nested(FieldProblemSchema))
    current_version = fields.Integer(
        metadata={"description": "A 409 on a change: the record's version now."}
    )
    submission = fields.Integer(
        metadata={"description": "A refused KoboToolbox submission: its line in the list."}
    )


def _default_detail(status: int) -> str:
    details = {
        400: _("The request is not understood."),
        401: _("A valid API token is needed: send it as Authorization: Bearer <token>."),
        403: _("Your role does not allow this."),
        404: _("There is nothing here, or it is outside your projects."),
        405: _("This method is not allowed here."),
        409: _("The record was changed in the meantime."),
        413: _("The request is too large."),
        415: _("Send JSON (Content-Type: application/json)."),
        422: _("Some values are not valid."),
        429: _("Too many requests: wait before trying again."),
        503: _("The service is busy or unavailable; try again shortly."),
    }
    return details.get(status, _("The server could not answer."))


def flatten(messages: Any, location: str | None, prefix: str = "") -> list[dict[str, Any]]:
    """Turn marshmallow's nested ``{field: [message]}`` into a flat list of field problems."""
    found: list[dict[str, Any]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or None
            found.extend(flatten(value, location, name or ""))
    elif isinstance(messages, list | tuple):
        for value in messages:
            found.extend(flatten(value, location, prefix))
    else:
        found.append({"field": prefix or None, "in": location, "message": str(messages)})
    return found


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: Iterable[Mapping[str, Any]] = (),
    kind: str | None = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """Return a problem+json response."""
    from werkzeug.http import HTTP_STATUS_CODES

    body: dict[str, Any] = {
        "type": TYPES.get(kind or "", "about:blank"),
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or _default_detail(status),
    }
    listed = [dict(e) for e in errors]
    if listed:
        body["errors"] = listed
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_http_exception(error: HTTPException) -> Response:
    """Answer an HTTP error raised anywhere under the API as a problem."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors: list[dict[str, Any]] = []
    messages = data.get("messages")
    if isinstance(messages, Mapping):
        for location, found in messages.items():
            errors.extend(flatten(found, location))
    detail = data.get("message")
    headers = dict(data.get("headers") or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="tracker"')
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem(status, detail, errors=errors, headers=headers)
