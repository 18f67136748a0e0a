"""Placements on the web: the list, recording and editing a job or an IGA, follow-ups.

Every page lists or shows a person, so viewers (who read aggregates and codes
only) are refused all of them; the dashboard gives them the figures.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker import audit, plausibility
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import FollowUp, PartnerKind, Placement, PlacementKind
from tracker.participants.consent import case_management_holds
from tracker.permissions import (
    can_edit_participants,
    can_see_names,
    get_follow_up_or_404,
    get_participant_or_404,
    get_placement_or_404,
    in_scope,
    visible_projects,
)
from tracker.placements import bp, services
from tracker.placements.forms import (
    OTHER,
    FollowUpForm,
    PlacementFilterForm,
    PlacementForm,
)
from tracker.web import Doubted, conflict_page, field_error, held_for_doubts, version_changed

PER_PAGE = 25
EMPLOYER_KINDS = (PartnerKind.EMPLOYER,)
REFERRER_KINDS = (PartnerKind.EMPLOYMENT_SERVICE, PartnerKind.NGO)


def _may_record() -> None:
    """Refuse (403) whoever may not record placements: viewers."""
    if not can_edit_participants(current_user):
        abort(403)


# --- The list ---------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    """List the placements of the user's projects, with filters and the follow-ups due."""
    if not can_see_names(current_user):
        abort(403)
    today = date.today()
    projects = visible_projects(current_user)
    scope = in_scope(current_user, Placement.project_id)
    form = PlacementFilterForm(request.args, projects=projects)
    filters: dict[str, Any] = {}
    if form.validate():
        filters = {
            "project_id": int(form.project.data) if form.project.data else None,
            "kind": PlacementKind(form.kind.data) if form.kind.data else None,
            "started_from": form.started_from.data,
            "started_to": form.started_to.data,
            "follow_up_due": bool(form.due.data),
        }
    page = db.paginate(
        services.placements_query(scope, today=today, **filters),
        per_page=PER_PAGE,
        error_out=False,
        max_per_page=100,
    )
    # the list names people and their businesses: the ids shown are logged
    audit.record_read(
        "placements",
        None,
        {
            "results": page.total,
            "page": page.page,
            "placement_ids": [p.id for p in page.items],
            "participant_ids": sorted({p.participant_id for p in page.items}),
        },
    )
    return render_template(
        "placements/index.html",
        form=form,
        page=page,
        schedules={p.id: services.follow_up_schedule(p, today) for p in page.items},
        latest={p.id: services.latest_follow_up(p) for p in page.items},
        due_total=services.due_count(scope, today),
        filtered_by_due=bool(filters.get("follow_up_due")),
        today=today,
    )


# --- Recording and editing a placement --------------------------------------------------


def _placement_form(placement: Placement | None = None, **kwargs) -> PlacementForm:
    # the partners a placement already names stay choosable, archived or not
    keep = (placement.employer_id, placement.referral_partner_id) if placement else ()
    return PlacementForm(
        employers=services.partners_first(EMPLOYER_KINDS, keep),
        referrers=services.partners_first(REFERRER_KINDS, keep),
        **kwargs,
    )


def _partners(form: PlacementForm) -> dict:
    """Return the employer and the referral partner chosen in the form (ids checked by it)."""
    return {
        "employer": services.partner(form.employer_id.data),
        "referral_partner": services.partner(form.referral_partner_id.data),
    }


@bp.route("/new/<int:participant_id>", methods=["GET", "POST"])
@login_required
def new(participant_id: int):
    """Record that a participant started a job or an income-generating activity."""
    participant = get_participant_or_404(participant_id)
    _may_record()
    back = url_for("participants.detail", participant_id=participant.id)
    if participant.archived_at is not None:
        flash(_("An archived or erased case file cannot get a new placement."), "error")
        return redirect(back)
    form = _placement_form()
    doubts = []
    if form.validate_on_submit():
        found = _placement_doubts(form, participant)
        try:
            with held_for_doubts(form, found):
                # a start before her registration is one of the doubts, asked about
                services.record_placement(
                    participant, **_partners(form), **form.values(), check_registration=False
                )
        except Doubted:
            doubts = found
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The placement of %(code)s is recorded.", code=participant.code), "success")
            return redirect(back)
    return render_template(
        "placements/form.html",
        form=form,
        participant=participant,
        placement=None,
        sectors=services.sectors([participant.project_id]),
        back_url=back,
        today=date.today(),
        doubts=doubts,
    )


def _placement_doubts(form: PlacementForm, participant) -> list[plausibility.Doubt]:
    return plausibility.placement(
        start_date=form.start_date.data, registered_on=participant.registered_on
    )


class _Shown:
    """A record or a submitted form as the conflict page shows it: partners and enums named."""

    def __init__(self, values: dict[str, Any], labels: dict[str, Any], updated_at=None) -> None:
        self._values = values
        self._labels = labels
        self.updated_at = updated_at

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> SimpleNamespace:
        return SimpleNamespace(data=self._values[name], label=self._labels[name])


def _name(partner) -> str | None:
    return partner.display_name if partner else None


def _amount(value) -> str | None:
    return format_decimal(value) if value is not None else None


def _placement_conflict(form: PlacementForm, placement: Placement):
    labels = {name: form[name].label for name in services.PLACEMENT_FIELDS}
    stored = {name: getattr(placement, name) for name in services.PLACEMENT_FIELDS}
    stored.update(
        kind=placement.kind.label,
        employer_id=_name(placement.employer),
        referral_partner_id=_name(placement.referral_partner),
        monthly_income=_amount(placement.monthly_income),
    )
    values = form.values()
    chosen = _partners(form)
    mine = {
        **values,
        "kind": values["kind"].label,
        "employer_id": _name(chosen["employer"]),
        "referral_partner_id": _name(chosen["referral_partner"]),
        "monthly_income": _amount(values["monthly_income"]),
    }
    return conflict_page(
        title=f"{placement.participant.code} · {placement.kind.label}",
        form=_Shown(mine, labels),
        record=_Shown(stored, labels, placement.updated_at),
        fields=services.PLACEMENT_FIELDS,
        back_url=url_for(".edit", placement_id=placement.id),
    )


@bp.route("/<int:placement_id>/edit", methods=["GET", "POST"])
@login_required
def edit(placement_id: int):
    """Edit a placement; a form older than the record gets the conflict page."""
    placement = get_placement_or_404(placement_id)
    _may_record()
    back = url_for(".placement", placement_id=placement.id)
    if placement.participant.erased_at is not None:
        flash(_("An erased record cannot be edited."), "error")
        return redirect(back)
    form = _placement_form(placement, obj=placement if request.method == "GET" else None)
    if request.method == "GET":
        audit.record_read(
            "placement",
            placement.id,
            {"page": "edit", "participant_ids": [placement.participant_id]},
        )
        form.expected_version.data = placement.version
        form.kind.data = placement.kind.value
        form.contract_type.data = placement.contract_type.value if placement.contract_type else ""
    doubts = []
    if form.validate_on_submit():
        if version_changed(form.expected_version.data, placement):
            return _placement_conflict(form, placement)
        found = _placement_doubts(form, placement.participant)
        try:
            with held_for_doubts(form, found):
                services.update_placement(
                    placement, **_partners(form), **form.values(), check_registration=False
                )
        except Doubted:
            doubts = found
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The changes are saved."), "success")
            return redirect(back)
    return render_template(
        "placements/form.html",
        form=form,
        participant=placement.participant,
        placement=placement,
        sectors=services.sectors([placement.project_id]),
        back_url=back,
        today=date.today(),
        doubts=doubts,
    )


# --- The placement page and its follow-ups ---------------------------------------------


def _placement_page(placement: Placement, follow_up_form: FollowUpForm | None = None, doubts=()):
    """Render a placement with its follow-ups, the schedule and the follow-up form."""
    today = date.today()
    schedule = services.follow_up_schedule(placement, today)
    may_record = (
        can_edit_participants(current_user)
        and placement.participant.erased_at is None
        # a follow-up means contacting her (tracker.participants.consent)
        and case_management_holds(placement.participant)
    )
    if may_record and follow_up_form is None:
        follow_up_form = FollowUpForm(
            formdata=None, milestones=services.missing_milestones(placement)
        )
        # propose the follow-up a link asks for (?months=6, from the to-do list) if it is
        # not recorded yet, else the first one not recorded
        pending = [m.months for m in schedule if m.state != "done"]
        wanted = request.args.get("months", type=int)
        if pending:
            follow_up_form.months_after.data = str(wanted if wanted in pending else pending[0])
    return render_template(
        "placements/placement.html",
        placement=placement,
        schedule=schedule,
        follow_up_form=follow_up_form if may_record else None,
        today=today,
        doubts=doubts,
    )


@bp.route("/<int:placement_id>")
@login_required
def placement(placement_id: int):
    """Show a placement, its follow-ups and when the next ones are due."""
    record = get_placement_or_404(placement_id)
    if not can_see_names(current_user):
        abort(403)
    # the page names the person and often her business: who opened it is logged
    audit.record_read("placement", record.id, {"participant_ids": [record.participant_id]})
    return _placement_page(record)


@bp.route("/<int:placement_id>/follow-ups", methods=["POST"])
@login_required
def follow_up(placement_id: int):
    """Record a follow-up of a placement (3, 6, 12 months or another delay)."""
    record = get_placement_or_404(placement_id)
    _may_record()
    form = FollowUpForm(milestones=services.missing_milestones(record))
    doubts = []
    if form.validate_on_submit():
        found = _follow_up_doubts(form, record)
        try:
            with held_for_doubts(form, found):
                services.record_follow_up(record, **form.values())
        except Doubted:
            doubts = found
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(
                _("The %(n)d-month follow-up is recorded.", n=form.months()),
                "success",
            )
            return redirect(url_for(".placement", placement_id=record.id))
    return _placement_page(record, form, doubts)


def _follow_up_doubts(form: FollowUpForm, placement: Placement) -> list[plausibility.Doubt]:
    return plausibility.follow_up(
        placement_start=placement.start_date,
        months_after=form.months(),
        followed_on=form.followed_on.data,
    )


def _follow_up_conflict(form: FollowUpForm, follow_up: FollowUp):
    labels = {name: form[name].label for name in services.FOLLOW_UP_FIELDS}
    stored = {name: getattr(follow_up, name) for name in services.FOLLOW_UP_FIELDS}
    stored["monthly_income"] = _amount(follow_up.monthly_income)
    mine = form.values()
    mine["monthly_income"] = _amount(mine["monthly_income"])
    return conflict_page(
        title=_("%(n)d-month follow-up", n=follow_up.months_after),
        form=_Shown(mine, labels),
        record=_Shown(stored, labels, follow_up.updated_at),
        fields=services.FOLLOW_UP_FIELDS,
        back_url=url_for(".edit_follow_up", follow_up_id=follow_up.id),
    )


@bp.route("/follow-ups/<int:follow_up_id>/edit", methods=["GET", "POST"])
@login_required
def edit_follow_up(follow_up_id: int):
    """Edit a follow-up; a form older than the record gets the conflict page."""
    record = get_follow_up_or_404(follow_up_id)
    _may_record()
    placement = record.placement
    back = url_for(".placement", placement_id=placement.id)
    if placement.participant.erased_at is not None:
        flash(_("An erased record cannot be edited."), "error")
        return redirect(back)
    form = FollowUpForm(milestones=services.missing_milestones(placement, keep=record))
    if request.method == "GET":
        # the form shows her income and the note about her
        audit.record_read(
            "follow_up",
            record.id,
            {"page": "edit", "participant_ids": [placement.participant_id]},
        )
        form.expected_version.data = record.version
        if record.months_after in services.MILESTONES:
            form.months_after.data = str(record.months_after)
        else:
            form.months_after.data = OTHER
            form.other_months.data = record.months_after
        form.followed_on.data = record.followed_on
        form.still_active.data = "yes" if record.still_active else "no"
        form.monthly_income.data = record.monthly_income
        form.note.data = record.note
    doubts = []
    if form.validate_on_submit():
        if version_changed(form.expected_version.data, record):
            return _follow_up_conflict(form, record)
        found = _follow_up_doubts(form, placement)
        try:
            with held_for_doubts(form, found):
                services.update_follow_up(record, **form.values())
        except Doubted:
            doubts = found
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The changes are saved."), "success")
            return redirect(back)
    return render_template(
        "placements/follow_up_form.html",
        form=form,
        follow_up=record,
        placement=placement,
        back_url=back,
        doubts=doubts,
    )
