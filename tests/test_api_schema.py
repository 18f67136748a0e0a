"""Schemathesis runs the API's OpenAPI description against the app: every operation, as
every role. No 5xx, every answer as documented (status, media type, schema), and never a
name in what a viewer's token gets.

Left out: schemathesis's "positive data acceptance" check, which expects every request
valid by the schema to succeed. The tracker's rules refuse much that a schema cannot
express (a project code that is not the user's, a birth date after the registration,
a consent date missing): those answers are 422 problems naming the field, by design.
"""

from __future__ import annotations

import contextvars
import re
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tracker.api import tokens
from tracker.extensions import db
from tracker.models import Role

ROLES = (Role.VIEWER, Role.OFFICER, Role.MANAGER, Role.ADMIN)
#: given, family and other-script names of the one person: none may reach a viewer
NAMES = ("Aïcha", "Ouattara", "عائشة واتارا")


def _readable(text: str) -> str:
    """JSON text with its \\u escapes as the characters they stand for ("A\\u00efcha")."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


class _Isolated:
    """The app as a server runs it: each request in an app context of its own.

    The test keeps an app context pushed for its own database work; requests run in
    it would share its ``g``, and so the user a token signed in a request before.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        db.session.commit()
        answer = contextvars.Context().run(self.app.wsgi_app, environ, start_response)
        db.session.expire_all()
        return answer

    def __getattr__(self, name):
        return getattr(self.app, name)


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_every_operation_answers_as_documented(
    app, make_project, make_participant, make_course, make_user, role
):
    from tracker.trainings.services import enrol

    project = make_project("P1")
    person = make_participant(
        project, given_name=NAMES[0], family_name=NAMES[1], other_name=NAMES[2]
    )
    enrol(person, make_course(project), on=date(2015, 1, 20))
    user = make_user(role, projects=[project], email=f"{role.value}@example.org")
    _token, secret = tokens.create(user, "schemathesis")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _Isolated(app))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case):
            # on the case, not the call: the check of an ignored token removes it from there
            case.headers = {**(case.headers or {}), **headers}
            response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
            if role is Role.VIEWER:
                shown = _readable(response.text)
                assert not any(name in shown for name in NAMES), shown

        check()
