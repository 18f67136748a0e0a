"""Every table of the tracker: the domain at a glance.

Participants are the people a programme follows; enrolments, placements and
follow-ups are what happens to them; partners are every institution; activities
are the capacity-building, awareness and public events held with partners.
Indicators (``tracker.indicators``) count distinct people or institutions over
these tables with SQL aggregates.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from tracker.text import search_fields


def now_utc() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """Return ``moment`` with its time zone: SQLite gives back UTC times without one."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class LabelledEnum(enum.StrEnum):
    """A string enum whose members carry a translatable label."""

    @property
    def label(self) -> str:
        return str(self._labels().get(self.value, self.value))

    @classmethod
    def _labels(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by value in a VARCHAR with a CHECK constraint (portable)."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Role(LabelledEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    OFFICER = "officer"
    VIEWER = "viewer"

    @classmethod
    def _labels(cls):
        return {
            "admin": _l("Administrator"),
            "manager": _l("Programme manager"),
            "officer": _l("Field officer"),
            "viewer": _l("M&E / donor viewer"),
        }


class Sex(LabelledEnum):
    FEMALE = "F"
    MALE = "M"

    @classmethod
    def _labels(cls):
        return {"F": _l("Female"), "M": _l("Male")}


class PartnerKind(LabelledEnum):
    GOVERNMENT = "government"
    TRAINING_PROVIDER = "training_provider"
    EMPLOYMENT_SERVICE = "employment_service"
    NGO = "ngo"
    EMPLOYER = "employer"
    FOUNDATION = "foundation"
    UN_AGENCY = "un_agency"
    DONOR = "donor"
    FOREIGN_DELEGATION = "foreign_delegation"

    @classmethod
    def _labels(cls):
        return {
            "government": _l("Government institution"),
            "training_provider": _l("Training provider"),
            "employment_service": _l("Employment service"),
            "ngo": _l("NGO / association"),
            "employer": _l("Employer"),
            "foundation": _l("Foundation"),
            "un_agency": _l("UN agency"),
            "donor": _l("Donor"),
            "foreign_delegation": _l("Foreign delegation"),
        }


class MigrationStatus(LabelledEnum):
    REGULARISED_2014 = "regularised_2014"
    REGULARISED_2017 = "regularised_2017"
    REFUGEE = "refugee"
    ASYLUM_SEEKER = "asylum_seeker"
    RESIDENT = "resident"
    IRREGULAR = "irregular"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            "regularised_2014": _l("Regularised (2014 campaign)"),
            "regularised_2017": _l("Regularised (2017 campaign)"),
            "refugee": _l("Refugee"),
            "asylum_seeker": _l("Asylum seeker"),
            "resident": _l("Resident permit holder"),
            "irregular": _l("Irregular situation"),
            "other": _l("Other"),
        }


class EducationLevel(LabelledEnum):
    NONE = "none"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    VOCATIONAL = "vocational"
    HIGHER = "higher"

    @classmethod
    def _labels(cls):
        return {
            "none": _l("No formal education"),
            "primary": _l("Primary"),
            "secondary": _l("Secondary"),
            "vocational": _l("Vocational"),
            "higher": _l("Higher education"),
        }


class ConsentPurpose(LabelledEnum):
    CASE_MANAGEMENT = "case_management"
    PARTNER_SHARING = "partner_sharing"
    DONOR_REPORTING = "donor_reporting"

    @classmethod
    def _labels(cls):
        return {
            "case_management": _l("Case management"),
            "partner_sharing": _l("Sharing with a named partner"),
            "donor_reporting": _l("Donor reporting"),
        }


class CourseKind(LabelledEnum):
    VOCATIONAL = "vocational"
    ENTREPRENEURSHIP = "entrepreneurship"
    LANGUAGE = "language"
    SOFT_SKILLS = "soft_skills"

    @classmethod
    def _labels(cls):
        return {
            "vocational": _l("Vocational"),
            "entrepreneurship": _l("Entrepreneurship / IGA"),
            "language": _l("Language"),
            "soft_skills": _l("Soft skills"),
        }


class EnrolmentStatus(LabelledEnum):
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    DROPPED_OUT = "dropped_out"

    @classmethod
    def _labels(cls):
        return {
            "enrolled": _l("Enrolled"),
            "completed": _l("Completed"),
            "dropped_out": _l("Dropped out"),
        }


class PlacementKind(LabelledEnum):
    EMPLOYMENT = "employment"
    IGA = "iga"

    @classmethod
    def _labels(cls):
        return {"employment": _l("Employment"), "iga": _l("Income-generating activity")}


class ContractType(LabelledEnum):
    PERMANENT = "permanent"
    FIXED_TERM = "fixed_term"
    TEMPORARY = "temporary"
    APPRENTICESHIP = "apprenticeship"
    SELF_EMPLOYED = "self_employed"
    INFORMAL = "informal"

    @classmethod
    def _labels(cls):
        return {
            "permanent": _l("Permanent contract"),
            "fixed_term": _l("Fixed-term contract"),
            "temporary": _l("Temporary / seasonal"),
            "apprenticeship": _l("Apprenticeship"),
            "self_employed": _l("Self-employed"),
            "informal": _l("Informal"),
        }


class ActivityKind(LabelledEnum):
    CAPACITY_BUILDING = "capacity_building"
    AWARENESS_WORKSHOP = "awareness_workshop"
    EVENT = "event"

    @classmethod
    def _labels(cls):
        return {
            "capacity_building": _l("Capacity building"),
            "awareness_workshop": _l("Awareness workshop"),
            "event": _l("Event"),
        }


class TimestampMixin:
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=now_utc, onupdate=now_utc
    )


class VersionedMixin:
    """Editable records: a version counter that stops silent overwrites."""

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


user_project = Table(
    "user_project",
    Base.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
)


class Project(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "project"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    donor: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(3))
    counterpart: Mapped[str | None] = mapped_column(String(300))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    #: the donor's reporting calendar: quarters, semesters or years (tracker.projects.calendar)
    calendar: Mapped[str] = mapped_column(String(16), default="quarters")
    #: days after the end of a reporting period when its report is due
    report_due_days: Mapped[int] = mapped_column(SmallInteger, default=30)
    #: set when the project is closed: no one is registered into it any more
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    #: the targets of the whole project (one per indicator); the per-period ones are
    #: in ``all_targets`` with them
    targets: Mapped[list[ProjectTarget]] = relationship(
        primaryjoin="and_(Project.id == ProjectTarget.project_id, ProjectTarget.period == 'all')",
        cascade="all, delete-orphan",
    )
    all_targets: Mapped[list[ProjectTarget]] = relationship(
        primaryjoin="Project.id == ProjectTarget.project_id",
        viewonly=True,
        order_by="(ProjectTarget.indicator, ProjectTarget.period)",
    )

    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="period"),
        CheckConstraint("calendar IN ('quarters', 'semesters', 'years')", name="calendar"),
        CheckConstraint("report_due_days BETWEEN 0 AND 365", name="report_due_days"),
    )

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def __repr__(self) -> str:
        return f"<Project {self.code}>"


class ProjectTarget(TimestampMixin, Base):
    """A target of one indicator of a project, for the whole project or one reporting period.

    ``period`` is ``all`` (the whole project) or a period of the project's calendar
    (``2015Q2``, ``2015S1``, ``2015``); ``baseline``, the value before the project, when
    the donor asks for one.
    """

    __tablename__ = "project_target"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8), default="all")
    target: Mapped[int] = mapped_column(Integer)
    baseline: Mapped[int | None] = mapped_column(Integer)

    # the project's ``targets`` (the whole project's) write the same key
    project: Mapped[Project] = relationship(overlaps="targets")

    __table_args__ = (
        UniqueConstraint(
            "project_id", "indicator", "period", name="uq_project_target_project_indicator"
        ),
        CheckConstraint("baseline IS NULL OR baseline >= 0", name="baseline_not_negative"),
        CheckConstraint("target >= 0", name="target_not_negative"),
    )

    def __repr__(self) -> str:
        return f"<ProjectTarget {self.indicator}={self.target}>"


class ResultLevel(LabelledEnum):
    """The levels of a results framework (logframe) the tracker keeps."""

    OUTCOME = "outcome"
    OUTPUT = "output"

    @classmethod
    def _labels(cls):
        return {"outcome": _l("Outcome"), "output": _l("Output")}


class ProjectResult(TimestampMixin, Base):
    """One result of a project's results framework: an outcome or an output, in order."""

    __tablename__ = "project_result"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    level: Mapped[ResultLevel] = mapped_column(enum_column(ResultLevel, "result_level"))
    #: the donor's numbering, e.g. ``1`` for an outcome, ``1.2`` for one of its outputs
    code: Mapped[str] = mapped_column(String(16))
    statement: Mapped[str] = mapped_column(String(500))

    project: Mapped[Project] = relationship()
    indicators: Mapped[list[ResultIndicator]] = relationship(
        back_populates="result",
        cascade="all, delete-orphan",
        order_by="ResultIndicator.id",
    )

    __table_args__ = (UniqueConstraint("project_id", "code", name="uq_project_result_code"),)

    def __repr__(self) -> str:
        return f"<ProjectResult {self.code}>"


class ResultIndicator(TimestampMixin, Base):
    """An indicator of a result: one the tracker computes, or a manual one entered per period.

    ``key`` is a computed indicator's name (``tracker.indicators``) or, for a manual
    indicator, ``manual_<n>``; its targets are ``ProjectTarget`` rows under that key.
    A disaggregated target asks that at least ``share_minimum`` % of the figure be of
    one category (``share_dimension``/``share_category``, e.g. ``sex``/``F``).
    """

    __tablename__ = "result_indicator"

    result_id: Mapped[int] = mapped_column(ForeignKey("project_result.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    #: a manual indicator's wording and unit (a computed one has its own)
    title: Mapped[str | None] = mapped_column(String(300))
    unit: Mapped[str | None] = mapped_column(String(40))
    #: how a manual indicator's values add up over periods: ``sum`` or the ``latest``
    cumulative: Mapped[str] = mapped_column(String(8), default="sum")
    share_dimension: Mapped[str | None] = mapped_column(String(16))
    share_category: Mapped[str | None] = mapped_column(String(32))
    share_minimum: Mapped[int | None] = mapped_column(SmallInteger)

    result: Mapped[ProjectResult] = relationship(back_populates="indicators")
    values: Mapped[list[ManualValue]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", order_by="ManualValue.period"
    )

    __table_args__ = (
        UniqueConstraint("project_id", "key", name="uq_result_indicator_key"),
        CheckConstraint("cumulative IN ('sum', 'latest')", name="cumulative"),
        CheckConstraint(
            "share_minimum IS NULL OR share_minimum BETWEEN 0 AND 100", name="share_minimum"
        ),
    )

    @property
    def manual(self) -> bool:
        return self.key.startswith(MANUAL_PREFIX)

    def __repr__(self) -> str:
        return f"<ResultIndicator {self.key}>"


#: the key of a manual indicator starts with this (computed ones never do)
MANUAL_PREFIX = "manual_"


class ManualValue(TimestampMixin, Base):
    """The value of a manual indicator for one reporting period, with where it comes from."""

    __tablename__ = "manual_value"

    indicator_id: Mapped[int] = mapped_column(ForeignKey("result_indicator.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(8))
    value: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_label: Mapped[str] = mapped_column(String(254))

    indicator: Mapped[ResultIndicator] = relationship(back_populates="values")

    __table_args__ = (
        UniqueConstraint("indicator_id", "period", name="uq_manual_value_period"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )

    def __repr__(self) -> str:
        return f"<ManualValue {self.period}={self.value}>"


class Partner(TimestampMixin, VersionedMixin, Base):
    """Any institution: ministry, training centre, employer, NGO, donor, delegation."""

    __tablename__ = "partner"

    name: Mapped[str] = mapped_column(String(300), unique=True)
    acronym: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[PartnerKind] = mapped_column(enum_column(PartnerKind, "partner_kind"))
    city: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(3), default="MAR")
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    #: set when archived: out of the pick lists and default lists, still in every figure
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def display_name(self) -> str:
        return f"{self.acronym} – {self.name}" if self.acronym else self.name

    def __repr__(self) -> str:
        return f"<Partner {self.acronym or self.name}>"


class User(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "user"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # returned by get_id(): rotating it ends every session of the user on the server
    session_token: Mapped[str] = mapped_column(String(64), unique=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # two-step sign-in (tracker/auth/twofactor.py): the TOTP secret (base32), when it
    # was confirmed, and the last time step a code was accepted for (no replay)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    projects: Mapped[list[Project]] = relationship(secondary=user_project)

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None and self.totp_enabled_at is not None

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


class RecoveryCode(Base):
    """A single-use code that signs its user in instead of a TOTP code; only its hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<RecoveryCode of user {self.user_id}>"


class Participant(TimestampMixin, VersionedMixin, Base):
    """A migrant beneficiary; ``code`` is the pseudonym printed on reports."""

    __tablename__ = "participant"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    given_name: Mapped[str] = mapped_column(String(120))
    family_name: Mapped[str] = mapped_column(String(120))
    #: the full name in the other script (Arabic, or Latin letters), as the person writes
    #: it: many programmes keep both; search and the duplicate rule read it too
    other_name: Mapped[str | None] = mapped_column(String(240))
    sex: Mapped[Sex] = mapped_column(enum_column(Sex, "sex"))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    # when only the year is known; filled from date_of_birth otherwise
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    nationality: Mapped[str | None] = mapped_column(String(3), index=True)
    region: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    migration_status: Mapped[MigrationStatus | None] = mapped_column(
        enum_column(MigrationStatus, "migration_status")
    )
    education_level: Mapped[EducationLevel | None] = mapped_column(
        enum_column(EducationLevel, "education_level")
    )
    languages: Mapped[str | None] = mapped_column(String(200))
    sensitive_notes: Mapped[str | None] = mapped_column(Text)
    registered_on: Mapped[date] = mapped_column(Date)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # derived on every write (see _derive_search_fields): folded names, code, phone
    # digits and e-mail for accent-insensitive search, and a phonetic key of the
    # name that blocks the duplicate check
    search_text: Mapped[str] = mapped_column(Text, default="")
    name_key: Mapped[str] = mapped_column(String(240), default="", index=True)
    # the last 9 digits of the phone number ("" without one): the duplicate check's block
    phone_key: Mapped[str] = mapped_column(String(16), default="", index=True)
    # the identifier of the form submission the record came from (KoboToolbox or ODK
    # ``_uuid``), so that importing the same export twice creates nobody twice
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # set when a manager merged this record into another (the survivor): the record is
    # kept, hidden from lists and figures, and its code leads to the survivor
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), index=True)

    project: Mapped[Project] = relationship()
    consents: Mapped[list[Consent]] = relationship(
        back_populates="participant", cascade="all, delete-orphan"
    )
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="participant")
    placements: Mapped[list[Placement]] = relationship(back_populates="participant")

    __table_args__ = (
        CheckConstraint(
            "birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100", name="birth_year"
        ),
        Index("ix_participant_project_registered", "project_id", "registered_on"),
    )

    #: fields that identify or locate a person: masked in the audit log, replaced on erasure
    PERSONAL_FIELDS = (
        "given_name",
        "family_name",
        "other_name",
        "date_of_birth",
        "phone",
        "email",
        "city",
        "languages",
        "sensitive_notes",
    )

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def __repr__(self) -> str:
        return f"<Participant {self.code}>"


@event.listens_for(Participant, "before_insert")
@event.listens_for(Participant, "before_update")
def _derive_search_fields(_mapper, _connection, target: Participant) -> None:
    derived = search_fields(
        target.given_name,
        target.family_name,
        target.code,
        target.phone,
        target.email,
        target.other_name,
    )
    for name, value in derived.items():
        setattr(target, name, value)


class Consent(TimestampMixin, Base):
    """Consent of a participant for one purpose, with its date and optional expiry."""

    __tablename__ = "consent"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participant.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[ConsentPurpose] = mapped_column(enum_column(ConsentPurpose, "consent_purpose"))
    # for partner_sharing: the partner the data may be shared with
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"))
    given_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)

    participant: Mapped[Participant] = relationship(back_populates="consents")
    partner: Mapped[Partner | None] = relationship()

    __table_args__ = (
        CheckConstraint("expires_on IS NULL OR expires_on >= given_on", name="expiry"),
        CheckConstraint(
            "purpose <> 'partner_sharing' OR partner_id IS NOT NULL", name="sharing_partner"
        ),
    )

    def is_valid_on(self, day: date) -> bool:
        """Say whether this consent holds on ``day``."""
        if day < self.given_on:
            return False
        if self.withdrawn_on and day >= self.withdrawn_on:
            return False
        return not (self.expires_on and day > self.expires_on)

    def __repr__(self) -> str:
        return f"<Consent {self.purpose.value} {self.given_on}>"


class TrainingCourse(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "training_course"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    sector: Mapped[str] = mapped_column(String(120))
    kind: Mapped[CourseKind] = mapped_column(enum_column(CourseKind, "course_kind"))
    city: Mapped[str | None] = mapped_column(String(120))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    hours: Mapped[int | None] = mapped_column(Integer)
    capacity: Mapped[int | None] = mapped_column(Integer)
    #: set when archived: nobody is enrolled any more, it still counts in every figure
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    project: Mapped[Project] = relationship()
    provider: Mapped[Partner] = relationship()
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="course")

    __table_args__ = (
        UniqueConstraint("project_id", "title", "start_date", name="uq_training_course_key"),
        CheckConstraint("end_date >= start_date", name="period"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("hours IS NULL OR hours > 0", name="hours_positive"),
    )

    def __repr__(self) -> str:
        return f"<TrainingCourse {self.title} {self.start_date}>"


class Enrolment(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "enrolment"

    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("training_course.id"), index=True)
    enrolled_on: Mapped[date] = mapped_column(Date)
    status: Mapped[EnrolmentStatus] = mapped_column(
        enum_column(EnrolmentStatus, "enrolment_status"), default=EnrolmentStatus.ENROLLED
    )
    completed_on: Mapped[date | None] = mapped_column(Date)
    dropped_on: Mapped[date | None] = mapped_column(Date)
    attendance_pct: Mapped[int | None] = mapped_column(SmallInteger)
    certificate: Mapped[bool] = mapped_column(Boolean, default=False)

    participant: Mapped[Participant] = relationship(back_populates="enrolments")
    course: Mapped[TrainingCourse] = relationship(back_populates="enrolments")

    __table_args__ = (
        UniqueConstraint("participant_id", "course_id", name="uq_enrolment_participant_course"),
        CheckConstraint(
            "(status = 'completed' AND completed_on IS NOT NULL AND dropped_on IS NULL)"
            " OR (status = 'dropped_out' AND dropped_on IS NOT NULL AND completed_on IS NULL)"
            " OR (status = 'enrolled' AND completed_on IS NULL AND dropped_on IS NULL)",
            name="status_dates",
        ),
        CheckConstraint(
            "attendance_pct IS NULL OR attendance_pct BETWEEN 0 AND 100", name="attendance"
        ),
        # covers the "trained" indicator: status, then period, then the person
        Index("ix_enrolment_status_completed", "status", "completed_on", "participant_id"),
    )

    def __repr__(self) -> str:
        return f"<Enrolment p={self.participant_id} c={self.course_id} {self.status.value}>"


class Placement(TimestampMixin, VersionedMixin, Base):
    """A job or an income-generating activity that a participant started."""

    __tablename__ = "placement"

    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    kind: Mapped[PlacementKind] = mapped_column(enum_column(PlacementKind, "placement_kind"))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"))
    business_name: Mapped[str | None] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(120))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    contract_type: Mapped[ContractType | None] = mapped_column(
        enum_column(ContractType, "contract_type")
    )
    monthly_income: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    referral_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)

    participant: Mapped[Participant] = relationship(back_populates="placements")
    project: Mapped[Project] = relationship()
    employer: Mapped[Partner | None] = relationship(foreign_keys=[employer_id])
    referral_partner: Mapped[Partner | None] = relationship(foreign_keys=[referral_partner_id])
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="placement", order_by="FollowUp.followed_on"
    )

    __table_args__ = (
        CheckConstraint(
            "employer_id IS NOT NULL OR business_name IS NOT NULL", name="employer_or_business"
        ),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="period"),
        CheckConstraint("monthly_income IS NULL OR monthly_income >= 0", name="income"),
        # covers the "placed" indicator
        Index("ix_placement_project_start", "project_id", "start_date", "participant_id"),
    )

    @property
    def where(self) -> str:
        return self.employer.name if self.employer else (self.business_name or "")

    def __repr__(self) -> str:
        return f"<Placement p={self.participant_id} {self.kind.value} {self.start_date}>"


class FollowUp(TimestampMixin, VersionedMixin, Base):
    """A check on a placement, normally 3, 6 and 12 months after its start."""

    __tablename__ = "follow_up"

    placement_id: Mapped[int] = mapped_column(ForeignKey("placement.id"), index=True)
    months_after: Mapped[int] = mapped_column(SmallInteger)
    followed_on: Mapped[date] = mapped_column(Date)
    still_active: Mapped[bool] = mapped_column(Boolean)
    monthly_income: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    note: Mapped[str | None] = mapped_column(Text)

    placement: Mapped[Placement] = relationship(back_populates="follow_ups")

    __table_args__ = (
        UniqueConstraint("placement_id", "months_after", name="uq_follow_up_placement_months"),
        CheckConstraint("months_after BETWEEN 1 AND 60", name="months_after"),
        CheckConstraint("monthly_income IS NULL OR monthly_income >= 0", name="income"),
    )

    def __repr__(self) -> str:
        return f"<FollowUp placement={self.placement_id} +{self.months_after}m>"


class Activity(TimestampMixin, VersionedMixin, Base):
    """Capacity building, awareness workshop or event held with partners."""

    __tablename__ = "activity"

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind, "activity_kind"))
    title: Mapped[str] = mapped_column(String(300))
    topic: Mapped[str | None] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)
    city: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    # people who attended without being registered participants, counted in aggregate only
    other_women: Mapped[int] = mapped_column(Integer, default=0)
    other_men: Mapped[int] = mapped_column(Integer, default=0)
    #: set when archived: out of the default list, still in every figure
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    project: Mapped[Project] = relationship()
    attendances: Mapped[list[ActivityAttendance]] = relationship(
        back_populates="activity", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("project_id", "title", "held_on", name="uq_activity_key"),
        CheckConstraint("other_women >= 0 AND other_men >= 0", name="attendees"),
        Index("ix_activity_project_kind_held", "project_id", "kind", "held_on"),
    )

    def __repr__(self) -> str:
        return f"<Activity {self.kind.value} {self.held_on}>"


class ActivityAttendance(TimestampMixin, Base):
    """A partner institution that took part in an activity, with its staff count."""

    __tablename__ = "activity_attendance"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    staff_count: Mapped[int] = mapped_column(Integer, default=1)

    activity: Mapped[Activity] = relationship(back_populates="attendances")
    partner: Mapped[Partner] = relationship()

    __table_args__ = (
        UniqueConstraint("activity_id", "partner_id", name="uq_activity_attendance_pair"),
        CheckConstraint("staff_count >= 0", name="staff_count"),
    )

    def __repr__(self) -> str:
        return f"<ActivityAttendance a={self.activity_id} p={self.partner_id}>"


class AuditEvent(Base):
    """One line of the audit log: who did what to which record, and when.

    Personal fields are recorded as changed but never with their values.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(254), default="system")
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict | None] = mapped_column(JSON)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    # the hash chain (tracker/audit_chain.py): the line's place in the chain and the
    # SHA-256 of the previous line's hash and every other column of this one, both
    # set when the line's transaction commits ("sealed"); database triggers refuse
    # any change to a sealed line and any deletion not covered by a signed checkpoint
    chain_seq: Mapped[int | None] = mapped_column(Integer)
    row_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_event_entity", "entity", "entity_id"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
        Index("uq_audit_event_chain_seq", "chain_seq", unique=True),
        # the lines still to seal: only those of transactions not yet committed
        Index(
            "ix_audit_event_unsealed",
            "id",
            sqlite_where=text("row_hash IS NULL"),
            postgresql_where=text("row_hash IS NULL"),
        ),
    )

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.entity}#{self.entity_id}>"


class AuditCheckpoint(Base):
    """Where the audit chain resumes after its oldest lines were deleted (retention).

    ``through_hash`` is the hash of the last line deleted (number ``through_seq``), and
    ``signature`` an HMAC-SHA256 of the checkpoint with the secret key, so that a
    checkpoint made without the key is found out by ``flask audit verify``.
    """

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)
    through_seq: Mapped[int] = mapped_column(Integer, unique=True)
    through_id: Mapped[int] = mapped_column(Integer)
    through_hash: Mapped[str] = mapped_column(String(64))
    lines_deleted: Mapped[int] = mapped_column(Integer)
    signature: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<AuditCheckpoint through {self.through_seq}>"


class ParticipantMerge(Base):
    """A merge of duplicate records into one survivor, with what it needs to be undone.

    ``choices`` names, for each field of the survivor, the record whose value was
    kept; ``before`` holds every column of every row the merge changed, as it was,
    and ``after`` the version (or update time) each had once merged: an undo restores
    ``before`` only while ``after`` still holds, i.e. nobody changed them since.
    """

    __tablename__ = "participant_merge"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    merged_ids: Mapped[list] = mapped_column(JSON)
    choices: Mapped[dict] = mapped_column(JSON)
    before: Mapped[dict] = mapped_column(JSON)
    after: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_label: Mapped[str] = mapped_column(String(254))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    undone_by_label: Mapped[str | None] = mapped_column(String(254))

    survivor: Mapped[Participant] = relationship(foreign_keys=[survivor_id])

    def __repr__(self) -> str:
        return f"<ParticipantMerge {self.id} into {self.survivor_id}>"


class ReportNarrative(TimestampMixin, VersionedMixin, Base):
    """The manager's current text for one section of a project's donor report."""

    __tablename__ = "report_narrative"

    SECTIONS = ("context", "achievements", "challenges", "lessons")

    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("project_id", "section", name="uq_report_narrative_project_section"),
        CheckConstraint(
            "section IN ('context', 'achievements', 'challenges', 'lessons')", name="section"
        ),
    )

    def __repr__(self) -> str:
        return f"<ReportNarrative {self.project_id} {self.section}>"


class PendingImport(Base):
    """An uploaded spreadsheet between its preview and the user's confirmation.

    It holds personal data: it is deleted when imported or cancelled, and any left
    over is deleted a day after its upload (``tracker.imports.services.purge``).
    """

    __tablename__ = "pending_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)
    #: what the validation found, shown on the preview page
    summary: Mapped[dict] = mapped_column(JSON)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    project: Mapped[Project | None] = relationship()

    def __repr__(self) -> str:
        return f"<PendingImport {self.kind} {self.filename}>"


class JobState(enum.StrEnum):
    """Where a job is; ``queued`` and ``running`` are the only states a job leaves."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


#: the states a job ends in
FINISHED_JOB_STATES = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class Job(Base):
    """A piece of long work handed to a worker (``tracker.jobs``): who asked, its progress.

    The queue (Huey, on SQLite or Redis) only carries the job's id: what to do, how far
    it has gone, its result and its error are here, so that every web process and
    worker sees the same thing, and a job outlives the queue message that started it.
    """

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value, index=True)
    #: None for the scheduled work of the app itself (purges)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str] = mapped_column(String(254))
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    #: the interface language of the person who asked: messages and files are in it
    locale: Mapped[str] = mapped_column(String(5))
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    #: what the job is doing now, in words (in ``locale``)
    step: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the worker (host:pid) running it, for the operator
    worker: Mapped[str | None] = mapped_column(String(255))
    #: what it produced: ids and counts the result page links to
    result: Mapped[dict | None] = mapped_column(JSON)
    #: its file in the job files' store (``JOBS_FILES_DIR``), name, type and size
    file_path: Mapped[str | None] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_type: Mapped[str | None] = mapped_column(String(100))
    file_size: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: its result file is deleted then, and the job with it
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    user: Mapped[User | None] = relationship()
    project: Mapped[Project | None] = relationship()

    __table_args__ = (
        CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="state"
        ),
        Index("ix_job_user_created", "user_id", "created_at"),
    )

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_JOB_STATES

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state}>"


class GeneratedReport(Base):
    """A donor report as it was generated: kept unchanged, with what it was made from.

    ``figures`` holds each headline figure with the SHA-256 of the sorted ids of
    the people or institutions behind it, so a re-run can say which figures moved.
    """

    __tablename__ = "generated_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_label: Mapped[str] = mapped_column(String(254))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    definitions_version: Mapped[str] = mapped_column(String(32))
    small_cell_threshold: Mapped[int] = mapped_column(SmallInteger)
    parameters: Mapped[dict] = mapped_column(JSON)
    figures: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # the pseudonymous annex, a CSV delivered with the PDF (which prints its name, rows
    # and SHA-256); None for reports generated before the annex left the PDF
    annex_name: Mapped[str | None] = mapped_column(String(255))
    annex_rows: Mapped[int | None] = mapped_column(Integer)
    annex_sha256: Mapped[str | None] = mapped_column(String(64))
    annex_content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    project: Mapped[Project] = relationship()

    __table_args__ = (CheckConstraint("period_end >= period_start", name="period"),)

    def __repr__(self) -> str:
        return f"<GeneratedReport {self.id} {self.sha256[:8]}>"


# --- The indicator store (tracker/indicator_store) ----------------------------------------------
# Plain integer counters of distinct people, kept in the same transaction as every change
# that moves a figure. No foreign keys: a person's row must outlive her deletion long enough
# for the store to take her contributions back out.


class IndicatorPerson(Base):
    """What one person contributes to the figures: her characteristics and dated events.

    ``facts`` is compact JSON derived by the live definitions; the counters are the sum
    of every person's contributions, so a change of one person is applied as the
    difference between her stored facts and her facts now.
    """

    __tablename__ = "indicator_person"

    participant_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    project_id: Mapped[int] = mapped_column(Integer, index=True)
    facts: Mapped[str] = mapped_column(Text)


class IndicatorTotal(Base):
    """Distinct people of an indicator in a window: ``all``, ``2015``, ``2015Q2``, ``2015-05``."""

    __tablename__ = "indicator_total"

    project_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    indicator: Mapped[str] = mapped_column(String(32), primary_key=True)
    window: Mapped[str] = mapped_column(String(8), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class IndicatorCell(Base):
    """Distinct people of an indicator in a window, by sex, age group, nationality and region."""

    __tablename__ = "indicator_cell"

    project_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    indicator: Mapped[str] = mapped_column(String(32), primary_key=True)
    window: Mapped[str] = mapped_column(String(8), primary_key=True)
    sex: Mapped[str] = mapped_column(String(16), primary_key=True)
    age_group: Mapped[str] = mapped_column(String(16), primary_key=True)
    nationality: Mapped[str] = mapped_column(String(3), primary_key=True)
    region: Mapped[str] = mapped_column(String(120), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class IndicatorValue(Base):
    """Distinct people of an indicator in a window with one value of a dimension of her events.

    Sector, provider, placement kind (one per person: "both" when she has two), and
    ``_first``: the month of her first event in the window, for the trends.
    """

    __tablename__ = "indicator_value"

    project_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    indicator: Mapped[str] = mapped_column(String(32), primary_key=True)
    window: Mapped[str] = mapped_column(String(8), primary_key=True)
    region: Mapped[str] = mapped_column(String(120), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(32), primary_key=True)
    category: Mapped[str] = mapped_column(String(120), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class IndicatorStale(Base):
    """A project whose counters are not to be trusted until ``indicators rebuild`` runs.

    Written by the migration that created the store over existing records; the figures
    of such a project are computed live meanwhile.
    """

    __tablename__ = "indicator_stale"

    project_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)


# --- The API (tracker/api) ------------------------------------------------------------------------


class ApiToken(TimestampMixin, Base):
    """A personal access token: another program acting as its user, with her role and projects.

    Only the SHA-256 of the secret is kept (the secret is long and random, so a fast hash
    is enough); the secret is shown once, when the token is made. ``prefix`` (its first
    characters) lets a user tell her tokens apart in the list and in the audit log.
    """

    __tablename__ = "api_token"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_addr: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()

    def active_at(self, moment: datetime) -> bool:
        """Whether the token opens the API at ``moment``: not revoked, not expired."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or aware(self.expires_at) > moment

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}… of user {self.user_id}>"


class SubmissionState(LabelledEnum):
    """What became of a form submission pushed by KoboToolbox."""

    REGISTERED = "registered"
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    DISCARDED = "discarded"

    @classmethod
    def _labels(cls):
        return {
            "registered": _l("registered"),
            "duplicate": _l("sent again, already registered"),
            "invalid": _l("to fix"),
            "discarded": _l("discarded"),
        }


class IncomingSubmission(Base):
    """A form submission KoboToolbox pushed to the tracker, and what became of it.

    One row per submission (Kobo's ``_uuid``) and project, however often Kobo sends it
    again. The submission as sent (``payload``: personal data) is kept only while it
    waits for a fix (``invalid``); once registered or discarded only its identifiers,
    dates and outcome stay, as the delivery log.
    """

    __tablename__ = "incoming_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16), default="kobo")
    submission_uuid: Mapped[str] = mapped_column(String(64))
    form_id: Mapped[str | None] = mapped_column(String(120))
    source_id: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[SubmissionState] = mapped_column(
        enum_column(SubmissionState, "submission_state"), index=True
    )
    payload: Mapped[dict | None] = mapped_column(JSON)
    problems: Mapped[list | None] = mapped_column(JSON)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL")
    )
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)
    last_received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now_utc)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    project: Mapped[Project] = relationship()
    participant: Mapped[Participant | None] = relationship()
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    __table_args__ = (
        UniqueConstraint(
            "project_id", "source", "submission_uuid", name="uq_incoming_submission_uuid"
        ),
        Index("ix_incoming_submission_project_received", "project_id", "received_at"),
    )

    def __repr__(self) -> str:
        return f"<IncomingSubmission {self.id} {self.submission_uuid} {self.state}>"
