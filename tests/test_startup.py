"""Commands start without importing what only some of them use (no timing is judged).

reportlab, openpyxl, XlsxWriter, Alembic (through Flask-Migrate) and email_validator are
imported inside the functions that draw, read or write workbooks, migrate or check e-mail
cells; see "Start-up" in docs/performance.md. A fresh interpreter runs the commands below as
``flask --app tracker …`` does and reports which libraries it imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flask_migrate.cli import db as flask_migrate_db_group

ROOT = Path(__file__).resolve().parent.parent

#: libraries no command below may import (top-level package names)
DEFERRED = (
    "reportlab",
    "openpyxl",
    "xlsxwriter",
    "alembic",
    "flask_migrate",
    "mako",
    "email_validator",
    "PIL",
)

#: the commands run, each as ``flask --app tracker <args>`` in the same interpreter
COMMANDS = (
    ("--help",),
    ("seed", "--help"),
    ("report", "donor", "--help"),
    ("export", "--help"),
    ("import", "--help"),
    ("duplicates", "list"),
)

PROBE = """
import json
import sys

from flask.cli import main

from tracker import create_app
from tracker.extensions import db

# the tables that `duplicates list` reads, made without Alembic
with create_app().app_context():
    db.create_all()
for args in json.loads(sys.argv[1]):
    sys.argv = ["flask", "--app", "tracker", *args]
    try:
        main()
    except SystemExit as exit:
        if exit.code:
            raise
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_commands_start_without_the_libraries_only_some_of_them_use(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'startup.sqlite'}")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(COMMANDS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Perform database migrations." in result.stdout  # the db group, listed
    assert "0 pair(s)" in result.stderr  # `duplicates list` ran, and says so there
    imported = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "tracker" in imported and "sqlalchemy" in imported
    assert not imported & set(DEFERRED), sorted(imported & set(DEFERRED))


def test_the_db_group_becomes_flask_migrates_when_used(app, runner):
    listed = runner.invoke(args=["--help"])
    assert "Perform database migrations." in listed.output
    assert app.cli.commands["db"] is not flask_migrate_db_group
    result = runner.invoke(args=["db", "--help"])
    assert result.exit_code == 0, result.output
    assert "--x-arg" in result.output and "upgrade" in result.output
    assert app.cli.commands["db"] is flask_migrate_db_group
    assert app.extensions["migrate"].db is not None


def test_migrate_state_is_bound_on_first_read(app):
    from flask_migrate import Migrate

    from tracker.extensions import db, migrate

    state = app.extensions["migrate"]
    assert state.db is db  # reading it binds Flask-Migrate
    assert isinstance(migrate.migrate, Migrate)
    assert app.extensions["migrate"].directory == str(ROOT / "migrations")
    assert app.extensions["migrate"].configure_args["render_as_batch"] is True


def test_the_pdf_layout_measures_as_reportlab_does():
    from reportlab.lib import colors, pagesizes, units

    from tracker.reports import charts, pdf

    assert pdf.mm == units.mm
    assert pdf.A4 == pagesizes.A4
    assert charts.colour(charts.BLUE) == colors.HexColor("#0033A0")
    assert charts.colour(pdf.RULE) == colors.HexColor("#B8C4DC")
