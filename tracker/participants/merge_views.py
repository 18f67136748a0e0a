"""Pages to compare likely duplicates side by side, merge them, and undo a merge."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker import audit
from tracker.extensions import db
from tracker.forms import Form
from tracker.models import ParticipantMerge
from tracker.participants import bp, merging
from tracker.permissions import MANAGERS, get_participant_or_404, role_required

#: more records than this on one page is a list to clean with ``flask merge``
MAX_RECORDS = 6


#: the largest id a database column holds (64-bit integer)
MAX_ID = 2**63 - 1


def _int(value: str | None) -> int | None:
    """Return the record id written in ``value``, or None when it is none."""
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and 0 < number <= MAX_ID else None


def _records():
    """Return the survivor and the other records named in the query or the form."""
    ids = []
    for raw in request.values.getlist("ids"):
        value = _int(raw)
        if value is None:
            abort(400)
        if value not in ids:
            ids.append(value)
    if not 2 <= len(ids) <= MAX_RECORDS:
        abort(400)
    survivor_id = _int(request.values.get("survivor")) or ids[0]
    if survivor_id not in ids:
        abort(400)
    # any record outside the manager's projects answers 404, as everywhere
    records = {i: get_participant_or_404(i) for i in ids}
    return records[survivor_id], [records[i] for i in ids if i != survivor_id]


def _choices(comparison: merging.Comparison) -> tuple[dict[str, int], dict[int, int]]:
    """Read the field choices and the enrolments to keep from the submitted form."""
    allowed = {r.id for r in comparison.records}
    choices = {}
    for name in merging.FIELDS:
        value = _int(request.form.get(f"choice-{name}"))
        if value is not None:
            if value not in allowed:
                abort(400)
            choices[name] = value
    keep = {}
    for conflict in comparison.conflicts:
        value = _int(request.form.get(f"keep-{conflict.course.id}"))
        if value is not None:
            keep[conflict.course.id] = value
    return choices, keep


@bp.route("/merge", methods=["GET", "POST"])
@role_required(*MANAGERS)
def merge():
    """Compare likely duplicates field by field, choose what survives, and merge them."""
    survivor, others = _records()
    form = Form()
    comparison = merging.compare(survivor, others)
    refusal = merging.refusal(survivor, others)
    error = None
    if form.validate_on_submit() and refusal is None:
        choices, keep = _choices(comparison)
        codes = [o.code for o in others]
        try:
            merging.merge(survivor, others, choices=choices, keep=keep, by=current_user)
        except merging.MergeRefused as refused:
            db.session.rollback()
            error = refused.message
            comparison = merging.compare(survivor, others)
        else:
            db.session.commit()
            flash(
                _(
                    "%(codes)s merged into %(code)s. The merge can be undone below while "
                    "nobody changes these records.",
                    codes=", ".join(codes),
                    code=survivor.code,
                ),
                "success",
            )
            return redirect(url_for(".detail", participant_id=survivor.id) + "#merges")
    # the page shows every record's names, birth dates and contacts side by side
    audit.record_shown(
        "participants",
        None,
        {"context": "merge", "participant_ids": [r.id for r in comparison.records]},
    )
    return render_template(
        "participants/merge.html",
        form=form,
        comparison=comparison,
        survivor=survivor,
        refusal=refusal,
        error=error,
        ids=[r.id for r in comparison.records],
    )


@bp.route("/merges/<int:merge_id>/undo", methods=["POST"])
@role_required(*MANAGERS)
def undo_merge(merge_id: int):
    """Undo a merge: every record and every moved row as it was before."""
    kept = db.get_or_404(ParticipantMerge, merge_id)
    survivor = get_participant_or_404(kept.survivor_id)
    form = Form()
    if not form.validate_on_submit():
        abort(400)
    try:
        merging.undo(kept, by=current_user)
    except merging.MergeRefused as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        db.session.commit()
        flash(_("The merge is undone: every record is as it was before."), "success")
    return redirect(url_for(".detail", participant_id=survivor.id))
