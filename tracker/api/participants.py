"""``/api/v1/participants``: list (the web's filters and search), read, register, change.

Registration goes through the importer's rules with one row (the same columns, checks,
duplicate rule and audit lines as a spreadsheet, ``tracker.imports.services.run_record``);
a change goes through the case file's edit service with the version read before, so a
change made in between is answered 409, not overwritten.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker import audit, columns, indicators
from tracker.api import problems
from tracker.api.common import (
    PageArgs,
    allowed_to,
    blueprint,
    document_errors,
    page,
    page_schema,
    project_by_code,
    require,
)
from tracker.dashboard import services as dashboard
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.imports import cells, header
from tracker.imports import services as imports
from tracker.imports.report import Context
from tracker.models import Participant, Sex, aware
from tracker.participants import listing, services
from tracker.participants.consent import case_management_holds
from tracker.participants.search import search_kind, search_query
from tracker.permissions import (
    can_edit_participants,
    can_see_names,
    get_participant_or_404,
    visible_projects,
)

bp = blueprint(
    "participants",
    __name__,
    "/api/v1/participants",
    "Participants (case files). A viewer's token lists codes only.",
)

PERSON_INDICATORS = [
    key for key, ind in indicators.INDICATORS.items() if ind.unit == indicators.PEOPLE
]


def _text(description: str, **kwargs: Any) -> fields.String:
    return fields.String(allow_none=True, metadata={"description": description}, **kwargs)


class ParticipantSchema(Schema):
    """A participant as the API shows her; a viewer's token gets id, code and project only."""

    id = fields.Integer(required=True)
    code = fields.String(required=True)
    project = fields.String(required=True, metadata={"description": "The project's code."})
    given_name = _text("Given name (not for a viewer).")
    family_name = _text("Family name (not for a viewer).")
    other_name = _text(
        "Full name in the other script (Arabic, or Latin letters if the name is in Arabic); "
        "not for a viewer."
    )
    sex = fields.String(validate=validate.OneOf([s.value for s in Sex]))
    date_of_birth = _text("YYYY-MM-DD, or YYYY when only the year is known.")
    nationality = _text("ISO 3166-1 alpha-3.")
    region = _text("Region of residence.")
    city = _text("City.")
    phone = _text("Phone number.")
    email = _text("E-mail address.")
    migration_status = _text("Migration status code.")
    education_level = _text("Education level code.")
    languages = _text("Two-letter codes separated by ';'.")
    consent_given = fields.Boolean(
        metadata={"description": "Whether a consent to case management holds today."}
    )
    registered_on = fields.Date()
    archived = fields.Boolean()
    version = fields.Integer(
        metadata={"description": "Send it back with a change: a change made since is a 409."}
    )
    updated_at = fields.DateTime()


class ParticipantCreatedSchema(ParticipantSchema):
    warnings = fields.List(
        fields.Nested(problems.FieldProblemSchema),
        metadata={"description": "Likely duplicates and other points to check (not errors)."},
    )


ParticipantPageSchema = page_schema(ParticipantSchema, "ParticipantPage")


class ParticipantListArgs(PageArgs):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={
            "description": "A code; else (not for a viewer) a phone number or words of the name."
        },
    )
    code = fields.String(
        validate=validate.Length(max=32), metadata={"description": "This code exactly."}
    )
    project = fields.String(
        validate=validate.Length(max=32), metadata={"description": "A project's code."}
    )
    sex = fields.String(validate=validate.OneOf([s.value for s in Sex]))
    nationality = fields.String(validate=validate.Length(equal=3))
    status = fields.String(
        load_default="active",
        validate=validate.OneOf(["active", "archived", "all"]),
        metadata={"description": "Archived case files are left out unless asked."},
    )
    indicator = fields.String(
        validate=validate.OneOf(PERSON_INDICATORS),
        metadata={"description": "The people behind this figure (with `from`, `to`)."},
    )
    from_ = fields.Date(data_key="from", metadata={"description": "The figure's first day."})
    to = fields.Date(metadata={"description": "The figure's last day."})


def _column_names(kind: str) -> list[str]:
    return [c.name for c in columns.TABLES[kind].columns]


def _create_fields() -> dict[str, fields.Field]:
    made: dict[str, fields.Field] = {}
    for column in columns.PARTICIPANTS.columns:
        description = str(column.description)
        if column.kind == columns.BOOLEAN:
            field: fields.Field = fields.Boolean(
                required=column.required, metadata={"description": description}
            )
        else:
            field = fields.String(
                required=column.required,
                allow_none=not column.required,
                validate=validate.Length(max=500),
                metadata={"description": description},
            )
        made[column.name] = field
    return made


ParticipantCreateSchema = Schema.from_dict(_create_fields(), name="ParticipantCreate")

EDITABLE = [c for c in services.EDITABLE_FIELDS if c in set(_column_names("participants"))]


ParticipantChangeSchema = Schema.from_dict(
    {
        "version": fields.Integer(
            required=True,
            metadata={"description": "The version read: the change applies to it."},
        ),
        **{
            name: fields.String(allow_none=True, validate=validate.Length(max=500))
            for name in EDITABLE
        },
    },
    name="ParticipantChange",
)


def dump(participant: Participant, *, names: bool) -> dict[str, Any]:
    """Return ``participant`` as the API shows her to someone who may (or not) see names."""
    shown: dict[str, Any] = {
        "id": participant.id,
        "code": participant.code,
        "project": participant.project.code,
    }
    if not names:
        return shown
    birth = participant.date_of_birth
    shown.update(
        {
            "given_name": participant.given_name,
            "family_name": participant.family_name,
            "other_name": participant.other_name,
            "sex": participant.sex.value,
            "date_of_birth": birth.isoformat()
            if birth
            else (str(participant.birth_year) if participant.birth_year else None),
            "nationality": participant.nationality,
            "region": participant.region,
            "city": participant.city,
            "phone": participant.phone,
            "email": participant.email,
            "migration_status": participant.migration_status.value
            if participant.migration_status
            else None,
            "education_level": participant.education_level.value
            if participant.education_level
            else None,
            "languages": participant.languages,
            "consent_given": case_management_holds(participant),
            "registered_on": participant.registered_on,
            "archived": participant.archived_at is not None,
            "version": participant.version,
            "updated_at": aware(participant.updated_at),
        }
    )
    return shown


def _people_behind(args: dict[str, Any], project_ids: list[int]):
    key = args["indicator"]
    scope = indicators.Scope(tuple(project_ids), args.get("from_"), args.get("to"))
    # whether a viewer may have the list is decided on the whole list (list_participants)
    return dashboard.drill_down_people(key, scope, None, None)


@bp.route("/")
@bp.arguments(ParticipantListArgs, location="query")
@bp.response(200, ParticipantPageSchema)
@document_errors(bp, 401, 403, 422, 429)
def list_participants(args: dict[str, Any]):
    """List participants of your projects, with the web list's search and filters.

    In id order, a page at a time: follow `next`. With `indicator` (and `from`, `to`),
    the people behind that figure of the dashboard.
    """
    names = can_see_names(current_user)
    project = project_by_code(args.get("project"))
    project_ids = [project.id] if project else [p.id for p in visible_projects(current_user)]
    q = args["q"].strip()
    query = search_query(
        q,
        current_user,
        project_id=project.id if project else None,
        sex=Sex(args["sex"]) if args.get("sex") else None,
        nationality=args["nationality"].upper() if args.get("nationality") else None,
        status=args["status"],
    )
    if args.get("code"):
        query = query.where(Participant.code == args["code"].strip().upper())
    if args.get("indicator"):
        behind = _people_behind(args, project_ids).with_only_columns(Participant.id)
        query = query.where(Participant.id.in_(behind.order_by(None)))
    query = query.options(selectinload(Participant.project))
    if names:
        query = query.options(selectinload(Participant.consents))
    rows, links = page(query, Participant.id, args)
    if listing.small_list(current_user, links["total"]):
        # as the dashboard shows a count under the threshold as "< 5", its people stay
        # unlisted, whatever the filters that made the list (tracker.participants.listing)
        abort(403, message=listing.small_list_message())
    audit.record_read(
        "participants",
        None,
        {
            "via": "api",
            "results": links["total"],
            "participant_ids": [p.id for p in rows],
            "search": search_kind(q, names),
            "project": args.get("project"),
            "indicator": args.get("indicator"),
        },
    )
    return {"items": [dump(p, names=names) for p in rows], **links}


@bp.route("/<int:participant_id>")
@bp.response(200, ParticipantSchema)
@document_errors(bp, 401, 403, 404, 429)
def get_participant(participant_id: int):
    """Read one case file's identity (not for a viewer: her list gives codes only)."""
    require(can_see_names(current_user))
    participant = get_participant_or_404(participant_id)
    audit.record_read("participant", participant.id, {"via": "api"})
    return dump(participant, names=True)


def _cell(value: Any) -> Any:
    """A JSON value as the importer reads a spreadsheet cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value if isinstance(value, str) else str(value)


def _row_problems(report) -> list[dict[str, Any]]:
    return [
        {"field": p.column, "in": "json", "message": p.message} for p in report.errors if p.message
    ]


def _found_first(view):
    """Answer 404 for a case file outside the user's projects before reading the body."""

    @functools.wraps(view)
    def checked(*args: Any, participant_id: int, **kwargs: Any) -> Any:
        get_participant_or_404(participant_id)
        return view(*args, participant_id=participant_id, **kwargs)

    return checked


@bp.route("/", methods=["POST"])
@allowed_to(can_edit_participants)
@bp.arguments(ParticipantCreateSchema)
@bp.response(201, ParticipantCreatedSchema)
@document_errors(bp, 401, 403, 422, 429)
def create_participant(body: dict[str, Any]):
    """Register a participant: the import's columns, rules and duplicate warnings.

    Nobody is registered without a consent to case management (`consent_given`,
    `consent_date`). A likely duplicate is registered and named in `warnings`, as the
    import does; the duplicates page of the web lists it for review.
    """
    require(can_edit_participants(current_user))
    values = {name: _cell(value) for name, value in body.items()}
    ctx = Context(user=current_user, default_project=None, today=date.today())
    report = imports.run_record("participants", values, source="API", ctx=ctx)
    if report.errors or not report.codes:
        db.session.rollback()
        return problems.problem(
            422,
            _("The participant is not registered."),
            errors=_row_problems(report),
            kind="invalid",
        )
    db.session.commit()
    participant = db.session.scalar(select(Participant).where(Participant.code == report.codes[0]))
    shown = dump(participant, names=True)
    shown["warnings"] = [
        {"field": p.column, "in": "json", "message": p.message} for p in report.warnings
    ]
    return shown, 201, {"Location": url_for(".get_participant", participant_id=participant.id)}


@bp.route("/<int:participant_id>", methods=["PATCH"])
@allowed_to(can_edit_participants)
@_found_first
@bp.arguments(ParticipantChangeSchema)
@bp.response(200, ParticipantSchema)
@document_errors(bp, 401, 403, 404, 409, 422, 429)
def change_participant(body: dict[str, Any], participant_id: int):
    """Change a case file's identity fields, giving the `version` read.

    A change made by someone else since that version is answered 409 with the current
    version; read the record again and decide. Code, project and registration stay.
    """
    require(can_edit_participants(current_user))
    participant = get_participant_or_404(participant_id)
    if body["version"] != participant.version:
        return problems.problem(
            409,
            _("This case file was changed since version %(num)d.", num=body["version"]),
            kind="stale",
            current_version=participant.version,
        )
    changes: dict[str, Any] = {}
    errors = []
    for name in EDITABLE:
        if name not in body:
            continue
        column = columns.PARTICIPANTS.column(name)
        try:
            changes[name] = header.read_cell(column, _cell(body[name]))
        except cells.CellError as error:
            errors.append({"field": name, "in": "json", "message": error.message})
            continue
        if column.required and changes[name] is None:
            errors.append({"field": name, "in": "json", "message": _("is missing")})
    if isinstance(changes.get("date_of_birth"), int):
        errors.append({"field": "date_of_birth", "in": "json", "message": _("give the full date")})
    if errors:
        return problems.problem(422, errors=errors, kind="invalid")
    try:
        services.update_participant(participant, **changes)
    except DomainError as error:
        db.session.rollback()
        return problems.problem(
            422,
            error.message,
            errors=[{"field": error.field, "in": "json", "message": error.message}],
        )
    db.session.commit()
    return dump(participant, names=True)
