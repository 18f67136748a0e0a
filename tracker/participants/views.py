from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import audit
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import Participant, Sex
from tracker.participants import bp, services
from tracker.participants.forms import (
    MOROCCO_REGIONS,
    EraseForm,
    ParticipantForm,
    RegisterForm,
    SearchForm,
)
from tracker.permissions import (
    EDITORS,
    can_erase,
    can_read_sensitive_notes,
    can_see_names,
    get_participant_or_404,
    in_scope,
    role_required,
    visible_projects,
)
from tracker.text import digits, fold
from tracker.web import conflict_page, field_error, version_changed

PER_PAGE = 25
SORTS = {
    "code": (Participant.code,),
    "name": (Participant.family_name, Participant.given_name, Participant.code),
    "registered": (Participant.registered_on.desc(), Participant.code),
}


def _duplicates(form: ParticipantForm, exclude_id: int | None = None):
    values = form.values()
    return services.likely_duplicates(
        given_name=values["given_name"],
        family_name=values["family_name"],
        date_of_birth=values["date_of_birth"],
        nationality=values["nationality"],
        phone=values["phone"],
        exclude_id=exclude_id,
        project_ids=[p.id for p in visible_projects(current_user)],
    )


@bp.route("/")
@login_required
def index():
    """List the participants of the user's projects, with search, filters and pages."""
    projects = visible_projects(current_user)
    form = SearchForm(request.args, projects=projects)
    if not can_see_names(current_user):
        form.sort.choices = [c for c in form.sort.choices if c[0] != "name"]
    query = select(Participant).where(in_scope(current_user, Participant.project_id))
    if form.validate():
        q = (form.q.data or "").strip()
        if q and not can_see_names(current_user):
            # a viewer searches codes only: a name search would reveal who is here
            query = query.where(Participant.code.icontains(q, autoescape=True))
        elif q and not any(c.isalpha() for c in q) and len(digits(q)) >= 4:
            # a phone number, however it is spaced, with or without +212 or the leading 0
            number = digits(q).lstrip("0")
            query = query.where(Participant.search_text.contains(number, autoescape=True))
        elif q:
            for term in fold(q).split():
                query = query.where(Participant.search_text.contains(term, autoescape=True))
        if form.project.data:
            query = query.where(Participant.project_id == int(form.project.data))
        if form.sex.data:
            query = query.where(Participant.sex == Sex(form.sex.data))
        if form.nationality.data:
            query = query.where(Participant.nationality == form.nationality.data)
        status = form.status.data or "active"
        if status == "active":
            query = query.where(Participant.archived_at.is_(None))
        elif status == "archived":
            query = query.where(Participant.archived_at.is_not(None))
        sort = form.sort.data if form.sort.data in SORTS else "code"
        if sort == "name" and not can_see_names(current_user):
            sort = "code"
    else:
        sort = "code"
    page = db.paginate(
        query.order_by(*SORTS[sort]), per_page=PER_PAGE, error_out=False, max_per_page=100
    )
    return render_template(
        "participants/index.html", form=form, page=page, projects=projects, sort=sort
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(*EDITORS)
def new():
    """Register a participant, after showing likely duplicates."""
    projects = visible_projects(current_user)
    form = RegisterForm()
    form.project_id.choices = [(p.id, f"{p.code} – {p.title}") for p in projects]
    if not can_read_sensitive_notes(current_user):
        del form.sensitive_notes
    duplicates = []
    if form.validate_on_submit():
        project = next((p for p in projects if p.id == form.project_id.data), None)
        if project is None:
            abort(404)
        duplicates = _duplicates(form)
        if not duplicates or form.not_a_duplicate.data:
            try:
                participant = services.register_participant(
                    project,
                    registered_on=form.registered_on.data,
                    consent_on=form.consent_on.data,
                    by=current_user,
                    **form.values(),
                )
            except DomainError as error:
                field_error(form, error)
            else:
                if "sensitive_notes" in form and form.sensitive_notes.data:
                    participant.sensitive_notes = form.sensitive_notes.data
                db.session.commit()
                flash(_("%(code)s is registered.", code=participant.code), "success")
                return redirect(url_for(".detail", participant_id=participant.id))
    return render_template(
        "participants/form.html",
        form=form,
        duplicates=duplicates,
        regions=MOROCCO_REGIONS,
        participant=None,
    )


@bp.route("/<int:participant_id>")
@login_required
def detail(participant_id: int):
    """Show the case file: identity, consent, timeline and history."""
    if not can_see_names(current_user):
        abort(403)
    participant = get_participant_or_404(participant_id)
    audit.record_read("participant", participant.id)
    return render_template(
        "participants/detail.html",
        participant=participant,
        timeline=services.timeline(participant),
        history=services.history(participant),
        erase_form=EraseForm() if can_erase(current_user) else None,
    )


@bp.route("/<int:participant_id>/edit", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit(participant_id: int):
    """Edit a participant's identity and contact details."""
    participant = get_participant_or_404(participant_id)
    if participant.erased_at is not None:
        flash(_("An erased record cannot be edited."), "error")
        return redirect(url_for(".detail", participant_id=participant.id))
    form = ParticipantForm(obj=participant if request.method == "GET" else None)
    if not can_read_sensitive_notes(current_user):
        del form.sensitive_notes
    if request.method == "GET":
        form.expected_version.data = participant.version
        form.sex.data = participant.sex.value
        form.nationality.data = participant.nationality or ""
        form.migration_status.data = (
            participant.migration_status.value if participant.migration_status else ""
        )
        form.education_level.data = (
            participant.education_level.value if participant.education_level else ""
        )
    duplicates = []
    if form.validate_on_submit():
        if version_changed(form.expected_version.data, participant):
            return conflict_page(
                title=participant.code,
                form=form,
                record=_comparable(participant),
                fields=[f for f in services.EDITABLE_FIELDS if f in form],
                back_url=url_for(".edit", participant_id=participant.id),
            )
        values = form.values()
        identity_changed = any(
            values[f] != getattr(participant, f)
            for f in ("given_name", "family_name", "date_of_birth", "nationality", "phone")
        )
        duplicates = _duplicates(form, exclude_id=participant.id) if identity_changed else []
        if not duplicates or form.not_a_duplicate.data:
            if "sensitive_notes" in form:
                values["sensitive_notes"] = form.sensitive_notes.data
            try:
                services.update_participant(participant, **values)
            except DomainError as error:
                field_error(form, error)
            else:
                db.session.commit()
                flash(_("The changes are saved."), "success")
                return redirect(url_for(".detail", participant_id=participant.id))
    return render_template(
        "participants/form.html",
        form=form,
        duplicates=duplicates,
        regions=MOROCCO_REGIONS,
        participant=participant,
    )


class _comparable:
    """The stored record as the form sees it (enums as their values), for the conflict page."""

    def __init__(self, participant: Participant) -> None:
        self._p = participant
        self.updated_at = participant.updated_at

    def __getattr__(self, name):
        value = getattr(self._p, name)
        return value.value if hasattr(value, "value") else value


@bp.route("/<int:participant_id>/archive", methods=["POST"])
@role_required(*EDITORS)
def archive(participant_id: int):
    """Close the case file; figures keep counting the person."""
    participant = get_participant_or_404(participant_id)
    services.archive(participant)
    db.session.commit()
    flash(_("The case file of %(code)s is archived.", code=participant.code), "success")
    return redirect(url_for(".detail", participant_id=participant.id))


@bp.route("/<int:participant_id>/unarchive", methods=["POST"])
@role_required(*EDITORS)
def unarchive(participant_id: int):
    """Reopen an archived case file."""
    participant = get_participant_or_404(participant_id)
    try:
        services.unarchive(participant)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The case file of %(code)s is open again.", code=participant.code), "success")
    return redirect(url_for(".detail", participant_id=participant.id))


@bp.route("/<int:participant_id>/erase", methods=["POST"])
@login_required
def erase(participant_id: int):
    """Erase a person's identity on request (admin); the code and the figures stay."""
    if not can_erase(current_user):
        abort(403)
    participant = get_participant_or_404(participant_id)
    form = EraseForm()
    if form.validate_on_submit() and form.confirm_code.data.strip() == participant.code:
        services.erase(participant)
        db.session.commit()
        flash(_("The identity of %(code)s is erased.", code=participant.code), "success")
    else:
        flash(_("Type the exact code of the record to erase it."), "error")
    return redirect(url_for(".detail", participant_id=participant.id))
