"""The incoming submissions list: what KoboToolbox pushed, and the ones to fix.

A manager (or an admin) sees her projects' submissions; one that was refused shows its
problems and its answers as import columns, which she corrects and registers again, or
discards with a reason (its content is then deleted).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from tracker import audit, columns
from tracker.extensions import db
from tracker.imports import bp, incoming
from tracker.imports.header import KOBO_UUID, header_key
from tracker.models import IncomingSubmission, SubmissionState
from tracker.permissions import MANAGERS, in_scope, role_required

PER_PAGE = 50
PARTICIPANT_COLUMNS = frozenset(c.name for c in columns.PARTICIPANTS.columns)


class DiscardForm(FlaskForm):
    reason = StringField(_l("Why it is discarded"), validators=[DataRequired(), Length(max=300)])


class ReplayForm(FlaskForm):
    pass


def _get_or_404(submission_id: int) -> IncomingSubmission:
    record = db.session.scalar(
        select(IncomingSubmission).where(
            IncomingSubmission.id == submission_id,
            in_scope(current_user, IncomingSubmission.project_id),
        )
    )
    if record is None:
        abort(404)
    return record


def answers(payload: dict) -> dict[str, str]:
    """Return a submission's answers by import column (the group paths removed)."""
    found: dict[str, str] = {}
    for key, value in (payload or {}).items():
        column = header_key(key)
        if column in PARTICIPANT_COLUMNS:
            found[column] = "" if value is None else str(value)
    return found


@bp.route("/incoming")
@role_required(*MANAGERS)
def incoming_list():
    """List the submissions KoboToolbox pushed to the user's projects; those to fix first."""
    state = request.args.get("state", "invalid")
    if state not in {s.value for s in SubmissionState} | {"all"}:
        state = "invalid"
    query = select(IncomingSubmission).where(in_scope(current_user, IncomingSubmission.project_id))
    counts = dict(
        db.session.execute(
            select(IncomingSubmission.state, func.count())
            .where(in_scope(current_user, IncomingSubmission.project_id))
            .group_by(IncomingSubmission.state)
        ).all()
    )
    if state != "all":
        query = query.where(IncomingSubmission.state == SubmissionState(state))
    page = db.paginate(
        query.order_by(IncomingSubmission.last_received_at.desc()),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "imports/incoming.html",
        page=page,
        state=state,
        counts={
            SubmissionState(k).value if not isinstance(k, str) else k: v for k, v in counts.items()
        },
        states=list(SubmissionState),
    )


@bp.route("/incoming/<int:submission_id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def incoming_detail(submission_id: int):
    """Show one submission: its problems and answers; correct them and register it again."""
    record = _get_or_404(submission_id)
    replay = ReplayForm()
    values = answers(record.payload or {})
    if record.state is SubmissionState.INVALID and replay.validate_on_submit():
        fixed = {
            column.name: request.form.get(column.name, "").strip()
            for column in columns.PARTICIPANTS.columns
            if column.name != "project_code" and column.name in request.form
        }
        fixed[KOBO_UUID] = record.submission_uuid
        outcome = incoming.register(record, fixed, by=current_user)
        if outcome.status == "invalid":
            flash(_("Still not registered: see the problems below."), "error")
            record = outcome.submission
            values = {k: v for k, v in fixed.items() if k != KOBO_UUID}
        else:
            if outcome.status == "registered":
                message = _("%(code)s is registered.", code=outcome.code)
            elif outcome.code is None:  # registered in a project not this submission's
                message = _("This submission was registered already.")
            else:
                message = _("This person was registered already (%(code)s).", code=outcome.code)
            flash(message, "success")
            return redirect(url_for(".incoming_detail", submission_id=record.id))
    if record.payload is not None:
        # the answers of a person, shown to fix them: a read of personal data
        audit.record_shown("incoming_submission", record.id)
    shown = [
        c
        for c in columns.PARTICIPANTS.columns
        if c.name != "project_code" and (c.name in values or c.required)
    ]
    return render_template(
        "imports/incoming_detail.html",
        record=record,
        values=values,
        shown=shown,
        problems={p.get("field"): p.get("message") for p in (record.problems or [])},
        replay=replay,
        discard=DiscardForm(formdata=None),
    )


@bp.route("/incoming/<int:submission_id>/discard", methods=["POST"])
@role_required(*MANAGERS)
def incoming_discard(submission_id: int):
    """Give up on a submission that waits for a fix: its answers are deleted."""
    record = _get_or_404(submission_id)
    form = DiscardForm()
    if record.state is not SubmissionState.INVALID:
        abort(409)
    if not form.validate_on_submit():
        flash(_("Say why the submission is discarded."), "error")
        return redirect(url_for(".incoming_detail", submission_id=record.id))
    incoming.discard(record, by=current_user, reason=form.reason.data.strip())
    flash(_("The submission is discarded; its answers are deleted."), "success")
    return redirect(url_for(".incoming_list"))
