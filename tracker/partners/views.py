"""Partner institutions on the web: list, read, record and edit."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from tracker.domain import DomainError, StillReferenced
from tracker.extensions import db
from tracker.models import Partner, PartnerKind, Role
from tracker.partners import bp, services
from tracker.partners.forms import PartnerFilterForm, PartnerForm
from tracker.permissions import (
    MANAGERS,
    can_retire_partners,
    role_required,
    visible_projects,
)
from tracker.web import conflict_page, field_error, version_changed

PER_PAGE = 30


def _get_partner_or_404(partner_id: int) -> Partner:
    # partners are shared by every project: any signed-in user may read one
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        abort(404)
    return partner


@bp.route("/")
@login_required
def index():
    """List the partner institutions, searchable by name or acronym, filtered by kind."""
    form = PartnerFilterForm(request.args)
    filters = {}
    if form.validate():
        filters = {
            "q": (form.q.data or "").strip() or None,
            "kind": PartnerKind(form.kind.data) if form.kind.data else None,
            "archived": form.archived.data or None,
        }
    page = db.paginate(
        services.partners_query(**filters), per_page=PER_PAGE, error_out=False, max_per_page=100
    )
    return render_template("partners/index.html", form=form, page=page)


@bp.route("/<int:partner_id>")
@login_required
def detail(partner_id: int):
    """Show a partner and what it did in the user's projects (counts only for placements)."""
    partner = _get_partner_or_404(partner_id)
    return render_template(
        "partners/detail.html",
        partner=partner,
        involvement=services.involvement(partner, current_user),
        many_projects=len(visible_projects(current_user)) > 1,
        # every project's records count: only administrators, who see them all, are told
        references=services.partner_references(partner)
        if can_retire_partners(current_user)
        else [],
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new():
    """Record a partner institution (managers and administrators)."""
    form = PartnerForm()
    if form.validate_on_submit():
        try:
            partner = services.create_partner(**form.values())
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("“%(name)s” is recorded.", name=partner.name), "success")
            return redirect(url_for(".detail", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=None)


@bp.route("/<int:partner_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit(partner_id: int):
    """Edit a partner (managers and administrators); a stale form gets the conflict page."""
    partner = _get_partner_or_404(partner_id)
    form = PartnerForm(obj=partner if request.method == "GET" else None)
    if request.method == "GET":
        form.expected_version.data = partner.version
    if form.validate_on_submit():
        if version_changed(form.expected_version.data, partner):
            return conflict_page(
                title=partner.display_name,
                form=form,
                record=partner,
                fields=services.EDITABLE_FIELDS,
                back_url=url_for(".edit", partner_id=partner.id),
            )
        try:
            services.update_partner(partner, **form.values())
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The changes are saved."), "success")
            return redirect(url_for(".detail", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=partner)


# --- Deleting and archiving a partner (administrators: partners are every project's) ----


@bp.route("/<int:partner_id>/delete", methods=["POST"])
@role_required(Role.ADMIN)
def delete(partner_id: int):
    """Delete a partner nothing refers to; otherwise say why, and that it can be archived."""
    partner = _get_partner_or_404(partner_id)
    name = partner.name
    try:
        services.delete_partner(partner)
    except StillReferenced as error:
        flash(error.message, "error")
        return redirect(url_for(".detail", partner_id=partner.id))
    db.session.commit()
    flash(_("“%(name)s” is deleted.", name=name), "success")
    return redirect(url_for(".index"))


@bp.route("/<int:partner_id>/archive", methods=["POST"])
@role_required(Role.ADMIN)
def archive(partner_id: int):
    """Archive a partner: out of the lists and pick lists, still in every figure."""
    partner = _get_partner_or_404(partner_id)
    services.archive_partner(partner)
    db.session.commit()
    flash(
        _("“%(name)s” is archived: it still counts in the figures.", name=partner.name),
        "success",
    )
    return redirect(url_for(".detail", partner_id=partner.id))


@bp.route("/<int:partner_id>/unarchive", methods=["POST"])
@role_required(Role.ADMIN)
def unarchive(partner_id: int):
    """Bring an archived partner back into the lists."""
    partner = _get_partner_or_404(partner_id)
    services.unarchive_partner(partner)
    db.session.commit()
    flash(_("“%(name)s” is back in the lists.", name=partner.name), "success")
    return redirect(url_for(".detail", partner_id=partner.id))
