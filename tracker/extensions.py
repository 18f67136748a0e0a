"""Flask extensions, created unbound and bound in ``create_app``."""

from flask import has_request_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from tracker.models import Base

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


db = Database(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# one limiter for every app the process makes; the limits themselves are in tracker/security.py
limiter = Limiter(key_func=get_remote_address)
