"""The results framework pages: how a project's results stand, and their set-up.

Everyone with the project in scope reads the framework (figures only, no names);
its managers and the administrators set it up and enter the manual values.
"""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import indicators
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import ManualValue, Project, ProjectResult, ResultIndicator, Role
from tracker.permissions import MANAGERS, in_scope, role_required, visible_projects
from tracker.projects import calendar
from tracker.projects.forms import ActionForm
from tracker.results import bp, services
from tracker.results.forms import ResultForm, ResultIndicatorForm, ShareForm, ValueForm
from tracker.web import field_error

managers_only = role_required(*MANAGERS)


@bp.context_processor
def _labels() -> dict:
    return {"indicator_label": lambda key: indicators.get(key).label}


def _project_or_404(code: str) -> Project:
    project = db.session.scalar(
        select(Project).where(Project.code == code, in_scope(current_user, Project.id))
    )
    if project is None:
        abort(404)
    return project


def _result_or_404(project: Project, result_id: int) -> ProjectResult:
    result = db.session.get(ProjectResult, result_id)
    if result is None or result.project_id != project.id:
        abort(404)
    return result


def _indicator_or_404(project: Project, indicator_id: int) -> ResultIndicator:
    indicator = db.session.get(ResultIndicator, indicator_id)
    if indicator is None or indicator.project_id != project.id:
        abort(404)
    return indicator


def _default_period(project: Project, today: date) -> calendar.ReportingPeriod | None:
    """The reporting period running today, the last one when the project is over."""
    periods = calendar.periods(project)
    running = next((p for p in periods if p.start <= today <= p.end), None)
    if running is not None:
        return running
    return periods[-1] if periods and today > project.end_date else None


@bp.route("/")
@login_required
def index():
    """The projects whose results framework the user may read."""
    projects = visible_projects(current_user)
    if len(projects) == 1:
        return redirect(url_for(".show", code=projects[0].code))
    counts = {p.id: services.count_results(p) for p in projects}
    return render_template("results/index.html", projects=projects, counts=counts)


@bp.route("/<code>")
@login_required
def show(code: str):
    """How each indicator of each result stands for a reporting period and since the start."""
    project = _project_or_404(code)
    today = date.today()
    periods = calendar.periods(project)
    asked = request.args.get("period", "")
    if asked == calendar.WHOLE:
        period = None
    elif asked:
        period = calendar.period(project, asked.upper())
        if period is None:
            flash(_("%(period)s is not a reporting period of this project.", period=asked), "error")
            return redirect(url_for(".show", code=project.code))
    else:
        period = _default_period(project, today)
    threshold = (
        current_app.config["SMALL_CELL_THRESHOLD"] if current_user.role is Role.VIEWER else None
    )
    start, end = (period.start, period.end) if period else (project.start_date, project.end_date)
    blocks = services.framework(project, start, end, today=today, small_cell_threshold=threshold)
    return render_template(
        "results/show.html",
        project=project,
        periods=periods,
        period=period,
        start=start,
        end=end,
        today=today,
        share_past=services.elapsed(start, end, today),
        blocks=blocks,
        labels=services.STATUS_LABELS,
        on_track=services.ON_TRACK,
        WHOLE=calendar.WHOLE,
        can_edit=current_user.role in MANAGERS,
    )


def _setup_page(project: Project, *, result_form=None, indicator_form=None):
    results = services.results_of(project)
    return render_template(
        "results/edit.html",
        project=project,
        results=results,
        result_form=result_form or ResultForm(formdata=None),
        indicator_form=indicator_form or ResultIndicatorForm(formdata=None, results=results),
        share_forms={
            i.id: ShareForm(
                formdata=None,
                prefix=f"s{i.id}",
                share=f"{i.share_dimension}:{i.share_category}" if i.share_dimension else "",
                minimum=i.share_minimum,
            )
            for r in results
            for i in r.indicators
            if not i.manual
        },
        action=ActionForm(),
    )


@bp.route("/<code>/edit")
@managers_only
def edit(code: str):
    """Set up the framework: results, their indicators, disaggregated targets."""
    return _setup_page(_project_or_404(code))


@bp.route("/<code>/results", methods=["POST"])
@managers_only
def add_result(code: str):
    project = _project_or_404(code)
    form = ResultForm()
    if form.validate_on_submit():
        try:
            result = services.add_result(
                project, form.level.data, form.code.data, form.statement.data
            )
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("Result %(code)s added.", code=result.code), "success")
            return redirect(url_for(".edit", code=project.code))
    return _setup_page(project, result_form=form), 400


@bp.route("/<code>/results/<int:result_id>/remove", methods=["POST"])
@managers_only
def remove_result(code: str, result_id: int):
    project = _project_or_404(code)
    result = _result_or_404(project, result_id)
    if ActionForm().validate_on_submit():
        label = result.code
        services.remove_result(result)
        db.session.commit()
        flash(_("Result %(code)s removed, with its indicators.", code=label), "success")
    return redirect(url_for(".edit", code=project.code))


@bp.route("/<code>/indicators", methods=["POST"])
@managers_only
def add_indicator(code: str):
    project = _project_or_404(code)
    results = services.results_of(project)
    form = ResultIndicatorForm(results=results)
    if form.validate_on_submit():
        result = _result_or_404(project, int(form.result_id.data))
        try:
            if form.indicator.data == "manual":
                if not form.title.data:
                    raise DomainError(_("A manual indicator needs its wording."), "title")
                services.add_manual_indicator(
                    result, form.title.data, form.unit.data, form.cumulative.data or "sum"
                )
            else:
                services.add_indicator(result, form.indicator.data)
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("Indicator added to result %(code)s.", code=result.code), "success")
            return redirect(url_for(".edit", code=project.code))
    return _setup_page(project, indicator_form=form), 400


@bp.route("/<code>/indicators/<int:indicator_id>/share", methods=["POST"])
@managers_only
def set_share(code: str, indicator_id: int):
    project = _project_or_404(code)
    indicator = _indicator_or_404(project, indicator_id)
    form = ShareForm(prefix=f"s{indicator.id}")
    if form.validate_on_submit():
        try:
            services.set_share(indicator, form.share.data or None, form.minimum.data)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("The disaggregated target is saved."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for(".edit", code=project.code))


@bp.route("/<code>/indicators/<int:indicator_id>/remove", methods=["POST"])
@managers_only
def remove_indicator(code: str, indicator_id: int):
    project = _project_or_404(code)
    indicator = _indicator_or_404(project, indicator_id)
    if ActionForm().validate_on_submit():
        services.remove_indicator(indicator)
        db.session.commit()
        flash(_("Indicator removed from the framework."), "success")
    return redirect(url_for(".edit", code=project.code))


@bp.route("/<code>/indicators/<int:indicator_id>/values", methods=["GET", "POST"])
@managers_only
def values(code: str, indicator_id: int):
    """A manual indicator's values, one per reporting period, each with its source."""
    project = _project_or_404(code)
    indicator = _indicator_or_404(project, indicator_id)
    if not indicator.manual:
        abort(404)
    periods = calendar.periods(project)
    asked = request.args.get("period")
    entry = None
    if request.method == "GET" and asked:
        entry = db.session.scalar(
            select(ManualValue).where(
                ManualValue.indicator_id == indicator.id, ManualValue.period == asked
            )
        )
    form = ValueForm(periods=periods, obj=entry, period=asked)
    if form.validate_on_submit():
        try:
            saved = services.record_value(
                indicator,
                form.period.data,
                form.value.data,
                form.source.data,
                form.note.data,
                by=current_user.email,
            )
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("Value of %(period)s saved.", period=saved.period), "success")
            return redirect(url_for(".values", code=project.code, indicator_id=indicator.id))
    targets = {
        t.period: t.target
        for t in project.all_targets
        if t.indicator == indicator.key and t.period != calendar.WHOLE
    }
    return render_template(
        "results/values.html",
        project=project,
        indicator=indicator,
        periods=periods,
        entries={v.period: v for v in indicator.values},
        targets=targets,
        form=form,
    ), (400 if form.errors else 200)
