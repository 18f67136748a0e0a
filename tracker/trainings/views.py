"""Courses and their rosters on the web: list, create, edit, enrol, complete, drop out."""

from __future__ import annotations

from contextlib import suppress
from datetime import date
from types import SimpleNamespace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select

from tracker import audit, plausibility
from tracker.domain import DomainError, StillReferenced
from tracker.extensions import db
from tracker.forms import optional_record_id
from tracker.i18n import country_name
from tracker.models import CourseKind, Enrolment, Participant, TrainingCourse
from tracker.participants import listing
from tracker.permissions import (
    can_edit_participants,
    can_manage_courses,
    get_course_or_404,
    get_participant_or_404,
    in_scope,
    visible_projects,
)
from tracker.trainings import bp, services
from tracker.trainings.forms import (
    CandidateFilterForm,
    CompleteAllForm,
    CompleteForm,
    CourseFilterForm,
    CourseForm,
    DropOutForm,
    EnrolForm,
    EnrolParticipantForm,
)
from tracker.web import Doubted, conflict_page, field_error, held_for_doubts, version_changed

PER_PAGE = 25
#: at most this many checkboxes on the roster page; a search narrows the list
MAX_CANDIDATES = 100


def _get_enrolment_or_404(enrolment_id: int) -> Enrolment:
    """Load an enrolment through its course, within the user's projects, else 404."""
    enrolment = db.session.scalar(
        select(Enrolment)
        .join(TrainingCourse, Enrolment.course_id == TrainingCourse.id)
        .where(
            Enrolment.id == enrolment_id,
            in_scope(current_user, TrainingCourse.project_id),
        )
    )
    if enrolment is None:
        abort(404)
    return enrolment


def _outcome_default(course: TrainingCourse, today: date) -> date:
    """The date a completion or drop-out form proposes: the course end, or today if sooner."""
    return min(course.end_date, today)


# --- Courses ------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    """List the courses of the user's projects, with filters, seats and completions."""
    projects = visible_projects(current_user)
    scope = in_scope(current_user, TrainingCourse.project_id)
    form = CourseFilterForm(request.args, projects=projects, providers=services.providers_in(scope))
    filters = {}
    if form.validate():
        filters = {
            "q": form.q.data,
            "project_id": int(form.project.data) if form.project.data else None,
            "provider_id": int(form.provider.data) if form.provider.data else None,
            "kind": CourseKind(form.kind.data) if form.kind.data else None,
            "period": form.period.data or None,
            "archived": form.archived.data or None,
        }
    page = db.paginate(services.courses_query(scope, **filters), per_page=PER_PAGE, error_out=False)
    return render_template(
        "trainings/index.html",
        form=form,
        page=page,
        seats=services.seats(c.id for c in page.items),
        projects=projects,
        today=date.today(),
    )


def _course_form(keep: int | None = None, **kwargs) -> CourseForm:
    providers, others = services.provider_choices(keep)
    return CourseForm(
        projects=visible_projects(current_user), providers=providers, others=others, **kwargs
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_course():
    """Create a course (managers and administrators)."""
    if not can_manage_courses(current_user):
        abort(403)
    form = _course_form()
    if request.method == "GET":
        # "?project=" proposes a project; "²" or "٣" * 5000 pass isdigit() but not int()
        with suppress(ValueError):
            form.project_id.data = optional_record_id(request.args.get("project"))
    if form.validate_on_submit():
        project = next(
            (p for p in visible_projects(current_user) if p.id == form.project_id.data), None
        )
        provider = services.partner(form.provider_id.data)
        if project is None or provider is None:
            abort(404)
        try:
            course = services.create_course(project, provider, **form.values())
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The course “%(title)s” is created.", title=course.title), "success")
            return redirect(url_for(".course", course_id=course.id))
    return render_template(
        "trainings/form.html",
        form=form,
        course=None,
        sectors=services.sectors([p.id for p in visible_projects(current_user)]),
    )


class _Shown:
    """A record or a form seen through the conflict page: enums and partners by their names."""

    def __init__(self, source, fields, *, is_form: bool) -> None:
        self._source = source
        self._is_form = is_form
        self.updated_at = getattr(source, "updated_at", None)
        self._fields = fields

    def _value(self, name):
        value = self._source[name].data if self._is_form else getattr(self._source, name)
        if name == "provider_id" and value:
            partner = services.partner(value)
            return partner.display_name if partner else value
        if name == "kind" and value:
            return CourseKind(value).label
        return value

    def __getattr__(self, name):
        return self._value(name)

    def __getitem__(self, name):
        return SimpleNamespace(data=self._value(name), label=self._source[name].label)


@bp.route("/<int:course_id>/edit", methods=["GET", "POST"])
@login_required
def edit_course(course_id: int):
    """Edit a course (managers and administrators); a stale form gets the conflict page."""
    course = get_course_or_404(course_id)
    if not can_manage_courses(current_user):
        abort(403)
    form = _course_form(course.provider_id, obj=course if request.method == "GET" else None)
    # the project of a course stays: its enrolments belong to that project
    del form.project_id
    if request.method == "GET":
        form.expected_version.data = course.version
        form.kind.data = course.kind.value
    if form.validate_on_submit():
        if version_changed(form.expected_version.data, course):
            return conflict_page(
                title=course.title,
                form=_Shown(form, services.COURSE_FIELDS, is_form=True),
                record=_Shown(course, services.COURSE_FIELDS, is_form=False),
                fields=services.COURSE_FIELDS,
                back_url=url_for(".edit_course", course_id=course.id),
            )
        provider = services.partner(form.provider_id.data)
        if provider is None:
            abort(404)
        try:
            services.update_course(course, provider=provider, **form.values())
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The changes are saved."), "success")
            return redirect(url_for(".course", course_id=course.id))
    return render_template(
        "trainings/form.html",
        form=form,
        course=course,
        sectors=services.sectors([course.project_id]),
    )


# --- The course page and its roster -----------------------------------------------


def _candidate_filters(course: TrainingCourse) -> CandidateFilterForm:
    """The candidate filters, from the query string, or from the enrolment form sent back."""
    codes = services.candidate_nationalities(course)
    nationalities = [(code, country_name(code)) for code in codes]
    source = request.form if request.method == "POST" else request.args
    return CandidateFilterForm(source, nationalities=nationalities)


def _course_page(
    course: TrainingCourse, *, enrol_form: EnrolForm | None = None, refusals=(), doubts=()
):
    """Render the course with its roster and, for those who may, the enrolment forms."""
    today = date.today()
    may_record = can_edit_participants(current_user)
    roster = services.roster(course, current_user)
    # a viewer's roster of 1 to 4 people shows nobody (tracker.participants.listing)
    small = listing.small_list(current_user, len({e.participant_id for e in roster}))
    if small:
        roster = []
    context = {
        "course": course,
        "roster": roster,
        "small_list": listing.small_list_message() if small else None,
        "seats": services.seats([course.id])[course.id],
        "seats_left": services.seats_left(course),
        "today": today,
        "may_record": may_record,
        "refusals": refusals,
        "doubts": doubts,
        # the roster row whose outcome forms open at once (?outcome=<enrolment id>)
        "open_outcome": request.args.get("outcome", type=int),
        "references": services.course_references(course)
        if can_manage_courses(current_user)
        else [],
    }
    if may_record and course.archived_at is None:
        filter_form = _candidate_filters(course)
        filters = filter_form.filters()
        query = services.candidates_query(course, **filters)
        candidates = list(db.session.scalars(query.limit(MAX_CANDIDATES)))
        total = (
            len(candidates)
            if len(candidates) < MAX_CANDIDATES
            else db.session.scalar(select(func.count()).select_from(query.subquery()))
        )
        if enrol_form is None:
            # entered live, an enrolment is dated today; after the course, its first day
            on = today if today <= course.end_date else course.start_date
            enrol_form = EnrolForm(formdata=None, enrolled_on=on)
        context.update(
            q=filters["q"],
            filter_form=filter_form,
            filtered=any(filters.values()),
            candidates=candidates,
            candidates_total=total,
            enrol_form=enrol_form,
            selected=set(enrol_form.participant_ids.data or []),
        )
    if may_record:
        default = _outcome_default(course, today)
        context.update(
            complete_form=CompleteForm(formdata=None, data={"completed_on": default}),
            drop_form=DropOutForm(formdata=None, data={"dropped_on": default}),
            complete_all_form=CompleteAllForm(formdata=None, data={"completed_on": default}),
        )
    _log_roster_read(course, roster, context.get("candidates", []))
    return render_template("trainings/course.html", **context)


def _log_roster_read(course: TrainingCourse, roster, candidates) -> None:
    """Log who the page shows: the roster (names, or codes to viewers) and the candidates."""
    shown = {"participant_ids": [e.participant_id for e in roster]}
    if candidates:
        # the enrolment panel lists names of people not yet in the course
        shown["candidate_ids"] = [p.id for p in candidates]
    if shown["participant_ids"] or candidates:
        # shown again after a refused enrolment (a POST) too
        audit.record_shown("training_course", course.id, shown)


@bp.route("/<int:course_id>")
@login_required
def course(course_id: int):
    """Show a course and its roster; officers enrol people and record outcomes here."""
    return _course_page(get_course_or_404(course_id))


@bp.route("/<int:course_id>/enrol", methods=["POST"])
@login_required
def enrol(course_id: int):
    """Enrol the people ticked who fit the course; list the others, each with the reason."""
    course = get_course_or_404(course_id)
    if not can_edit_participants(current_user):
        abort(403)
    form = EnrolForm()
    if form.validate_on_submit():
        ids = set(form.participant_ids.data or [])
        people = list(
            db.session.scalars(
                select(Participant).where(
                    Participant.id.in_(ids), Participant.project_id == course.project_id
                )
            )
        )
        # only a stale or tampered form names people of another project: they are left
        # out by the number sent, without a word about who they are
        strangers = [
            services.Refusal(f"#{person_id}", _("not a participant of this course's project"))
            for person_id in sorted(ids - {p.id for p in people})
        ]
        # enrolled now, each stays open: in a course long ended, the outcome is missing
        doubts = plausibility.open_enrolment(course_end=course.end_date, today=date.today())
        try:
            if not people and not strangers:
                raise DomainError(_("Choose at least one person to enrol."), "participant_ids")
            with held_for_doubts(form, doubts):
                outcome = (
                    services.enrol_those_who_fit(people, course, on=form.enrolled_on.data)
                    if people
                    else services.GroupEnrolment([], [])
                )
                if not outcome.enrolled:
                    doubts.clear()  # nobody written: nothing to ask about
        except Doubted:
            return _course_page(course, enrol_form=form, doubts=doubts)
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
            return _course_page(course, enrol_form=form)
        left_out = outcome.left_out + strangers
        if not outcome.enrolled:
            db.session.rollback()
            nobody = _("Nobody was enrolled: the people below cannot be.")
            form.participant_ids.errors.append(nobody)
            return _course_page(course, enrol_form=form, refusals=left_out)
        db.session.commit()
        flash(
            ngettext(
                "%(num)d person is enrolled: %(codes)s.",
                "%(num)d people are enrolled: %(codes)s.",
                len(outcome.enrolled),
                codes=", ".join(e.participant.code for e in outcome.enrolled),
            ),
            "success",
        )
        if left_out:
            flash(
                ngettext(
                    "%(num)d person was left out:",
                    "%(num)d people were left out:",
                    len(left_out),
                ),
                "warning",
            )
            for refusal in left_out:
                flash(str(refusal), "warning")
        return redirect(url_for(".course", course_id=course.id))
    return _course_page(course, enrol_form=form)


# --- Deleting and archiving a course -------------------------------------------------


def _managed_course_or_404(course_id: int) -> TrainingCourse:
    course = get_course_or_404(course_id)
    if not can_manage_courses(current_user):
        abort(403)
    return course


@bp.route("/<int:course_id>/delete", methods=["POST"])
@login_required
def delete_course(course_id: int):
    """Delete a course nothing refers to; otherwise say why, and that it can be archived."""
    course = _managed_course_or_404(course_id)
    title = course.title
    try:
        services.delete_course(course)
    except StillReferenced as error:
        flash(error.message, "error")
        return redirect(url_for(".course", course_id=course.id))
    db.session.commit()
    flash(_("The course “%(title)s” is deleted.", title=title), "success")
    return redirect(url_for(".index"))


@bp.route("/<int:course_id>/archive", methods=["POST"])
@login_required
def archive_course(course_id: int):
    """Archive a course: out of the lists and pick lists, still in every figure."""
    course = _managed_course_or_404(course_id)
    title = course.title
    services.archive_course(course)
    db.session.commit()
    flash(
        _("The course “%(title)s” is archived: it still counts in the figures.", title=title),
        "success",
    )
    return redirect(url_for(".course", course_id=course.id))


@bp.route("/<int:course_id>/unarchive", methods=["POST"])
@login_required
def unarchive_course(course_id: int):
    """Bring an archived course back into the lists."""
    course = _managed_course_or_404(course_id)
    services.unarchive_course(course)
    db.session.commit()
    flash(_("The course “%(title)s” is back in the lists.", title=course.title), "success")
    return redirect(url_for(".course", course_id=course.id))


def _close(enrolment_id: int, form_class, record):
    """Validate a roster row's small form and close the enrolment, flashing the outcome."""
    enrolment = _get_enrolment_or_404(enrolment_id)
    if not can_edit_participants(current_user):
        abort(403)
    code = enrolment.participant.code
    form = form_class()
    back = redirect(url_for(".course", course_id=enrolment.course_id) + f"#e{enrolment.id}")
    if not form.validate_on_submit():
        for field in form:
            for message in field.errors:
                flash(f"{code} · {field.label.text}: {message}", "error")
        return back
    try:
        message = record(enrolment, form)
    except DomainError as error:
        flash(f"{code}: {error.message}", "error")
        return back
    db.session.commit()
    flash(message, "success")
    return back


@bp.route("/enrolments/<int:enrolment_id>/complete", methods=["POST"])
@login_required
def complete(enrolment_id: int):
    """Mark one enrolment completed, with the date, attendance and certificate."""

    def record(enrolment, form):
        services.complete(
            enrolment,
            on=form.completed_on.data,
            attendance_pct=form.attendance_pct.data,
            certificate=form.certificate.data,
        )
        return _("%(code)s completed the course.", code=enrolment.participant.code)

    return _close(enrolment_id, CompleteForm, record)


@bp.route("/enrolments/<int:enrolment_id>/drop-out", methods=["POST"])
@login_required
def drop_out(enrolment_id: int):
    """Mark one enrolment dropped out on a date."""

    def record(enrolment, form):
        services.drop_out(
            enrolment, on=form.dropped_on.data, attendance_pct=form.attendance_pct.data
        )
        return _("%(code)s dropped out of the course.", code=enrolment.participant.code)

    return _close(enrolment_id, DropOutForm, record)


@bp.route("/<int:course_id>/complete-all", methods=["POST"])
@login_required
def complete_all(course_id: int):
    """Mark every enrolment still open as completed on one date, or none."""
    course = get_course_or_404(course_id)
    if not can_edit_participants(current_user):
        abort(403)
    form = CompleteAllForm()
    back = redirect(url_for(".course", course_id=course.id))
    if not form.validate_on_submit():
        for field in form:
            for message in field.errors:
                flash(f"{field.label.text}: {message}", "error")
        return back
    try:
        done = services.complete_all(
            course, on=form.completed_on.data, certificate=form.certificate.data
        )
    except services.EnrolmentRefused as error:
        flash(error.message + " " + "; ".join(str(r) for r in error.refusals), "error")
        return back
    except DomainError as error:
        flash(error.message, "error")
        return back
    db.session.commit()
    flash(
        ngettext(
            "%(num)d person is marked as completed.",
            "%(num)d people are marked as completed.",
            done,
        ),
        "success",
    )
    return back


# --- From the case file ----------------------------------------------------------


@bp.route("/enrol/<int:participant_id>", methods=["GET", "POST"])
@login_required
def enrol_participant(participant_id: int):
    """Enrol one participant, from her case file, in a running or upcoming course."""
    participant = get_participant_or_404(participant_id)
    if not can_edit_participants(current_user):
        abort(403)
    back = url_for("participants.detail", participant_id=participant.id)
    if participant.archived_at is not None:
        flash(_("An archived or erased record cannot be enrolled."), "error")
        return redirect(back)
    today = date.today()
    courses = services.open_courses_for(participant, today)
    seats = services.seats(c.id for c in courses)
    form = EnrolParticipantForm()
    form.course_id.choices = [(str(c.id), c.title) for c in courses]
    if form.validate_on_submit():
        course = next((c for c in courses if c.id == form.course_id.data), None)
        if course is None:
            form.course_id.errors.append(_("Choose one of the courses listed."))
        else:
            try:
                services.enrol_many([participant], course, on=form.enrolled_on.data)
            except services.EnrolmentRefused as error:
                db.session.rollback()
                for refusal in error.refusals:
                    field = form.enrolled_on if refusal.field == "enrolled_on" else form.course_id
                    field.errors.append(str(refusal))
            except DomainError as error:
                db.session.rollback()
                field_error(form, error)
            else:
                db.session.commit()
                flash(
                    _(
                        "%(code)s is enrolled in “%(title)s”.",
                        code=participant.code,
                        title=course.title,
                    ),
                    "success",
                )
                return redirect(back)
    return render_template(
        "trainings/enrol_participant.html",
        form=form,
        participant=participant,
        courses=courses,
        seats=seats,
        today=today,
        back_url=back,
    )
