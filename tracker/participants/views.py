from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import audit
from tracker.auditlog import sentences
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.forms import record_id
from tracker.models import Consent, ConsentPurpose, Participant, Partner, Sex
from tracker.participants import bp, consent, listing, merging, services
from tracker.participants.forms import (
    MOROCCO_REGIONS,
    ConsentForm,
    EraseForm,
    ParticipantForm,
    RegisterForm,
    SearchForm,
    WithdrawConsentForm,
)
from tracker.participants.search import (
    allowed_sort,
    import_line,
    imported_by,
    merged_lead,
    search_kind,
    search_query,
)
from tracker.permissions import (
    EDITORS,
    can_edit_participants,
    can_erase,
    can_merge,
    can_read_audit_log,
    can_read_sensitive_notes,
    can_see_names,
    can_see_who_opened,
    get_participant_or_404,
    role_required,
    visible_projects,
)
from tracker.placements.services import follow_up_schedule
from tracker.web import conflict_page, field_error, version_changed

PER_PAGE = 25


def _duplicates(form: ParticipantForm, exclude_id: int | None = None):
    values = form.values()
    return services.likely_duplicates(
        given_name=values["given_name"],
        family_name=values["family_name"],
        date_of_birth=values["date_of_birth"],
        nationality=values["nationality"],
        phone=values["phone"],
        other_name=values["other_name"],
        exclude_id=exclude_id,
        project_ids=[p.id for p in visible_projects(current_user)],
    )


def _form_page(form: ParticipantForm, duplicates: list, participant: Participant | None):
    """Render the register or edit form; the duplicate warning it shows is a logged read."""
    if duplicates:
        # the warning shows their names, birth dates and nationalities
        audit.record_shown(
            "participants",
            None,
            {
                "context": "duplicate_check",
                "participant_ids": [d.participant.id for d in duplicates],
            },
        )
    return render_template(
        "participants/form.html",
        form=form,
        duplicates=duplicates,
        regions=MOROCCO_REGIONS,
        participant=participant,
    )


@bp.route("/")
@login_required
def index():
    """List the participants of the user's projects, with search, filters and pages."""
    projects = visible_projects(current_user)
    form = SearchForm(request.args, projects=projects)
    if not can_see_names(current_user):
        form.sort.choices = [c for c in form.sort.choices if c[0] != "name"]
    if form.validate():
        sort = allowed_sort(form.sort.data, current_user)
        query = search_query(
            (form.q.data or "").strip(),
            current_user,
            project_id=int(form.project.data) if form.project.data else None,
            sex=Sex(form.sex.data) if form.sex.data else None,
            nationality=form.nationality.data or None,
            status=form.status.data or "active",
            sort=sort,
        )
    else:
        sort = "code"
        query = search_query("", current_user, status="all", sort=sort)
    batch = _import_batch()
    if batch is not None:
        query = query.where(Participant.id.in_(imported_by(batch.id)))
    page = db.paginate(query, per_page=PER_PAGE, error_out=False, max_per_page=100)
    # a viewer's list of fewer people than the small-cell threshold shows nobody, and
    # a larger one the values fewer than that of its people share as "Other"
    small = listing.small_list(current_user, page.total)
    if small:
        page.items = []
    coarse = listing.coarsen(current_user, query) if page.items else listing.Coarsened()
    # who listed whom: the ids shown and the filters, never the words searched (a
    # name, a phone number), not even hashed: a name's hash is found by trying names
    valid = not form.errors
    audit.record_read(
        "participants",
        None,
        {
            "results": None if small else page.total,
            "small_list": small or None,
            "page": page.page,
            "participant_ids": [p.id for p in page.items],
            "search": search_kind((form.q.data or "").strip(), can_see_names(current_user))
            if valid
            else None,
            "project": form.project.data or None if valid else None,
            "sex": form.sex.data or None if valid else None,
            "nationality": form.nationality.data or None if valid else None,
            "status": form.status.data or None if valid else None,
            "import": batch.id if batch is not None else None,
        },
    )
    lead = merged_lead(form.q.data or "", current_user) if valid and not page.total else None
    return render_template(
        "participants/index.html",
        form=form,
        page=page,
        projects=projects,
        sort=sort,
        lead=lead,
        batch=batch,
        small_list=listing.small_list_message() if small else None,
        coarse=coarse,
    )


def _import_batch():
    """The import the list is narrowed to (``?import=<id>``, after an import), or None."""
    wanted = request.args.get("import")
    if not wanted:
        return None
    try:
        batch = import_line(record_id(wanted))
    except ValueError:
        batch = None
    if batch is None:
        abort(404)
    return batch


@bp.route("/new", methods=["GET", "POST"])
@role_required(*EDITORS)
def new():
    """Register a participant, after showing likely duplicates."""
    # a closed project takes nobody new
    projects = [p for p in visible_projects(current_user) if not p.closed]
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
    return _form_page(form, duplicates, None)


@bp.route("/<int:participant_id>")
@login_required
def detail(participant_id: int):
    """Show the case file: identity, consent, timeline and history."""
    if not can_see_names(current_user):
        abort(403)
    participant = get_participant_or_404(participant_id)
    if participant.merged_into_id is not None:
        # a merged record's code leads to the record it was merged into
        survivor = merging.survivor_of(participant)
        flash(
            _("%(code)s was merged into %(into)s.", code=participant.code, into=survivor.code),
            "info",
        )
        return redirect(url_for(".detail", participant_id=survivor.id))
    audit.record_read("participant", participant.id)
    return _case_file(participant)


def _case_file(participant: Participant):
    """Render the case file, with the consent forms for those who may record consents."""
    may_edit = can_edit_participants(current_user)
    may_merge = can_merge(current_user) and participant.erased_at is None
    likely = (
        services.likely_duplicates_of(participant, [p.id for p in visible_projects(current_user)])
        if may_merge
        else []
    )
    if likely:
        # their codes and reasons are shown: the same read as the form's warning
        audit.record_read(
            "participants",
            None,
            {"context": "duplicate_check", "participant_ids": [d.participant.id for d in likely]},
        )
    may_act = may_edit and participant.archived_at is None and participant.erased_at is None
    case = consent.case_consent_state(participant)
    today = date.today()
    # the follow-ups due or overdue, offered at the top of the case file, oldest first
    follow_ups_due = (
        sorted(
            (
                (placement, milestone)
                for placement in participant.placements
                for milestone in follow_up_schedule(placement, today)
                if milestone.pending
            ),
            key=lambda due: due[1].due_on,
        )
        if may_act and case.holds
        else []
    )
    reads = can_see_who_opened(current_user) and request.args.get("reads") == "1"
    return render_template(
        "participants/detail.html",
        participant=participant,
        follow_ups_due=follow_ups_due,
        today=today,
        timeline=services.timeline(participant),
        history=sentences.describe(services.history(participant, reads=reads), current_user),
        history_reads=reads,
        may_see_reads=can_see_who_opened(current_user),
        history_exact=sentences.exact_changes if can_read_audit_log(current_user) else None,
        erase_form=EraseForm() if can_erase(current_user) else None,
        case_consent=case,
        consent_status={c.id: consent.status_of(c) for c in participant.consents},
        consent_form=ConsentForm(formdata=None, partners=_partners())
        if may_edit and participant.erased_at is None
        else None,
        withdraw_form=WithdrawConsentForm(formdata=None) if may_edit else None,
        likely_duplicates=likely,
        merges=merging.merges_of(participant) if may_merge else [],
        undo_refusal=merging.undo_refusal,
    )


def _partners() -> list[Partner]:
    """The partners a consent to share data may name: archived ones are not offered."""
    return list(
        db.session.scalars(
            select(Partner).where(Partner.archived_at.is_(None)).order_by(Partner.name)
        )
    )


@bp.route("/<int:participant_id>/edit", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit(participant_id: int):
    """Edit a participant's identity and contact details."""
    participant = get_participant_or_404(participant_id)
    if participant.erased_at is not None:
        flash(_("An erased record cannot be edited."), "error")
        return redirect(url_for(".detail", participant_id=participant.id))
    if not consent.case_management_holds(participant):
        flash(
            _(
                "The consent to case management is withdrawn or has expired: the personal "
                "data cannot be edited. Record a new consent first."
            ),
            "error",
        )
        return redirect(url_for(".detail", participant_id=participant.id))
    if request.method == "GET":
        # the form shows every personal field of the record
        audit.record_read("participant", participant.id, {"page": "edit"})
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
            # the conflict page shows the stored personal data beside the submitted
            audit.record_shown("participant", participant.id, {"page": "conflict"})
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
    return _form_page(form, duplicates, participant)


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


# --- Consents -----------------------------------------------------------------------


def _flash_errors(form) -> None:
    for field in form:
        for message in field.errors:
            flash(f"{field.label.text}: {message}", "error")


@bp.route("/<int:participant_id>/consents", methods=["POST"])
@role_required(*EDITORS)
def add_consent(participant_id: int):
    """Record a consent: case management (again), donor reporting or sharing with a partner."""
    participant = get_participant_or_404(participant_id)
    back = redirect(url_for(".detail", participant_id=participant.id) + "#consents")
    form = ConsentForm(partners=_partners())
    if not form.validate_on_submit():
        _flash_errors(form)
        return back
    partner = db.session.get(Partner, int(form.partner_id.data)) if form.partner_id.data else None
    try:
        consent.record_consent(
            participant,
            ConsentPurpose(form.purpose.data),
            given_on=form.given_on.data,
            expires_on=form.expires_on.data,
            partner=partner,
        )
    except DomainError as error:
        flash(error.message, "error")
        return back
    db.session.commit()
    flash(_("The consent of %(code)s is recorded.", code=participant.code), "success")
    return back


@bp.route("/<int:participant_id>/consents/<int:consent_id>/withdraw", methods=["POST"])
@role_required(*EDITORS)
def withdraw_consent(participant_id: int, consent_id: int):
    """Record that the person withdrew one of her consents."""
    participant = get_participant_or_404(participant_id)
    # the consent must be hers: another id answers 404 like a missing one
    record = db.session.scalar(
        select(Consent).where(Consent.id == consent_id, Consent.participant_id == participant.id)
    )
    if record is None:
        abort(404)
    back = redirect(url_for(".detail", participant_id=participant.id) + "#consents")
    form = WithdrawConsentForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return back
    try:
        consent.withdraw_consent(record, on=form.withdrawn_on.data)
    except DomainError as error:
        flash(error.message, "error")
        return back
    db.session.commit()
    flash(
        _(
            "The consent of %(code)s to %(purpose)s is withdrawn.",
            code=participant.code,
            purpose=record.purpose.label.lower(),
        ),
        "success",
    )
    return back
