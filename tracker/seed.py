"""Load the reference programme from ``seed_data/`` through the domain services.

Each row is identified by its natural key (project code, partner acronym or
name, participant code, course title and start date, …); rows already in the
database are left alone, so loading twice changes nothing. The whole load is
one transaction, committed by the caller.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from tracker.activities.services import add_attendance, record_activity
from tracker.extensions import db
from tracker.indicators import INDICATORS
from tracker.models import (
    Activity,
    ActivityKind,
    ContractType,
    CourseKind,
    EducationLevel,
    Enrolment,
    EnrolmentStatus,
    FollowUp,
    MigrationStatus,
    Participant,
    Partner,
    PartnerKind,
    Placement,
    PlacementKind,
    Project,
    ProjectTarget,
    Sex,
    TrainingCourse,
)
from tracker.participants.services import register_participant
from tracker.paths import PROJECT_ROOT
from tracker.placements.services import record_follow_up, record_placement
from tracker.trainings.services import complete, create_course, drop_out, enrol

SEED_DIR = PROJECT_ROOT / "seed_data"


@dataclass
class SeedResult:
    """How many rows of each file were added (zero everywhere on a second run)."""

    added: dict[str, int] = field(default_factory=dict)

    def count(self, name: str) -> None:
        self.added[name] = self.added.get(name, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.added.values())


class SeedError(ValueError):
    """A seed file is missing or one of its rows is wrong."""


def _rows(directory: Path, name: str) -> Iterator[tuple[int, dict[str, str]]]:
    path = directory / name
    if not path.exists():
        raise SeedError(f"{path}: file not found")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=2):
            yield number, {k: (v or "").strip() for k, v in row.items()}


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def _int(value: str) -> int | None:
    return int(value) if value else None


def _yes(value: str) -> bool:
    return value.lower() in {"yes", "oui", "true", "1"}


def load(directory: Path = SEED_DIR, *, today: date | None = None) -> SeedResult:
    """Load every file of the reference programme; flush only."""
    result = SeedResult()
    loaders = (
        ("projects.csv", _load_project),
        ("targets.csv", _load_target),
        ("partners.csv", _load_partner),
        ("courses.csv", _load_course),
        ("participants.csv", _load_participant),
        ("enrolments.csv", _load_enrolment),
        ("placements.csv", _load_placement),
        ("followups.csv", _load_follow_up),
        ("activities.csv", _load_activity),
        ("attendance.csv", _load_attendance),
    )
    context = _Context(today=today or date.today())
    for name, loader in loaders:
        for number, row in _rows(directory, name):
            try:
                if loader(context, row):
                    result.count(name)
            except (KeyError, ValueError) as error:
                db.session.rollback()
                raise SeedError(f"{name}, row {number}: {error}") from error
    db.session.flush()
    return result


@dataclass
class _Context:
    today: date
    projects: dict[str, Project] = field(default_factory=dict)
    partners: dict[str, Partner] = field(default_factory=dict)

    def project(self, code: str) -> Project:
        if code not in self.projects:
            project = db.session.scalar(select(Project).where(Project.code == code))
            if project is None:
                raise KeyError(f"unknown project {code}")
            self.projects[code] = project
        return self.projects[code]

    def partner(self, key: str) -> Partner | None:
        if not key:
            return None
        if key not in self.partners:
            partner = db.session.scalar(
                select(Partner).where((Partner.acronym == key) | (Partner.name == key))
            )
            if partner is None:
                raise KeyError(f"unknown partner {key}")
            self.partners[key] = partner
        return self.partners[key]

    def participant(self, code: str) -> Participant:
        participant = db.session.scalar(select(Participant).where(Participant.code == code))
        if participant is None:
            raise KeyError(f"unknown participant {code}")
        return participant

    def course(self, project_code: str, title: str, start: str) -> TrainingCourse:
        course = db.session.scalar(
            select(TrainingCourse).where(
                TrainingCourse.project_id == self.project(project_code).id,
                TrainingCourse.title == title,
                TrainingCourse.start_date == _date(start),
            )
        )
        if course is None:
            raise KeyError(f"unknown course {title!r} starting {start}")
        return course


def _load_project(ctx: _Context, row: dict[str, str]) -> bool:
    if db.session.scalar(select(Project).where(Project.code == row["code"])):
        return False
    project = Project(
        code=row["code"],
        title=row["title"],
        donor=row["donor"] or None,
        country=row["country"],
        counterpart=row["counterpart"] or None,
        start_date=_date(row["start_date"]),
        end_date=_date(row["end_date"]),
        description=row["description"] or None,
    )
    db.session.add(project)
    db.session.flush()
    return True


def _load_target(ctx: _Context, row: dict[str, str]) -> bool:
    if row["indicator"] not in INDICATORS:
        raise ValueError(f"unknown indicator {row['indicator']}")
    project = ctx.project(row["project_code"])
    if any(t.indicator == row["indicator"] for t in project.targets):
        return False
    project.targets.append(ProjectTarget(indicator=row["indicator"], target=int(row["target"])))
    return True


def _load_partner(ctx: _Context, row: dict[str, str]) -> bool:
    if db.session.scalar(select(Partner).where(Partner.name == row["name"])):
        return False
    db.session.add(
        Partner(
            name=row["name"],
            acronym=row["acronym"] or None,
            kind=PartnerKind(row["kind"]),
            city=row["city"] or None,
            country=row["country"] or "MAR",
        )
    )
    db.session.flush()
    return True


def _load_course(ctx: _Context, row: dict[str, str]) -> bool:
    project = ctx.project(row["project_code"])
    exists = db.session.scalar(
        select(TrainingCourse).where(
            TrainingCourse.project_id == project.id,
            TrainingCourse.title == row["title"],
            TrainingCourse.start_date == _date(row["start_date"]),
        )
    )
    if exists:
        return False
    create_course(
        project,
        ctx.partner(row["provider"]),
        title=row["title"],
        sector=row["sector"],
        kind=CourseKind(row["kind"]),
        city=row["city"] or None,
        start_date=_date(row["start_date"]),
        end_date=_date(row["end_date"]),
        hours=_int(row["hours"]),
        capacity=_int(row["capacity"]),
    )
    return True


def _load_participant(ctx: _Context, row: dict[str, str]) -> bool:
    if db.session.scalar(select(Participant.id).where(Participant.code == row["code"])):
        return False
    if not _yes(row["consent_given"]):
        raise ValueError(f"participant {row['code']} has not consented")
    register_participant(
        ctx.project(row["project_code"]),
        code=row["code"],
        given_name=row["given_name"],
        family_name=row["family_name"],
        other_name=row.get("other_name") or None,
        sex=Sex(row["sex"]),
        date_of_birth=_date(row["date_of_birth"]),
        nationality=row["nationality"] or None,
        region=row["region"] or None,
        city=row["city"] or None,
        phone=row["phone"] or None,
        email=row["email"] or None,
        migration_status=MigrationStatus(row["migration_status"])
        if row["migration_status"]
        else None,
        education_level=EducationLevel(row["education_level"]) if row["education_level"] else None,
        languages=row.get("languages") or None,
        registered_on=_date(row["registered_on"]),
        consent_on=_date(row["consent_date"]),
        today=ctx.today,
    )
    return True


def _load_enrolment(ctx: _Context, row: dict[str, str]) -> bool:
    participant = ctx.participant(row["participant_code"])
    course = ctx.course(row["project_code"], row["course_title"], row["course_start_date"])
    exists = db.session.scalar(
        select(Enrolment.id).where(
            Enrolment.participant_id == participant.id, Enrolment.course_id == course.id
        )
    )
    if exists:
        return False
    enrolment = enrol(participant, course, on=_date(row["enrolled_on"]))
    status = EnrolmentStatus(row["status"])
    attendance = _int(row["attendance_pct"])
    if status is EnrolmentStatus.COMPLETED:
        complete(
            enrolment,
            on=_date(row["completed_on"]),
            attendance_pct=attendance,
            certificate=_yes(row["certificate"]),
        )
    elif status is EnrolmentStatus.DROPPED_OUT:
        drop_out(enrolment, on=_date(row["dropped_on"]), attendance_pct=attendance)
    return True


def _find_placement(participant: Participant, kind: str, start: str) -> Placement | None:
    return db.session.scalar(
        select(Placement).where(
            Placement.participant_id == participant.id,
            Placement.kind == PlacementKind(kind),
            Placement.start_date == _date(start),
        )
    )


def _load_placement(ctx: _Context, row: dict[str, str]) -> bool:
    participant = ctx.participant(row["participant_code"])
    if _find_placement(participant, row["kind"], row["start_date"]):
        return False
    record_placement(
        participant,
        kind=PlacementKind(row["kind"]),
        employer=ctx.partner(row["employer"]),
        business_name=row["business_name"] or None,
        sector=row["sector"],
        start_date=_date(row["start_date"]),
        end_date=_date(row["end_date"]),
        contract_type=ContractType(row["contract_type"]) if row["contract_type"] else None,
        monthly_income=Decimal(row["monthly_income"]) if row["monthly_income"] else None,
        referral_partner=ctx.partner(row["referral_partner"]),
        verified=_yes(row.get("verified", "")),
    )
    return True


def _load_follow_up(ctx: _Context, row: dict[str, str]) -> bool:
    participant = ctx.participant(row["participant_code"])
    placement = _find_placement(participant, row["placement_kind"], row["placement_start_date"])
    if placement is None:
        raise KeyError(
            f"no {row['placement_kind']} placement of {row['participant_code']} starting "
            f"{row['placement_start_date']}"
        )
    months = int(row["months_after"])
    exists = db.session.scalar(
        select(FollowUp.id).where(
            FollowUp.placement_id == placement.id, FollowUp.months_after == months
        )
    )
    if exists:
        return False
    record_follow_up(
        placement,
        months_after=months,
        followed_on=_date(row["followed_on"]),
        still_active=_yes(row["still_active"]),
        monthly_income=Decimal(row["monthly_income"]) if row["monthly_income"] else None,
        note=row["note"] or None,
    )
    return True


def _find_activity(ctx: _Context, project_code: str, title: str, held_on: str) -> Activity | None:
    return db.session.scalar(
        select(Activity).where(
            Activity.project_id == ctx.project(project_code).id,
            Activity.title == title,
            Activity.held_on == _date(held_on),
        )
    )


def _load_activity(ctx: _Context, row: dict[str, str]) -> bool:
    if _find_activity(ctx, row["project_code"], row["title"], row["held_on"]):
        return False
    record_activity(
        ctx.project(row["project_code"]),
        kind=ActivityKind(row["kind"]),
        title=row["title"],
        topic=row["topic"] or None,
        held_on=_date(row["held_on"]),
        city=row["city"] or None,
        description=row["description"] or None,
        other_women=_int(row["other_women"]) or 0,
        other_men=_int(row["other_men"]) or 0,
    )
    return True


def _load_attendance(ctx: _Context, row: dict[str, str]) -> bool:
    activity = _find_activity(ctx, row["project_code"], row["activity_title"], row["held_on"])
    if activity is None:
        raise KeyError(f"unknown activity {row['activity_title']!r} on {row['held_on']}")
    partner = ctx.partner(row["partner"])
    if any(a.partner_id == partner.id for a in activity.attendances):
        return False
    add_attendance(activity, partner, staff_count=_int(row["staff_count"]) or 0)
    return True
