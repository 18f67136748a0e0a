"""The upload form of an import."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField
from wtforms.validators import InputRequired, Optional

from tracker.columns import TABLES
from tracker.forms import Form
from tracker.imports.header import KINDS
from tracker.models import Project


class UploadForm(Form):
    """Which records, into which project, from which file."""

    kind = SelectField(_l("Records in the file"), validators=[InputRequired()])
    project = SelectField(_l("Project"), choices=[], validators=[Optional()])
    file = FileField(
        _l("CSV or XLSX file"),
        validators=[
            FileRequired(_l("Choose the file to import.")),
            FileAllowed(["csv", "xlsx", "txt"], _l("Only CSV and XLSX files can be imported.")),
        ],
    )

    def __init__(
        self, *args, projects: Sequence[Project] = (), kinds: Sequence[str] = KINDS, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k, str(TABLES[k].label)) for k in kinds]
        self.project.choices = [("", _l("As written in the file's project_code column"))] + [
            (str(p.id), f"{p.code} – {p.title}") for p in projects
        ]
