"""The audit log (administrators only): every change, sign-in, read and export, newest first."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from tracker import audit
from tracker.audit import action_label, entity_label
from tracker.auditlog import bp, sentences, services
from tracker.auditlog.forms import AuditFilterForm
from tracker.extensions import db
from tracker.models import Role
from tracker.permissions import role_required

PER_PAGE = 50


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    everyone = _("All")
    form.actor.choices = [("", everyone)] + [
        (str(user_id), email) for user_id, email in services.actors()
    ]
    form.action.choices = [("", everyone)] + sorted(
        ((a, action_label(a)) for a in services.actions()), key=lambda choice: choice[1]
    )
    form.entity.choices = [("", everyone)] + sorted(
        ((e, entity_label(e)) for e in services.entities()), key=lambda choice: choice[1]
    )
    return form


def _filters(form: AuditFilterForm) -> services.AuditFilters:
    """Return the filters asked for; one that is wrong is named on the page and left out."""
    form.validate()

    def value(field):
        return None if field.errors or field.data in ("", None) else field.data

    actor = value(form.actor)
    return services.AuditFilters(
        actor_id=int(actor) if actor else None,
        action=value(form.action),
        entity=value(form.entity),
        entity_id=value(form.record),
        start=value(form.start),
        end=value(form.end),
        text=value(form.text),
        reads=bool(form.reads.data),
    )


@bp.route("/")
@role_required(Role.ADMIN)
def index():
    """List the audit lines matching the filters, in words, with a link to each record."""
    form = _filter_form()
    page = db.paginate(
        services.events_query(_filters(form)),
        per_page=PER_PAGE,
        error_out=False,
        max_per_page=200,
    )
    names = sentences.Names(page.items, current_user)
    lines = sentences.describe(page.items, current_user, names)
    if names.named:
        # the lines name people as they are today: who read which names is logged
        audit.record_read(
            "participants",
            None,
            {"context": "audit_log", "participant_ids": sorted(names.named)},
        )
    return render_template(
        "auditlog/index.html",
        form=form,
        page=page,
        lines=lines,
        exact=sentences.exact_changes,
        links=services.record_links(page.items),
    )
