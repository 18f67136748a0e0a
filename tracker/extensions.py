"""Flask extensions, created unbound and bound in ``create_app``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from flask import Flask, has_request_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from tracker.models import Base

if TYPE_CHECKING:
    from flask_migrate import Migrate

#: past any list's last page, and within the integer range of every database driver
MAX_PAGE = 2**31


class Database(SQLAlchemy):
    """Flask-SQLAlchemy, whose ``paginate`` takes any ``?page=`` a URL may carry.

    Flask-SQLAlchemy reads the page number from the query string without an upper
    bound; its offset then overflows the driver's integer (OverflowError, a 500).
    A page past ``MAX_PAGE`` is shown as that page: empty, like any page past the end.
    """

    def paginate(self, select, *, page=None, **kwargs):
        if page is None and has_request_context():
            asked = request.args.get("page", type=int)
            if asked is not None and asked > MAX_PAGE:
                page = MAX_PAGE
        return super().paginate(select, page=page, **kwargs)


class LazyMigrate:
    """Flask-Migrate's ``Migrate``, bound in ``create_app`` but created when a migration runs.

    Importing Flask-Migrate imports Alembic and Mako (about 0.1 s), which every
    command and every worker paid for migrations it did not run. ``init_app`` keeps
    the settings and puts two stand-ins where Flask-Migrate puts its parts: the
    ``db`` command group (``flask --help`` reads only its one-line help) and
    ``app.extensions["migrate"]`` (read by Flask-Migrate's functions, ``upgrade()``
    and the others, by ``migrations/env.py`` and by ``flask backup``). The first use
    of either creates the ``Migrate`` and binds it to the app as before, which puts
    Flask-Migrate's own parts in their places.
    """

    def __init__(self) -> None:
        self.migrate: Migrate | None = None
        self.db: SQLAlchemy | None = None
        self.options: dict[str, Any] = {}

    def init_app(self, app: Flask, db: SQLAlchemy, **options: Any) -> None:
        """Keep the settings of ``Migrate.init_app`` and put the stand-ins in place."""
        self.db, self.options = db, options
        app.extensions["migrate"] = _UnboundMigrate(lambda: self.bind(app))
        app.cli.add_command(_MigrationCommands(app, self, options.get("command") or "db"))

    def bind(self, app: Flask) -> Any:
        """Create the ``Migrate`` once, bind it to ``app`` once; return its state in the app."""
        if isinstance(app.extensions.get("migrate"), _UnboundMigrate):
            from flask_migrate import Migrate

            if self.migrate is None:
                self.migrate = Migrate()
            self.migrate.init_app(app, self.db, **self.options)
        return app.extensions["migrate"]


class _UnboundMigrate:
    """``app.extensions["migrate"]`` until Flask-Migrate is needed: reading it binds it."""

    def __init__(self, bind: Callable[[], Any]) -> None:
        self._bind = bind

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bind(), name)


class _MigrationCommands(click.Group):
    """The ``db`` command group until it is used, then Flask-Migrate's.

    ``flask --help`` reads only this group's help. Running it, asking for its help
    or completing it makes a context: that binds Flask-Migrate, and its own group
    (which has replaced this one in ``app.cli``) makes the context and runs.
    """

    def __init__(self, app: Flask, migrate: LazyMigrate, name: str) -> None:
        # Flask-Migrate's own words for its group
        super().__init__(name, help="Perform database migrations.")
        self.app = app
        self.lazy_migrate = migrate

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        self.lazy_migrate.bind(self.app)
        group = self.app.cli.commands[self.name]
        return group.make_context(info_name, args, parent=parent, **extra)


db = Database(model_class=Base)
migrate = LazyMigrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# one limiter for every app the process makes; the limits themselves are in tracker/security.py
limiter = Limiter(key_func=get_remote_address)
