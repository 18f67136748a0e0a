"""What every resource of the API shares: its blueprint, pages, roles and problems."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from flask_smorest import abort as smorest_abort
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select

from tracker.api import auth
from tracker.extensions import csrf, db, limiter
from tracker.models import Project, User
from tracker.permissions import in_scope
from tracker.text import has_control_characters

MAX_LIMIT = 200
DEFAULT_LIMIT = 50

#: the error answers every operation may give, documented on each
COMMON_ERRORS = (401, 403, 404, 422, 429)


def blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """Return an API blueprint: a token on every request, its rate limit, no CSRF token."""
    bp = Blueprint(f"api_{name}", import_name, url_prefix=url_prefix, description=description)
    bp.url_value_preprocessor(_ids_in_range)
    bp.before_request(auth.require_token)
    bp.before_request(_plain_query)
    csrf.exempt(bp)
    limiter.limit(auth.rate_limit, key_func=auth.rate_key)(bp)
    return bp


#: the largest id any table holds (a 32-bit integer on every database)
MAX_ID = 2**31 - 1


def _ids_in_range(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Answer 404 for an id past what any table holds (the driver would overflow), or a
    code with control characters (no code has any; PostgreSQL refuses NUL)."""
    for value in (values or {}).values():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            abort(404)
        if isinstance(value, str) and has_control_characters(value):
            abort(404)


def _plain_query() -> None:
    """Refuse a query parameter holding control characters (422 naming it), as forms do."""
    for name, value in request.args.items(multi=True):
        if has_control_characters(value):
            smorest_abort(
                422,
                messages={"query": {name: [_("Control characters are not allowed.")]}},
            )


def document_errors(bp: Blueprint, *statuses: int) -> Callable:
    """Document the problem answers an operation may give (401, 403, 404, 422, 429 …)."""

    def decorate(view: Callable) -> Callable:
        for status in statuses or COMMON_ERRORS:
            view = bp.alt_response(status, response="DEFAULT_ERROR")(view)
        return view

    return decorate


class PageArgs(Schema):
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"How many items a page holds (at most {MAX_LIMIT})."},
    )
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=2**31 - 1),
        metadata={"description": "The cursor: give the `next_after` of the previous page."},
    )


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """Return the schema of a page of ``item``s."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "total": fields.Integer(
                required=True, metadata={"description": "Items matching, on every page."}
            ),
            "next_after": fields.Integer(
                allow_none=True,
                required=True,
                metadata={"description": "The cursor of the next page; null on the last."},
            ),
            "next": fields.String(
                allow_none=True,
                required=True,
                metadata={"description": "The URL of the next page; null on the last."},
            ),
        },
        name=name,
    )


def page(query: Select, id_column: Any, args: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Return one page of ``query`` in id order after the cursor, and the page's links."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    limit = args["limit"]
    rows = list(
        db.session.scalars(
            query.where(id_column > args["after"])
            .order_by(None)
            .order_by(id_column)
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, links(total, rows[-1].id if more and rows else None)


def links(total: int, next_after: int | None) -> dict[str, Any]:
    """Return a page's count and cursor, and the URL of the next page (the same query)."""
    next_url = None
    if next_after is not None:
        query_args = request.args.to_dict()
        query_args["after"] = str(next_after)
        next_url = url_for(request.endpoint, **(request.view_args or {}), **query_args)
    return {"total": total, "next_after": next_after, "next": next_url}


def require(allowed: bool) -> None:
    """Refuse with 403 what the token's user may not do."""
    if not allowed:
        abort(403)


def allowed_to(predicate: Callable[[User], bool]) -> Callable:
    """Refuse (403) a user whose role may not use the operation, before its input is read.

    Placed under ``route`` and above ``arguments``: a viewer is told she may not, not
    that her body is incomplete.
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            require(predicate(current_user))
            return view(*args, **kwargs)

        return checked

    return decorate


def project_by_code(code: str | None, user: User | None = None) -> Project | None:
    """Return the project of ``code`` among the user's, or None when no code is given.

    An unknown code, or one of a project outside the user's, is a 422 naming ``project``.
    """
    if code is None or code == "":
        return None
    user = user or current_user
    project = db.session.scalar(
        select(Project).where(Project.code == code.strip(), in_scope(user, Project.id))
    )
    if project is None:
        smorest_abort(
            422,
            messages={"query": {"project": [_("No project of yours has this code.")]}},
        )
    return project
