"""``/api/v1/indicators``: the dashboard's figures, breakdowns and targets, for a period.

The same reader as the dashboard (the indicator store, or the live definitions when the
store cannot answer), so a figure here is the figure on the dashboard. Each figure about
people links to the list of its people (``/api/v1/participants?indicator=…``); for a
viewer's token, breakdown cells under the small-cell threshold are hidden as on her
dashboard (``value`` null, ``hidden`` "small" or "complementary").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app, url_for
from flask_login import current_user
from marshmallow import Schema, fields, validate

from tracker import indicators
from tracker.api.common import blueprint, document_errors, project_by_code
from tracker.dashboard.services import targets_of
from tracker.indicator_store.reading import figures_for
from tracker.permissions import can_see_names, visible_projects
from tracker.reports import disclosure

bp = blueprint(
    "indicators", __name__, "/api/v1/indicators", "The programme's figures, as the dashboard's."
)


class IndicatorArgs(Schema):
    project = fields.String(
        validate=validate.Length(max=32),
        metadata={"description": "A project's code (default: all your projects)."},
    )
    from_ = fields.Date(data_key="from", metadata={"description": "First day of the period."})
    to = fields.Date(metadata={"description": "Last day of the period."})


class CellSchema(Schema):
    category = fields.String(allow_none=True)
    label = fields.String()
    value = fields.Integer(allow_none=True)
    hidden = fields.String(
        allow_none=True,
        validate=validate.OneOf(["small", "complementary"]),
        metadata={"description": "Why the value is withheld (a viewer's small cells)."},
    )


class BreakdownSchema(Schema):
    dimension = fields.String(required=True)
    label = fields.String()
    cells = fields.List(fields.Nested(CellSchema))


class FigureSchema(Schema):
    key = fields.String(required=True)
    label = fields.String()
    definition = fields.String()
    unit = fields.String(validate=validate.OneOf(["people", "institutions", "ratio"]))
    value = fields.Raw(
        allow_none=True,
        metadata={"type": ["number", "null"], "description": "A whole number for counts."},
    )
    target = fields.Integer(allow_none=True)
    people = fields.String(
        allow_none=True,
        metadata={"description": "The API list of the people (or institutions) behind it."},
    )
    breakdowns = fields.List(fields.Nested(BreakdownSchema))


class IndicatorsSchema(Schema):
    projects = fields.List(fields.String())
    from_ = fields.Date(data_key="from", allow_none=True)
    to = fields.Date(allow_none=True)
    as_of = fields.DateTime()
    definitions_version = fields.String()
    small_cell_threshold = fields.Integer(allow_none=True)
    figures = fields.List(fields.Nested(FigureSchema))


def _cells(dimension: str, pairs: list[tuple[Any, int]], hide: int | None, overlapping: bool):
    values = [n for _category, n in pairs]
    marks = (
        disclosure.classify(values, hide, overlapping=overlapping)
        if hide is not None
        else [disclosure.Hidden.NO] * len(values)
    )
    cells = []
    for (category, n), mark in zip(pairs, marks, strict=True):
        hidden = None
        if mark is disclosure.Hidden.SMALL:
            hidden = "small"
        elif mark is disclosure.Hidden.COMPLEMENTARY:
            hidden = "complementary"
        cells.append(
            {
                "category": None if category is None else str(getattr(category, "value", category)),
                "label": indicators.category_label(dimension, category),
                "value": None if hidden else n,
                "hidden": hidden,
            }
        )
    return cells


@bp.route("/")
@bp.arguments(IndicatorArgs, location="query")
@bp.response(200, IndicatorsSchema)
@document_errors(bp, 401, 422, 429)
def figures(args: dict[str, Any]):
    """The indicators of a project (or all yours) for a period, with breakdowns and targets."""
    project = project_by_code(args.get("project"))
    projects = [project] if project else visible_projects(current_user)
    start, end = args.get("from_"), args.get("to")
    scope = indicators.Scope(tuple(p.id for p in projects), start, end)
    reader = figures_for(scope)
    values = reader.headline(tuple(indicators.INDICATORS))
    threshold = current_app.config["SMALL_CELL_THRESHOLD"]
    hide = threshold if not can_see_names(current_user) and disclosure.enabled(threshold) else None
    # the target of the period shown (never the whole project's against a part of it)
    targets = targets_of(projects, start, end)
    shown = []
    for key, indicator in indicators.INDICATORS.items():
        breakdowns = []
        if indicator.dimensions and projects:
            for dimension, pairs in reader.breakdowns(key, indicator.dimensions).items():
                breakdowns.append(
                    {
                        "dimension": dimension,
                        "label": str(indicators.DIMENSIONS[dimension].label),
                        "cells": _cells(
                            dimension,
                            pairs,
                            hide if indicator.unit == indicators.PEOPLE else None,
                            indicators.overlapping(key, dimension),
                        ),
                    }
                )
        people = None
        if indicator.unit != indicators.RATIO and projects:
            query = {"indicator": key}
            if project:
                query["project"] = project.code
            if start:
                query["from"] = start.isoformat()
            if end:
                query["to"] = end.isoformat()
            endpoint = (
                "api_participants.list_participants"
                if indicator.unit == indicators.PEOPLE
                else "api_partners.list_partners"
            )
            people = url_for(endpoint, **query)
        shown.append(
            {
                "key": key,
                "label": str(indicator.label),
                "definition": str(indicator.definition),
                "unit": indicator.unit,
                "value": values.get(key),
                "target": targets.get(key),
                "people": people,
                "breakdowns": breakdowns,
            }
        )
    return {
        "projects": [p.code for p in projects],
        "from_": start,
        "to": end,
        "as_of": datetime.now(UTC),
        "definitions_version": indicators.DEFINITIONS_VERSION,
        "small_cell_threshold": hide,
        "figures": shown,
    }
