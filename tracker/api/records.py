"""``/api/v1/`` enrolments, placements, follow-ups, activities, courses and partners.

The records about people read as the exports write them: the same columns (named as in
``docs/columns.md``), the same scope and the same consent rules, through
``tracker.exports.services``. A viewer's token gets the pseudonymous variant, as her
exports do: codes, never a name, a business name, an income note or a contact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from tracker import audit, columns, indicators
from tracker.api.common import (
    PageArgs,
    blueprint,
    document_errors,
    links,
    page,
    page_schema,
    project_by_code,
)
from tracker.exports import services as exports
from tracker.extensions import db
from tracker.models import (
    Activity,
    Enrolment,
    FollowUp,
    Participant,
    Partner,
    PartnerKind,
    Placement,
    TrainingCourse,
)
from tracker.participants import listing
from tracker.permissions import can_see_names, get_course_or_404, in_scope, visible_projects

_FIELD_OF_KIND = {
    columns.DATE: lambda d: fields.String(allow_none=True, metadata={"format": "date", **d}),
    columns.BOOLEAN: lambda d: fields.Boolean(allow_none=True, metadata=d),
    columns.INTEGER: lambda d: fields.Integer(allow_none=True, metadata=d),
    columns.DECIMAL: lambda d: fields.Float(allow_none=True, metadata=d),
}


def _record_schema(table: columns.Table, name: str) -> type[Schema]:
    made: dict[str, fields.Field] = {"id": fields.Integer(required=True)}
    for column in table.columns:
        description = str(column.description)
        if column.personal:
            description += " Not for a viewer."
        make = _FIELD_OF_KIND.get(column.kind)
        made[column.name] = (
            make({"description": description})
            if make
            else fields.String(allow_none=True, metadata={"description": description})
        )
    return Schema.from_dict(made, name=name)


class RecordArgs(PageArgs):
    project = fields.String(
        validate=validate.Length(max=32), metadata={"description": "A project's code."}
    )
    code = fields.String(
        validate=validate.Length(max=32),
        metadata={"description": "The records of the participant with this code."},
    )


def _json_cell(column: columns.Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == columns.BOOLEAN:
        return value == "yes" if isinstance(value, str) else bool(value)
    if column.kind == columns.DECIMAL and isinstance(value, Decimal):
        return float(value)
    if column.kind == columns.DATE and not isinstance(value, str):
        return value.isoformat()
    return value


def _make_resource(kind: str, model: Any, path: str, description: str) -> Blueprint:
    """Return the blueprint of a list and a read of the export of ``kind``, by id."""
    table = columns.TABLES[kind]
    item = _record_schema(table, f"{model.__name__}Record")
    page_of = page_schema(item, f"{model.__name__}Page")
    bp = blueprint(kind, __name__, f"/api/v1/{path}", description)
    people = kind in exports.PERSON_KINDS

    def rows(
        args: dict[str, Any], where: list[Any], *, counted: bool = True
    ) -> tuple[list[dict[str, Any]], Any, Any]:
        names = can_see_names(current_user)
        project = project_by_code(args.get("project"))
        if args.get("code") and people:
            where.append(Participant.code == args["code"].strip().upper())
        if people and counted and not names:
            # a viewer's list about 1 to 4 people is not given (tracker.participants.listing)
            about = exports.people_in(
                kind, user=current_user, project=project, pseudonymous=True, where=where
            )
            if listing.small_list(current_user, about):
                abort(403, message=listing.small_list_message())
        shown, pairs, total, more = exports.record_page(
            kind,
            model.id,
            user=current_user,
            project=project,
            pseudonymous=not names,
            after=args.get("after", 0),
            limit=args.get("limit", 1),
            where=where,
            counted=counted,
        )
        items = [
            {
                "id": record_id,
                **{c.name: _json_cell(c, v) for c, v in zip(shown, cells, strict=True)},
            }
            for record_id, cells in pairs
        ]
        if people:
            audit.record_read(
                kind, None, {"via": "api", "results": total, "ids": [i["id"] for i in items]}
            )
        return items, total, more

    def list_records(args: dict[str, Any]):
        items, total, more = rows(args, [])
        return {"items": items, **links(total, items[-1]["id"] if more and items else None)}

    def get_record(record_id: int):
        items, _total, _more = rows(
            {"after": record_id - 1, "limit": 1}, [model.id == record_id], counted=False
        )
        if not items:
            abort(404)
        return items[0]

    # the summaries name the resource: set before the decorators read them
    list_records.__doc__ = (
        f"List the {path} of your projects, in id order, a page at a time.\n\n"
        "`code`: the records of one participant. The columns of the export."
    )
    get_record.__doc__ = f"Read one of the {path} by its id."
    listed = document_errors(bp, 401, 422, 429)(list_records)
    listed = bp.response(200, page_of)(listed)
    bp.route("/")(bp.arguments(RecordArgs, location="query")(listed))
    read = document_errors(bp, 401, 404, 429)(get_record)
    bp.route("/<int:record_id>")(bp.response(200, item)(read))
    return bp


enrolments_bp = _make_resource(
    "enrolments", Enrolment, "enrolments", "Enrolments of participants in training courses."
)
placements_bp = _make_resource(
    "placements", Placement, "placements", "Placements: jobs and income-generating activities."
)
follow_ups_bp = _make_resource(
    "followups", FollowUp, "follow-ups", "Follow-ups of placements, 3, 6 and 12 months after."
)
activities_bp = _make_resource(
    "activities",
    Activity,
    "activities",
    "Capacity building, awareness workshops and events with partner institutions.",
)


# --- Courses and partners ----------------------------------------------------------------

courses_bp = blueprint("courses", __name__, "/api/v1/courses", "Training courses.")


class CourseSchema(Schema):
    id = fields.Integer(required=True)
    project = fields.String(required=True)
    title = fields.String(required=True)
    sector = fields.String()
    kind = fields.String()
    provider = fields.String(metadata={"description": "The training partner's acronym or name."})
    provider_id = fields.Integer()
    city = fields.String(allow_none=True)
    start_date = fields.Date()
    end_date = fields.Date()
    hours = fields.Integer(allow_none=True)
    capacity = fields.Integer(allow_none=True)
    enrolled = fields.Integer(metadata={"description": "People enrolled (any outcome)."})


def _course(course: TrainingCourse, enrolled: int) -> dict[str, Any]:
    return {
        "id": course.id,
        "project": course.project.code,
        "title": course.title,
        "sector": course.sector,
        "kind": course.kind.value,
        "provider": course.provider.acronym or course.provider.name,
        "provider_id": course.provider_id,
        "city": course.city,
        "start_date": course.start_date,
        "end_date": course.end_date,
        "hours": course.hours,
        "capacity": course.capacity,
        "enrolled": enrolled,
    }


def _enrolled(course_ids: list[int]) -> dict[int, int]:
    from sqlalchemy import func

    if not course_ids:
        return {}
    return dict(
        db.session.execute(
            select(Enrolment.course_id, func.count(Enrolment.id))
            .join(Participant, Enrolment.participant_id == Participant.id)
            .where(Enrolment.course_id.in_(course_ids), Participant.merged_into_id.is_(None))
            .group_by(Enrolment.course_id)
        ).all()
    )


class CourseArgs(PageArgs):
    project = fields.String(validate=validate.Length(max=32))


@courses_bp.route("/")
@courses_bp.arguments(CourseArgs, location="query")
@courses_bp.response(200, page_schema(CourseSchema, "CoursePage"))
@document_errors(courses_bp, 401, 422, 429)
def list_courses(args: dict[str, Any]):
    """List the training courses of your projects, in id order."""
    project = project_by_code(args.get("project"))
    query = select(TrainingCourse).where(in_scope(current_user, TrainingCourse.project_id))
    if project is not None:
        query = query.where(TrainingCourse.project_id == project.id)
    rows, links = page(query, TrainingCourse.id, args)
    counts = _enrolled([c.id for c in rows])
    return {"items": [_course(c, counts.get(c.id, 0)) for c in rows], **links}


@courses_bp.route("/<int:course_id>")
@courses_bp.response(200, CourseSchema)
@document_errors(courses_bp, 401, 404, 429)
def get_course(course_id: int):
    """Read one training course."""
    course = get_course_or_404(course_id)
    return _course(course, _enrolled([course.id]).get(course.id, 0))


partners_bp = blueprint(
    "partners", __name__, "/api/v1/partners", "Partner institutions (contacts not for a viewer)."
)


class PartnerSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    acronym = fields.String(allow_none=True)
    kind = fields.String(validate=validate.OneOf([k.value for k in PartnerKind]))
    city = fields.String(allow_none=True)
    country = fields.String()
    contact_name = fields.String(allow_none=True, metadata={"description": "Not for a viewer."})
    contact_email = fields.String(allow_none=True, metadata={"description": "Not for a viewer."})
    contact_phone = fields.String(allow_none=True, metadata={"description": "Not for a viewer."})


def _partner(partner: Partner) -> dict[str, Any]:
    shown = {
        "id": partner.id,
        "name": partner.name,
        "acronym": partner.acronym,
        "kind": partner.kind.value,
        "city": partner.city,
        "country": partner.country,
    }
    if can_see_names(current_user):
        shown.update(
            contact_name=partner.contact_name,
            contact_email=partner.contact_email,
            contact_phone=partner.contact_phone,
        )
    return shown


INSTITUTION_INDICATORS = [
    key for key, ind in indicators.INDICATORS.items() if ind.unit == indicators.INSTITUTIONS
]


class PartnerArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf([k.value for k in PartnerKind]))
    indicator = fields.String(
        validate=validate.OneOf(INSTITUTION_INDICATORS),
        metadata={
            "description": "The institutions behind this figure (with `project`, `from`, `to`)."
        },
    )
    project = fields.String(
        validate=validate.Length(max=32),
        metadata={"description": "With `indicator`: the project's code (default: all yours)."},
    )
    from_ = fields.Date(data_key="from", metadata={"description": "The figure's first day."})
    to = fields.Date(metadata={"description": "The figure's last day."})


@partners_bp.route("/")
@partners_bp.arguments(PartnerArgs, location="query")
@partners_bp.response(200, page_schema(PartnerSchema, "PartnerPage"))
@document_errors(partners_bp, 401, 422, 429)
def list_partners(args: dict[str, Any]):
    """List the partner institutions, in id order.

    With `indicator` (and `project`, `from`, `to`), the institutions behind that figure
    of the dashboard, e.g. the institutions strengthened.
    """
    query = select(Partner)
    if args.get("kind"):
        query = query.where(Partner.kind == PartnerKind(args["kind"]))
    if args.get("indicator"):
        project = project_by_code(args.get("project"))
        projects = [project] if project else visible_projects(current_user)
        scope = indicators.Scope(tuple(p.id for p in projects), args.get("from_"), args.get("to"))
        behind = indicators.subject_ids_in(args["indicator"], scope, None, None)
        query = query.where(Partner.id.in_(behind))
    rows, links = page(query, Partner.id, args)
    return {"items": [_partner(p) for p in rows], **links}


@partners_bp.route("/<int:partner_id>")
@partners_bp.response(200, PartnerSchema)
@document_errors(partners_bp, 401, 404, 429)
def get_partner(partner_id: int):
    """Read one partner institution."""
    return _partner(db.get_or_404(Partner, partner_id))
