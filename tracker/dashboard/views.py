from __future__ import annotations

import dataclasses

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import audit, indicators
from tracker.dashboard import bp, cache, services
from tracker.dashboard import quality as data_quality
from tracker.dashboard.forms import FilterForm
from tracker.extensions import db
from tracker.models import Participant
from tracker.participants import listing
from tracker.permissions import EDITORS, can_see_names, role_required, visible_projects
from tracker.projects import calendar
from tracker.reports import disclosure


def _filters() -> tuple[FilterForm, indicators.Scope, list, str]:
    """Bind the query string to the filter form and return the scope it describes."""
    projects = visible_projects(current_user)
    form = FilterForm(request.args)
    form.project.choices = [("", _("All my projects"))] + [
        (str(p.id), f"{p.code} – {p.title}") for p in projects
    ]
    providers, regions = cache.cached_filter_choices([p.id for p in projects])
    form.provider.choices = [("", _("All"))] + [
        (str(pid), acronym or name) for pid, acronym, name in providers
    ]
    form.region.choices = [("", _("All"))] + [(r, r) for r in regions]
    valid = form.validate()
    chosen = projects
    asked = request.args.get("project")
    if asked:
        # a project outside the user's: as if it did not exist
        chosen = [p for p in projects if str(p.id) == asked]
        if not chosen:
            abort(404)
    start, end = services.default_period(chosen)
    if valid:
        start = form.start.data or start
        end = form.end.data or end
    if not form.start.data:
        form.start.data = start
    if not form.end.data:
        form.end.data = end
    scope = indicators.Scope(
        tuple(p.id for p in chosen),
        start,
        end,
        region=form.region.data or None if valid else None,
        provider_id=int(form.provider.data) if valid and form.provider.data else None,
    )
    grain = form.grain.data if valid and form.grain.data in ("month", "quarter") else "quarter"
    return form, scope, chosen, grain


@bp.route("/")
@login_required
def index():
    """Show the headline figures, funnel, trends and breakdowns, each a link to its people."""
    form, scope, chosen, grain = _filters()
    dashboard = cache.cached_build(scope, chosen, grain) if chosen else None
    if dashboard is not None and not can_see_names(current_user):
        dashboard = _without_small_cells(dashboard, current_app.config["SMALL_CELL_THRESHOLD"])
    return render_template(
        "dashboard/index.html",
        form=form,
        dashboard=dashboard,
        projects=chosen,
        grain=grain,
        status_labels=calendar.STATUS_LABELS,
    )


@bp.route("/list")
@login_required
def drill_down():
    """List the people or institutions behind one figure (or one cell of a breakdown)."""
    form, scope, chosen, _grain = _filters()
    key = request.args.get("indicator", "")
    if key not in indicators.INDICATORS or key == "placement_rate":
        abort(404)
    indicator = indicators.get(key)
    dimension = request.args.get("dimension") or None
    if dimension is not None and dimension not in indicator.dimensions:
        abort(404)
    category = request.args.get("category")
    title_category = indicators.category_label(dimension, category or None) if dimension else None
    hidden = (
        dimension is not None
        and indicator.unit == indicators.PEOPLE
        and not can_see_names(current_user)
        and _is_hidden_cell(key, dimension, category, scope)
    )
    if hidden:
        abort(404)  # the dashboard shows this count as "< 5": its people stay unlisted
    small = False
    coarse = listing.Coarsened()
    if indicator.unit == indicators.INSTITUTIONS:
        query = services.drill_down_partners(key, scope, dimension, category)
    else:
        query = services.drill_down_people(key, scope, dimension, category)
        # whom the list may show this user (consent), and whether it may be shown at all
        query = query.where(listing.listable(current_user, Participant.id))
    page = db.paginate(query, per_page=200, error_out=False, max_per_page=200)
    if indicator.unit == indicators.PEOPLE:
        # whatever filters made it, a viewer's list of 1 to 4 people shows nobody
        small = listing.small_list(current_user, page.total)
        if small:
            page.items = []
        # the values fewer than 5 of the list's people share read "Other" to a viewer
        coarse = (
            listing.coarsen(
                current_user,
                query,
                {
                    **listing.ATTRIBUTES,
                    "age_group": indicators.age_group_at(Participant.registered_on),
                },
            )
            if page.items
            else coarse
        )
        # a viewer's list of codes is personal data too: every role's read is logged
        audit.record_read(
            "participants",
            None,
            {
                "list": key,
                "dimension": dimension,
                "category": category,
                "rows": None if small else page.total,
                "small_list": small or None,
                "page": page.page,
                "participant_ids": [p.id for p in page.items],
            },
        )
    return render_template(
        "dashboard/list.html",
        form=form,
        indicator=indicator,
        dimension=indicators.DIMENSIONS.get(dimension) if dimension else None,
        category_label=title_category,
        page=page,
        scope=scope,
        age_group=_age_groups(page.items, coarse) if indicator.unit == indicators.PEOPLE else {},
        small_list=listing.small_list_message() if small else None,
        coarse=coarse,
    )


def _without_small_cells(dashboard: services.Dashboard, threshold: int) -> services.Dashboard:
    """Return the dashboard as a viewer reads it: small counts of people hidden.

    Viewers (M&E staff, donors) read the dashboard as a document that leaves the
    case workers, so the breakdowns by who people are (sex, age group, nationality,
    region) hide counts under the threshold as the donor report does ("< 5", and
    "x" where a second cell must go so the first cannot be worked out), and a
    hidden cell opens no list. Totals and headline figures stay exact. The cached
    dashboard is shared by every user: it is copied, never changed.
    """
    if not disclosure.enabled(threshold):
        return dashboard
    breakdowns = []
    for b in dashboard.breakdowns:
        if b.dimension not in indicators.PERSON_DIMENSIONS:
            breakdowns.append(b)
            continue
        marks = disclosure.classify(
            [n for _label, n, _category in b.rows], threshold, overlapping=b.overlapping
        )
        rows = [
            (label, _hidden_text(mark, threshold), None) if mark else (label, n, category)
            for (label, n, category), mark in zip(b.rows, marks, strict=True)
        ]
        breakdowns.append(dataclasses.replace(b, rows=rows))
    return dataclasses.replace(dashboard, breakdowns=breakdowns)


def _hidden_text(mark: disclosure.Hidden, threshold: int) -> str:
    if mark is disclosure.Hidden.SMALL:
        return disclosure.small_cell_label(threshold)
    return disclosure.COMPLEMENTARY_MARK


def _is_hidden_cell(key: str, dimension: str, category: str | None, scope) -> bool:
    """Whether the viewer's dashboard hides this cell (so its list must not open either)."""
    threshold = current_app.config["SMALL_CELL_THRESHOLD"]
    if dimension not in indicators.PERSON_DIMENSIONS or not disclosure.enabled(threshold):
        return False
    pairs = indicators.disaggregate(key, dimension, scope)
    marks = disclosure.classify(
        [n for _category, n in pairs],
        threshold,
        overlapping=indicators.overlapping(key, dimension),
    )
    wanted = category or None
    return any(
        mark and (str(cat) if cat is not None else None) == wanted
        for (cat, _n), mark in zip(pairs, marks, strict=True)
    )


def _age_groups(people: list, coarse: listing.Coarsened) -> dict[int, str]:
    """Each person's age group when registered, as the list shows it (``coarse``)."""
    if not people:
        return {}
    rows = db.session.execute(
        select(Participant.id, indicators.age_group_at(Participant.registered_on)).where(
            Participant.id.in_([p.id for p in people])
        )
    )
    return {
        pid: coarse.show("age_group", group, indicators.category_label("age_group", group))
        for pid, group in rows
    }


@bp.route("/quality")
@role_required(*EDITORS)
def quality():
    """Show the records that weaken the figures, each linked to the record to fix."""
    form, _scope, chosen, _grain = _filters()
    checks = data_quality.quality([p.id for p in chosen])
    return render_template("dashboard/quality.html", form=form, checks=checks)
