"""The page a signed-in user lands on: their projects and headline figures."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from tracker import indicators
from tracker.permissions import visible_projects

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    """Show the headline figures of each project the user may see."""
    cards = []
    for project in visible_projects(current_user):
        scope = indicators.Scope((project.id,), project.start_date, project.end_date)
        figures = indicators.headline(scope)
        targets = {t.indicator: t.target for t in project.targets}
        cards.append((project, figures, targets))
    return render_template("home/index.html", cards=cards, indicators=indicators.INDICATORS)
