"""Small helpers shared by the feature views: version checks, conflict page, filters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, flash, render_template, request, url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from wtforms import Form

from tracker import permissions
from tracker.extensions import db
from tracker.indicators import DIMENSIONS


def field_error(form: Form, error: Any) -> None:
    """Show a service's DomainError next to its field, or at the top when it has none."""
    if error.field and error.field in form:
        form[error.field].errors.append(error.message)
    else:
        flash(error.message, "error")


class Doubted(Exception):
    """A write undone: its dates wait for the person to confirm them."""


@contextmanager
def held_for_doubts(form: Form, doubts: list) -> Iterator[None]:
    """Run a write in a savepoint; undo it and raise Doubted while ``doubts`` are unconfirmed.

    A date far from what is expected (``tracker.plausibility``) is saved once the person
    ticks that it is right (``dates_checked``), as the registration's duplicate warning
    asks. The write runs first so that a rule's refusal (DomainError) is said before any
    doubt: a doubt is asked about a record that could be saved.
    """
    savepoint = db.session.begin_nested()
    try:
        yield
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    if doubts and not form.dates_checked.data:
        savepoint.rollback()
        raise Doubted
    savepoint.commit()


def combine(first: dict, second: dict) -> dict:
    """Return a new dict: ``first`` updated with ``second`` (for url_for in templates)."""
    merged = dict(first)
    merged.update(second)
    return merged


def version_changed(form_version: Any, record: Any) -> bool:
    """Say whether the record changed since the form was shown (its version moved on)."""
    try:
        return int(form_version) != record.version
    except (TypeError, ValueError):
        return True


def display(value: Any) -> str:
    """Return a value as a person reads it in a comparison table."""
    if value is None or value == "":
        return "—"
    if hasattr(value, "label"):
        return str(value.label)
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return format_date(value)
    if isinstance(value, bool):
        from flask_babel import gettext as _

        return _("yes") if value else _("no")
    return str(value)


def conflict_page(
    *,
    title: str,
    form: Form,
    record: Any,
    fields: Iterable[str],
    back_url: str,
):
    """Render the 409 page that shows the stored version beside the one submitted.

    Nothing is saved: the user re-applies their change to the current version.
    """
    rows = []
    for name in fields:
        stored = getattr(record, name)
        submitted = form[name].data
        if stored != submitted and not (stored in (None, "") and submitted in (None, "")):
            rows.append((form[name].label.text, display(stored), display(submitted)))
    return (
        render_template(
            "errors/conflict.html",
            title=title,
            rows=rows,
            back_url=back_url,
            updated_at=record.updated_at,
        ),
        409,
    )


#: the main menu: (endpoint, label, who sees it)
MENU = (
    ("home.index", _l("Home"), None),
    ("dashboard.index", _l("Dashboard"), None),
    ("participants.index", _l("Participants"), None),
    ("trainings.index", _l("Trainings"), None),
    ("placements.index", _l("Placements"), "can_see_names"),
    ("builder.index", _l("Reports"), "can_read_reports"),
    ("activities.index", _l("Activities"), None),
    ("partners.index", _l("Partners"), None),
    ("exports.index", _l("Exports"), None),
    ("imports.index", _l("Import"), "can_import"),
    ("users.index", _l("Users"), "can_manage_users"),
    ("auditlog.index", _l("Audit log"), "can_read_audit_log"),
)


def menu() -> list[tuple[str, str, bool]]:
    """Return (url, label, current) of the menu entries the signed-in user may open."""
    from flask_login import current_user

    entries = []
    for endpoint, label, predicate in MENU:
        if endpoint not in current_app.view_functions:
            continue
        if predicate and not getattr(permissions, predicate)(current_user):
            continue
        blueprint = endpoint.split(".")[0]
        current = request.blueprint == blueprint
        entries.append((url_for(endpoint), str(label), current))
    return entries


def error_links(
    form: Form, anchors: dict[str, str] | None = None
) -> list[tuple[str | None, str, str]]:
    """Return (anchor id, field label, message) of each error of ``form``, in the fields' order.

    The error summary at the top of a form (``_macros/forms.html``) links each one to
    its field: the input's id, the first option's for radios and checkbox lists (their
    fieldset takes no focus), or ``anchors[name]`` where a template renders the field
    itself with other ids. A hidden field (the CSRF token, a version) and the form's own
    errors have no field to go to: their anchor is None.
    """
    anchors = anchors or {}
    links = []
    for f in form:
        if not f.errors:
            continue
        messages = f.errors
        if isinstance(messages, dict):  # a FormField: its subfields' errors
            messages = [m for errors in messages.values() for m in errors]
        hidden = getattr(f.widget, "input_type", None) == "hidden"
        if f.name in anchors:
            anchor = anchors[f.name]
        elif hidden:
            anchor = None
        elif getattr(f.widget, "html_tag", None) in ("ul", "ol") or f.type == "RadioField":
            anchor = f"{f.id}-0"
        else:
            anchor = f.id
        for message in messages:
            links.append((anchor, "" if hidden else str(f.label.text), str(message)))
    for message in getattr(form, "form_errors", None) or []:
        links.append((None, "", str(message)))
    return links


def dimension_label(key: str) -> str:
    return str(DIMENSIONS[key].label)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["menu"] = menu
    app.jinja_env.globals["dashboard_dimension_label"] = dimension_label
    app.jinja_env.globals["error_links"] = error_links
    app.jinja_env.filters["combine"] = combine
    app.jinja_env.filters["display"] = display
