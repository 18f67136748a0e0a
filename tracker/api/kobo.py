"""``POST /api/v1/kobo/<project>/submissions``: KoboToolbox's REST service pushes here.

Set up in KoboToolbox under the form's Settings → REST Services: the endpoint's URL, JSON,
and either Basic authentication (your e-mail and a token as the password) or a custom
header ``Authorization: Bearer <token>`` (``docs/api.md``). Answers: 201 registered,
200 already registered (a resend: Kobo treats anything but 2xx as a failure and retries),
422 invalid (kept in the incoming submissions list for a manager to fix and register),
503 when the database is busy or away (Kobo tries again later).
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy.exc import OperationalError

from tracker import columns
from tracker.api import problems
from tracker.api.common import allowed_to, blueprint, document_errors
from tracker.extensions import db
from tracker.imports import incoming
from tracker.models import Project
from tracker.permissions import can_import, in_scope

bp = blueprint(
    "kobo",
    __name__,
    "/api/v1/kobo",
    "The endpoint of KoboToolbox's REST services: one form submission per request.",
)


def _submission_fields() -> dict[str, fields.Field]:
    made: dict[str, fields.Field] = {
        "_uuid": fields.String(metadata={"description": "Kobo's identifier of the submission."}),
        "_id": fields.Integer(),
        "meta/instanceID": fields.String(metadata={"description": "uuid:… (as _uuid)."}),
        "_xform_id_string": fields.String(),
        "_submission_time": fields.String(),
    }
    for column in columns.PARTICIPANTS.columns:
        if column.name != "project_code":
            made[f"participant/{column.name}"] = fields.String(
                allow_none=True, metadata={"description": str(column.description)}
            )
    return made


class _Open(Schema):
    class Meta:
        unknown = INCLUDE


KoboSubmissionSchema = _Open.from_dict(_submission_fields(), name="KoboSubmission")


class KoboAnswerSchema(Schema):
    status = fields.String(
        required=True,
        metadata={"description": "registered, already_registered or discarded"},
    )
    code = fields.String(allow_none=True, metadata={"description": "The participant's code."})
    submission = fields.Integer(metadata={"description": "Its line in the incoming list."})
    warnings = fields.List(fields.Nested(problems.FieldProblemSchema))


@bp.route("/<project_code>/submissions", methods=["POST"])
@allowed_to(can_import)
@bp.arguments(KoboSubmissionSchema)
@bp.response(201, KoboAnswerSchema)
@bp.alt_response(200, schema=KoboAnswerSchema, description="Sent before: nobody registered.")
@bp.doc(security=[{"bearerToken": []}, {"koboBasic": []}])
@document_errors(bp, 401, 403, 404, 422, 429, 503)
def submit(payload: dict[str, Any], project_code: str):
    """Register the person of one KoboToolbox submission (the tracker's XLSForm).

    Group paths (`participant/given_name`) and Kobo's fields (`_uuid`, `_id`,
    `meta/instanceID`, `_xform_id_string`, `_submission_time`) as Kobo sends them.
    """
    project = db.session.scalar(
        db.select(Project).where(Project.code == project_code, in_scope(current_user, Project.id))
    )
    if project is None:
        abort(404)
    try:
        outcome = incoming.receive(project, dict(payload), user=current_user)
    except incoming.Refused as refused:
        db.session.rollback()
        return problems.problem(
            422,
            refused.message,
            errors=[{"field": refused.field, "in": "json", "message": refused.message}],
            kind="invalid",
        )
    except OperationalError:
        db.session.rollback()
        return problems.problem(
            503,
            _("The database is busy; the submission will be sent again."),
            headers={"Retry-After": "60"},
        )
    record = outcome.submission
    if outcome.status == "invalid":
        return problems.problem(
            422,
            _(
                "The submission is not registered; it waits in the incoming submissions "
                "list for a manager to fix it."
            ),
            errors=[dict(p, **{"in": "json"}) for p in outcome.problems],
            kind="invalid",
            submission=record.id,
        )
    body = {
        "status": outcome.status,
        "code": outcome.code,
        "submission": record.id,
        "warnings": [dict(w, **{"in": "json"}) for w in outcome.warnings],
    }
    return body, 201 if outcome.status == "registered" else 200
