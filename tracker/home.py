"""The page a signed-in user lands on: what to do next, then their projects' headline figures."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from tracker import audit, indicators, todo
from tracker.permissions import visible_projects

bp = Blueprint("home", __name__)


def _log_names_shown(items: list, group: str | None = None) -> None:
    """Log whom the to-do list names: it shows each person's name beside her code."""
    people = todo.participant_ids(items)
    if people:
        detail = {"participant_ids": people}
        if group is not None:
            detail["group"] = group
        audit.record_read("todo", None, detail)


@bp.route("/")
@login_required
def index():
    """Show the user's to-do list (not to viewers), then the headline figures of each project."""
    today = date.today()
    projects = visible_projects(current_user)
    groups = None
    if todo.has_todo_list(current_user):
        groups = todo.todo_list(current_user, today)
        _log_names_shown([item for group in groups for item in group.items])
    cards = []
    for project in projects:
        scope = indicators.Scope((project.id,), project.start_date, project.end_date)
        figures = indicators.headline(scope)
        targets = {t.indicator: t.target for t in project.targets}
        cards.append((project, figures, targets))
    return render_template(
        "home/index.html",
        cards=cards,
        indicators=indicators.INDICATORS,
        groups=groups,
        several_projects=len(projects) > 1,
        soon_days=todo.SOON_DAYS,
        today=today,
    )


@bp.route("/todo")
@login_required
def todo_group():
    """List every item of one group of the user's to-do list (?group=), a page at a time."""
    group = request.args.get("group", "")
    if group not in todo.GROUPS:
        abort(404)
    if not todo.has_todo_list(current_user):
        abort(403)
    today = date.today()
    page = todo.todo_page(group, current_user, request.args.get("page", 1, type=int), today)
    _log_names_shown(page.items, group)
    return render_template(
        "home/todo.html",
        page=page,
        several_projects=len(visible_projects(current_user)) > 1,
        soon_days=todo.SOON_DAYS,
        today=today,
    )
